import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';

/**
 * The parts of the API server protocol kubectl depends on, over real HTTPS: content negotiation of discovery
 * (aggregated first, legacy as the fallback, 406 for what is not served), Tables, watches (resume from a list's
 * resourceVersion, 410 Expired when too old), field selectors per kind, and writes that change nothing keeping their
 * resourceVersion.
 */

const CLUSTER = 'projects/acme-prod-417/locations/us-central1/clusters/prod';
const KUBECTL_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const KUBECTL_TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

interface WatchEvent {
  type: string;
  object: {
    kind?: string;
    code?: number;
    reason?: string;
    metadata: { name: string; resourceVersion: string };
  };
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  json: Record<string, unknown>;
}

let sandbox: GoogleSandbox;

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const [host, port] = (sandbox.kubeEndpoints.get(CLUSTER) ?? '').split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method,
        path,
        headers: { authorization: 'Bearer t', ...headers },
        ca: sandbox.caPem,
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a watch and collects its lines until `count` events arrived or `ms` passed. */
function watch(path: string, count: number, ms = 3000): Promise<WatchEvent[]> {
  const [host, port] = (sandbox.kubeEndpoints.get(CLUSTER) ?? '').split(':');
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    let buffer = '';
    const req = request(
      { host, port: Number(port), path, headers: { authorization: 'Bearer t' }, ca: sandbox.caPem },
      (res) => {
        const done = () => {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        };
        const timer = setTimeout(done, ms);
        res.on('data', (d) => {
          buffer += d;
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            events.push(JSON.parse(buffer.slice(0, nl)));
            buffer = buffer.slice(nl + 1);
            nl = buffer.indexOf('\n');
          }
          if (events.length >= count) done();
        });
        res.on('end', done);
      },
    );
    req.on('error', (e) => (events.length ? resolve(events) : reject(e)));
    req.end();
  });
}

const RESTART = (at: string) =>
  JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });

