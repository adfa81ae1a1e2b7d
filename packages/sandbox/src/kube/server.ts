/**
 * The Kubernetes API fake of one GKE cluster: HTTPS with the sandbox CA (the fake GKE hands out its endpoint and
 * CA), Bearer-token authentication, discovery (legacy and aggregated), get / list / watch of every served type as
 * JSON or as a server-printed Table, label and field selectors with limit/continue paging, and the writes in
 * `writes.ts`. Enough of the real API server for the bot's client and for the real `kubectl` (get, describe,
 * rollout restart/status, cordon, drain, create secret).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { admit, type WireRuntime } from '../world/call-log.ts';
import type { KubeObject, Pod } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import type { World } from '../world/world.ts';
import type { ClusterController } from './controller.ts';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  discoveryEtag,
  versionInfo,
} from './discovery.ts';
import { type Negotiated, negotiate, type Representation, readBody, send } from './http.ts';
import { parseRoute, type Route } from './resources.ts';
import { fieldSelector, labelSelector } from './selectors.ts';
import { forbidden, KubeError, kubeError, notFound } from './status.ts';
import { includeObjectOf, toTable } from './tables.ts';
import { serveWatch } from './watch.ts';
import { KubeWrites } from './writes.ts';

/** A running Kubernetes API fake. */
export interface KubeServer {
  /** `127.0.0.1:PORT`, what the fake GKE reports as the cluster endpoint. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** What a Kubernetes API fake serves: one cluster of the world, with its controller and TLS material. */
export interface KubeServerOptions {
  readonly world: World;
  readonly cluster: Cluster;
  readonly rt: WireRuntime;
  readonly controller: ClusterController;
  readonly tls: { readonly key: string; readonly cert: string };
}

/** How many store changes a watch can resume across (the API server's watch cache window). */
const WATCH_WINDOW = 5000;

/** Starts the HTTPS API server of `cluster` on a free loopback port and records its endpoint in the world. */
export function startKubeServer(opts: KubeServerOptions): Promise<KubeServer> {
  opts.cluster.kube.keepHistory(WATCH_WINDOW);
  const handler = new KubeApi(opts);
  const server: Server = createServer({ key: opts.tls.key, cert: opts.tls.cert }, (req, res) => {
    void handler.handle(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      opts.cluster.endpoint = endpoint;
      resolve({
        endpoint,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

const JSON_ONLY: ReadonlySet<Representation> = new Set(['json']);
const JSON_OR_TABLE: ReadonlySet<Representation> = new Set(['json', 'table']);
const DISCOVERY: ReadonlySet<Representation> = new Set(['json', 'discovery']);

/** The RBAC verb of a request. */
function verbOf(method: string, route: Route, watch: boolean): string {
  if (method === 'GET') return route.name === undefined ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get';
  return { POST: 'create', PATCH: 'patch', PUT: 'update', DELETE: 'delete' }[method] ?? method.toLowerCase();
}

class KubeApi {
  private readonly world: World;
  private readonly cluster: Cluster;
  private readonly rt: WireRuntime;
  private readonly writes: KubeWrites;

  constructor(opts: KubeServerOptions) {
    this.world = opts.world;
    this.cluster = opts.cluster;
    this.rt = opts.rt;
    this.writes = new KubeWrites(opts.world, opts.cluster, opts.controller);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const route = parseRoute(url.pathname);
    const method = req.method ?? 'GET';
    const target = route
      ? `${route.info.resource}${route.subresource ? `/${route.subresource}` : ''}`
      : (url.pathname.split('/').filter(Boolean).at(-1) ?? '');
    try {
      const body = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
      const fault = await admit(this.rt, `kube.${method} ${target}`, url.pathname);
      if (fault !== undefined) throw kubeError(fault, `injected failure (HTTP ${fault})`);
      if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) throw kubeError(401, 'Unauthorized');
      if (!route) {
        this.discovery(req, res, url.pathname, method);
        return;
      }
      this.resource(req, res, route, url.searchParams, method, body);
    } catch (e) {
      const err = e instanceof KubeError ? e : kubeError(500, `sandbox error: ${(e as Error).message}`);
      if (res.headersSent) res.end();
      else send(res, err.code, err.body());
    }
  }

  /** `/version`, `/api`, `/apis`, `/api/v1`, `/apis/G`, `/apis/G/V`; anything else is 404. */
  private discovery(req: IncomingMessage, res: ServerResponse, path: string, method: string): void {
    const parts = path.split('/').filter(Boolean);
    const notFoundPath = () => kubeError(404, 'the server could not find the requested resource');
    if (method !== 'GET') throw notFoundPath();
    if (path === '/version' || path === '/version/') {
      send(res, 200, versionInfo(this.cluster.masterVersion));
      return;
    }
    if ((parts[0] === 'api' || parts[0] === 'apis') && parts.length === 1) {
      const root = parts[0];
      const n = negotiate(req.headers.accept, DISCOVERY);
      if (n.as === 'discovery') {
        const doc = aggregatedDiscovery(root, n.version);
        const etag = discoveryEtag(doc);
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag });
          res.end();
          return;
        }
        res.setHeader('etag', etag);
        res.setHeader('vary', 'Accept');
        send(res, 200, doc, n.contentType);
      } else {
        send(res, 200, root === 'api' ? apiVersions(this.cluster.endpoint) : apiGroupList());
      }
      return;
    }
    negotiate(req.headers.accept, JSON_ONLY);
    let doc: object | undefined;
    if (parts[0] === 'api' && parts.length === 2) doc = apiResourceList('', parts[1] ?? '');
    else if (parts[0] === 'apis' && parts.length === 2) doc = apiGroup(parts[1] ?? '');
    else if (parts[0] === 'apis' && parts.length === 3) doc = apiResourceList(parts[1] ?? '', parts[2] ?? '');
    if (!doc) throw notFoundPath();
    send(res, 200, doc);
  }

  private resource(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    query: URLSearchParams,
    method: string,
    body: string,
  ): void {
    const watch = query.get('watch') === 'true' || query.get('watch') === '1';
    const verb = verbOf(method, route, watch);
    const { info } = route;
    const allowed = route.subresource
      ? (info.subresources?.find((s) => s.name === route.subresource)?.verbs ?? [])
      : info.verbs;
    if (!allowed.includes(verb)) {
      throw kubeError(405, 'the server does not allow this method on the requested resource');
    }
    this.authorize(verb, route);
    const userAgent = req.headers['user-agent'] ?? 'unknown';
    if (method === 'GET' && route.subresource === 'log') {
      this.log(res, route, query);
    } else if (method === 'GET') {
      const n = negotiate(req.headers.accept, JSON_OR_TABLE);
      if (watch) this.watch(req, res, route, query, n);
      else if (route.name !== undefined) this.get(res, route, query, n);
      else this.list(res, route, query, n);
    } else if (method === 'POST' && route.subresource === 'eviction') {
      negotiate(req.headers.accept, JSON_ONLY);
      send(res, 201, this.writes.evict(route, body));
    } else if (method === 'POST' && info.resource === 'secrets' && route.name === undefined) {
      negotiate(req.headers.accept, JSON_ONLY);
      send(res, 201, this.writes.createSecret(route, query, body, userAgent));
    } else if (method === 'POST' && info.resource === 'selfsubjectaccessreviews') {
      send(res, 201, this.writes.accessReview(body));
    } else if (method === 'PATCH' && route.name !== undefined) {
      send(res, 200, this.writes.patch(route, req, query, body));
    } else if (method === 'DELETE' && route.name !== undefined) {
      send(res, 200, this.writes.deletePod(route, body));
    } else {
      throw kubeError(405, 'the server does not allow this method on the requested resource');
    }
  }

  private authorize(verb: string, route: Route): void {
    const resource = route.subresource ? `${route.info.resource}/${route.subresource}` : route.info.resource;
    if (this.world.botKubeDenied(verb, resource, route.namespace)) {
      throw forbidden(this.world.bot.email, verb, resource, route.info.group, route.namespace, route.name);
    }
  }

  private get(res: ServerResponse, route: Route, query: URLSearchParams, n: Negotiated): void {
    const obj = this.cluster.kube.get<KubeObject>(route.info.kind, route.namespace, route.name ?? '');
    if (!obj) throw notFound(route.info.resource, route.name ?? '', route.info.group);
    if (n.as === 'table') {
      const opts = { version: n.version, includeObject: includeObjectOf(query), now: this.world.now() };
      send(res, 200, toTable(route.info.kind, [obj], opts), n.contentType);
    } else send(res, 200, obj);
  }

  /**
   * `pods/NAME/log`: the kubelet refuses the logs of a container that never started, with the API server's 400 and
   * the kubelet's reason; a started container's log is empty (the sandbox runs no processes).
   */
  private log(res: ServerResponse, route: Route, query: URLSearchParams): void {
    const pod = this.cluster.kube.get<Pod>('Pod', route.namespace, route.name ?? '');
    if (!pod) throw notFound('pods', route.name ?? '');
    const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
    const wanted =
      query.get('container') ?? (pod.spec.containers.length === 1 ? pod.spec.containers[0]?.name : undefined);
    if (!wanted) {
      const list = pod.spec.containers.map((c) => c.name).join(' ');
      throw kubeError(400, `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${list}]`);
    }
    if (!names.includes(wanted)) {
      throw kubeError(400, `container ${wanted} is not valid for pod ${pod.metadata.name}`);
    }
    const status = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].find(
      (c) => c.name === wanted,
    );
    const waiting = status?.state.waiting?.reason;
    if (!status || (waiting && !status.lastState.terminated)) {
      const why =
        waiting === 'ErrImagePull' || waiting === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : waiting === 'InvalidImageName'
            ? "image can't be pulled"
            : (waiting ?? 'ContainerCreating');
      throw kubeError(400, `container "${wanted}" in pod "${pod.metadata.name}" is waiting to start: ${why}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 0, 'cache-control': 'no-cache, private' });
    res.end();
  }

  private matcher(route: Route, query: URLSearchParams): (o: KubeObject) => boolean {
    const matchLabels = labelSelector(query.get('labelSelector'));
    const matchFields = fieldSelector(query.get('fieldSelector'), route.info.kind);
    return (o) => matchLabels(o.metadata.labels ?? {}) && matchFields(o);
  }

  private list(res: ServerResponse, route: Route, query: URLSearchParams, n: Negotiated): void {
    const matches = this.matcher(route, query);
    const all = this.cluster.kube.list<KubeObject>(route.info.kind, route.namespace).filter(matches);
    const limit = Number(query.get('limit') ?? 0);
    const token = query.get('continue') ?? '';
    const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw kubeError(400, 'continue key is not valid: illegal base64 data');
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const listMeta = {
      resourceVersion: this.cluster.kube.resourceVersion(),
      ...(more
        ? {
            continue: Buffer.from(String(start + limit)).toString('base64url'),
            remainingItemCount: all.length - start - limit,
          }
        : {}),
    };
    if (n.as === 'table') {
      const opts = { version: n.version, includeObject: includeObjectOf(query), now: this.world.now(), listMeta };
      send(res, 200, toTable(route.info.kind, page, opts), n.contentType);
      return;
    }
    const { info } = route;
    send(res, 200, {
      kind: `${info.kind}List`,
      apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
      metadata: listMeta,
      items: page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    });
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, query: URLSearchParams, n: Negotiated): void {
    const matches = this.matcher(route, query);
    const byName = route.name;
    const includeObject = n.as === 'table' ? includeObjectOf(query) : 'Object';
    serveWatch(req, res, {
      store: this.cluster.kube,
      kind: route.info.kind,
      ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
      matches: (o) => (byName === undefined || o.metadata.name === byName) && matches(o),
      query,
      contentType: n.contentType,
      encode: (obj, first) =>
        n.as === 'table'
          ? toTable(route.info.kind, [obj], {
              version: n.version,
              includeObject,
              now: this.world.now(),
              noHeaders: !first,
            })
          : obj,
      current: () => this.cluster.kube.list<KubeObject>(route.info.kind, route.namespace).filter(matches),
    });
  }
}
