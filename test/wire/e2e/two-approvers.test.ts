import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE, type Sandbox, startSandbox } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { eventually } from '../helpers.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';

/**
 * The two-person rule (docs/incidents-and-fixes.md, "Two approvers"), on an alert-driven incident, with the bot as
 * its own process: APPROVALS_REQUIRED=2 means the first approver's press changes nothing and the message says who
 * has approved; a second press by the same person counts once; the second approver's press grants and restarts.
 */
describe('APPROVALS_REQUIRED=2 on an incident opened by an alert', () => {
  let sb: Sandbox;
  let bot: ServeProcess | undefined;
  before(async () => {
    sb = await startSandbox({ scenario: 'seed', propagationDelayMs: 200, podStartMs: 50 });
  });
  after(async () => {
    await bot?.kill();
    await sb?.stop();
  });

  it('changes nothing until two distinct approvers have pressed, then grants once', async () => {
    bot = await startServe({ ...sb.env, APPROVALS_REQUIRED: '2' }, { ready: true });
    await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
    const channel = sb.env.INCIDENT_CHANNEL as string;
    const [entry] = sb.google.logEntries({ perPod: 1, pods: [sb.google.scenario.target.pod] });
    await sb.publish(entry as object);
    const top = await sb.slack.waitFor(() => sb.slack.messages(channel).find((m) => !m.threadTs), 30_000);
    const writes = () => sb.google.world.repository(REPO)?.iam.writes ?? 0;
    const text = () => JSON.stringify(sb.slack.message(channel, top.ts)?.blocks ?? []);
    const press = (user: string) => sb.slack.clickButton({ user, channel, ts: top.ts, actionId: ACTIONS.grantRestart });

    await press(SANDBOX_PEOPLE.approver);
    await eventually(() => /1 of 2/.test(text()) || undefined, 'the message to show one approval of two', 15_000);
    assert.match(text(), new RegExp(SANDBOX_PEOPLE.approver), 'it names who approved');
    await press(SANDBOX_PEOPLE.approver);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(writes(), 0, 'one approver, twice: no IAM change');
    const told = sb.slack.ephemerals(SANDBOX_PEOPLE.approver).map((e) => JSON.stringify(e));
    assert.ok(
      told.some((e) => /approved already/i.test(e)),
      'the second press is told it counts once',
    );

    await press(SANDBOX_PEOPLE.groupApprover);
    await eventually(() => /Fixed/.test(text()) || undefined, 'the fix after the second approver', 60_000);
    assert.equal(writes(), 1, 'exactly one IAM write');
    const cluster = sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
    assert.equal(cluster?.kube.patches.filter((p) => p.name === 'checkout').length, 1, 'one restart');
  });
});
