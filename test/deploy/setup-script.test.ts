import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type Emulator, startPubsubEmulator } from '@imagepull/sandbox';
import { runWithoutEgress, type TracedRun } from './no-egress-gcloud.ts';
import { privateGcloudEnv, requireGcloud } from './support/gcloud-env.ts';
import { type GoogleRestRecorder, startGoogleRestRecorder } from './support/google-rest-recorder.ts';

const SCRIPT = new URL('../../deploy/gcp/setup.sh', import.meta.url).pathname;
const ROLE_FILE = new URL('../../deploy/gcp/bot-role.yaml', import.meta.url);
const CLUSTERS = 'acme-prod/us-central1/prod,acme-prod/europe-west1/prod-eu,acme-stage/us-central1/stage';

/** The permissions bot-role.yaml lists (its includedPermissions), as gcloud would read them. */
async function rolePermissions(): Promise<string[]> {
  const text = await readFile(ROLE_FILE, 'utf8');
  const list = /^includedPermissions:\n((?:\s+- .+\n?)+)/m.exec(text)?.[1] ?? '';
  return [...list.matchAll(/- ([\w.]+)/g)].map((m) => m[1] as string).sort();
}

function members(rec: GoogleRestRecorder, resource: string, role: string): string[] {
  return rec.policy(resource)?.bindings.find((b) => b.role === role && !b.condition)?.members ?? [];
}

