import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterManagerClient } from '@google-cloud/container';
import * as k8s from '@kubernetes/client-node';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';
import { clientOptions } from './google-helpers.ts';

const CLUSTER = 'projects/acme-prod-417/locations/us-central1/clusters/prod';
const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const NODE_SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
const POD = 'checkout-7d9c8b6f4-q2xnv';
const RESTART = {
  spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-24T03:00:00Z' } } } },
};
const SMP = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

interface Kube {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  authz: k8s.AuthorizationV1Api;
}

const running: GoogleSandbox[] = [];

/** Starts a scenario and connects to its cluster exactly as the bot does: endpoint and CA from getCluster, a token. */
async function connect(
  scenario: string,
  token: string | null = 'sandbox-token',
): Promise<{ sandbox: GoogleSandbox; kube: Kube }> {
  const sandbox = await startGoogleSandbox({ scenario, podStartMs: 20 });
  running.push(sandbox);
  const gke = new ClusterManagerClient(clientOptions(sandbox.endpoint));
  const [cluster] = await gke.getCluster({ name: CLUSTER }).finally(() => gke.close());
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'gke',
        server: `https://${cluster.endpoint}`,
        caData: cluster.masterAuth?.clusterCaCertificate ?? '',
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'gke', ...(token ? { token } : {}) }],
    contexts: [{ name: 'gke', cluster: 'gke', user: 'gke' }],
    currentContext: 'gke',
  });
  return {
    sandbox,
    kube: {
      core: kc.makeApiClient(k8s.CoreV1Api),
      apps: kc.makeApiClient(k8s.AppsV1Api),
      authz: kc.makeApiClient(k8s.AuthorizationV1Api),
    },
  };
}

