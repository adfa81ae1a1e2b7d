import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import { parseAlert } from '../../../src/alerts/parse-alert.ts';
import type { GoogleCloud } from '../../../src/ports/gcp.port.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';
import { ReadAheadBudget } from '../../../src/usecases/read-ahead-budget.ts';

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

/** A sandbox scenario with the real Google clients and Kubernetes adapter over the wire, torn down after the suite. */
function onTheWire(scenario: string, latencyMs?: number) {
  const w = {} as { sandbox: GoogleSandbox; google: GoogleCloud; connector: KubernetesConnector };
  before(async () => {
    w.sandbox = await startGoogleSandbox({ scenario, ...(latencyMs !== undefined ? { latencyMs } : {}) });
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

/**
 * An alert's critical path is one Kubernetes round trip: what does not need the pod (its namespace's events, service
 * accounts and Deployments, and the node the kubelet's event names) is read beside it, not after it. Timed on the
 * sandbox's own log with a latency far above the machine's noise: a read that waited for the pod arrives one latency
 * after it.
 */
describe("an alert's Kubernetes reads, beside the pod's", () => {
  const LATENCY = 300;
  const wire = onTheWire('workload-identity', LATENCY);
  const kube = () => wire.sandbox.calls.list('kube.*').filter((c) => c.method !== 'kube.POST selfsubjectaccessreviews');
  /** The alert the intake would investigate, from the log entry a sink exports for the scenario's pod. */
  const alertTarget = (withNode: boolean) => {
    const t = wire.sandbox.scenario.target;
    const [entry] = wire.sandbox.logEntries({ perPod: 1, pods: [t.pod] });
    const a = parseAlert(Buffer.from(JSON.stringify(entry)));
    assert.ok(a.node, `the kubelet's event names the node: ${JSON.stringify(a)}`);
    return {
      cluster,
      namespace: a.namespace as string,
      pod: a.pod as string,
      ...(a.container ? { container: a.container } : {}),
      ...(a.message ? { message: a.message } : {}),
      ...(withNode ? { node: a.node } : {}),
    };
  };
  const spread = () => {
    const at = kube().map((c) => c.at);
    return Math.max(...at) - Math.min(...at);
  };

  it('reads the node, events, service accounts and Deployments in the same round trip as the pod', async () => {
    const investigator = wire.investigator();
    await investigator.warm(cluster);
    wire.sandbox.calls.reset();
    const inv = await investigator.investigate(alertTarget(true));
    assert.ok(
      inv.diagnoses[0]?.findings.some((f) => f.id === 'workload-identity-misconception'),
      `the KSA from the namespace list still shows the workload identity: ${inv.diagnoses[0]?.findings.map((f) => f.id)}`,
    );
    const methods = kube().map((c) => `${c.method} ${c.detail ?? ''}`);
    assert.equal(methods.length, 5, `pods, node, events, service accounts, deployments: ${methods.join('; ')}`);
    assert.ok(
      methods.some((m) => m.endsWith('/serviceaccounts')),
      `service accounts listed, not read one by one: ${methods}`,
    );
    assert.ok(spread() < LATENCY / 2, `every read sent within ${spread()} ms of the first: ${methods.join('; ')}`);
  });

  it('without the node in the alert, the node is read after the pod (what the hint saves)', async () => {
    const investigator = wire.investigator();
    await investigator.warm(cluster);
    wire.sandbox.calls.reset();
    await investigator.investigate(alertTarget(false));
    assert.ok(spread() >= LATENCY, `the node read waited for the pod: ${spread()} ms`);
  });

  it('a ClusterRole without list serviceaccounts: the account is read by name, the finding stands', async () => {
    const investigator = wire.investigator();
    await investigator.warm(cluster);
    wire.sandbox.calls.reset();
    wire.sandbox.failNext('kube.GET serviceaccounts', 403);
    const inv = await investigator.investigate(alertTarget(true));
    assert.ok(
      inv.diagnoses[0]?.findings.some((f) => f.id === 'workload-identity-misconception'),
      `the KSA read by name shows the workload identity: ${inv.diagnoses[0]?.findings.map((f) => f.id)}`,
    );
    const sa = wire.sandbox.calls.list('kube.GET serviceaccounts').map((c) => c.detail);
    assert.equal(sa.length, 2, `the list (refused), then the account by name: ${sa}`);
    assert.match(String(sa[1]), /\/serviceaccounts\/checkout$/);
  });

  it("a person's investigation reads the service account by name", async () => {
    const t = wire.sandbox.scenario.target;
    const investigator = wire.investigator();
    wire.sandbox.calls.reset();
    await investigator.investigate({ cluster, namespace: t.namespace, pod: t.pod }, { fresh: true });
    const sa = wire.sandbox.calls.list('kube.GET serviceaccounts').map((c) => c.detail);
    assert.deepEqual(sa.length, 1);
    assert.match(String(sa[0]), /\/serviceaccounts\/checkout$/);
  });
});

/**
 * An alert is input from whoever can publish to the topic: alerts naming made-up namespaces and nodes cost the
 * apiserver what they name (the namespace's pod list, the pod's GET), and the reads started on a guess beside the pod
 * stay within the read-ahead budget (usecases/read-ahead-budget.ts). A real alert after the flood is still diagnosed.
 */
describe('a flood of alerts naming made-up namespaces and nodes, counted on the wire', () => {
  const wire = onTheWire('seed');
  const FLOOD = 400;
  const kube = (method: string) => method.startsWith('kube.') && method !== 'kube.POST selfsubjectaccessreviews';
  const flood = (investigator: Investigator) =>
    Promise.all(
      Array.from({ length: FLOOD }, (_, i) =>
        investigator.investigate({
          cluster,
          namespace: `made-up-${i}`,
          pod: `svc-${i}-7d9f8b6c5d-x2x4q`,
          node: `gke-prod-pool-${i}-abcd`,
          message: 'Failed to pull image "us-docker.pkg.dev/acme-prod-417/apps/api:1.0": 403 Forbidden',
        }),
      ),
    );
  const total = () => Object.values(wire.calls(kube)).reduce((a, b) => a + b, 0);

  it('without a budget, each made-up name costs its guesses: the amplification the budget bounds', async () => {
    const investigator = new Investigator({
      google: wire.google,
      clusters: wire.connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
      readAhead: new ReadAheadBudget({ namespaces: Number.POSITIVE_INFINITY, nodes: Number.POSITIVE_INFINITY }),
    });
    await investigator.warm(cluster);
    wire.sandbox.calls.reset();
    await flood(investigator);
    assert.ok(
      total() >= 5 * FLOOD,
      `${total()} Kubernetes calls for ${FLOOD} alerts: ${JSON.stringify(wire.calls(kube))}`,
    );
  });

  it('with the budget, the flood costs its own reads and at most the budget more; a real alert is still diagnosed', async () => {
    // The default budget, on a clock that stays inside one window.
    const budget = new ReadAheadBudget({ now: () => 0 });
    const investigator = new Investigator({
      google: wire.google,
      clusters: wire.connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
      readAhead: budget,
    });
    await investigator.warm(cluster);
    wire.sandbox.calls.reset();
    const investigations = await flood(investigator);
    assert.ok(
      investigations.every((inv) => inv.unreadable === 'pod' && inv.diagnoses.length === 1),
      'each made-up alert is still answered: its pod could not be read',
    );
    const counts = wire.calls(kube);
    // The alerts' own reads (pod list and pod GET per made-up namespace), then at most 3 lists per admitted namespace
    // (64) and 1 GET per admitted node (256).
    assert.ok(
      total() <= 2 * FLOOD + 3 * 64 + 256,
      `${total()} Kubernetes calls for ${FLOOD} alerts: ${JSON.stringify(counts)}`,
    );
    assert.equal(budget.refused, FLOOD - 64 + FLOOD - 256, 'the namespaces and nodes past the budget refused');

    const t = wire.sandbox.scenario.target;
    const inv = await investigator.investigate({
      cluster,
      namespace: t.namespace,
      pod: t.pod,
      message: `Failed to pull image "${t.image}": 403 Forbidden`,
    });
    assert.deepEqual(
      inv.diagnoses.map((d) => d.findings[0]?.id),
      ['node-sa-missing-reader'],
    );
  });

  it('a namespace and node seen real keep their reads beside the pod through a later window’s flood', async () => {
    let now = 0;
    const budget = new ReadAheadBudget({ now: () => now });
    const investigator = new Investigator({
      google: wire.google,
      clusters: wire.connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
      readAhead: budget,
    });
    const t = wire.sandbox.scenario.target;
    const real = (node?: string) =>
      investigator.investigate({
        cluster,
        namespace: t.namespace,
        pod: t.pod,
        ...(node ? { node } : {}),
        message: `Failed to pull image "${t.image}": 403 Forbidden`,
      });
    const first = await real();
    const node = first.pod?.nodeName;
    assert.ok(node, 'the real pod is on a node');
    // The next minute: what the first alert was admitted for is forgotten; the flood uses up the budget.
    now = 60_000;
    await flood(investigator);
    const refused = budget.refused;
    assert.ok(refused >= FLOOD - 64, `the flood used up the budget: ${refused} refused`);
    const after = await real(node);
    assert.equal(budget.refused, refused, 'neither the real namespace nor the real node was refused');
    assert.deepEqual(
      after.diagnoses.map((d) => d.findings[0]?.id),
      ['node-sa-missing-reader'],
    );
  });
});
