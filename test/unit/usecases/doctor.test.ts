import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import type { ClusterRef } from '../../../src/diagnosis/facts.ts';
import { ChatError, type ChatIdentity } from '../../../src/ports/chat.port.ts';
import type { ClusterApi } from '../../../src/ports/cluster.port.ts';
import type { GkeReader, ProjectDirectory, RepositoryIam } from '../../../src/ports/gcp.port.ts';
import type { SubscriptionReader } from '../../../src/ports/pubsub.port.ts';
import { ReadError } from '../../../src/shared/errors.ts';
import { type DoctorDeps, type DoctorItem, runDoctor } from '../../../src/usecases/doctor.ts';

/**
 * The failures the sandbox cannot stage (its Pub/Sub emulator has no IAM; its clusters always answer), with
 * in-memory ports. The wire test (test/wire/cli/doctor.test.ts) runs the real CLI against the sandbox for the rest.
 */

const ENV = {
  SLACK_BOT_TOKEN: 'xoxb-1',
  SLACK_APP_TOKEN: 'xapp-1',
  INCIDENT_CHANNEL: 'C0INCIDENTS',
  OWNER_CHANNELS: 'payments=C0PAY',
  DEFAULT_CLUSTER: 'acme-prod/us-central1/prod',
  PUBSUB_SUBSCRIPTION: 'projects/acme-ops/subscriptions/imagepull-bot',
  STATE_STORE: 'firestore',
  FIRESTORE_PROJECT: 'acme-ops',
};
const SA = 'imagepull-bot@acme-ops.iam.gserviceaccount.com';

const chat = (over: Partial<ChatIdentity> = {}): ChatIdentity => ({
  whoAmI: async () => ({
    userId: 'U0BOT',
    user: 'imagepull-bot',
    team: 'acme',
    scopes: ['chat:write', 'commands', 'usergroups:read', 'channels:read', 'groups:read'],
  }),
  channel: async (id) => ({ id, name: id === 'C0PAY' ? 'payments' : 'incidents', isPrivate: false, isMember: true }),
  ...over,
});

const allGranted = async (_: string, permissions: readonly string[]) => permissions;
const api = (canI: ClusterApi['canI']): ClusterApi => ({ canI }) as unknown as ClusterApi;

function deps(over: Partial<DoctorDeps> = {}, subs: Partial<SubscriptionReader> = {}): DoctorDeps {
  return {
    chat: chat(),
    gke: { listClusters: async () => [] } as unknown as GkeReader,
    projects: { testPermissions: allGranted } as unknown as ProjectDirectory,
    repositories: { testPermissions: allGranted } as unknown as RepositoryIam,
    cluster: async (_: ClusterRef) => api(async () => true),
    subscriptions: {
      topicOf: async () => 'projects/acme-ops/topics/gke-image-pull',
      testPermissions: allGranted,
      close: async () => {},
      ...subs,
    },
    serviceAccount: SA,
    ...over,
  };
}

const failed = (items: readonly DoctorItem[]) => items.filter((i) => i.status === 'fail');