describe('Kubernetes API protocol as kubectl uses it', () => {
  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'seed', podStartMs: 20 });
  });
  after(() => sandbox.stop());

  it('/api and /apis answer aggregated discovery when asked first, with its content type and an ETag', async () => {
    const r = await call('GET', '/apis', { accept: KUBECTL_DISCOVERY });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const items = r.json.items as { metadata: { name: string }; versions: { resources: { resource: string }[] }[] }[];
    assert.deepEqual(
      items.map((i) => i.metadata.name),
      ['apps', 'authorization.k8s.io', 'batch'],
    );
    assert.ok(items[0]?.versions[0]?.resources.some((x) => x.resource === 'deployments'));
    const etag = String(r.headers.etag);
    const again = await call('GET', '/apis', { accept: KUBECTL_DISCOVERY, 'if-none-match': etag });
    assert.equal(again.status, 304);
    const beta = await call('GET', '/api', {
      accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
    });
    assert.equal(beta.json.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    const core = (
      beta.json.items as { versions: { resources: { resource: string; subresources?: object[] }[] }[] }[]
    )[0];
    const pods = core?.versions[0]?.resources.find((x) => x.resource === 'pods');
    assert.deepEqual(pods?.subresources, [
      {
        subresource: 'eviction',
        responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' },
        verbs: ['create'],
      },
      { subresource: 'log', responseKind: { group: '', version: '', kind: 'Pod' }, verbs: ['get'] },
    ]);
  });

  it('a client that accepts only plain JSON gets the legacy documents, pods/eviction included', async () => {
    const api = await call('GET', '/api', { accept: 'application/json' });
    assert.equal(api.json.kind, 'APIVersions');
    assert.deepEqual(api.json.versions, ['v1']);
    const apis = await call('GET', '/apis');
    assert.equal(apis.json.kind, 'APIGroupList');
    const v1 = await call('GET', '/api/v1');
    assert.equal(v1.json.kind, 'APIResourceList');
    const resources = v1.json.resources as {
      name: string;
      group?: string;
      version?: string;
      kind: string;
      verbs: string[];
    }[];
    assert.deepEqual(
      resources.find((x) => x.name === 'pods/eviction'),
      {
        name: 'pods/eviction',
        singularName: 'pod',
        namespaced: true,
        group: 'policy',
        version: 'v1',
        kind: 'Eviction',
        verbs: ['create'],
      },
    );
    assert.deepEqual(resources.find((x) => x.name === 'nodes')?.verbs, ['get', 'list', 'patch', 'watch']);
    const apps = await call('GET', '/apis/apps/v1');
    assert.equal(apps.json.groupVersion, 'apps/v1');
    // batch/v1 (Jobs and CronJobs, read-only: the pull audit lists their pod templates); other groups are not served.
    const batch = (await call('GET', '/apis/batch/v1')).json.resources as { name: string; verbs: string[] }[];
    assert.deepEqual(
      batch.map((x) => [x.name, x.verbs]),
      [
        ['cronjobs', ['get', 'list', 'watch']],
        ['jobs', ['get', 'list', 'watch']],
      ],
    );
    assert.equal((await call('GET', '/apis/networking.k8s.io/v1')).status, 404);
    assert.equal((await call('GET', '/apis/apps')).json.kind, 'APIGroup');
  });

  it('406 NotAcceptable for a representation the fake does not serve; JSON when the client also takes it', async () => {
    const proto = await call('GET', '/api/v1/namespaces/prod/pods', { accept: 'application/vnd.kubernetes.protobuf' });
    assert.equal(proto.status, 406);
    assert.equal(proto.json.reason, 'NotAcceptable');
    const either = await call('GET', '/api/v1/namespaces/prod/pods', {
      accept: 'application/vnd.kubernetes.protobuf, application/json',
    });
    assert.equal(either.status, 200);
    assert.equal(either.json.kind, 'PodList');
    const weighted = await call('GET', '/api/v1/namespaces/prod/pods', {
      accept: 'application/json;q=0.5, application/json;as=Table;v=v1;g=meta.k8s.io;q=0.9',
    });
    assert.equal(weighted.json.kind, 'Table', 'the higher q wins');
  });

  it('kubectl get asks for a Table and gets one, for a list and for a single object', async () => {
    const list = await call('GET', '/api/v1/namespaces/prod/pods?labelSelector=app%3Dcheckout', {
      accept: KUBECTL_TABLE,
    });
    assert.equal(list.headers['content-type'], 'application/json;as=Table;v=v1;g=meta.k8s.io');
    const rows = list.json.rows as { cells: string[] }[];
    assert.deepEqual(
      rows.map((r) => r.cells[2]),
      ['ImagePullBackOff', 'ImagePullBackOff', 'ImagePullBackOff'],
    );
    const one = await call('GET', '/apis/apps/v1/namespaces/prod/deployments/checkout', { accept: KUBECTL_TABLE });
    assert.deepEqual((one.json.rows as { cells: unknown[] }[])[0]?.cells.slice(0, 4), ['checkout', '0/3', 3, 0]);
  });

  it('field selectors: the labels the API server supports per kind, 400 for others', async () => {
    const node = 'gke-prod-default-pool-a1b2c3d4-9xkz';
    const onNode = await call('GET', `/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`);
    const items = onNode.json.items as { spec: { nodeName: string } }[];
    assert.ok(items.length > 0 && items.every((p) => p.spec.nodeName === node));
    const bad = await call('GET', '/api/v1/pods?fieldSelector=spec.containers.image%3Dx');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.message), /field label not supported: spec\.containers\.image/);
    const unschedulable = await call('GET', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse');
    assert.equal((unschedulable.json.items as object[]).length, 3, 'an absent boolean counts as false');
  });

  it('a watch from a list resourceVersion sees the next change; an old one gets 410 Expired', async () => {
    const list = await call('GET', '/apis/apps/v1/namespaces/prod/deployments?fieldSelector=metadata.name%3Dcheckout');
    const rv = String((list.json.metadata as { resourceVersion: string }).resourceVersion);
    const events = watch(
      `/apis/apps/v1/namespaces/prod/deployments?watch=true&fieldSelector=metadata.name%3Dcheckout&resourceVersion=${rv}`,
      1,
    );
    const patched = await call(
      'PATCH',
      '/apis/apps/v1/namespaces/prod/deployments/checkout',
      { 'content-type': 'application/strategic-merge-patch+json' },
      RESTART('2026-11-24T03:00:00Z'),
    );
    assert.equal(patched.status, 200);
    const [first] = await events;
    assert.equal(first?.type, 'MODIFIED');
    assert.equal(first?.object.metadata.name, 'checkout');
    assert.equal(first?.object.kind, 'Deployment');
    assert.ok(Number(first?.object.metadata.resourceVersion) > Number(rv));
    const [expired] = await watch('/apis/apps/v1/namespaces/prod/deployments?watch=true&resourceVersion=1', 1);
    assert.equal(expired?.type, 'ERROR');
    assert.equal(expired?.object.code, 410);
    assert.equal(expired?.object.reason, 'Expired');
  });

  it('pods/log: a container that never started is refused with the kubelet reason, a running one has a log', async () => {
    const waiting = await call('GET', '/api/v1/namespaces/prod/pods/checkout-7d9c8b6f4-q2xnv/log');
    assert.equal(waiting.status, 400);
    assert.equal(
      waiting.json.message,
      'container "checkout" in pod "checkout-7d9c8b6f4-q2xnv" is waiting to start: trying and failing to pull image',
    );
    const pods = await call('GET', '/api/v1/namespaces/prod/pods?labelSelector=app%3Dfrontend');
    const name = (pods.json.items as { metadata: { name: string } }[])[0]?.metadata.name;
    const running = await call('GET', `/api/v1/namespaces/prod/pods/${name}/log?container=frontend`);
    assert.equal(running.status, 200);
    assert.equal(running.headers['content-type'], 'text/plain');
    const wrong = await call('GET', `/api/v1/namespaces/prod/pods/${name}/log?container=nope`);
    assert.equal(wrong.status, 400);
  });

  it('a watch without resourceVersion starts with ADDED for what exists', async () => {
    const events = await watch('/api/v1/namespaces/prod/pods?watch=1&labelSelector=app%3Dfrontend', 2);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'ADDED'],
    );
  });

  it('a write that changes nothing keeps the resourceVersion and emits no event', async () => {
    const body = RESTART('2026-11-24T04:00:00Z');
    const headers = { 'content-type': 'application/strategic-merge-patch+json' };
    const path = '/apis/apps/v1/namespaces/prod/deployments/frontend?fieldManager=test';
    const first = await call('PATCH', path, headers, body);
    await new Promise((r) => setTimeout(r, 300));
    const settled = await call('GET', '/apis/apps/v1/namespaces/prod/deployments/frontend');
    const rv = (settled.json.metadata as { resourceVersion: string }).resourceVersion;
    const events = watch(
      `/apis/apps/v1/namespaces/prod/deployments?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dfrontend`,
      1,
      500,
    );
    const again = await call('PATCH', path, headers, body);
    assert.equal(first.status, 200);
    assert.equal((again.json.metadata as { resourceVersion: string }).resourceVersion, rv);
    assert.deepEqual(await events, []);
  });
});
