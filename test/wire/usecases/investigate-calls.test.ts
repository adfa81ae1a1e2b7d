import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { GoogleCloud } from '../../../src/ports/gcp.port.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';

/**
 * One read per fact per investigation, also when fresh (Re-check, `/imagepull diagnose`, the re-read before a fix):
 * counted on the sandbox's own call log, i.e. what reached the wire.
 */
describe('a fresh investigation of the seed pod, counted on the wire', () => {
  let sandbox: GoogleSandbox;
  let google: GoogleCloud;
  let connector: KubernetesConnector;
  let investigator: Investigator;
  const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'seed' });
    google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
    connector = new KubernetesConnector(() => google.accessToken());
    investigator = new Investigator({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
    });
  });
  after(async () => {
    connector?.close();
    await google?.close();
    await sandbox?.stop();
  });

  const perMethod = () => {
    const counts: Record<string, number> = {};
    for (const c of sandbox.calls.list()) counts[c.method] = (counts[c.method] ?? 0) + 1;
    return counts;
  };

  for (const round of ['first', 'second (cache warm, still fresh)']) {
    it(`sends each Google read once, the ${round} time`, async () => {
      sandbox.calls.reset();
      const t = sandbox.scenario.target;
      const inv = await investigator.investigate(
        { cluster, namespace: t.namespace, pod: t.pod, message: `Failed to pull image "${t.image}": 403 Forbidden` },
        { fresh: true },
      );
      assert.deepEqual(
        inv.diagnoses.map((d) => d.findings[0]?.id),
        ['node-sa-missing-reader'],
      );
      const counts = perMethod();
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