async function emulatorGet(emulator: Emulator, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${emulator.host}/v1/${path}`);
  assert.equal(res.status, 200, `${path} exists in the Pub/Sub emulator`);
  return (await res.json()) as Record<string, unknown>;
}

/** Runs setup.sh with the real gcloud, under strace, and checks what every run must satisfy. */
async function setup(rec: GoogleRestRecorder, args: string[]): Promise<TracedRun> {
  const env = await privateGcloudEnv(rec.overrides);
  const run = await runWithoutEgress('bash', [SCRIPT, ...args], { env, timeoutMs: 240_000 });
  assert.equal(run.code, 0, `setup.sh exits 0\n${run.stdout}\n${run.stderr}`);
  assert.deepEqual(run.offLoopback, [], 'gcloud sends nothing beyond loopback (no DNS, no metadata server)');
  assert.ok(run.destinations.length > 0, 'the trace saw gcloud connect (to the recorder)');
  assert.deepEqual(rec.violations, [], 'every request matches the REST API reference');
  assert.ok(
    rec.requests.every((r) => !r.authorized),
    'gcloud sends no credentials',
  );
  return run;
}

/** Lines of the script's report that say it changed something (`+` created/granted, `~` updated). */
function changes(run: TracedRun): string[] {
  return run.stdout.split('\n').filter((l) => /^[+~] /.test(l));
}

describe('deploy/gcp/setup.sh with the real gcloud', { concurrency: true }, () => {
  let emulator: Emulator;
  before(async () => {
    requireGcloud();
    emulator = await startPubsubEmulator({ projectId: 'acme-bot' });
  });
  after(async () => {
    await emulator?.stop();
  });

  const projects = {
    'acme-bot': '111111111111',
    'acme-bot-2': '555555555555',
    'acme-prod': '222222222222',
    'acme-stage': '333333333333',
    'acme-images': '444444444444',
  };

  it('route sink, Firestore: creates everything once, and a second run changes nothing', async () => {
    const rec = await startGoogleRestRecorder({ projects, pubsubEmulator: emulator.host });
    try {
      const args = ['--project', 'acme-bot', '--region', 'us-central1', '--clusters', CLUSTERS];
      const first = await setup(rec, [...args, '--repository-projects=acme-images', '--route', 'sink', '--firestore']);
      const gsa = 'imagepull-bot@acme-bot.iam.gserviceaccount.com';

      // Pub/Sub, in the emulator: the topic, its dead-letter topic, the subscription.
      const sub = await emulatorGet(emulator, 'projects/acme-bot/subscriptions/imagepull-bot');
      assert.equal(sub.topic, 'projects/acme-bot/topics/gke-image-pull');
      assert.equal(
        sub.ackDeadlineSeconds,
        30,
        '30 s: messages lost with a dead stream come back within a minute (docs/alerts.md)',
      );
      assert.deepEqual(sub.deadLetterPolicy, {
        deadLetterTopic: 'projects/acme-bot/topics/gke-image-pull-dead',
        maxDeliveryAttempts: 10,
      });
      const topic = await emulatorGet(emulator, 'projects/acme-bot/topics/gke-image-pull');
      assert.deepEqual(topic.messageStoragePolicy, { allowedPersistenceRegions: ['us-central1'] });
      const pubsubAgent = 'serviceAccount:service-111111111111@gcp-sa-pubsub.iam.gserviceaccount.com';
      assert.deepEqual(members(rec, 'projects/acme-bot/topics/gke-image-pull-dead', 'roles/pubsub.publisher'), [
        pubsubAgent,
      ]);
      assert.deepEqual(
        members(rec, 'projects/acme-bot/subscriptions/imagepull-bot', 'roles/pubsub.subscriber').sort(),
        [`serviceAccount:${gsa}`, pubsubAgent],
      );
      // The readiness check reads the subscription: pubsub.subscriptions.get, not in roles/pubsub.subscriber.
      assert.deepEqual(members(rec, 'projects/acme-bot/subscriptions/imagepull-bot', 'roles/pubsub.viewer'), [
        `serviceAccount:${gsa}`,
      ]);

      // The bot's identity and its custom role, in every project it serves (and only there).
      assert.ok(rec.state.serviceAccounts.has(gsa));
      const wanted = await rolePermissions();
      for (const p of ['acme-images', 'acme-prod', 'acme-stage']) {
        const role = rec.state.roles.get(`projects/${p}/roles/imagepullBot`);
        assert.deepEqual([...(role?.includedPermissions ?? [])].sort(), wanted, `the role in ${p} is bot-role.yaml`);
        assert.deepEqual(members(rec, `projects/${p}`, `projects/${p}/roles/imagepullBot`), [`serviceAccount:${gsa}`]);
      }
      assert.equal(
        rec.state.roles.has('projects/acme-bot/roles/imagepullBot'),
        false,
        'no role where nothing is served',
      );
      assert.deepEqual(members(rec, gsa, 'roles/iam.workloadIdentityUser'), [
        'serviceAccount:acme-bot.svc.id.goog[imagepull-bot/imagepull-bot]',
      ]);
      assert.deepEqual(members(rec, 'projects/acme-bot', 'roles/datastore.user'), [`serviceAccount:${gsa}`]);
      assert.deepEqual(rec.state.databases.get('projects/acme-bot/databases/(default)'), {
        locationId: 'us-central1',
        type: 'FIRESTORE_NATIVE',
      });
      assert.deepEqual(
        [...rec.state.ttlFields],
        ['projects/acme-bot/databases/(default)/collectionGroups/imagepull_deliveries/fields/expireAt'],
        'a TTL policy deletes the handled alert ids once their expireAt has passed',
      );
      assert.deepEqual(
        [...rec.state.unindexedFields],
        ['projects/acme-bot/databases/(default)/collectionGroups/imagepull_deliveries/fields/keys'],
        'the packed alert ids are not indexed (nothing queries them)',
      );
      assert.ok(rec.state.enabledServices.get('acme-bot')?.has('policytroubleshooter.googleapis.com'));

      // One sink per cluster project, filtered to the named clusters, each writer allowed to publish.
      const prod = rec.state.sinks.get('projects/acme-prod/sinks/imagepull-bot-alerts');
      assert.equal(prod?.destination, 'pubsub.googleapis.com/projects/acme-bot/topics/gke-image-pull');
      assert.match(prod?.filter ?? '', /jsonPayload\.message=~"\^Failed to pull image"/);
      assert.match(
        prod?.filter ?? '',
        /resource\.labels\.location="us-central1" AND resource\.labels\.cluster_name="prod"\)/,
      );
      assert.match(prod?.filter ?? '', /resource\.labels\.cluster_name="prod-eu"/);
      assert.doesNotMatch(prod?.filter ?? '', /"stage"/, 'a project’s sink names only its own clusters');
      assert.ok(rec.state.sinks.has('projects/acme-stage/sinks/imagepull-bot-alerts'));
      assert.deepEqual(members(rec, 'projects/acme-bot/topics/gke-image-pull', 'roles/pubsub.publisher').sort(), [
        'serviceAccount:service-222222222222@gcp-sa-logging.iam.gserviceaccount.com',
        'serviceAccount:service-333333333333@gcp-sa-logging.iam.gserviceaccount.com',
      ]);
      assert.ok(changes(first).length >= 15, `the first run reports what it created:\n${first.stdout}`);
      assert.match(first.stdout, /PUBSUB_SUBSCRIPTION=projects\/acme-bot\/subscriptions\/imagepull-bot/);

      rec.clearLog();
      const second = await setup(rec, [...args, '--repository-projects=acme-images', '--route', 'sink', '--firestore']);
      assert.deepEqual(changes(second), [], `the second run changes nothing:\n${second.stdout}`);
      assert.deepEqual(
        rec.requests.filter((r) => r.mutates).map((r) => `${r.method} ${r.path}`),
        [],
        'the second run sends no create, set or update',
      );

      // Drift: someone dropped a permission from a role. The next run puts bot-role.yaml back, and only that.
      const drifted = rec.state.roles.get('projects/acme-stage/roles/imagepullBot');
      assert.ok(drifted);
      drifted.includedPermissions = drifted.includedPermissions.filter((p) => p !== 'container.clusters.get');
      rec.clearLog();
      const third = await setup(rec, [...args, '--repository-projects=acme-images', '--route', 'sink', '--firestore']);
      assert.deepEqual(changes(third), [
        '~ role projects/acme-stage/roles/imagepullBot: permissions set to bot-role.yaml',
      ]);
      assert.deepEqual(
        rec.requests.filter((r) => r.mutates).map((r) => r.rest),
        ['iam.projects.roles.patch'],
      );
      assert.deepEqual([...drifted.includedPermissions].sort(), wanted);
    } finally {
      await rec.stop();
    }
  });

  it('route log-alert: a Pub/Sub channel and a log-based alert policy with label extractors, idempotent', async () => {
    const rec = await startGoogleRestRecorder({ projects, pubsubEmulator: emulator.host });
    try {
      const args = ['--project=acme-bot-2', '--region=europe-west1', `--clusters=${CLUSTERS}`, '--route=log-alert'];
      await setup(rec, args);
      const topic = 'projects/acme-bot-2/topics/gke-image-pull';
      for (const [p, number] of [
        ['acme-prod', '222222222222'],
        ['acme-stage', '333333333333'],
      ] as const) {
        const channels = [...rec.state.channels.entries()].filter(([name]) => name.startsWith(`projects/${p}/`));
        assert.equal(channels.length, 1, `one channel in ${p}`);
        const [channelName, channel] = channels[0] as [string, { type: string; labels?: Record<string, string> }];
        assert.deepEqual({ type: channel.type, topic: channel.labels?.topic }, { type: 'pubsub', topic });
        const policies = [...rec.state.alertPolicies.entries()].filter(([name]) => name.startsWith(`projects/${p}/`));
        assert.equal(policies.length, 1, `one alert policy in ${p}`);
        const policy = policies[0]?.[1] as {
          conditions: { conditionMatchedLog: { filter: string; labelExtractors: Record<string, string> } }[];
          notificationChannels: string[];
          documentation: { content: string };
        };
        assert.deepEqual(Object.keys(policy.conditions[0]?.conditionMatchedLog.labelExtractors ?? {}).sort(), [
          'container',
          'message',
          'pod',
        ]);
        assert.match(policy.conditions[0]?.conditionMatchedLog.filter ?? '', /Failed to pull image/);
        assert.deepEqual(policy.notificationChannels, [channelName]);
        // The bot reads these lines from the notification (README "The alert route").
        assert.match(policy.documentation.content, /^pod: \$\{log\.extracted_label\.pod\}$/m);
        assert.match(policy.documentation.content, /^message: \$\{log\.extracted_label\.message\}$/m);
        assert.ok(
          members(rec, topic, 'roles/pubsub.publisher').includes(
            `serviceAccount:service-${number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com`,
          ),
          `Monitoring's agent of ${p} may publish`,
        );
      }
      assert.equal(rec.state.sinks.size, 0, 'no sink on this route');

      rec.clearLog();
      const second = await setup(rec, args);
      assert.deepEqual(changes(second), [], `the second run changes nothing:\n${second.stdout}`);
      assert.deepEqual(
        rec.requests.filter((r) => r.mutates).map((r) => `${r.method} ${r.path}`),
        [],
      );
    } finally {
      await rec.stop();
    }
  });
});
