import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { visibleText } from '../../../src/slack/preview/visible-text.ts';
import { buttons, eventually, type Harness, startHarness } from '../helpers.ts';

const SA = '123456789012-compute@developer.gserviceaccount.com';
const MEMBER = `serviceAccount:${SA}`;
const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const READER = 'roles/artifactregistry.reader';

/**
 * The seed incident end to end (issue 2), once per Slack transport: an alert through the real Pub/Sub emulator, the
 * diagnosis through the real Google clients over the wire fakes and HTTPS to the Kubernetes fake, the incident
 * message through the real Bolt app, an approver's click, the etag-guarded grant, the restart, the verification.
 */
for (const mode of ['socket', 'http'] as const) {
  describe(`seed incident, end to end (${mode === 'socket' ? 'Socket Mode over a loopback WebSocket' : 'HTTP with signed requests'})`, () => {
    let h: Harness;
    let ts: string;
    let policyBefore: unknown;

    before(async () => {
      h = await startHarness({ scenario: 'seed', slackMode: mode, propagationDelayMs: 300, podStartMs: 50 });
      policyBefore = structuredClone(h.sb.google.world.repository(REPO)?.iam.bindings);
    });
    after(() => h?.stop());

    it('turns a failed-pull log entry from Pub/Sub into one incident message with the diagnosis, the change and the button', async () => {
      const [entry] = h.sb.google.logEntries({ pods: [h.sb.google.scenario.target.pod], perPod: 1 });
      assert.ok(entry, 'the sandbox exports a log entry for the failing pod');
      await h.sb.publish(entry);
      const m = await h.firstMessage();
      ts = m.ts;
      // The first screen: the verdict, where and how bad (read from the cluster: 3 pods fail, though one alert
      // came), the change and its diff, the buttons; the rest one tap away in the thread.
      const top = visibleText(m.blocks ?? []);
      assert.match(top, /^🚨 Node service account lacks read access to repository services\n/);
      assert.match(
        top,
        /deployment\/checkout in prod · cluster prod \(us-central1\) · project acme-prod-417 — 3 of 3 pods failing/,
      );
      assert.match(top, /\+ {3}serviceAccount:123456789012-compute@developer\.gserviceaccount\.com/);
      assert.ok(top.length < 850, `${top.length} visible characters on the first screen`);
      await eventually(() => /Evidence/.test(h.thread(ts)), 'the details reply');
      const text = h.all(ts);
      assert.match(m.text ?? '', /prod\/checkout: Node service account lacks read access to repository services/);
      assert.match(text, /deployment\/checkout/);
      assert.match(text, new RegExp(SA.replace(/\./g, '\\.')), 'names the node service account');
      assert.match(text, /default-pool/, 'names the node pool');
      assert.match(text, /artifactregistry\.repositories\.downloadArtifacts/);
      assert.match(text, /Policy Troubleshooter: CANNOT_ACCESS/, 'shows the evidence');
      assert.match(
        text,
        /gcloud artifacts repositories add-iam-policy-binding services --project=acme-prod-417 --location=us-central1/,
      );
      assert.match(text, /kubectl rollout restart deployment\/checkout -n prod/);
      assert.match(text, /node-sa-missing-reader/, 'stable finding id visible');
      const grant = buttons(m.blocks).find((b) => b.action_id === ACTIONS.grantRestart);
      assert.ok(grant, 'Grant & restart button');
      assert.match(
        grant.confirm?.text.text ?? '',
        new RegExp(`Add ${MEMBER.replace(/\./g, '\\.')} as ${READER} on repository services`),
      );
      assert.ok((grant.value ?? '').length < 100, 'the button carries ids, not the plan');
      assert.equal(h.sb.slack.messages(h.channel).filter((x) => !x.threadTs).length, 1);
    });

    it('refuses a click from someone who is not an approver, privately, and changes nothing', async () => {
      const writes = h.sb.google.world.repository(REPO)?.iam.writes;
      await h.sb.slack.clickButton({
        user: SANDBOX_PEOPLE.stranger,
        channel: h.channel,
        ts,
        actionId: ACTIONS.grantRestart,
      });
      const refusal = await eventually(
        () => h.sb.slack.responses().find((r) => /not an approver/.test(String(r.body.text))),
        'the refusal',
      );
      assert.equal(refusal.body.response_type, 'ephemeral');
      assert.equal(h.sb.google.world.repository(REPO)?.iam.writes, writes, 'no IAM write');
      assert.deepEqual(h.sb.google.world.repository(REPO)?.iam.bindings, policyBefore);
    });

    it('applies the least-privilege grant, restarts the deployment, sees the new pods run and says so', async () => {
      await h.sb.slack.clickButton({
        user: SANDBOX_PEOPLE.approver,
        channel: h.channel,
        ts,
        actionId: ACTIONS.grantRestart,
      });
      await eventually(() => /\*Fixed\*/.test(h.text(ts)), 'the message to say Fixed', 30_000);
      const text = h.text(ts);
      assert.match(text, /approved by <@U0ALICE>/);
      assert.match(text, /3\/3 new pod\(s\) ready/);
      assert.ok(
        buttons(h.sb.slack.message(h.channel, ts)?.blocks).some((b) => b.action_id === ACTIONS.undo),
        'Undo offered',
      );

      // IAM: exactly one member added to the reader role; every other binding and condition as it was.
      const bindings = h.sb.google.world.repository(REPO)?.iam.bindings ?? [];
      const reader = bindings.find((b) => b.role === READER && !b.condition);
      assert.deepEqual(reader?.members, [MEMBER]);
      assert.deepEqual(
        bindings.filter((b) => b !== reader),
        policyBefore,
      );

      // Kubernetes: the same strategic-merge patch kubectl rollout restart sends.
      const cluster = h.sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
      const patch = cluster?.kube.patches.find((p) => p.kind === 'Deployment' && p.name === 'checkout');
      assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');
      assert.equal(patch?.fieldManager, 'kubectl-rollout');
      assert.match(JSON.stringify(patch?.body), /kubectl\.kubernetes\.io\/restartedAt/);
      const pods = (cluster?.kube.list('Pod', 'prod') ?? []).filter((p) => p.metadata.name.startsWith('checkout-'));
      const running = pods.filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running');
      assert.ok(running.length >= 3, `3 checkout pods running (saw ${running.length} of ${pods.length})`);

      // Audit: a thread reply under the incident.
      await eventually(
        () =>
          h.sb.slack
            .message(h.channel, ts)
            ?.replies.some((r) => /Fix approved by <@U0ALICE> succeeded/.test(r.text ?? '')),
        'the audit reply in the thread',
      );
    });

    it('Undo removes exactly the member the bot added', async () => {
      await h.sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel: h.channel, ts, actionId: ACTIONS.undo });
      await eventually(() => /\*Undone\* by <@U0ALICE>/.test(h.text(ts)), 'the message to say Undone');
      assert.deepEqual(h.sb.google.world.repository(REPO)?.iam.bindings, policyBefore);
      // The header says so, and the grant is offered again (without a restart: the pods that pulled still run).
      const blocks = h.sb.slack.message(h.channel, ts)?.blocks ?? [];
      assert.match(visibleText(blocks), /^↩️ Undone: Node service account lacks read access/);
      const again = buttons(blocks).find((b) => b.action_id === ACTIONS.grantRestart);
      assert.equal(again?.text, 'Grant again');
    });

    it('answers /imagepull diagnose privately, and a bad command with usage', async () => {
      const target = h.sb.google.scenario.target;
      await h.sb.slack.slashCommand({
        user: SANDBOX_PEOPLE.stranger,
        channel: h.channel,
        text: `diagnose ${target.namespace}/deployment/${target.workload.name}`,
      });
      const answer = await eventually(
        () =>
          h.sb.slack
            .responses()
            .find((r) => r.body.replace_original === true && /checkout/.test(JSON.stringify(r.body.blocks ?? ''))),
        'the diagnosis answer',
      );
      assert.equal(answer.body.response_type, 'ephemeral');
      const bad = await h.sb.slack.slashCommand({
        user: SANDBOX_PEOPLE.stranger,
        channel: h.channel,
        text: 'diagnose',
      });
      const ack = JSON.stringify(bad.payload ?? bad.body);
      assert.match(ack, /needs a pod, a workload or an image/);
      assert.match(ack, /Usage/);
    });
  });
}

