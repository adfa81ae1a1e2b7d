import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { GoogleCloud } from '../../../src/ports/gcp.port.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { PullAudit } from '../../../src/usecases/pull-audit.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROD = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

function byMethod(sb: GoogleSandbox): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of sb.calls.list()) counts[c.method] = (counts[c.method] ?? 0) + 1;
  return counts;
}

/**
 * What one audit costs, counted on the sandbox's wire: each fact once, however many workloads and pools need it.
 * `fleet` is 50 Deployments over 10 images (8 in `services`, 2 in `web`) and 4 pools with 4 service accounts.
 */
describe('one audit of 50 workloads × 4 node pools, counted on the wire', () => {
  let sb: GoogleSandbox;
  let google: GoogleCloud;
  let connector: KubernetesConnector;
  let audit: PullAudit;

  before(async () => {
    sb = await startGoogleSandbox({ scenario: 'fleet' });
    google = createGoogleCloud({ endpoint: sb.endpoint, timeoutMs: 10_000 });
    connector = new KubernetesConnector(() => google.accessToken());
    audit = new PullAudit({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 60_000, timeoutMs: 10_000 }),
    });
  });
  after(async () => {
    connector?.close();
    await google?.close();
    await sb?.stop();
  });

  it('reads each fact once: a list per workload kind, per repository, per image, per service account × repository', async () => {
    sb.calls.reset();
    const report = await audit.audit({ clusters: [PROD] }, { fresh: true });
    assert.equal(report.pairs, 40, '10 images × 4 pools');
    assert.equal(report.clusters[0]?.workloads, 50);
    assert.deepEqual(byMethod(sb), {
      'container.GetCluster': 1,
      'resourcemanager.GetProject': 1,
      'kube.GET nodes': 1,
      'kube.GET deployments': 1,
      'kube.GET statefulsets': 1,
      'kube.GET daemonsets': 1,
      'kube.GET jobs': 1,
      'kube.GET cronjobs': 1,
      'artifactregistry.GetRepository': 2,
      'artifactregistry.GetIamPolicy': 2,
      'resourcemanager.GetIamPolicy': 1,
      'artifactregistry.GetTag': 10,
      'troubleshooter.troubleshoot': 8,
    });
    assert.equal(sb.calls.count(), 31);
  });

  it('a re-audit after an IAM change on one repository reads only what depends on it', async () => {
    sb.calls.reset();
    const web = 'projects/acme-prod-417/locations/us-central1/repositories/web';
    const report = await audit.audit({ clusters: [PROD], dependsOn: [web] }, { fresh: true });
    assert.equal(report.pairs, 8, '2 web images × 4 pools');
    assert.deepEqual(
      report.gaps.map((g) => g.repository),
      [web],
    );
    const calls = byMethod(sb);
    assert.equal(calls['artifactregistry.GetRepository'], 1);
    assert.equal(calls['artifactregistry.GetTag'], 2);
    assert.equal(calls['troubleshooter.troubleshoot'], 4, 'one verdict per service account on web');
  });
});

describe("a node pool's taints, from GKE's configuration", () => {
  it('reach the bot through the real container client, as GKE reports them', async () => {
    const sb = await startGoogleSandbox({ scenario: 'tainted-pool' });
    const google = createGoogleCloud({ endpoint: sb.endpoint, timeoutMs: 10_000 });
    try {
      const cluster = await google.gke.getCluster(PROD);
      const gpu = cluster.nodePools.find((p) => p.name === 'gpu-pool');
      assert.deepEqual(gpu?.taints, [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
      assert.equal(cluster.nodePools.find((p) => p.name === 'default-pool')?.taints, undefined);
    } finally {
      await google.close();
      await sb.stop();
    }
  });
});
