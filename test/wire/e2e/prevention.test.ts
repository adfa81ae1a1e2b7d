import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE, setIamPolicyEntry, validateBlocks } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { TOP_LEVEL_BUDGET, visibleText } from '../../../src/slack/preview/visible-text.ts';
import { buttons, eventually, type Harness, startHarness } from '../helpers.ts';

const SA = '123456789012-compute@developer.gserviceaccount.com';
const MEMBER = `serviceAccount:${SA}`;
const READER = 'roles/artifactregistry.reader';
const WEB = 'projects/acme-prod-417/locations/us-central1/repositories/web';
const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const CLUSTER = 'projects/acme-prod-417/locations/us-central1/clusters/prod';

/**
 * The pull audit in the bot, end to end (docs/prevention.md): a SetIamPolicy audit-log entry through the real
 * Pub/Sub emulator makes the bot re-audit what depends on the changed repository and warn before any pod fails,
 * with the same approval buttons as an alert-driven incident; the grant fix closes the gap; `/imagepull audit` posts
 * the gaps it finds; a gap closed by hand resolves its message.
 *
 * `binding-removed`: everything runs; the node SA's reader on `services` was removed two hours ago (a latent gap).
 */
describe('warnings before the first pod fails (IAM change → re-audit → incident)', () => {
  let h: Harness;
  let webTs: string;

  before(async () => {
    h = await startHarness({ scenario: 'binding-removed', propagationDelayMs: 300, podStartMs: 50 });
  });
  after(() => h?.stop());

  const topLevel = () => h.sb.slack.messages(h.channel).filter((m) => !m.threadTs);
  const pods = (app: string) =>
    (h.sb.google.world.cluster(CLUSTER)?.kube.list('Pod', 'prod') ?? []).filter(
      (p) => p.metadata.labels?.app === app,
    ) as unknown as { status: { phase: string } }[];

  it('an audit-log entry for a removed reader binding, published to the alert topic, posts one warning', async () => {
    assert.equal(topLevel().length, 0, 'nothing posted before');
    h.sb.google.removeBinding(WEB, READER, MEMBER);
    const entry = setIamPolicyEntry(h.sb.google.world, {
      resource: WEB,
      deltas: [{ action: 'REMOVE', role: READER, member: MEMBER }],
      principal: 'jordan.lee@acme.example',
    });
    await h.sb.publish(entry);
    const m = await h.firstMessage();
    webTs = m.ts;
    const text = h.text(webTs);
    // Valid Block Kit, and the first screen within the phone budget of every incident message.
    assert.deepEqual(validateBlocks(m.blocks ?? [], 'message').messages, []);
    const chars = visibleText(m.blocks ?? []).length;
    assert.ok(
      chars <= TOP_LEVEL_BUDGET,
      `${chars} visible characters on the first screen:\n${visibleText(m.blocks ?? [])}`,
    );
    assert.match(m.text ?? '', /^Pull risk: node pool default-pool/);
    assert.match(
      text,
      /node pool `default-pool` \(`123456789012-compute@developer\.gserviceaccount\.com`\) cannot pull 2 images used by 2 workloads; they run today only from the node cache/,
    );
    assert.match(
      text,
      /Found by the re-audit after an IAM change \(`SetIamPolicy` on repository `web` by `jordan\.lee@acme\.example`\)/,
    );
    assert.match(text, /jordan\.lee@acme\.example/, 'says who changed it');
    assert.match(text, /deployment\/prod\/frontend/);
    assert.match(text, /node-sa-missing-reader/);
    assert.ok(
      buttons(m.blocks).some((b) => b.action_id === ACTIONS.grantRestart),
      'the same Grant button as an alert-driven incident',
    );
    // Only what depends on the changed repository was re-audited: the older gap on `services` is not posted.
    assert.equal(topLevel().length, 1);
    assert.doesNotMatch(text, /repositories\/services/);
    // The warning came before any failure: frontend and cart still run (from their nodes' image cache).
    assert.ok(
      [...pods('frontend'), ...pods('cart')].every((p) => p.status.phase === 'Running'),
      'no pod has failed',
    );
  });

  it('the grant closes it: a plan with a grant and no restart, confirmed by the Troubleshooter', async () => {
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: h.channel,
      ts: webTs,
      actionId: ACTIONS.grantRestart,
    });
    await eventually(() => /\*Fixed\*/.test(h.text(webTs)), 'the warning to say Fixed', 30_000);
    assert.match(h.text(webTs), /nothing to restart/);
    const reader = h.sb.google.world.repository(WEB)?.iam.bindings.find((b) => b.role === READER && !b.condition);
    assert.ok(reader?.members.includes(MEMBER), 'reader is back on web');
  });

  it('/imagepull audit posts the gaps it finds, one message per root cause, and answers with the summary', async () => {
    await h.sb.slack.slashCommand({ user: SANDBOX_PEOPLE.stranger, channel: h.channel, text: 'audit' });
    const answer = await eventually(
      () => h.sb.slack.responses().find((r) => /Pull audit/.test(JSON.stringify(r.body.blocks ?? ''))),
      'the audit answer',
    );
    assert.equal(answer.body.response_type, 'ephemeral');
    const blocks = JSON.stringify(answer.body.blocks);
    assert.match(blocks, /1 root cause would stop new nodes from pulling images in use/);
    assert.match(blocks, /Open the incident/);
    const services = await eventually(
      () => topLevel().find((m) => /repository services/.test(h.text(m.ts))),
      'the services warning',
    );
    assert.match(h.text(services.ts), /cannot pull 1 image used by 1 workload; it runs today only from the node cache/);
    assert.equal(topLevel().length, 2, 'web (fixed) and services: one message per root cause');
  });

  it('a gap closed by hand resolves its message at the next IAM change', async () => {
    const services = topLevel().find((m) => /repository services/.test(h.text(m.ts)));
    assert.ok(services);
    h.sb.google.addBinding(SERVICES, READER, MEMBER);
    await h.sb.publish(
      setIamPolicyEntry(h.sb.google.world, {
        resource: SERVICES,
        deltas: [{ action: 'ADD', role: READER, member: MEMBER }],
      }),
    );
    await eventually(() => /Resolved/.test(h.text(services.ts)), 'the services warning to be resolved', 20_000);
    assert.match(h.text(services.ts), /The gap closed/);
  });
});

