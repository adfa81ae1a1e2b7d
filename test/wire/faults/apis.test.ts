import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { eventually, type Harness, startHarness } from '../helpers.ts';

const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const GRPC = { DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 };

/**
 * The APIs the bot depends on fail the way they do in production (docs/library-traps.md): Slack answers 429 with
 * `Retry-After`, then 500s; Google answers UNAVAILABLE and DEADLINE_EXCEEDED; Kubernetes 409 and 5xx. Each is
 * retried within bounds; past them, the failure is a visible unknown, never a crash, a loop or a double post.
 */
describe('Slack rate-limiting and failing', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('429 with Retry-After three times, then 500 twice: the incident is still posted exactly once', async (t) => {
    h.sb.slack.failNext('chat.postMessage', 429, 3, 1);
    h.sb.slack.failNext('chat.postMessage', 500, 2);
    const started = Date.now();
    await h.sb.publish(h.sb.google.monitoringIncident());
    await h.firstMessage(60_000);
    const took = Date.now() - started;
    const attempts = h.sb.slack.calls('chat.postMessage').filter((c) => !c.args.thread_ts);
    assert.deepEqual(
      attempts.map((c) => c.status),
      [429, 429, 429, 500, 500, 200],
      'six attempts, one success',
    );
    const gaps = attempts.slice(1, 3).map((c, i) => c.at - (attempts[i]?.at ?? 0));
    assert.ok(
      gaps.every((g) => g >= 900),
      `Retry-After honoured (gaps ${gaps.join(', ')} ms)`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(h.sb.slack.messages(h.channel).length, 1, 'posted once');
    t.diagnostic(`posted after 3×429 and 2×500 in ${took} ms`);
  });
});

describe('Google UNAVAILABLE and DEADLINE_EXCEEDED', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('a read that fails twice is retried and the diagnosis is whole', async () => {
    h.sb.google.failNext('artifactregistry.GetIamPolicy', GRPC.UNAVAILABLE, 1);
    h.sb.google.failNext('artifactregistry.GetIamPolicy', GRPC.DEADLINE_EXCEEDED, 1);
    await h.sb.publish(h.sb.google.monitoringIncident());
    const m = await h.firstMessage(30_000);
    const text = h.text(m.ts);
    assert.match(text, /node-sa-missing-reader/);
    assert.doesNotMatch(text, /could not check/, 'nothing unknown');
    assert.equal(h.sb.google.calls.count('artifactregistry.GetIamPolicy'), 3, 'two failures and the answer');
  });
});

describe('Google failing past the retries', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('becomes a visible unknown for what it could not read; the rest of the diagnosis stands', async () => {
    h.sb.google.failNext('artifactregistry.GetIamPolicy', GRPC.UNAVAILABLE, 50);
    h.sb.google.failNext('troubleshooter.troubleshoot', 503, 50);
    await h.sb.publish(h.sb.google.monitoringIncident());
    const m = await h.firstMessage(60_000);
    // The details (unknowns, ids) are the message's first thread reply.
    const details = await eventually(() => h.sb.slack.message(h.channel, m.ts)?.replies[0], 'the details reply');
    const text = JSON.stringify(details.blocks ?? []);
    assert.match(text, /could not check/, 'the unknown is shown');
    assert.match(text, /cause `permission-denied`/, 'the message cause is still read');
    const calls = h.sb.google.calls.count('artifactregistry.GetIamPolicy');
    assert.ok(calls >= 2 && calls <= 10, `bounded retries (${calls} calls)`);
  });
});

describe('Kubernetes 409 and 5xx during a fix', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed', propagationDelayMs: 200 });
  });
  after(() => h?.stop());

  it('the restart is retried and applied once; reads that answer 503 are asked again', async () => {
    await h.sb.publish(h.sb.google.monitoringIncident());
    const m = await h.firstMessage();
    h.sb.google.failNext('kube.PATCH deployments', 409, 1);
    h.sb.google.failNext('kube.PATCH deployments', 503, 1);
    h.sb.google.failNext('kube.GET deployments', 500, 1);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts: m.ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /\*Fixed\*/.test(h.text(m.ts)), 'Fixed', 60_000);
    const cluster = h.sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
    assert.equal(cluster?.kube.patches.filter((p) => p.name === 'checkout').length, 1, 'one restart applied');
    assert.equal(h.sb.google.calls.count('kube.PATCH deployments'), 3, '409, 503, then the patch');
    assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, 1);
  });
});
