import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { eventually, type Harness, startHarness } from '../helpers.ts';

const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';

/**
 * SECURITY.md, "Forged or replayed Slack requests": in HTTP mode, an approver's Grant & restart click that was not
 * signed with the signing secret, or was signed more than five minutes ago (a replay), is refused with 401 by the
 * real Bolt receiver and changes nothing; the same click, signed now, grants.
 */
describe('forged and replayed Slack clicks (HTTP mode)', () => {
  let h: Harness;
  let ts: string;
  before(async () => {
    h = await startHarness({ scenario: 'seed', slackMode: 'http', propagationDelayMs: 0 });
    await h.sb.publish(h.sb.google.monitoringIncident());
    ts = (await h.firstMessage()).ts;
  });
  after(() => h?.stop());

  const click = (tamper?: 'forged-signature' | 'stale-timestamp') =>
    h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
      ...(tamper ? { tamper } : {}),
    });

  it('a click signed with another secret: 401, IAM untouched, nobody told anything', async () => {
    assert.equal((await click('forged-signature')).status, 401);
    assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, 0);
    assert.deepEqual(h.sb.slack.responses(), []);
  });

  it('a correctly signed click six minutes old (a replay): 401, IAM untouched', async () => {
    assert.equal((await click('stale-timestamp')).status, 401);
    assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, 0);
    assert.deepEqual(h.sb.slack.responses(), []);
  });

  it('the same click signed now grants (so the refusals above were the signature, not the click)', async () => {
    assert.equal((await click()).status, 200);
    await eventually(() => (h.sb.google.world.repository(REPO)?.iam.writes ?? 0) > 0, 'the grant');
  });
});
