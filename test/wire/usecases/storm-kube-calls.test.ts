import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { ClusterApi } from '../../../src/ports/cluster.port.ts';
import type { GoogleCloud } from '../../../src/ports/gcp.port.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';

/**
 * Under an alert storm the Kubernetes reads grow with namespaces and nodes, not with pods or workloads: the storm
 * scenario's 500 failing pods in 20 Deployments, investigated as alerts do (shared reads), counted on the sandbox's
 * call log. A person's (fresh) investigation still follows the owner chain by name.
 */
describe('Kubernetes reads of an alert storm, counted on the wire', () => {
  let sandbox: GoogleSandbox;
  let google: GoogleCloud;
  let connector: KubernetesConnector;
  let api: ClusterApi;
  const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'storm' });
    google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
    connector = new KubernetesConnector(() => google.accessToken());
    api = await connector.connect(await google.gke.getCluster(cluster));
  });
  after(async () => {
    connector?.close();
    await google?.close();
    await sandbox?.stop();
  });

  const kubeCalls = () => {
    const counts: Record<string, number> = {};
    for (const c of sandbox.calls.list())
      if (c.method.startsWith('kube.')) counts[c.method] = (counts[c.method] ?? 0) + 1;
    return counts;
  };

  it('finds every pod’s Deployment from one list per namespace, reading no ReplicaSet', async () => {
    const namespace = sandbox.scenario.target.namespace;
    const pods = (await api.listPods(namespace)).filter((p) => p.name.startsWith('svc-') || p.name.startsWith('base-'));
    assert.equal(pods.length, 500, `the storm's 500 pods: ${pods.length}`);
    const investigator = new Investigator({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
    });
    sandbox.calls.reset();
    const investigations = await Promise.all(
      pods.map((p) => investigator.investigate({ cluster, namespace, pod: p.name })),
    );
    const workloads = new Set(investigations.flatMap((inv) => inv.diagnoses.map((d) => d.subject.workload?.name)));
    assert.equal(workloads.size, 20, `each pod's diagnosis names its Deployment: ${[...workloads].join(', ')}`);
    assert.ok(
      investigations.every((inv) => inv.diagnoses.every((d) => d.subject.workload?.kind === 'Deployment')),
      'every diagnosis names a Deployment',
    );
    const counts = kubeCalls();
    assert.equal(counts['kube.GET replicasets'] ?? 0, 0, `no ReplicaSet read: ${JSON.stringify(counts)}`);
    assert.equal(counts['kube.GET deployments'], 1, `one Deployment list: ${JSON.stringify(counts)}`);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.ok(total <= 15, `${total} Kubernetes calls for 500 pods: ${JSON.stringify(counts)}`);
  });

  it('a person’s investigation reads the pod’s ReplicaSet and Deployment by name', async () => {
    const t = sandbox.scenario.target;
    const investigator = new Investigator({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
    });
    sandbox.calls.reset();
    const inv = await investigator.investigate({ cluster, namespace: t.namespace, pod: t.pod }, { fresh: true });
    assert.equal(inv.diagnoses[0]?.subject.workload?.name, t.workload.name);
    const counts = kubeCalls();
    assert.equal(counts['kube.GET replicasets'], 1, JSON.stringify(counts));
    assert.equal(counts['kube.GET deployments'], 1, JSON.stringify(counts));
  });
});
