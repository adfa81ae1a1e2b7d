import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { PodFacts } from '../../../src/diagnosis/facts.ts';
import type { AffectedWorkload, IncidentRecord } from '../../../src/incidents/model.ts';
import type { ClusterApi } from '../../../src/ports/cluster.port.ts';
import { ReadError } from '../../../src/shared/errors.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { LiveCounts } from '../../../src/usecases/live-counts.ts';
import { seedInput } from '../diagnosis/fixtures.ts';

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

function pod(name: string, owner: { kind: string; name: string } | undefined, waiting?: string): PodFacts {
  return {
    namespace: 'prod',
    name,
    phase: waiting ? 'Pending' : 'Running',
    serviceAccountName: 'default',
    imagePullSecrets: [],
    containers: [
      {
        name: 'app',
        image: 'x',
        init: false,
        running: !waiting,
        ready: !waiting,
        ...(waiting ? { waitingReason: waiting } : {}),
      },
    ],
    ...(owner ? { owner } : {}),
  };
}

/** The storm's shape: 20 Deployments × 25 pods in one namespace, 2 root causes of 10 Deployments each. */
function storm() {
  const pods: PodFacts[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    for (let j = 0; j < 25; j++)
      pods.push(
        pod(
          `${name}-7d9c8b6f4-p${j}`,
          { kind: 'ReplicaSet', name: `${name}-7d9c8b6f4` },
          j < 20 ? 'ImagePullBackOff' : undefined,
        ),
      );
  }
  // A Deployment whose name extends another's must not be counted with it.
  pods.push(pod('svc-00-canary-5f6d7c8b9-a', { kind: 'ReplicaSet', name: 'svc-00-canary-5f6d7c8b9' }, 'ErrImagePull'));
  return pods;
}

function incident(id: string, from: number, seen: number): IncidentRecord {
  const d = diagnose(seedInput());
  const affected: AffectedWorkload[] = Array.from({ length: 10 }, (_, i) => ({
    cluster,
    namespace: 'prod',
    workload: { kind: 'Deployment', namespace: 'prod', name: `svc-${String(from + i).padStart(2, '0')}` },
    pods: [],
    podCount: seen,
    firstSeen: '2026-11-24T02:41:41.000Z',
    lastSeen: '2026-11-24T02:41:41.000Z',
  }));
  return {
    id,
    key: id,
    status: 'open',
    createdAt: '2026-11-24T02:41:41.000Z',
    updatedAt: '2026-11-24T02:41:41.000Z',
    diagnosis: d,
    affected,
    alertCount: 1,
    alertIncidentIds: [],
    origin: 'alert',
    version: 1,
  };
}

/** The bot's fact reader (a 30 s TTL, as in main.ts), on the test's clock. */
function reader(now: () => number = Date.now): FactReader {
  return new FactReader({ ttlMs: 30_000, timeoutMs: 1000, now });
}

describe('live counts from the cluster', () => {
  it('counts the failing pods of the affected workloads, not the pods alerts were seen for', async () => {
    const api = { listPods: async () => storm() } as Partial<ClusterApi> as ClusterApi;
    const counts = new LiveCounts({ api: async () => api }, reader(), 3000);
    const c = await counts.read(incident('a', 0, 1));
    assert.deepEqual(c, { failingPods: 200, pods: 250, failingWorkloads: 10, workloads: 10 });
  });

  it('costs one list per namespace per update interval, shared by every incident, whatever the storm', async () => {
    let clock = 0;
    let calls = 0;
    const api = {
      listPods: async () => {
        calls++;
        return storm();
      },
    } as Partial<ClusterApi> as ClusterApi;
    const counts = new LiveCounts(
      { api: async () => api },
      reader(() => clock),
      3000,
    );
    const a = incident('a', 0, 1);
    const b = incident('b', 10, 1);
    // Two incidents rendered concurrently, then again and again within one interval.
    await Promise.all([counts.read(a), counts.read(b)]);
    for (let i = 0; i < 10; i++) await Promise.all([counts.read(a), counts.read(b)]);
    assert.equal(calls, 1, 'one pod list for both incidents within the interval');
    clock += 3000;
    await Promise.all([counts.read(a), counts.read(b)]);
    assert.equal(calls, 2, 'the next interval reads again');
    // A storm lasting 5 minutes of updates every 3 s: 100 lists at most, not one read per pod.
    for (let t = 0; t < 100; t++) {
      clock += 3000;
      await Promise.all([counts.read(a), counts.read(b)]);
    }
    assert.ok(calls <= 102, `${calls} list calls`);
  });

  it('does not reuse a failed read', async () => {
    let fail = true;
    const api = {
      listPods: async () => {
        if (fail) throw new ReadError('unavailable', 'Kubernetes GET pods: 503');
        return storm();
      },
    } as Partial<ClusterApi> as ClusterApi;
    const counts = new LiveCounts({ api: async () => api }, reader(), 60_000);
    await assert.rejects(counts.read(incident('a', 0, 1)));
    fail = false;
    assert.equal((await counts.read(incident('a', 0, 1))).failingPods, 200);
  });
});
