import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterController } from '../../../src/kube/controller.ts';
import { acmeBase, NAMESPACE } from '../../../src/scenarios/acme.ts';
import { KubeStore } from '../../../src/world/kube-store.ts';
import type { KubeEvent, KubeObject, Node, Pod } from '../../../src/world/kube-types.ts';

async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(5);
  }
  throw new Error('timed out');
}

const obj = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'prod', uid: name, creationTimestamp: '' },
    ...extra,
  }) as KubeObject;

describe('object store: watch history and no-op writes', () => {
  it('once history is on, a write that changes nothing keeps its resourceVersion and emits nothing', () => {
    const store = new KubeStore();
    store.keepHistory(10);
    const seen: string[] = [];
    store.subscribe((c) => seen.push(`${c.type} ${c.object.metadata.name}@${c.resourceVersion}`));
    const a = store.put(obj('a', { data: { k: '1' } }));
    const rv = a.metadata.resourceVersion;
    store.put(a);
    assert.equal(a.metadata.resourceVersion, rv);
    (a as unknown as { data: { k: string } }).data.k = '2';
    store.put(a);
    assert.ok(Number(a.metadata.resourceVersion) > Number(rv));
    store.delete('ConfigMap', 'prod', 'a');
    assert.deepEqual(
      seen.map((s) => s.split('@')[0]),
      ['ADDED a', 'MODIFIED a', 'DELETED a'],
    );
  });

  it('changesSince replays snapshots after a version and refuses versions older than the window', () => {
    const store = new KubeStore();
    store.keepHistory(2);
    const start = Number(store.resourceVersion());
    const a = store.put(obj('a', { data: { n: 1 } }));
    (a as unknown as { data: { n: number } }).data.n = 2;
    store.put(a);
    const since = store.changesSince(start);
    assert.deepEqual(
      since?.map((c) => [c.type, (c.object as unknown as { data: { n: number } }).data.n]),
      [
        ['ADDED', 1],
        ['MODIFIED', 2],
      ],
      'snapshots, not the live object',
    );
    store.put(obj('b'));
    assert.equal(store.changesSince(start), undefined, 'the window dropped the first change');
    assert.equal(store.changesSince(start + 1)?.length, 2);
  });
});

describe('scheduling, cordons and graceful deletion', () => {
  it('an evicted pod is Terminating, then gone; its ReplicaSet replaces it on a schedulable node', async () => {
    const { b, cluster } = acmeBase('sched-evict');
    cluster.kube.keepHistory(1000);
    const controller = new ClusterController(b.world, cluster, { podStartMs: 10 });
    try {
      const frontend = () =>
        cluster.kube.list<Pod>('Pod', NAMESPACE).filter((p) => p.metadata.labels?.app === 'frontend');
      const [victim] = frontend();
      assert.ok(victim);
      const node = cluster.kube.get<Node>('Node', undefined, victim.spec.nodeName ?? '')!;
      node.spec.unschedulable = true;
      cluster.kube.put(node);
      controller.deletePod(victim);
      const live = cluster.kube.get<Pod>('Pod', NAMESPACE, victim.metadata.name);
      assert.ok(live?.metadata.deletionTimestamp, 'Terminating first');
      await until(() => (cluster.kube.get('Pod', NAMESPACE, victim.metadata.name) ? undefined : true));
      const ready = (p: Pod) => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      const pods = await until(() => {
        const now = frontend();
        return now.length === 2 && now.every(ready) ? now : undefined;
      });
      const replacement = pods.find((p) => p.metadata.uid !== victim.metadata.uid);
      assert.ok(replacement && pods.every((p) => p.metadata.uid !== victim.metadata.uid));
      assert.notEqual(replacement.spec.nodeName, node.metadata.name, 'not on the cordoned node');
      const taints = cluster.kube.get<Node>('Node', undefined, node.metadata.name)?.spec.taints as { key: string }[];
      assert.deepEqual(
        taints.map((t) => t.key),
        ['node.kubernetes.io/unschedulable'],
      );
    } finally {
      controller.stop();
    }
  });

  it('with every node cordoned a replacement waits with FailedScheduling, and schedules on uncordon', async () => {
    const { b, cluster } = acmeBase('sched-pending');
    const controller = new ClusterController(b.world, cluster, { podStartMs: 5 });
    try {
      for (const n of cluster.kube.list<Node>('Node')) {
        n.spec.unschedulable = true;
        cluster.kube.put(n);
      }
      const [victim] = cluster.kube.list<Pod>('Pod', NAMESPACE).filter((p) => p.metadata.labels?.app === 'redis');
      assert.ok(victim);
      controller.deletePod(victim, 0);
      const pending = cluster.kube.list<Pod>('Pod', NAMESPACE).find((p) => p.metadata.labels?.app === 'redis');
      assert.ok(pending && !pending.spec.nodeName);
      assert.equal(pending.status.conditions[0]?.reason, 'Unschedulable');
      const failed = cluster.kube
        .eventsFor(pending.metadata.uid)
        .find((e: KubeEvent) => e.reason === 'FailedScheduling');
      assert.match(failed?.message ?? '', /node\(s\) were unschedulable/);
      const node = cluster.kube.list<Node>('Node')[0]!;
      node.spec.unschedulable = false;
      cluster.kube.put(node);
      const running = await until(() => {
        const p = cluster.kube.get<Pod>('Pod', NAMESPACE, pending.metadata.name);
        return p?.status.phase === 'Running' ? p : undefined;
      });
      assert.equal(running.spec.nodeName, node.metadata.name);
    } finally {
      controller.stop();
    }
  });
});
