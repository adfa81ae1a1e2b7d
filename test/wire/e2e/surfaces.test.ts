import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE, type Sandbox, startSandbox } from '@imagepull/sandbox';
import { eventually, type Harness, startHarness } from '../helpers.ts';
import { runCli } from '../run-cli.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

describe('App Home and /imagepull status', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed' });
  });
  after(() => h?.stop());

  it('show open incidents, pending approvals and the bot’s own permission health', async () => {
    await h.sb.publish(h.sb.google.monitoringIncident());
    await h.firstMessage();
    await h.sb.slack.openAppHome(SANDBOX_PEOPLE.approver);
    const home = await eventually(() => h.sb.slack.homeViews(SANDBOX_PEOPLE.approver), 'App Home published');
    const text = JSON.stringify(home);
    assert.match(text, /Open incidents/);
    assert.match(text, /Waiting for approval/);
    assert.match(text, /Node service account lacks read access to repository services/);
    assert.match(text, /Kubernetes: patch deployments/, 'checks RBAC with SelfSubjectAccessReview');
    await h.sb.slack.slashCommand({ user: SANDBOX_PEOPLE.stranger, channel: h.channel, text: 'status' });
    const status = await eventually(
      () => h.sb.slack.responses().find((r) => /Permission health/.test(JSON.stringify(r.body.blocks ?? ''))),
      'status answer',
    );
    assert.match(
      JSON.stringify(status.body.blocks),
      /Read IAM of projects\/acme-prod-417\/locations\/us-central1\/repositories\/services/,
    );
  });
});

describe('imagepull serve as a process: health, metrics, SIGTERM', () => {
  let sb: Sandbox;
  let bot: ServeProcess | undefined;
  let port: string;
  before(async () => {
    sb = await startSandbox({ scenario: 'seed' });
    port = sb.env.PORT as string;
    // As `npm start` and the image run it: the same V8 flags and environment; ready once /readyz answers 200.
    bot = await startServe(sb.env, { ready: true });
  });
  after(async () => {
    await bot?.kill();
    await sb?.stop();
  });

  it('serves /healthz, /readyz and Prometheus /metrics, and stops cleanly on SIGTERM', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await sb.publish(sb.google.monitoringIncident());
    await eventually(() => sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).length === 1, 'incident posted');
    // The post is observed in the histogram just after Slack has it: scrape until it is there.
    const metrics = await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /imagepull_alert_to_first_post_seconds_count 1/.test(text) ? text : undefined;
    }, 'the first post in the metrics');
    assert.match(metrics, /# TYPE imagepull_alerts_total counter/);
    assert.match(metrics, /imagepull_alerts_total\{kind="monitoring-incident",outcome="recorded"\} 1/);
    assert.match(metrics, /imagepull_slack_messages_total\{event="posted"\} 1/);
    assert.match(metrics, /imagepull_alert_to_first_post_seconds_count 1/, 'the alert→first post histogram');
    assert.match(metrics, /# TYPE imagepull_fix_duration_seconds histogram/);
    assert.match(metrics, /imagepull_read_ahead_refused_total 0/, 'no read-ahead refused for one real alert');
    assert.match(metrics, /process_resident_memory_bytes \d+/, 'process metrics');
    assert.match(metrics, /nodejs_eventloop_lag_seconds/, 'event-loop lag');
    const started = Date.now();
    const serving = bot as ServeProcess;
    const exited = serving.exited();
    serving.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 15_000, 'within a grace period');
  });
});

describe('the CLI', () => {
  const run = (args: string[], input?: string) => runCli(args, input !== undefined ? { input } : {});

  it('explain --json reads stdin and prints the contract JSON', async () => {
    const r = await run(
      ['explain', '--json'],
      'Failed to pull image "gcr.io/acme-prod-417/legacy-api:2.3.0": rpc error: code = Unknown desc = failed to pull and unpack image: 403 Forbidden',
    );
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), {
      cause: 'permission-denied',
      image: {
        raw: 'gcr.io/acme-prod-417/legacy-api:2.3.0',
        registry: 'gcr.io',
        path: 'acme-prod-417/legacy-api',
        tag: '2.3.0',
        normalized: 'gcr.io/acme-prod-417/legacy-api:2.3.0',
      },
      registry: 'gcr',
      repository: 'projects/acme-prod-417/locations/us/repositories/gcr.io',
    });
  });

  it('parse-alert normalizes a fixture and exits 2 for a payload it would ignore', async () => {
    const ok = await run(['parse-alert', '--json', 'test/fixtures/alerts/logentry-failed-to-pull.json']);
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.stdout).pod, 'checkout-7d9c8b6f4-q2xnv');
    const bad = await run(['parse-alert', '--json'], 'not json at all');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ignored/);
  });

  it('parse-alert shows the change an IAM audit entry carries', async () => {
    const r = await run(['parse-alert', '--json', 'test/fixtures/alerts/auditlog-setiampolicy-repository.json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.kind, 'iam-change');
    assert.equal(json.iamChange.scope, 'repository');
    assert.equal(json.iamChange.principal, 'jordan.lee@acme.example');
    assert.ok(
      json.iamChange.deltas.some((d: { action: string }) => d.action === 'REMOVE'),
      r.stdout,
    );
    const text = await run(['parse-alert', 'test/fixtures/alerts/auditlog-setiampolicy-repository.json']);
    assert.match(text.stdout, /^iamChange: \{"resource":"projects\//m);
  });

  it('diagnose --sandbox prints a readable diagnosis with the commands to run', async () => {
    const r = await run(['diagnose', '--sandbox', 'scopes']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /lacks the OAuth scope to read Artifact Registry/);
    assert.match(r.stdout, /findings: node-scopes-insufficient · fixes: none/);
    assert.match(r.stdout, /gcloud container node-pools create \S+ --cluster=prod .*--scopes=cloud-platform/);
  });

  it('bad usage exits 2 with the usage text', async () => {
    const r = await run(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    const d = await run(['diagnose', '--project', 'p']);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /--project, --location and --cluster are required/);
  });
});
