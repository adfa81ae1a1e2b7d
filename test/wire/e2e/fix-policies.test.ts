import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { buttons, eventually, type Harness, startHarness } from '../helpers.ts';

const SA = '123456789012-compute@developer.gserviceaccount.com';
const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const CLUSTER = 'projects/acme-prod-417/locations/us-central1/clusters/prod';

async function incidentFromMonitoring(h: Harness): Promise<string> {
  await h.sb.publish(h.sb.google.monitoringIncident());
  return (await h.firstMessage()).ts;
}

describe('a log-based Monitoring incident, fixed by hand, then closed', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('posts from the Monitoring notification and turns the message to Resolved when the incident closes and pods run', async () => {
    const ts = await incidentFromMonitoring(h);
    assert.match(h.text(ts), /node-sa-missing-reader/);
    // Someone fixes it by hand: the grant, then `kubectl rollout restart` (same patch the bot would send).
    h.sb.google.addBinding(REPO, 'roles/artifactregistry.reader', `serviceAccount:${SA}`);
    const google = createGoogleCloud({ endpoint: h.sb.google.endpoint, timeoutMs: 5000 });
    try {
      const api = await new KubernetesConnector(() => google.accessToken()).connect(
        await google.gke.getCluster({ project: 'acme-prod-417', location: 'us-central1', name: 'prod' }),
      );
      await api.restartWorkload({ kind: 'Deployment', namespace: 'prod', name: 'checkout' }, new Date());
      await eventually(async () => {
        const pods = await api.listWorkloadPods({ kind: 'Deployment', namespace: 'prod', name: 'checkout' });
        return pods.length === 3 && pods.every((p) => p.containers.every((c) => c.ready));
      }, 'the pods to run again');
    } finally {
      await google.close();
    }
    await h.sb.publish(h.sb.google.monitoringIncident(undefined, 'closed'));
    await eventually(() => /Resolved:/.test(h.text(ts)), 'the message to say Resolved');
    assert.deepEqual(
      buttons(h.sb.slack.message(h.channel, ts)?.blocks).map((b) => b.action_id),
      [ACTIONS.recheck],
      'no fix buttons on a resolved incident',
    );
  });
});

describe('FIX_MODE=dry-run', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed', botEnv: { FIX_MODE: 'dry-run' } });
  });
  after(() => h?.stop());

  it('shows exactly what would change and changes nothing', async () => {
    const ts = await incidentFromMonitoring(h);
    const grant = buttons(h.sb.slack.message(h.channel, ts)?.blocks).find((b) => b.action_id === ACTIONS.grantRestart);
    assert.match(grant?.text ?? '', /dry run/);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /Dry run/.test(h.text(ts)), 'the dry-run report');
    await eventually(
      () => /gcloud artifacts repositories add-iam-policy-binding services/.test(h.thread(ts)),
      'what would run, in the thread',
    );
    assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, 0);
    assert.equal(h.sb.google.world.cluster(CLUSTER)?.kube.patches.length, 0);
  });
});

describe('scope guards, user groups and paused workloads', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'paused', botEnv: { ALLOWED_NAMESPACES: 'staging' } });
  });
  after(() => h?.stop());

  it('refuses a restart outside ALLOWED_NAMESPACES, even for an approver from the on-call group', async () => {
    const ts = await incidentFromMonitoring(h);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.groupApprover,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    const r = await eventually(
      () => h.sb.slack.responses().find((x) => /ALLOWED_NAMESPACES/.test(String(x.body.text))),
      'the refusal',
    );
    assert.match(String(r.body.text), /namespace `prod`/);
    assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, 0);
  });
});

describe('a paused Deployment', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'paused', propagationDelayMs: 0 });
  });
  after(() => h?.stop());

  it('grants, but refuses to restart it and says how to resume', async () => {
    const ts = await incidentFromMonitoring(h);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.groupApprover,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /Fix failed/.test(h.text(ts)), 'the outcome', 30_000);
    assert.match(h.text(ts), /paused: run `kubectl rollout resume` first/);
    assert.equal(h.sb.google.world.cluster(CLUSTER)?.kube.patches.length, 0, 'no restart patch sent');
  });
});