describe('alert intake edge cases (Pub/Sub emulator)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('acknowledges garbage and metric alerts with a reason, deduplicates redeliveries, never posts twice', async () => {
    const counter = (labels: Record<string, string>) => h.bot.metrics.value('imagepull_alerts_total', labels);
    await h.sb.publish('this is not json');
    await h.sb.publish({
      version: 'test',
      incident: { incident_id: '12345', state: 'OPEN', summary: 'Test Incident', documentation: 'Test documentation' },
    });
    const [entry] = h.sb.google.logEntries({ perPod: 1 });
    await h.sb.publish(entry as object);
    await h.sb.publish(entry as object);
    await eventually(
      async () =>
        (await counter({ kind: 'ignored' })) >= 1 &&
        (await counter({ kind: 'test' })) >= 1 &&
        (await counter({ outcome: 'duplicate' })) >= 1,
      'the alerts to be handled',
    );
    await eventually(() => h.sb.slack.messages(h.channel).length === 1, 'one incident message');
    // The second copy is recorded into the same incident, which remembers the delivery: it counts nothing, and is
    // acknowledged rather than sent round again.
    assert.equal(
      await h.bot.metrics.value('imagepull_pubsub_messages_total', { result: 'nacked' }),
      0,
      'nothing nacked, nothing loops',
    );
    const [incident] = await h.bot.store.listIncidents();
    assert.equal(incident?.alertCount, 1, 'the redelivery was not counted twice');
  });
});

describe('a control plane that does not answer for a while', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('nacks with backoff and retries the read, then posts once the cluster answers', async () => {
    // The Kubernetes API answers 503 to the first reads of pods (the namespace list and the pod itself, each more than the
    // adapter's own retries), then recovers.
    h.sb.google.failNext('kube.GET pods', 503, 6);
    await h.sb.publish(h.sb.google.monitoringIncident());
    const m = await h.firstMessage(30_000);
    assert.match(h.text(m.ts), /node-sa-missing-reader/, 'a real diagnosis, not guesswork from the first blind read');
    assert.ok(
      (await h.bot.metrics.value('imagepull_alerts_total', { outcome: 'nacked' })) >= 1,
      'the blind attempt was nacked',
    );
    assert.equal(h.sb.slack.messages(h.channel).filter((x) => !x.threadTs).length, 1);
  });
});
