import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildScenario, SCENARIOS } from '../../../src/scenarios/index.ts';
import { logEntries } from '../../../src/world/alerts.ts';
import type { CronJob } from '../../../src/world/batch-types.ts';
import { readPolicy } from '../../../src/world/iam.ts';
import type { Deployment, KubeEvent, Node, Pod, ReplicaSet } from '../../../src/world/kube-types.ts';
import { simulatePull } from '../../../src/world/kubelet.ts';
import { podReady } from '../../../src/world/workloads.ts';

const REQUIRED = [
  'seed',
  'cross-project',
  'scopes',
  'deny-policy',
  'vpc-sc',
  'repo-missing',
  'wrong-region',
  'tag-missing',
  'already-granted',
  'custom-sa-wrong-pool',
  'workload-identity',
  'docker-hub-rate-limit',
  'bot-lacks-permission',
  'gcr-io',
  'project-level-reader',
  'init-container',
  'statefulset',
  'paused',
  'two-teams',
  'storm',
  'new-node-pool',
  'tainted-pool',
  'binding-removed',
  'daemonset-cross-project',
  'cronjob-not-run',
  'fleet',
];

describe('scenario catalog', () => {
  it('offers every scenario the README names, each with a description', () => {
    assert.deepEqual(
      SCENARIOS.map((s) => s.name),
      REQUIRED,
    );
    for (const s of SCENARIOS) assert.ok(s.description.length > 20, s.name);
  });

  for (const info of SCENARIOS.filter((s) => s.latent)) {
    it(`${info.name}: everything runs today, and a new node of ${info.latent?.pool} could not pull ${info.latent?.image}`, () => {
      const { world } = buildScenario(info.name);
      const risk = info.latent!;
      const cluster = world.cluster(
        `projects/${info.target.project}/locations/${info.target.location}/clusters/${info.target.cluster}`,
      )!;
      const pods = cluster.kube.list<Pod>('Pod');
      assert.ok(pods.length > 0 && pods.every(podReady), 'every pod runs');
      const target = cluster.kube.get<Pod>('Pod', info.target.namespace, info.target.pod)!;
      assert.ok(podReady(target), `${info.target.pod} runs`);
      const pool = cluster.nodePools.find((p) => p.name === risk.pool)!;
      const fresh = simulatePull(world, { cluster, pool, image: risk.image, cachedImages: [] });
      assert.equal(fresh.ok, false, 'a node with an empty cache cannot pull it');
      assert.equal(fresh.ok === false && fresh.kind, 'forbidden');
      // The workload's pods that run on that pool run from the image in their node's cache.
      for (const pod of pods.filter((p) => p.metadata.labels?.app === risk.workload.name)) {
        if (world.nodePoolOfNode(cluster, pod.spec.nodeName ?? '')?.name !== risk.pool) continue;
        const node = cluster.kube.get<Node>('Node', undefined, pod.spec.nodeName ?? '')!;
        const cached = simulatePull(world, { cluster, pool, image: risk.image, cachedImages: node.status.images });
        assert.ok(cached.ok && cached.cached, `${pod.metadata.name} runs from its node's cache`);
      }
    });
  }

  for (const info of SCENARIOS.filter((s) => !s.latent)) {
    it(`${info.name}: the target pod fails to pull the target image for the reason the world implies`, () => {
      const { world } = buildScenario(info.name);
      const cluster = world.cluster(
        `projects/${info.target.project}/locations/${info.target.location}/clusters/${info.target.cluster}`,
      );
      assert.ok(cluster, 'target cluster exists');
      const pod = cluster.kube.get<Pod>('Pod', info.target.namespace, info.target.pod);
      assert.ok(pod, `pod ${info.target.pod} exists`);
      const status = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].find(
        (s) => s.name === info.target.container,
      );
      assert.equal(status?.image, info.target.image);
      assert.equal(status?.state.waiting?.reason, 'ImagePullBackOff');
      const fieldPath = pod.spec.initContainers?.some((c) => c.name === info.target.container)
        ? `spec.initContainers{${info.target.container}}`
        : `spec.containers{${info.target.container}}`;
      const events = cluster.kube
        .eventsFor(pod.metadata.uid)
        .filter((e: KubeEvent) => e.involvedObject.fieldPath === fieldPath);
      const cause = events.find(
        (e) => e.reason === 'Failed' && e.message.startsWith(`Failed to pull image "${info.target.image}": `),
      );
      assert.ok(cause, 'a Warning Failed event carries the pull error');
      assert.equal(cause.type, 'Warning');
      assert.equal(cause.source.host, pod.spec.nodeName);
      assert.ok(cause.count > 1, 'the kubelet retried for a while');
      assert.ok(
        events.some((e) => e.reason === 'BackOff' && e.message === `Back-off pulling image "${info.target.image}"`),
      );
      // Owner chain: Pod → ReplicaSet → Deployment, or Pod → StatefulSet.
      const owner = pod.metadata.ownerReferences?.find((r) => r.controller);
      if (info.target.workload.kind === 'Deployment') {
        const rs = cluster.kube.get<ReplicaSet>('ReplicaSet', info.target.namespace, owner?.name ?? '');
        assert.equal(rs?.metadata.ownerReferences?.[0]?.name, info.target.workload.name);
        assert.ok(cluster.kube.get<Deployment>('Deployment', info.target.namespace, info.target.workload.name));
      } else {
        assert.deepEqual([owner?.kind, owner?.name], [info.target.workload.kind, info.target.workload.name]);
      }
    });
  }

  it('seed: matches the seed guide down to names, node, pool identity and the bindings a fix must keep', () => {
    const { world } = buildScenario('seed');
    const cluster = world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod')!;
    assert.equal(world.project('acme-prod-417')?.number, '123456789012');
    const pod = cluster.kube.get<Pod>('Pod', 'prod', 'checkout-7d9c8b6f4-q2xnv')!;
    assert.equal(pod.spec.nodeName, 'gke-prod-default-pool-a1b2c3d4-9xkz');
    const pool = world.nodePoolOfNode(cluster, pod.spec.nodeName ?? '')!;
    assert.equal(pool.name, 'default-pool');
    assert.equal(pool.serviceAccount, 'default');
    assert.equal(world.nodeServiceAccount(cluster, pool), '123456789012-compute@developer.gserviceaccount.com');
    assert.ok(pool.oauthScopes.includes('https://www.googleapis.com/auth/devstorage.read_only'));
    const policy = readPolicy(
      world.repository('projects/acme-prod-417/locations/us-central1/repositories/services')!.iam,
      3,
    );
    assert.equal(policy.version, 3);
    assert.ok(policy.bindings.some((b) => b.role === 'roles/artifactregistry.writer'));
    assert.ok(policy.bindings.some((b) => b.condition !== null));
    assert.ok(
      !policy.bindings.some((b) =>
        b.members.includes('serviceAccount:123456789012-compute@developer.gserviceaccount.com'),
      ),
    );
    const deployment = cluster.kube.get<Deployment>('Deployment', 'prod', 'checkout')!;
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(deployment.status.readyReplicas, undefined);
    assert.equal(
      deployment.status.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'ProgressDeadlineExceeded',
    );
    const others = cluster.kube.list<Pod>('Pod', 'prod').filter((p) => !p.metadata.name.startsWith('checkout-'));
    assert.ok(others.length >= 3);
    assert.ok(others.every(podReady), 'the other deployments are healthy');
  });

  it('custom-sa-wrong-pool: only the pod on pool-b fails', () => {
    const { world } = buildScenario('custom-sa-wrong-pool');
    const cluster = [...world.clusters.values()][0]!;
    const checkout = cluster.kube.list<Pod>('Pod', 'prod').filter((p) => p.metadata.labels?.app === 'checkout');
    assert.deepEqual(
      checkout.filter((p) => !podReady(p)).map((p) => world.nodePoolOfNode(cluster, p.spec.nodeName ?? '')?.name),
      ['pool-b'],
    );
  });

  it('workload-identity: the KSA names the GSA that holds reader', () => {
    const { world } = buildScenario('workload-identity');
    const cluster = [...world.clusters.values()][0]!;
    const ksa = cluster.kube.get('ServiceAccount', 'prod', 'checkout');
    assert.equal(
      ksa?.metadata.annotations?.['iam.gke.io/gcp-service-account'],
      'checkout@acme-prod-417.iam.gserviceaccount.com',
    );
    assert.equal(cluster.workloadPool, 'acme-prod-417.svc.id.goog');
  });

  it('init-container: the init container fails, the app containers wait', () => {
    const { world } = buildScenario('init-container');
    const pod = [...world.clusters.values()][0]!.kube.get<Pod>('Pod', 'prod', 'checkout-7d9c8b6f4-q2xnv')!;
    assert.equal(pod.status.initContainerStatuses?.[0]?.state.waiting?.reason, 'ImagePullBackOff');
    assert.deepEqual(
      pod.status.containerStatuses?.map((s) => s.state.waiting?.reason),
      ['PodInitializing', 'PodInitializing'],
    );
    assert.equal(pod.status.conditions.find((c) => c.type === 'Initialized')?.status, 'False');
  });

  it('storm: 500 failing pods in 20 deployments, 10,000 distinct log entries at perPod 20, two repositories', () => {
    const { world } = buildScenario('storm');
    const cluster = [...world.clusters.values()][0]!;
    const failing = cluster.kube.list<Pod>('Pod', 'prod').filter((p) => !podReady(p));
    assert.equal(failing.length, 500);
    assert.equal(new Set(failing.map((p) => p.metadata.labels?.app)).size, 20);
    const entries = logEntries(world, { perPod: 20 }) as { insertId: string; jsonPayload: { message: string } }[];
    assert.equal(entries.length, 10_000);
    assert.equal(new Set(entries.map((e) => e.insertId)).size, 10_000);
    const repos = new Set(
      entries.map((e) => /Failed to pull image "([^/]+\/[^/]+\/[^/]+)\//.exec(e.jsonPayload.message)?.[1]),
    );
    assert.deepEqual([...repos].sort(), [
      'us-central1-docker.pkg.dev/acme-prod-417/services',
      'us-docker.pkg.dev/acme-shared-artifacts/base',
    ]);
  });

  it('cronjob-not-run: the CronJob is stored as the API server holds it, and has never run', () => {
    const { world } = buildScenario('cronjob-not-run');
    const cluster = [...world.clusters.values()][0]!;
    const cronJob = cluster.kube.get<CronJob>('CronJob', 'prod', 'nightly-report')!;
    assert.equal(cronJob.apiVersion, 'batch/v1');
    assert.equal(cronJob.status.lastScheduleTime, undefined);
    assert.equal(cluster.kube.list('Job').length, 0);
    assert.ok(!cluster.kube.list<Pod>('Pod').some((p) => p.metadata.labels?.app === 'nightly-report'));
  });

  it('builds the same names every time (deterministic worlds)', () => {
    const a = buildScenario('seed').world;
    const b = buildScenario('seed').world;
    const names = (w: typeof a) =>
      [...w.clusters.values()][0]!.kube.list<Pod>('Pod').map((p) => `${p.metadata.name}/${p.metadata.uid}`);
    assert.deepEqual(names(a), names(b));
  });
});