describe('the bot lacks getIamPolicy on the repository', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'bot-lacks-permission' });
  });
  after(() => h?.stop());

  it('says which permission it needs and offers no grant it could not apply', async () => {
    const ts = await incidentFromMonitoring(h);
    const text = h.all(ts);
    assert.match(text, /cannot-verify/);
    assert.match(text, /artifactregistry\.repositories\.getIamPolicy/);
    assert.ok(!buttons(h.sb.slack.message(h.channel, ts)?.blocks).some((b) => b.action_id === ACTIONS.grantRestart));
  });
});

describe('a concurrent change to the repository policy', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('re-reads and retries when setIamPolicy answers ABORTED, and keeps the change made meanwhile', async () => {
    const ts = await incidentFromMonitoring(h);
    // Someone else edits the policy after the bot planned: the plan's etag is stale...
    h.sb.google.addBinding(
      REPO,
      'roles/artifactregistry.writer',
      'serviceAccount:release-bot@acme-prod-417.iam.gserviceaccount.com',
    );
    // ...and the first write also loses a race (ABORTED), as under concurrent edits.
    h.sb.google.failNext('artifactregistry.SetIamPolicy', 10);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /\*Fixed\*/.test(h.text(ts)), 'Fixed', 30_000);
    const bindings = h.sb.google.world.repository(REPO)?.iam.bindings ?? [];
    const writer = bindings.find((b) => b.role === 'roles/artifactregistry.writer');
    assert.ok(
      writer?.members.includes('serviceAccount:release-bot@acme-prod-417.iam.gserviceaccount.com'),
      'the concurrent change survived',
    );
    assert.ok(
      bindings
        .find((b) => b.role === 'roles/artifactregistry.reader' && !b.condition)
        ?.members.includes(`serviceAccount:${SA}`),
    );
    assert.ok(h.sb.google.calls.count('artifactregistry.SetIamPolicy') >= 2, 'the write was retried');
  });
});

describe('a grant whose propagation is not confirmed in time', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      scenario: 'seed',
      propagationDelayMs: 600_000,
      botEnv: { PROPAGATION_TIMEOUT_SECONDS: '1' },
    });
  });
  after(() => h?.stop());

  it('ends as failed, says what to do, and can still be undone', async () => {
    const ts = await incidentFromMonitoring(h);
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /Fix failed/.test(h.text(ts)), 'the outcome', 30_000);
    assert.match(h.text(ts), /IAM did not confirm access/);
    assert.ok(
      buttons(h.sb.slack.message(h.channel, ts)?.blocks).some((b) => b.action_id === ACTIONS.undo),
      'Undo offered after a failed run',
    );
    await h.sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel: h.channel, ts, actionId: ACTIONS.undo });
    await eventually(() => /\*Undone\* by <@U0ALICE>/.test(h.text(ts)), 'undone');
    const reader = h.sb.google.world
      .repository(REPO)
      ?.iam.bindings.find((b) => b.role === 'roles/artifactregistry.reader' && !b.condition);
    assert.ok(!reader?.members.includes(`serviceAccount:${SA}`), 'the member is gone again');
  });
});

describe('alerts that keep coming while a fix runs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed', propagationDelayMs: 2500 });
  });
  after(() => h?.stop());

  it('stay on the same incident (no second message while IAM propagates), and a stranger cannot dismiss it', async () => {
    const ts = await incidentFromMonitoring(h);
    await h.sb.slack.clickButton({ user: SANDBOX_PEOPLE.stranger, channel: h.channel, ts, actionId: ACTIONS.dismiss });
    await eventually(
      () => h.sb.slack.responses().find((r) => /Not dismissed: you are not an approver/.test(String(r.body.text))),
      'refusal',
    );
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /waiting for IAM to propagate/.test(h.text(ts)), 'the propagation wait', 10_000);
    for (const e of h.sb.google.logEntries({ perPod: 1 }))
      await h.sb.publish({ ...(e as object), insertId: `late-${Math.random()}` });
    await eventually(() => /\*Fixed\*/.test(h.text(ts)), 'Fixed', 30_000);
    assert.equal(h.sb.slack.messages(h.channel).filter((m) => !m.threadTs).length, 1, 'one message for the root cause');
  });
});