describe('doctor: the failures the sandbox cannot stage, each with its fix', () => {
  const config = loadConfig(ENV);

  it('all wired: every item passes, owner channels and Firestore included', async () => {
    const r = await runDoctor(config, deps());
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.items.map((i) => `${i.id}:${i.status}:${i.subject ?? ''}`),
      [
        'config:pass:',
        'slack.token:pass:',
        'slack.scopes:pass:',
        'slack.channel:pass:C0INCIDENTS',
        'slack.channel:pass:C0PAY',
        'pubsub.subscription:pass:projects/acme-ops/subscriptions/imagepull-bot',
        'pubsub.permissions:pass:projects/acme-ops/subscriptions/imagepull-bot',
        'cluster.reach:pass:acme-prod/us-central1/prod',
        'cluster.rbac:pass:acme-prod/us-central1/prod',
        'gcp.project:pass:acme-prod',
        'firestore:pass:acme-ops',
      ],
    );
  });

  const cases: { name: string; deps: DoctorDeps; id: DoctorItem['id']; fix: RegExp }[] = [
    {
      name: 'the bot may not pull from the subscription (no roles/pubsub.subscriber)',
      deps: deps({}, { testPermissions: async () => ['pubsub.subscriptions.get'] }),
      id: 'pubsub.permissions',
      fix: new RegExp(
        `^gcloud pubsub subscriptions add-iam-policy-binding imagepull-bot --project=acme-ops --role=roles/pubsub.subscriber --member=serviceAccount:${SA}$`,
      ),
    },
    {
      name: 'the subscription cannot be read, which the readiness check does (subscriber alone has no get)',
      deps: deps(
        {},
        {
          topicOf: async () => {
            throw new ReadError('permission-denied', 'Pub/Sub subscriptions.get: 7 PERMISSION_DENIED', {
              permission: 'pubsub.subscriptions.get',
            });
          },
          testPermissions: async () => ['pubsub.subscriptions.consume'],
        },
      ),
      id: 'pubsub.subscription',
      fix: /reads the subscription: gcloud pubsub subscriptions add-iam-policy-binding imagepull-bot --project=acme-ops --role=roles\/pubsub.viewer/,
    },
    {
      name: 'the cluster’s Kubernetes API does not answer (private endpoint, authorized networks)',
      deps: deps({
        cluster: async () =>
          api(async () => {
            throw new ReadError('timeout', 'Kubernetes create selfsubjectaccessreviews: timed out');
          }),
      }),
      id: 'cluster.reach',
      fix: /^let the bot reach the control plane .*gcloud container clusters describe prod --location=us-central1 --project=acme-prod/,
    },
    {
      name: 'the role is not granted in the cluster’s project at all',
      deps: deps({
        projects: {
          testPermissions: async (p: string, perms: readonly string[]) => (p === 'acme-prod' ? [] : perms),
        } as unknown as ProjectDirectory,
      }),
      id: 'gcp.project',
      fix: new RegExp(
        `^grant the bot its role there: gcloud projects add-iam-policy-binding acme-prod --member=serviceAccount:${SA} --role=projects/acme-prod/roles/imagepullBot --condition=None$`,
      ),
    },
    {
      name: 'an owner channel id that is no channel the bot can see',
      deps: deps({
        chat: chat({
          channel: async (id) => {
            if (id === 'C0PAY') throw new ChatError('channel_not_found', true, 'conversations.info: channel_not_found');
            return { id, name: 'incidents', isPrivate: false, isMember: true };
          },
        }),
      }),
      id: 'slack.channel',
      fix: /^OWNER_CHANNELS \(payments\) must be the id of a channel the bot can see/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runDoctor(config, c.deps);
      assert.equal(r.ok, false);
      const [only, ...others] = failed(r.items);
      assert.equal(only?.id, c.id);
      assert.deepEqual(others, [], 'one broken thing, one failed item');
      assert.ok(
        only?.fix?.some((l) => c.fix.test(l)),
        `a fix line matches ${c.fix}: ${JSON.stringify(only?.fix)}`,
      );
    });
  }

  it('Firestore without roles/datastore.user: the grant', async () => {
    const projects = {
      testPermissions: async (p: string, perms: readonly string[]) => (p === 'acme-ops' ? [] : perms),
    } as unknown as ProjectDirectory;
    const r = await runDoctor(config, deps({ projects }));
    const [only] = failed(r.items);
    assert.equal(only?.id, 'firestore');
    assert.deepEqual(only?.fix, [
      `gcloud projects add-iam-policy-binding acme-ops --member=serviceAccount:${SA} --role=roles/datastore.user --condition=None`,
    ]);
  });

  it('FIX_MODE=dry-run does not ask for setIamPolicy', async () => {
    const asked: string[][] = [];
    const projects = {
      testPermissions: async (_: string, perms: readonly string[]) => {
        asked.push([...perms]);
        return perms;
      },
    } as unknown as ProjectDirectory;
    await runDoctor(loadConfig({ ...ENV, FIX_MODE: 'dry-run', STATE_STORE: 'memory' }), deps({ projects }));
    assert.equal(asked.length, 1);
    assert.ok(!asked[0]?.includes('artifactregistry.repositories.setIamPolicy'));
    assert.ok(asked[0]?.includes('artifactregistry.repositories.getIamPolicy'));
  });
});
