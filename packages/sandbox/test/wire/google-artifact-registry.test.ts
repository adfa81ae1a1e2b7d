import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import * as grpc from '@grpc/grpc-js';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';
import { clientOptions, grpcError } from './google-helpers.ts';

const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const NODE_SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
const READER = 'roles/artifactregistry.reader';

describe('Artifact Registry fake, through @google-cloud/artifact-registry', () => {
  let sandbox: GoogleSandbox;
  let ar: ArtifactRegistryClient;

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'seed' });
    ar = new ArtifactRegistryClient(clientOptions(sandbox.endpoint));
  });
  after(async () => {
    await ar?.close();
    await sandbox?.stop();
  });

  it('gets and lists repositories, with format, mode and the Docker registry URI', async () => {
    const [repo] = await ar.getRepository({ name: SERVICES });
    assert.equal(repo.format, 'DOCKER');
    assert.equal(repo.mode, 'STANDARD_REPOSITORY');
    assert.equal(repo.registryUri, 'us-central1-docker.pkg.dev/acme-prod-417/services');
    const [repos] = await ar.listRepositories({ parent: 'projects/acme-prod-417/locations/us-central1' });
    assert.deepEqual(
      repos.map((r) => r.name?.split('/').pop()),
      ['services', 'web'],
    );
  });

  it('lists the Artifact Registry locations through the Locations mixin', async () => {
    const ids: string[] = [];
    for await (const l of ar.listLocationsAsync({ name: 'projects/acme-prod-417' })) ids.push(l.locationId ?? '');
    assert.ok(ids.includes('us-central1') && ids.includes('us') && ids.includes('europe'));
    // The typings say ILocation, but like every gax call it resolves to [response, request, raw].
    const [one] = (await ar.getLocation({ name: 'projects/acme-prod-417/locations/us-central1' })) as unknown as [
      { displayName?: string },
    ];
    assert.equal(one.displayName, 'Iowa');
  });

  it('gets tags and lists tags and Docker images, newest first', async () => {
    const [tag] = await ar.getTag({ name: `${SERVICES}/packages/checkout/tags/1.8.2` });
    assert.match(tag.version ?? '', /\/packages\/checkout\/versions\/sha256:[0-9a-f]{64}$/);
    const [tags] = await ar.listTags({ parent: `${SERVICES}/packages/checkout` });
    assert.deepEqual(
      tags.map((t) => t.name?.split('/').pop()),
      ['1.7.9', '1.8.0', '1.8.1', '1.8.2'],
    );
    const [images] = await ar.listDockerImages(
      { parent: SERVICES, orderBy: 'update_time desc' },
      { autoPaginate: true },
    );
    const checkout = images.filter((i) => i.uri?.includes('/checkout@'));
    assert.deepEqual(
      checkout.map((i) => i.tags?.join(',')),
      ['1.8.2', '1.8.1', '1.8.0', '1.7.9'],
    );
    assert.ok(Number(checkout[0]?.uploadTime?.seconds) > Number(checkout[1]?.uploadTime?.seconds));
    assert.match(checkout[0]?.uri ?? '', /^us-central1-docker\.pkg\.dev\/acme-prod-417\/services\/checkout@sha256:/);
  });

  it('answers NOT_FOUND for a missing repository or tag', async () => {
    const repo = await grpcError(() =>
      ar.getRepository({ name: 'projects/acme-prod-417/locations/us-east1/repositories/services' }),
    );
    assert.equal(repo.code, grpc.status.NOT_FOUND);
    assert.equal(repo.details, 'Requested entity was not found.');
    const tag = await grpcError(() => ar.getTag({ name: `${SERVICES}/packages/checkout/tags/1.8.3` }));
    assert.equal(tag.code, grpc.status.NOT_FOUND);
  });

  it('answers UNIMPLEMENTED for methods the sandbox does not serve', async () => {
    const e = await grpcError(() => ar.getProjectSettings({ name: 'projects/acme-prod-417/projectSettings' }));
    assert.equal(e.code, grpc.status.UNIMPLEMENTED);
  });

  it('returns conditional bindings at version 3 and hides them at version 1', async () => {
    const [v3] = await ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } });
    assert.equal(v3.version, 3);
    assert.ok(Buffer.isBuffer(v3.etag) && v3.etag.length > 0);
    const conditional = v3.bindings?.find((b) => b.condition);
    assert.equal(conditional?.condition?.expression, 'request.time < timestamp("2027-01-01T00:00:00Z")');
    const [v1] = await ar.getIamPolicy({ resource: SERVICES });
    assert.equal(v1.version, 1);
    assert.ok(v1.bindings?.every((b) => !b.condition));
    assert.ok(v1.bindings?.some((b) => b.role?.includes('_withcond_')));
  });

  it('does the read-modify-write: the grant keeps every other binding, a stale etag gets ABORTED', async () => {
    const [read] = await ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } });
    const bindings = [...(read.bindings ?? []), { role: READER, members: [NODE_SA] }];
    const [written] = await ar.setIamPolicy({ resource: SERVICES, policy: { ...read, bindings, version: 3 } });
    assert.notDeepEqual(written.etag, read.etag);
    const [again] = await ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } });
    assert.deepEqual(again.etag, written.etag);
    assert.equal(again.bindings?.length, 4);
    assert.deepEqual(
      again.bindings?.find((b) => b.condition)?.condition?.title,
      read.bindings?.find((b) => b.condition)?.condition?.title,
    );
    assert.ok(again.bindings?.some((b) => b.role === READER && !b.condition && b.members?.includes(NODE_SA)));

    const stale = await grpcError(() =>
      ar.setIamPolicy({ resource: SERVICES, policy: { ...read, bindings: read.bindings, version: 3 } }),
    );
    assert.equal(stale.code, grpc.status.ABORTED);
    assert.equal(
      stale.details,
      'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
    );
    sandbox.removeBinding(SERVICES, READER, NODE_SA);
  });

  it('ABORTs a write based on a read from before an out-of-band change', async () => {
    const [read] = await ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } });
    sandbox.addBinding(
      SERVICES,
      'roles/artifactregistry.writer',
      'serviceAccount:other-ci@acme-prod-417.iam.gserviceaccount.com',
    );
    const e = await grpcError(() => ar.setIamPolicy({ resource: SERVICES, policy: { ...read, version: 3 } }));
    assert.equal(e.code, grpc.status.ABORTED);
  });

  it('reports failures injected with failNext, then serves normally', async () => {
    sandbox.failNext('artifactregistry.GetRepository', grpc.status.UNAVAILABLE);
    const e = await grpcError(() => ar.getRepository({ name: SERVICES }, { retry: null }));
    assert.equal(e.code, grpc.status.UNAVAILABLE);
    const [repo] = await ar.getRepository({ name: SERVICES });
    assert.equal(repo.name, SERVICES);
  });

  it('counts calls by method and adds measurable latency', async () => {
    const before = sandbox.calls.count('artifactregistry.GetRepository');
    sandbox.setLatency(120);
    const t0 = performance.now();
    await ar.getRepository({ name: SERVICES });
    const took = performance.now() - t0;
    sandbox.setLatency(0);
    assert.ok(took >= 115, `took ${took} ms`);
    assert.equal(sandbox.calls.count('artifactregistry.GetRepository'), before + 1);
  });
});

describe('Artifact Registry fake when the bot lacks a permission', () => {
  let sandbox: GoogleSandbox;
  let ar: ArtifactRegistryClient;

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'bot-lacks-permission' });
    ar = new ArtifactRegistryClient(clientOptions(sandbox.endpoint));
  });
  after(async () => {
    await ar?.close();
    await sandbox?.stop();
  });

  it('answers PERMISSION_DENIED in the real message form, and only for that permission', async () => {
    const e = await grpcError(() => ar.getIamPolicy({ resource: SERVICES, options: { requestedPolicyVersion: 3 } }));
    assert.equal(e.code, grpc.status.PERMISSION_DENIED);
    assert.equal(
      e.details,
      `Permission 'artifactregistry.repositories.getIamPolicy' denied on resource '//artifactregistry.googleapis.com/${SERVICES}' (or it may not exist).`,
    );
    const [repo] = await ar.getRepository({ name: SERVICES });
    assert.equal(repo.name, SERVICES);
    const [held] = await ar.testIamPermissions({
      resource: SERVICES,
      permissions: ['artifactregistry.repositories.get', 'artifactregistry.repositories.getIamPolicy'],
    });
    assert.deepEqual(held.permissions, ['artifactregistry.repositories.get']);
  });
});
