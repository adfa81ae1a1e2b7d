import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodePoolFacts } from '../../../src/diagnosis/facts.ts';
import type { NodeLabels, WorkloadTemplate } from '../../../src/prevention/facts.ts';
import { poolCanSchedule } from '../../../src/prevention/scheduling.ts';

const POOL = 'cloud.google.com/gke-nodepool';
const ZONE = 'topology.kubernetes.io/zone';

const pool = (name: string, extra: Partial<NodePoolFacts> = {}): NodePoolFacts => ({
  name,
  configuredServiceAccount: 'default',
  oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
  ...extra,
});

const node = (name: string, poolName: string, labels: Record<string, string> = {}): NodeLabels => ({
  name,
  pool: poolName,
  labels: { [POOL]: poolName, 'kubernetes.io/hostname': name, ...labels },
});

const workload = (extra: Partial<WorkloadTemplate> = {}): WorkloadTemplate => ({
  kind: 'Deployment',
  namespace: 'prod',
  name: 'checkout',
  containers: [{ name: 'checkout', image: 'us-central1-docker.pkg.dev/p/services/checkout:1', init: false }],
  nodeSelector: {},
  running: 3,
  desired: 3,
  ...extra,
});

const inPool = (values: string[], operator: 'In' | 'NotIn' = 'In') => ({
  requiredTerms: [{ requirements: [{ key: POOL, operator, values }] }],
});