describe('the periodic pull audit (AUDIT_INTERVAL)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'cronjob-not-run', botEnv: { AUDIT_INTERVAL: '1s' } });
  });
  after(() => h?.stop());

  it('posts the gap of a CronJob that has not run yet, once, and leaves it alone while nothing changes', async () => {
    const m = await h.firstMessage(15_000);
    const text = h.text(m.ts);
    assert.match(text, /cronjob\/nightly-report has not run yet: the first run will fail/);
    assert.match(text, /Found by the periodic pull audit/);
    assert.match(text, /repository reports/);
    // The message is stored with its permalink right after it is posted; from then on nothing should change.
    const posted = await eventually(
      async () => (await h.bot.store.listIncidents()).find((r) => r.posts?.some((p) => p.permalink)),
      'stored',
    );
    const version = posted.version;
    const audits = h.sb.google.calls.count('kube.GET cronjobs');
    // Three more periods: the same gap, the same incident, no new message and no rewrite.
    await new Promise((r) => setTimeout(r, 3_500));
    assert.ok(h.sb.google.calls.count('kube.GET cronjobs') >= audits + 2, 'it kept auditing');
    assert.equal(h.sb.slack.messages(h.channel).filter((x) => !x.threadTs).length, 1);
    const incidents = await h.bot.store.listIncidents();
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]?.version, version, 'an audit that finds the same writes nothing');
  });
});
