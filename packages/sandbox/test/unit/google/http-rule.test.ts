import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bindingsOfRule,
  httpBindings,
  matchTemplate,
  parseTemplate,
  TemplateError,
} from '../../../src/google/http-rule.ts';
import { protoService } from '../../../src/google/protos.ts';

const match = (template: string, path: string) => matchTemplate(parseTemplate(template), path);

describe('google.api.http path templates', () => {
  it('binds a variable with a sub-template, and refuses paths of another shape', () => {
    const t = '/v1/{name=projects/*/locations/*/repositories/*}';
    assert.deepEqual(match(t, '/v1/projects/p/locations/us/repositories/r'), [
      ['name', 'projects/p/locations/us/repositories/r'],
    ]);
    assert.equal(match(t, '/v1/projects/p/locations/us/repositories'), undefined);
    assert.equal(match(t, '/v1/projects/p/locations/us/repositories/r/packages/x'), undefined);
    assert.equal(match(t, '/v1/projects/p/zones/us/repositories/r'), undefined);
    assert.equal(match(t, '/v1beta2/projects/p/locations/us/repositories/r'), undefined);
  });

  it('matches a custom verb only when the path carries it', () => {
    const t = '/v1/{resource=projects/*/locations/*/repositories/*}:getIamPolicy';
    assert.deepEqual(match(t, '/v1/projects/p/locations/us/repositories/r:getIamPolicy'), [
      ['resource', 'projects/p/locations/us/repositories/r'],
    ]);
    assert.equal(match(t, '/v1/projects/p/locations/us/repositories/r:setIamPolicy'), undefined);
    assert.equal(match(t, '/v1/projects/p/locations/us/repositories/r'), undefined);
    assert.deepEqual(match('/v3/iam:troubleshoot', '/v3/iam:troubleshoot'), []);
    assert.equal(match('/v3/iam:troubleshoot', '/v3/iam'), undefined);
  });

  it('binds several single-segment variables (GKE zonal paths)', () => {
    assert.deepEqual(
      match('/v1/projects/{project_id}/zones/{zone}/clusters/{cluster_id}', '/v1/projects/p/zones/us-a/clusters/c'),
      [
        ['project_id', 'p'],
        ['zone', 'us-a'],
        ['cluster_id', 'c'],
      ],
    );
  });

  it('lets ** take the rest of the path, keeping an encoded slash encoded', () => {
    assert.deepEqual(match('/v1/{resource=**}:getIamPolicy', '/v1/projects/p/a/b:getIamPolicy'), [
      ['resource', 'projects/p/a/b'],
    ]);
    assert.deepEqual(match('/v1/{name=projects/*/files/**}', '/v1/projects/p/files/a%2Fb/c'), [
      ['name', 'projects/p/files/a%2Fb/c'],
    ]);
  });

  it('percent-decodes a single segment, and a digest with a colon stays part of the name', () => {
    assert.deepEqual(match('/v1/projects/{project_id}', '/v1/projects/my%20proj'), [['project_id', 'my proj']]);
    const t = '/v1/{name=projects/*/locations/*/repositories/*/dockerImages/*}';
    assert.deepEqual(match(t, '/v1/projects/p/locations/l/repositories/r/dockerImages/app@sha256:abc'), [
      ['name', 'projects/p/locations/l/repositories/r/dockerImages/app@sha256:abc'],
    ]);
    assert.equal(match('/v1/projects/{project_id}', '/v1/projects/%zz'), undefined);
  });

  it('refuses templates outside the grammar', () => {
    for (const bad of ['v1/x', '/v1/{name', '/v1/**/x', '/v1/x/', '/v1/{a b}', '/v1/x:']) {
      assert.throws(() => parseTemplate(bad), TemplateError, bad);
    }
  });
});

describe('HTTP rules read from the descriptors', () => {
  it('reads the main binding and its additional bindings, with the body', () => {
    const gke = protoService('google.container.v1.ClusterManager');
    const create = gke.http.get('CreateNodePool') ?? [];
    assert.deepEqual(
      create.map((b) => [b.verb, b.template.source, b.body]),
      [
        ['POST', '/v1/{parent=projects/*/locations/*/clusters/*}/nodePools', '*'],
        ['POST', '/v1/projects/{project_id}/zones/{zone}/clusters/{cluster_id}/nodePools', '*'],
      ],
    );
  });

  it('knows Artifact Registry IAM methods by their custom verbs', () => {
    const ar = protoService('google.devtools.artifactregistry.v1.ArtifactRegistry');
    const get = ar.http.get('GetIamPolicy')?.[0];
    assert.equal(get?.verb, 'GET');
    assert.equal(get?.template.verb, 'getIamPolicy');
    assert.equal(ar.http.get('SetIamPolicy')?.[0]?.body, '*');
  });

  it('gives the Locations mixin the rules of the service configuration, for v1 and v1beta2', () => {
    const locations = protoService('google.cloud.location.Locations');
    assert.deepEqual(
      locations.http.get('ListLocations')?.map((b) => b.template.source),
      ['/v1/{name=projects/*}/locations', '/v1beta2/{name=projects/*}/locations'],
    );
  });

  it('accepts the flattened option form and a list of additional bindings', () => {
    const flat = httpBindings({
      requestType: 'X',
      responseType: 'Y',
      options: { '(google.api.http).patch': '/v1/{thing.name=things/*}', '(google.api.http).body': 'thing' },
    });
    assert.deepEqual(
      flat.map((b) => [b.verb, b.body, b.template.variables[0]?.field]),
      [['PATCH', 'thing', 'thing.name']],
    );
    const many = bindingsOfRule({ get: '/a', additional_bindings: [{ get: '/b' }, { post: '/c', body: '*' }] });
    assert.deepEqual(
      many.map((b) => `${b.verb} ${b.template.source}`),
      ['GET /a', 'GET /b', 'POST /c'],
    );
  });
});
