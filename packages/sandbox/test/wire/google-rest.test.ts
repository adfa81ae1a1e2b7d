import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import { ClusterManagerClient } from '@google-cloud/container';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';
import { clientOptions } from './google-helpers.ts';

const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const NODE_SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
const READER = 'roles/artifactregistry.reader';

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: Json;
}

describe('the REST side of the Google fakes (HTTP/1.1 JSON, from the google.api.http rules)', () => {
  let sandbox: GoogleSandbox;
  let ar: ArtifactRegistryClient;
  const call = async (method: string, path: string, body?: unknown, bearer = false): Promise<Answer> => {
    const res = await fetch(`http://${sandbox.endpoint}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer ? { authorization: 'Bearer sandbox-token' } : {}),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'seed' });
    ar = new ArtifactRegistryClient(clientOptions(sandbox.endpoint));
  });
  after(async () => {
    await ar?.close();
    await sandbox?.stop();
  });

  it('answers proto3 JSON: camelCase, int64 as strings, RFC 3339 timestamps, defaults omitted', async () => {
    const { status, body } = await call('GET', `/v1/${SERVICES}`);
    assert.equal(status, 200);
    assert.equal(body.name, SERVICES);
    assert.equal(body.format, 'DOCKER');
    assert.match(String(body.sizeBytes), /^\d+$/);
    assert.equal(typeof body.sizeBytes, 'string');
    assert.match(String(body.createTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(body.registryUri, 'us-central1-docker.pkg.dev/acme-prod-417/services');
    assert.ok(!('satisfiesPzs' in body), 'false booleans are omitted');
  });

  it('is one world with gRPC: a grant written over REST is read over gRPC, and the other way round', async () => {
    const read = await call('GET', `/v1/${SERVICES}:getIamPolicy?options.requestedPolicyVersion=3`);
    assert.equal(read.status, 200);
    assert.equal(typeof read.body.etag, 'string', 'the etag is base64');
    const bindings = [...(read.body.bindings as Json[]), { role: READER, members: [NODE_SA] }];
    const write = await call('POST', `/v1/${SERVICES}:setIamPolicy`, {
      policy: { version: 3, bindings, etag: read.body.etag },
    });
    assert.equal(write.status, 200, JSON.stringify(write.body));
    const [policy] = await ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } });
    assert.ok(policy.bindings?.some((b) => b.role === READER && b.members?.includes(NODE_SA)));
    assert.equal(Buffer.from(policy.etag as Uint8Array).toString('base64'), write.body.etag);

    policy.bindings = policy.bindings?.filter((b) => b.role !== READER || b.condition);
    await ar.setIamPolicy({ resource: SERVICES, policy });
    const again = await call('GET', `/v1/${SERVICES}:getIamPolicy?options.requestedPolicyVersion=3`);
    assert.ok(!JSON.stringify(again.body).includes(NODE_SA));
    assert.equal(sandbox.calls.count('artifactregistry.SetIamPolicy'), 2);
  });

  it('binds query parameters into the request: the policy version decides how conditions are shown', async () => {
    const v1 = await call('GET', `/v1/${SERVICES}:getIamPolicy`);
    const v3 = await call('GET', `/v1/${SERVICES}:getIamPolicy?options.requested_policy_version=3`);
    assert.equal(v1.body.version, 1);
    assert.match(JSON.stringify(v1.body), /roles\/artifactregistry\.reader_withcond_[0-9a-f]{20}/);
    assert.equal(v3.body.version, 3);
    const conditional = (v3.body.bindings as Json[]).find((b) => b.condition);
    assert.equal((conditional?.condition as Json | undefined)?.title, 'until-2027');
  });

  it("sends google.rpc.Status errors in Google's envelope with the HTTP code of the gRPC status", async () => {
    const missing = await call('GET', '/v1/projects/acme-prod-417/locations/us-central1/repositories/nope');
    assert.deepEqual(missing, {
      status: 404,
      body: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } },
    });
    const stale = await call('POST', `/v1/${SERVICES}:setIamPolicy`, {
      policy: { bindings: [], etag: 'AAAAAAAAAAA=' },
    });
    assert.equal(stale.status, 409);
    assert.equal((stale.body.error as Json).status, 'ABORTED');
    sandbox.failNext('artifactregistry.GetRepository', 14);
    const unavailable = await call('GET', `/v1/${SERVICES}`);
    assert.equal(unavailable.status, 503);
    assert.equal((unavailable.body.error as Json).status, 'UNAVAILABLE');
  });

  it('refuses what Google refuses: unknown fields, unbound query parameters, bad JSON, unknown paths', async () => {
    const field = await call('POST', `/v1/${SERVICES}:setIamPolicy`, { policy: { bindings: [], colour: 'red' } });
    assert.equal(field.status, 400);
    assert.equal(
      (field.body.error as Json).message,
      'Invalid JSON payload received. Unknown name "colour" at \'policy\': Cannot find field.',
    );
    const query = await call('GET', `/v1/${SERVICES}?view=FULL`);
    assert.equal(query.status, 400);
    assert.match(String((query.body.error as Json).message), /Cannot bind query parameter\. Field 'view'/);
    const json = await call('POST', `/v1/${SERVICES}:setIamPolicy`, '{"policy": ');
    assert.equal(json.status, 400);
    assert.equal((json.body.error as Json).status, 'INVALID_ARGUMENT');
    const path = await call('GET', '/v1/projects/acme-prod-417/buckets');
    assert.equal(path.status, 404);
    assert.ok(
      (await call('GET', `/v1/${SERVICES}?alt=json&prettyPrint=false`)).status === 200,
      'system parameters are fine',
    );
  });

  it('treats a call without credentials as the operator, and a Bearer call as the bot', async () => {
    const other = await startGoogleSandbox({ scenario: 'bot-lacks-permission' });
    try {
      const url = `http://${other.endpoint}/v1/${SERVICES}:getIamPolicy`;
      const asBot = await fetch(url, { headers: { authorization: 'Bearer t' } });
      assert.equal(asBot.status, 403);
      assert.equal(((await asBot.json()) as { error: Json }).error.status, 'PERMISSION_DENIED');
      assert.equal((await fetch(url)).status, 200);
    } finally {
      await other.stop();
    }
  });

  it("serves GKE's additional (zonal) bindings and creates a node pool the gRPC client then lists", async () => {
    const zonal = await call('GET', '/v1/projects/acme-prod-417/zones/us-central1/clusters/prod');
    assert.equal(zonal.status, 200);
    assert.equal(zonal.body.status, 'RUNNING');
    assert.equal(
      zonal.body.endpoint,
      sandbox.kubeEndpoints.get('projects/acme-prod-417/locations/us-central1/clusters/prod'),
    );
    const parent = 'projects/acme-prod-417/locations/us-central1/clusters/prod';
    const op = await call('POST', `/v1/${parent}/nodePools`, {
      nodePool: {
        name: 'extra',
        initialNodeCount: 1,
        config: { oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'] },
      },
    });
    assert.equal(op.status, 200, JSON.stringify(op.body));
    assert.equal(op.body.operationType, 'CREATE_NODE_POOL');
    const done = await call('GET', `/v1/projects/acme-prod-417/locations/us-central1/operations/${op.body.name}`);
    assert.equal(done.body.status, 'DONE');
    const again = await call('POST', `/v1/${parent}/nodePools`, { nodePool: { name: 'extra' } });
    assert.equal(again.status, 409);
    assert.equal((again.body.error as Json).status, 'ALREADY_EXISTS');
    const gke = new ClusterManagerClient(clientOptions(sandbox.endpoint));
    try {
      const [pools] = await gke.listNodePools({ parent });
      const extra = pools.nodePools?.find((p) => p.name === 'extra');
      assert.equal(extra?.config?.serviceAccount, 'default');
      assert.equal(extra?.locations?.length, 3, 'one node per zone of the cluster');
    } finally {
      await gke.close();
    }
  });

  it('serves the v1beta2 Locations mixin gcloud lists, and Resource Manager v1 projects', async () => {
    const locations = await call('GET', '/v1beta2/projects/acme-prod-417/locations');
    assert.ok((locations.body.locations as Json[]).some((l) => l.locationId === 'us-central1'));
    const project = await call('GET', '/v1/projects/acme-prod-417');
    assert.deepEqual(
      [project.body.projectNumber, project.body.lifecycleState, project.body.name],
      ['123456789012', 'ACTIVE', 'Acme Production'],
    );
    const policy = await call('POST', '/v1/projects/acme-prod-417:getIamPolicy', {
      options: { requestedPolicyVersion: 3 },
    });
    assert.ok((policy.body.bindings as Json[]).some((b) => b.role === 'roles/owner'));
  });
});
