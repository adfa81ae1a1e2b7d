import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterController } from '../../../src/kube/controller.ts';
import { acmeBase, NAMESPACE, SERVICES_REPO } from '../../../src/scenarios/acme.ts';
import { addMember } from '../../../src/world/iam.ts';
import type { DaemonSet, Deployment, Pod } from '../../../src/world/kube-types.ts';
import { podReady } from '../../../src/world/workloads.ts';

const IMAGE = 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2';
const NODE_SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';

async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(5);
  }
  throw new Error('timed out');
}

describe('cluster controller', () => {
  it('replaces every DaemonSet pod after a template change, and they run once the node SA can pull', async () => {
    const { b, cluster } = acmeBase('controller-daemonset');
    b.daemonSet(cluster, { namespace: NAMESPACE, name: 'agent', containers: [{ name: 'agent', image: IMAGE }] });
    const controller = new ClusterController(b.world, cluster, { podStartMs: 5 });
    try {
      const pods = () => cluster.kube.list<Pod>('Pod', NAMESPACE).filter((p) => p.metadata.labels?.app === 'agent');
      assert.equal(pods().length, 3);
      assert.ok(pods().every((p) => !podReady(p)));
      addMember(b.world.repository(SERVICES_REPO)!.iam, SERVICES_REPO, 'roles/artifactregistry.reader', NODE_SA, 0);
      const ds = cluster.kube.get<DaemonSet>('DaemonSet', NAMESPACE, 'agent')!;
      ds.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': 'now' };
      const oldUids = new Set(pods().map((p) => p.metadata.uid));
      controller.workloadChanged(ds);
      await until(() => (pods().length === 3 && pods().every(podReady) ? true : undefined));
      assert.ok(pods().every((p) => !oldUids.has(p.metadata.uid)));
      assert.deepEqual(new Set(pods().map((p) => p.spec.nodeName)).size, 3, 'one pod per node');
      assert.equal(cluster.kube.get<DaemonSet>('DaemonSet', NAMESPACE, 'agent')?.status.numberReady, 3);
    } finally {
      controller.stop();
    }
  });

  it('scales the current ReplicaSet when replicas change, without a new rollout', async () => {
    const { b, cluster } = acmeBase('controller-scale');
    const controller = new ClusterController(b.world, cluster, { podStartMs: 5 });
    try {
      const d = cluster.kube.get<Deployment>('Deployment', NAMESPACE, 'frontend')!;
      d.spec.replicas = 4;
      controller.workloadChanged(d);
      const pods = await until(() => {
        const items = cluster.kube.list<Pod>('Pod', NAMESPACE).filter((p) => p.metadata.labels?.app === 'frontend');
        return items.length === 4 && items.every(podReady) ? items : undefined;
      });
      assert.equal(new Set(pods.map((p) => p.metadata.labels?.['pod-template-hash'])).size, 1);
      assert.equal(cluster.kube.get<Deployment>('Deployment', NAMESPACE, 'frontend')?.status.readyReplicas, 4);
    } finally {
      controller.stop();
    }
  });

  it('does nothing after stop()', async () => {
    const { b, cluster } = acmeBase('controller-stop');
    const controller = new ClusterController(b.world, cluster, { podStartMs: 5 });
    const d = cluster.kube.get<Deployment>('Deployment', NAMESPACE, 'cart')!;
    d.spec.template.metadata.annotations = { restarted: 'yes' };
    controller.workloadChanged(d);
    controller.stop();
    await sleep(30);
    const fresh = cluster.kube
      .list<Pod>('Pod', NAMESPACE)
      .filter((p) => p.metadata.labels?.app === 'cart' && p.status.phase === 'Pending');
    // A rolling update surges by maxSurge (25% of 2, rounded up: 1) before anything is available.
    assert.equal(fresh.length, 1, 'the new pod was created but never started');
  });
});
