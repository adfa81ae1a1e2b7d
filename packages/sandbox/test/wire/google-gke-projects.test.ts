import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterManagerClient } from '@google-cloud/container';
import { ProjectsClient } from '@google-cloud/resource-manager';
import * as grpc from '@grpc/grpc-js';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';
import { clientOptions, grpcError } from './google-helpers.ts';

const CLUSTER = 'projects/acme-prod-417/locations/us-central1/clusters/prod';

describe('GKE ClusterManager and Resource Manager fakes, through the real clients', () => {
  let sandbox: GoogleSandbox;
  let gke: ClusterManagerClient;
  let projects: ProjectsClient;

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'custom-sa-wrong-pool' });
    gke = new ClusterManagerClient(clientOptions(sandbox.endpoint));
    projects = new ProjectsClient(clientOptions(sandbox.endpoint));
  });
  after(async () => {
    await gke?.close();
    await projects?.close();
    await sandbox?.stop();
  });

  it("getCluster hands out the Kubernetes fake's endpoint and CA, like GKE", async () => {
    const [cluster] = await gke.getCluster({ name: CLUSTER });
    assert.equal(cluster.endpoint, sandbox.kubeEndpoints.get(CLUSTER));
    assert.match(cluster.endpoint ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(Buffer.from(cluster.masterAuth?.clusterCaCertificate ?? '', 'base64').toString(), sandbox.caPem);
    assert.equal(cluster.location, 'us-central1');
    assert.equal(cluster.status, 'RUNNING');
  });

  it('listNodePools reports each pool’s service account and OAuth scopes', async () => {
    const [res] = await gke.listNodePools({ parent: CLUSTER });
    const pools = Object.fromEntries((res.nodePools ?? []).map((p) => [p.name, p.config]));
    assert.equal(pools['pool-a']?.serviceAccount, 'gke-nodes@acme-prod-417.iam.gserviceaccount.com');
    assert.deepEqual(pools['pool-a']?.oauthScopes, ['https://www.googleapis.com/auth/cloud-platform']);
    assert.equal(pools['pool-b']?.serviceAccount, 'default');
    assert.ok(pools['pool-b']?.oauthScopes?.includes('https://www.googleapis.com/auth/devstorage.read_only'));
  });

  it('answers NOT_FOUND for a cluster that does not exist, in GKE’s words', async () => {
    const e = await grpcError(() =>
      gke.getCluster({ name: 'projects/acme-prod-417/locations/us-east1/clusters/prod' }, { retry: null }),
    );
    assert.equal(e.code, grpc.status.NOT_FOUND);
    assert.equal(e.details, 'Not found: projects/acme-prod-417/locations/us-east1/clusters/prod.');
  });

  it('getProject works by id and by number and gives the number in the name', async () => {
    const [byId] = await projects.getProject({ name: 'projects/acme-prod-417' });
    const [byNumber] = await projects.getProject({ name: 'projects/123456789012' });
    assert.equal(byId.name, 'projects/123456789012');
    assert.equal(byNumber.projectId, 'acme-prod-417');
    assert.equal(byId.state, 'ACTIVE');
    const e = await grpcError(() => projects.getProject({ name: 'projects/nope-000' }, { retry: null }));
    assert.equal(e.code, grpc.status.NOT_FOUND);
  });

  it('getIamPolicy on the project returns its bindings with an etag, and a grant changes it', async () => {
    const [before] = await projects.getIamPolicy({
      resource: 'projects/acme-prod-417',
      options: { requestedPolicyVersion: 3 },
    });
    assert.ok(before.bindings?.some((b) => b.role === 'roles/container.defaultNodeServiceAccount'));
    sandbox.addBinding(
      'projects/acme-prod-417',
      'roles/artifactregistry.reader',
      'serviceAccount:123456789012-compute@developer.gserviceaccount.com',
    );
    const [after] = await projects.getIamPolicy({
      resource: 'projects/123456789012',
      options: { requestedPolicyVersion: 3 },
    });
    assert.notDeepEqual(after.etag, before.etag);
    assert.ok(after.bindings?.some((b) => b.role === 'roles/artifactregistry.reader'));
  });

  it('retries an injected UNAVAILABLE like the client’s default retry policy does', async () => {
    const before = sandbox.calls.count('container.GetCluster');
    sandbox.failNext('container.GetCluster', grpc.status.UNAVAILABLE);
    const [cluster] = await gke.getCluster({ name: CLUSTER });
    assert.equal(cluster.name, 'prod');
    assert.equal(sandbox.calls.count('container.GetCluster'), before + 2);
  });
});