describe('which node pools can schedule a workload', () => {
  const a = pool('pool-a');
  const b = pool('pool-b', { labels: { workload: 'batch' }, machineType: 'n2-highmem-8' });
  const nodes = [
    node('gke-a-1', 'pool-a', { [ZONE]: 'us-central1-a', disktype: 'ssd' }),
    node('gke-a-2', 'pool-a', { [ZONE]: 'us-central1-b' }),
  ];

  it('every pool when the pod template says nothing about nodes', () => {
    assert.equal(poolCanSchedule(workload(), a, nodes), 'yes');
    assert.equal(poolCanSchedule(workload(), b, nodes), 'yes');
  });

  it('honours a nodeSelector on the pool label, for pools with and without nodes', () => {
    const w = workload({ nodeSelector: { [POOL]: 'pool-b' } });
    assert.equal(poolCanSchedule(w, a, nodes), 'no');
    assert.equal(poolCanSchedule(w, b, nodes), 'yes');
  });

  it("matches a pool's configured labels and machine type even before it has a node", () => {
    assert.equal(poolCanSchedule(workload({ nodeSelector: { workload: 'batch' } }), b, []), 'yes');
    assert.equal(poolCanSchedule(workload({ nodeSelector: { workload: 'batch' } }), a, nodes), 'no');
    const highmem = workload({ nodeSelector: { 'node.kubernetes.io/instance-type': 'n2-highmem-8' } });
    assert.equal(poolCanSchedule(highmem, b, []), 'yes');
  });

  it('honours required node affinity: In and NotIn on the pool', () => {
    assert.equal(poolCanSchedule(workload(inPool(['pool-a'])), a, nodes), 'yes');
    assert.equal(poolCanSchedule(workload(inPool(['pool-a'])), b, nodes), 'no');
    assert.equal(poolCanSchedule(workload(inPool(['pool-a'], 'NotIn')), a, nodes), 'no');
    assert.equal(poolCanSchedule(workload(inPool(['pool-a'], 'NotIn')), b, nodes), 'yes');
  });

  it('terms are ORed, requirements of a term ANDed, and an empty term matches nothing', () => {
    const either = workload({
      requiredTerms: [
        { requirements: [{ key: POOL, operator: 'In', values: ['pool-b'] }] },
        {
          requirements: [
            { key: POOL, operator: 'In', values: ['pool-a'] },
            { key: 'disktype', operator: 'Exists', values: [] },
          ],
        },
      ],
    });
    assert.equal(poolCanSchedule(either, a, nodes), 'yes', 'gke-a-1 has disktype');
    const both = workload({
      requiredTerms: [
        {
          requirements: [
            { key: POOL, operator: 'In', values: ['pool-a'] },
            { key: 'disktype', operator: 'DoesNotExist', values: [] },
          ],
        },
      ],
    });
    assert.equal(poolCanSchedule(both, a, nodes), 'yes', 'gke-a-2 has no disktype');
    assert.equal(poolCanSchedule(workload({ requiredTerms: [{ requirements: [] }] }), a, nodes), 'no');
  });

  it('the nodeSelector and the affinity must both hold', () => {
    const w = workload({ nodeSelector: { [POOL]: 'pool-a' }, ...inPool(['pool-b']) });
    assert.equal(poolCanSchedule(w, a, nodes), 'no');
    assert.equal(poolCanSchedule(w, b, nodes), 'no');
  });

  it('compares Gt and Lt as integers', () => {
    const gen = (operator: 'Gt' | 'Lt', value: string) =>
      workload({ requiredTerms: [{ requirements: [{ key: 'generation', operator, values: [value] }] }] });
    const numbered = [node('n', 'pool-a', { generation: '3' })];
    assert.equal(poolCanSchedule(gen('Gt', '2'), a, numbered), 'yes');
    assert.equal(poolCanSchedule(gen('Lt', '2'), a, numbered), 'no');
    assert.equal(poolCanSchedule(gen('Gt', 'two'), a, numbered), 'no');
  });

  it('a label only nodes carry is undecidable for a pool without nodes: it counts as schedulable, marked unknown', () => {
    const zonal = workload({ nodeSelector: { [ZONE]: 'us-central1-a' } });
    assert.equal(poolCanSchedule(zonal, a, nodes), 'yes', 'gke-a-1 is in us-central1-a');
    assert.equal(poolCanSchedule(zonal, b, []), 'unknown');
    const fields = workload({ requiredTerms: [{ requirements: [], opaque: true }] });
    assert.equal(poolCanSchedule(fields, a, nodes), 'unknown', 'matchFields cannot be answered from labels');
  });

  describe('taints and tolerations', () => {
    const gpu = pool('gpu-pool', { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] });
    const gpuNodes = [node('gke-gpu-1', 'gpu-pool')];
    const tolerating = (o: object) => workload({ tolerations: [o] });

    it('a pool tainted NoSchedule or NoExecute takes only the pods that tolerate it, with or without nodes', () => {
      assert.equal(poolCanSchedule(workload(), gpu, gpuNodes), 'no');
      assert.equal(poolCanSchedule(workload(), gpu, []), 'no', 'a new node gets the configured taint');
      const ok = tolerating({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' });
      assert.equal(poolCanSchedule(ok, gpu, gpuNodes), 'yes');
      assert.equal(poolCanSchedule(ok, gpu, []), 'yes');
      const execute = pool('spot', { taints: [{ key: 'spot', value: 'true', effect: 'NoExecute' }] });
      assert.equal(poolCanSchedule(workload(), execute, []), 'no');
    });

    it('PreferNoSchedule only steers: the pod may still land there', () => {
      const prefer = pool('prefer', { taints: [{ key: 'batch', value: 'true', effect: 'PreferNoSchedule' }] });
      assert.equal(poolCanSchedule(workload(), prefer, []), 'yes');
    });

    it('matches as the API server does: Exists on the key, an empty key for all, the effect when given, the value for Equal', () => {
      assert.equal(poolCanSchedule(tolerating({ key: 'nvidia.com/gpu', operator: 'Exists' }), gpu, []), 'yes');
      assert.equal(poolCanSchedule(tolerating({ operator: 'Exists' }), gpu, []), 'yes', 'tolerates everything');
      assert.equal(
        poolCanSchedule(tolerating({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }), gpu, []),
        'no',
        'another effect',
      );
      assert.equal(
        poolCanSchedule(tolerating({ key: 'nvidia.com/gpu', value: 'absent' }), gpu, []),
        'no',
        'another value',
      );
      assert.equal(
        poolCanSchedule(tolerating({ key: 'nvidia.com/gpu', value: 'present' }), gpu, []),
        'yes',
        'Equal by default',
      );
    });

    it("a current node's own taint counts too (GKE adds some that the pool's configuration does not list)", () => {
      const plain = pool('pool-g');
      const tainted: NodeLabels = {
        ...node('gke-g-1', 'pool-g'),
        taints: [{ key: 'dedicated', value: 'ml', effect: 'NoSchedule' }],
      };
      assert.equal(poolCanSchedule(workload(), plain, [tainted]), 'no');
      assert.equal(
        poolCanSchedule(workload(), plain, [tainted, node('gke-g-2', 'pool-g')]),
        'yes',
        'another node takes it',
      );
    });

    it('the labels must still match on a tolerated pool', () => {
      const w = workload({ nodeSelector: { [POOL]: 'pool-a' }, tolerations: [{ operator: 'Exists' }] });
      assert.equal(poolCanSchedule(w, gpu, gpuNodes), 'no');
    });
  });
});