async function apiError(
  fn: () => Promise<unknown>,
): Promise<{ code: number; status: { reason?: string; message?: string } }> {
  try {
    await fn();
  } catch (e) {
    // client-node drops the body of a 401 (its generated code throws `Unauthorized` without it).
    const err = e as { code: number; body?: string };
    return { code: err.code, status: err.body ? (JSON.parse(err.body) as { reason?: string; message?: string }) : {} };
  }
  throw new Error('expected the call to fail');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(15);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A raw HTTPS request against the Kubernetes fake (for bodies client-node would never send). */
function raw(
  sandbox: GoogleSandbox,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: { reason?: string } }> {
  const endpoint = sandbox.kubeEndpoints.get(CLUSTER) ?? '';
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers, ca: sandbox.caPem }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { reason?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const checkoutPods = async (kube: Kube) =>
  (await kube.core.listNamespacedPod({ namespace: 'prod', labelSelector: 'app=checkout' })).items;

describe('Kubernetes API fake, through @kubernetes/client-node 2', () => {
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });

  describe('reads', () => {
    let sandbox: GoogleSandbox;
    let kube: Kube;
    before(async () => {
      ({ sandbox, kube } = await connect('seed'));
    });

    it('reads the failing pod, its events, its owner chain, its node and its service account', async () => {
      const pod = await kube.core.readNamespacedPod({ namespace: 'prod', name: POD });
      assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ImagePullBackOff');
      assert.equal(pod.spec?.nodeName, 'gke-prod-default-pool-a1b2c3d4-9xkz');

      const events = await kube.core.listNamespacedEvent({
        namespace: 'prod',
        fieldSelector: `involvedObject.name=${POD},involvedObject.kind=Pod`,
      });
      assert.ok(events.items.length >= 5);
      assert.ok(events.items.every((e) => e.involvedObject.name === POD));
      const cause = events.items.find((e) => e.reason === 'Failed' && e.message?.startsWith('Failed to pull image'));
      assert.match(cause?.message ?? '', /403 Forbidden$/);
      assert.equal(cause?.involvedObject.fieldPath, 'spec.containers{checkout}');
      assert.ok(cause?.firstTimestamp instanceof Date && cause.lastTimestamp instanceof Date);

      const rsRef = pod.metadata?.ownerReferences?.find((r) => r.controller);
      const rs = await kube.apps.readNamespacedReplicaSet({ namespace: 'prod', name: rsRef?.name ?? '' });
      assert.equal(rs.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
      const deployment = await kube.apps.readNamespacedDeployment({
        namespace: 'prod',
        name: rs.metadata?.ownerReferences?.[0]?.name ?? '',
      });
      assert.equal(deployment.spec?.replicas, 3);

      const node = await kube.core.readNode({ name: pod.spec?.nodeName ?? '' });
      assert.equal(node.metadata?.labels?.['cloud.google.com/gke-nodepool'], 'default-pool');
      const ksa = await kube.core.readNamespacedServiceAccount({
        namespace: 'prod',
        name: pod.spec?.serviceAccountName ?? '',
      });
      assert.equal(ksa.metadata?.name, 'checkout');
    });

    it('lists with label selectors, across namespaces, and reports a list resourceVersion', async () => {
      const all = await kube.core.listPodForAllNamespaces();
      const checkout = await kube.core.listNamespacedPod({
        namespace: 'prod',
        labelSelector: 'app=checkout,pod-template-hash=7d9c8b6f4',
      });
      assert.equal(checkout.items.length, 3);
      assert.ok(all.items.length > checkout.items.length);
      assert.match(checkout.metadata?.resourceVersion ?? '', /^\d+$/);
      const nodes = await kube.core.listNode({ labelSelector: 'cloud.google.com/gke-nodepool=default-pool' });
      assert.equal(nodes.items.length, 3);
      const deployments = await kube.apps.listNamespacedDeployment({ namespace: 'prod' });
      assert.deepEqual(
        deployments.items.map((d) => d.metadata?.name),
        ['cart', 'checkout', 'frontend', 'redis'],
      );
    });

    it('answers 404 with a Status object', async () => {
      const e = await apiError(() => kube.core.readNamespacedPod({ namespace: 'prod', name: 'nope' }));
      assert.equal(e.code, 404);
      assert.equal(e.status.reason, 'NotFound');
      assert.equal(e.status.message, 'pods "nope" not found');
    });

    it('answers 403 for an RBAC denial, and SelfSubjectAccessReview agrees', async () => {
      sandbox.world.bot.kubeDenied.push({ verb: 'list', resource: 'events', namespace: 'prod' });
      const e = await apiError(() => kube.core.listNamespacedEvent({ namespace: 'prod' }));
      assert.equal(e.code, 403);
      assert.match(
        e.status.message ?? '',
        /^events is forbidden: User "imagepull-bot@acme-prod-417\.iam\.gserviceaccount\.com" cannot list resource "events" in API group "" in the namespace "prod"/,
      );
      const denied = await kube.authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace: 'prod', verb: 'list', resource: 'events' } } },
      });
      assert.equal(denied.status?.allowed, false);
      const allowed = await kube.authz.createSelfSubjectAccessReview({
        body: {
          spec: { resourceAttributes: { namespace: 'prod', verb: 'patch', group: 'apps', resource: 'deployments' } },
        },
      });
      assert.equal(allowed.status?.allowed, true);
      sandbox.world.bot.kubeDenied.length = 0;
    });

    it('answers 401 without a Bearer token', async () => {
      const { kube: anonymous } = await connect('seed', null);
      const e = await apiError(() => anonymous.core.readNamespacedPod({ namespace: 'prod', name: POD }));
      assert.equal(e.code, 401);
      const direct = await raw(sandbox, 'GET', `/api/v1/namespaces/prod/pods/${POD}`, {});
      assert.deepEqual([direct.status, direct.json.reason], [401, 'Unauthorized']);
    });

    it('refuses a json-patch content type (client-node’s default) with 415, and a malformed body with 400', async () => {
      const e = await apiError(() =>
        kube.apps.patchNamespacedDeployment({ namespace: 'prod', name: 'checkout', body: RESTART }),
      );
      assert.equal(e.code, 415);
      const path = '/apis/apps/v1/namespaces/prod/deployments/checkout';
      const bad = await raw(
        sandbox,
        'PATCH',
        path,
        { authorization: 'Bearer t', 'content-type': 'application/strategic-merge-patch+json' },
        '{"spec":',
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.json.reason, 'BadRequest');
      const plain = await raw(
        sandbox,
        'PATCH',
        path,
        { authorization: 'Bearer t', 'content-type': 'application/json' },
        '{}',
      );
      assert.equal(plain.status, 415);
      const pods = await checkoutPods(kube);
      assert.ok(
        pods.every((p) => p.metadata?.name?.startsWith('checkout-7d9c8b6f4-')),
        'nothing rolled out',
      );
    });

    it('answers a failure injected with failNext once, then serves normally', async () => {
      sandbox.failNext('kube.GET pods', 503);
      const e = await apiError(() => kube.core.readNamespacedPod({ namespace: 'prod', name: POD }));
      assert.deepEqual([e.code, e.status.reason], [503, 'ServiceUnavailable']);
      const pod = await kube.core.readNamespacedPod({ namespace: 'prod', name: POD });
      assert.equal(pod.metadata?.name, POD);
    });

    it('adds the configured latency to Kubernetes calls and counts them', async () => {
      const before = sandbox.calls.count('kube.GET pods');
      sandbox.setLatency(100);
      const t0 = performance.now();
      await kube.core.readNamespacedPod({ namespace: 'prod', name: POD });
      const took = performance.now() - t0;
      sandbox.setLatency(0);
      assert.ok(took >= 95, `took ${took} ms`);
      assert.equal(sandbox.calls.count('kube.GET pods'), before + 1);
    });
  });

  it('rollout restart after a grant: a new ReplicaSet whose pods run, the old one scaled to 0', async () => {
    const { sandbox, kube } = await connect('seed');
    sandbox.addBinding(SERVICES, 'roles/artifactregistry.reader', NODE_SA);
    const patched = await kube.apps.patchNamespacedDeployment(
      { namespace: 'prod', name: 'checkout', body: RESTART, fieldManager: 'kubectl-rollout' },
      SMP,
    );
    assert.equal(patched.metadata?.generation, 2);
    assert.equal(
      patched.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
      '2026-11-24T03:00:00Z',
    );
    const patch = sandbox.world.cluster(CLUSTER)?.kube.patches.at(-1);
    assert.equal(patch?.fieldManager, 'kubectl-rollout');
    assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');

    const pods = await waitFor('new pods running', async () => {
      const items = await checkoutPods(kube);
      return items.length === 3 && items.every((p) => p.status?.containerStatuses?.[0]?.ready === true)
        ? items
        : undefined;
    });
    const newRs = pods[0]?.metadata?.ownerReferences?.[0]?.name ?? '';
    assert.notEqual(newRs, 'checkout-7d9c8b6f4');
    assert.ok(pods.every((p) => p.status?.phase === 'Running' && p.metadata?.ownerReferences?.[0]?.name === newRs));
    for (const p of pods) {
      const node = await kube.core.readNode({ name: p.spec?.nodeName ?? '' });
      assert.equal(node.metadata?.labels?.['cloud.google.com/gke-nodepool'], 'default-pool');
    }
    const old = await kube.apps.readNamespacedReplicaSet({ namespace: 'prod', name: 'checkout-7d9c8b6f4' });
    assert.equal(old.spec?.replicas, 0);
    const d = await kube.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout' });
    assert.deepEqual(
      [d.status?.observedGeneration, d.status?.updatedReplicas, d.status?.readyReplicas, d.status?.availableReplicas],
      [2, 3, 3, 3],
    );
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    assert.deepEqual(sandbox.logEntries(), [], 'nothing fails any more, so logging exports nothing');
    const closed = sandbox.monitoringIncident(POD, 'closed') as {
      incident: { state: string; resource: { labels: { pod_name: string } } };
    };
    assert.deepEqual([closed.incident.state, closed.incident.resource.labels.pod_name], ['closed', POD]);
  });

  it('rollout restart without a grant: the surge pod fails with ErrImagePull then ImagePullBackOff, the old pods stay', async () => {
    const { kube } = await connect('seed');
    await kube.apps.patchNamespacedDeployment(
      { namespace: 'prod', name: 'checkout', body: RESTART, fieldManager: 'kubectl-rollout' },
      SMP,
    );
    const fresh = await waitFor('new pods in back-off', async () => {
      const items = (await checkoutPods(kube)).filter((p) => !p.metadata?.name?.startsWith('checkout-7d9c8b6f4-'));
      // maxSurge 25% of 3 rounds up to 1 and maxUnavailable rounds down to 0: one new pod, and no old pod goes
      // until it is available.
      return items.length === 1 &&
        items.every((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff')
        ? items
        : undefined;
    });
    const events = await kube.core.listNamespacedEvent({
      namespace: 'prod',
      fieldSelector: `involvedObject.name=${fresh[0]?.metadata?.name}`,
    });
    const reasons = events.items.map((e) => `${e.reason}:${e.message?.split(':')[0]}`);
    for (const expected of [
      'Scheduled:Successfully assigned prod/',
      'Pulling:Pulling image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout',
      'Failed:Failed to pull image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout',
      'Failed:Error',
      'BackOff:Back-off pulling image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout',
    ]) {
      assert.ok(
        reasons.some((r) => r.startsWith(expected)),
        `missing ${expected} in ${reasons.join(' | ')}`,
      );
    }
    const all = await checkoutPods(kube);
    assert.equal(
      all.filter((p) => p.metadata?.name?.startsWith('checkout-7d9c8b6f4-')).length,
      3,
      'the stuck rollout keeps the old pods',
    );
    const d = await kube.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout' });
    assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.readyReplicas], [4, 1, undefined]);
  });

  it('a paused Deployment accepts the patch but rolls nothing out', async () => {
    const { sandbox, kube } = await connect('paused');
    sandbox.addBinding(SERVICES, 'roles/artifactregistry.reader', NODE_SA);
    const patched = await kube.apps.patchNamespacedDeployment(
      { namespace: 'prod', name: 'checkout', body: RESTART, fieldManager: 'kubectl-rollout' },
      SMP,
    );
    assert.equal(patched.spec?.paused, true);
    assert.equal(patched.metadata?.generation, 2);
    await sleep(100);
    const sets = await kube.apps.listNamespacedReplicaSet({ namespace: 'prod', labelSelector: 'app=checkout' });
    assert.deepEqual(
      sets.items.map((rs) => rs.metadata?.name),
      ['checkout-7d9c8b6f4'],
    );
    const d = await kube.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout' });
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'DeploymentPaused');
  });

  it('a StatefulSet restart after a grant replaces checkout-2, -1, -0 in turn until all run', async () => {
    const { sandbox, kube } = await connect('statefulset');
    sandbox.addBinding(SERVICES, 'roles/artifactregistry.reader', NODE_SA);
    const before = await kube.core.readNamespacedPod({ namespace: 'prod', name: 'checkout-0' });
    await kube.apps.patchNamespacedStatefulSet(
      { namespace: 'prod', name: 'checkout', body: RESTART, fieldManager: 'kubectl-rollout' },
      SMP,
    );
    const sts = await waitFor('statefulset rolled', async () => {
      const s = await kube.apps.readNamespacedStatefulSet({ namespace: 'prod', name: 'checkout' });
      return s.status?.readyReplicas === 3 && s.status.updatedReplicas === 3 ? s : undefined;
    });
    assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
    const after = await kube.core.readNamespacedPod({ namespace: 'prod', name: 'checkout-0' });
    assert.notEqual(after.metadata?.uid, before.metadata?.uid);
    assert.equal(after.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');
    assert.equal(after.status?.containerStatuses?.[0]?.ready, true);
  });
});
