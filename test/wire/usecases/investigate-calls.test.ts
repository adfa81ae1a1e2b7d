import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { GoogleCloud } from '../../../src/ports/gcp.port.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

/** A sandbox scenario with the real Google clients and Kubernetes adapter over the wire, torn down after the suite. */
function onTheWire(scenario: 'seed' | 'storm') {
  const w = {} as { sandbox: GoogleSandbox; google: GoogleCloud; connector: KubernetesConnector };
  before(async () => {
    w.sandbox = await startGoogleSandbox({ scenario });
    w.google = createGoogleCloud({ endpoint: w.sandbox.endpoint, timeoutMs: 10_000 });
    w.connector = new KubernetesConnector(() => w.google.accessToken());
  });
  after(async () => {
    w.connector?.close();
    await w.google?.close();
    await w.sandbox?.stop();
  });
  return {
    get sandbox() {
      return w.sandbox;
    },
    get google() {
      return w.google;
    },
    get connector() {
      return w.connector;
    },
    /** An investigator with its own (empty) fact cache. */
    investigator: () =>
      new Investigator({
        google: w.google,
        clusters: w.connector,
        reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
      }),
    /** Calls on the sandbox's own log since the last reset, by method. */
    calls: (only?: (method: string) => boolean) => {
      const counts: Record<string, number> = {};
      for (const c of w.sandbox.calls.list())
        if (!only || only(c.method)) counts[c.method] = (counts[c.method] ?? 0) + 1;
      return counts;
    },
  };
}

/**
 * One read per fact per investigation, also when fresh (Re-check, `/imagepull diagnose`, the re-read before a fix):
 * counted on the sandbox's own call log, i.e. what reached the wire.
 */
describe('a fresh investigation of the seed pod, counted on the wire', () => {
  const wire = onTheWire('seed');
  let investigator: Investigator;
  before(() => {
    investigator = wire.investigator();
  });

  for (const round of ['first', 'second (cache warm, still fresh)']) {
    it(`sends each Google read once, the ${round} time`, async () => {
      wire.sandbox.calls.reset();
      const t = wire.sandbox.scenario.target;
      const inv = await investigator.investigate(
        { cluster, namespace: t.namespace, pod: t.pod, message: `Failed to pull image "${t.image}": 403 Forbidden` },
        { fresh: true },
      );
      assert.deepEqual(
        inv.diagnoses.map((d) => d.findings[0]?.id),
        ['node-sa-missing-reader'],
      );
      const counts = wire.calls();
      const google = Object.entries(counts).filter(([m]) => !m.startsWith('kube.'));
      for (const [method, n] of google) assert.equal(n, 1, `${method} sent ${n} times: ${JSON.stringify(counts)}`);
      for (const method of [
        'artifactregistry.GetRepository',
        'artifactregistry.GetIamPolicy',
        'resourcemanager.GetIamPolicy',
        'container.GetCluster',
        'troubleshooter.troubleshoot',
      ]) {
        assert.equal(counts[method], 1, `${method} read once (${JSON.stringify(counts)})`);
      }
    });
  }
});

/**
 * Under an alert storm the Kubernetes reads grow with namespaces and nodes, not with pods or workloads: the storm
 * scenario's 500 failing pods in 20 Deployments, investigated as alerts do (shared reads). A person's (fresh)
 * investigation still follows the owner chain by name.
 */
describe('Kubernetes reads of an alert storm, counted on the wire', () => {
  const wire = onTheWire('storm');
  const kube = (method: string) => method.startsWith('kube.');

  it('finds every pod’s Deployment from one list per namespace, reading no ReplicaSet', async () => {
    const namespace = wire.sandbox.scenario.target.namespace;
    const api = await wire.connector.connect(await wire.google.gke.getCluster(cluster));
    const pods = (await api.listPods(namespace)).filter((p) => p.name.startsWith('svc-') || p.name.startsWith('base-'));
    assert.equal(pods.length, 500, `the storm's 500 pods: ${pods.length}`);
    const investigator = wire.investigator();
    wire.sandbox.calls.reset();
    const investigations = await Promise.all(
      pods.map((p) => investigator.investigate({ cluster, namespace, pod: p.name })),
    );
    const workloads = new Set(investigations.flatMap((inv) => inv.diagnoses.map((d) => d.subject.workload?.name)));
    assert.equal(workloads.size, 20, `each pod's diagnosis names its Deployment: ${[...workloads].join(', ')}`);
    assert.ok(
      investigations.every((inv) => inv.diagnoses.every((d) => d.subject.workload?.kind === 'Deployment')),
      'every diagnosis names a Deployment',
    );
    const counts = wire.calls(kube);
    assert.equal(counts['kube.GET replicasets'] ?? 0, 0, `no ReplicaSet read: ${JSON.stringify(counts)}`);
    assert.equal(counts['kube.GET deployments'], 1, `one Deployment list: ${JSON.stringify(counts)}`);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.ok(total <= 15, `${total} Kubernetes calls for 500 pods: ${JSON.stringify(counts)}`);
  });

  it('a person’s investigation reads the pod’s ReplicaSet and Deployment by name', async () => {
    const t = wire.sandbox.scenario.target;
    const investigator = wire.investigator();
    wire.sandbox.calls.reset();
    const inv = await investigator.investigate({ cluster, namespace: t.namespace, pod: t.pod }, { fresh: true });
    assert.equal(inv.diagnoses[0]?.subject.workload?.name, t.workload.name);
    const counts = wire.calls(kube);
    assert.equal(counts['kube.GET replicasets'], 1, JSON.stringify(counts));
    assert.equal(counts['kube.GET deployments'], 1, JSON.stringify(counts));
  });
});
