/**
 * The Kubernetes API fake of one GKE cluster: HTTPS with the sandbox CA (the fake GKE hands out its endpoint and
 * CA), Bearer-token authentication, the read endpoints the bot uses (client-node 2 paths, label and field
 * selectors), rollout-restart PATCHes with real content-type rules and strategic-merge semantics, and
 * SelfSubjectAccessReview answered from the world's RBAC denials.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { admit, type WireRuntime } from '../world/call-log.ts';
import type { KubeObject, ManagedFieldsEntry, Workload } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import { canonicalJson, iso } from '../world/workloads.ts';
import type { World } from '../world/world.ts';
import { BATCH_RESOURCES } from './batch-resources.ts';
import type { ClusterController } from './controller.ts';
import { type Json, strategicMerge } from './patch.ts';
import { fieldSelector, labelSelector } from './selectors.ts';
import { forbidden, KubeError, kubeError, notFound } from './status.ts';

interface ResourceInfo {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

const RESOURCES: Readonly<Record<string, ResourceInfo>> = {
  pods: { kind: 'Pod', group: '', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
  events: { kind: 'Event', group: '', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
  serviceaccounts: { kind: 'ServiceAccount', group: '', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
  nodes: { kind: 'Node', group: '', version: 'v1', namespaced: false, verbs: ['get', 'list'] },
  namespaces: { kind: 'Namespace', group: '', version: 'v1', namespaced: false, verbs: ['get', 'list'] },
  deployments: { kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true, verbs: ['get', 'list', 'patch'] },
  statefulsets: {
    kind: 'StatefulSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    verbs: ['get', 'list', 'patch'],
  },
  daemonsets: { kind: 'DaemonSet', group: 'apps', version: 'v1', namespaced: true, verbs: ['get', 'list', 'patch'] },
  replicasets: { kind: 'ReplicaSet', group: 'apps', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
  selfsubjectaccessreviews: {
    kind: 'SelfSubjectAccessReview',
    group: 'authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    verbs: ['create'],
  },
  ...BATCH_RESOURCES,
};

interface Route {
  readonly resource: string;
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
}

/** Maps a request path onto a resource, namespace and name (core `/api/v1/…` and grouped `/apis/G/V/…`). */
function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    if (parts[2] !== 'v1') return undefined;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, sub] = rest;
  const info = RESOURCES[resource];
  if (!info || info.group !== group || sub !== undefined) return undefined;
  if (namespace !== undefined && !info.namespaced) return undefined;
  if (name !== undefined && info.namespaced && namespace === undefined) return undefined;
  return { resource, info, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) };
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
];

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'audit-id': crypto.randomUUID(),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024) throw kubeError(413, 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

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

/** Starts the HTTPS API server of `cluster` on a free loopback port and records its endpoint in the world. */
export function startKubeServer(opts: KubeServerOptions): Promise<KubeServer> {
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

class KubeApi {
  private readonly world: World;
  private readonly cluster: Cluster;
  private readonly rt: WireRuntime;
  private readonly controller: ClusterController;

  constructor(opts: KubeServerOptions) {
    this.world = opts.world;
    this.cluster = opts.cluster;
    this.rt = opts.rt;
    this.controller = opts.controller;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const route = parseRoute(url.pathname);
    const method = req.method ?? 'GET';
    const callName = `kube.${method} ${route?.resource ?? url.pathname.split('/').filter(Boolean).at(-1) ?? ''}`;
    try {
      const body = method === 'GET' ? '' : await readBody(req);
      const fault = await admit(this.rt, callName, url.pathname);
      if (fault !== undefined) throw kubeError(fault, `injected failure (HTTP ${fault})`);
      if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) throw kubeError(401, 'Unauthorized');
      if (url.pathname === '/version' && method === 'GET') {
        send(res, 200, {
          major: '1',
          minor: '31',
          gitVersion: `v${this.cluster.masterVersion}`,
          platform: 'linux/amd64',
          goVersion: 'go1.22.12 X:boringcrypto',
          compiler: 'gc',
        });
        return;
      }
      if (!route) throw kubeError(404, 'the server could not find the requested resource');
      if (method === 'GET' && route.name !== undefined && route.info.verbs.includes('get')) {
        send(res, 200, this.get(route));
      } else if (method === 'GET' && route.name === undefined && route.info.verbs.includes('list')) {
        send(res, 200, this.list(route, url.searchParams));
      } else if (method === 'PATCH' && route.name !== undefined && route.info.verbs.includes('patch')) {
        send(res, 200, this.patch(route, req, url.searchParams, body));
      } else if (method === 'POST' && route.resource === 'selfsubjectaccessreviews') {
        send(res, 201, this.accessReview(body));
      } else {
        throw kubeError(405, `the server does not allow this method on the requested resource`);
      }
    } catch (e) {
      const err = e instanceof KubeError ? e : kubeError(500, `sandbox error: ${(e as Error).message}`);
      send(res, err.code, err.body());
    }
  }

  private authorize(verb: string, route: Route): void {
    if (this.world.botKubeDenied(verb, route.resource, route.namespace)) {
      throw forbidden(this.world.bot.email, verb, route.resource, route.info.group, route.namespace, route.name);
    }
  }

  private get(route: Route): KubeObject {
    this.authorize('get', route);
    const obj = this.cluster.kube.get(route.info.kind, route.namespace, route.name ?? '');
    if (!obj) throw notFound(route.resource, route.name ?? '', route.info.group);
    return obj;
  }

  private list(route: Route, query: URLSearchParams): object {
    this.authorize('list', route);
    const matchLabels = labelSelector(query.get('labelSelector'));
    const matchFields = fieldSelector(query.get('fieldSelector'));
    const all = this.cluster.kube
      .list<KubeObject>(route.info.kind, route.namespace)
      .filter((o) => matchLabels(o.metadata.labels ?? {}) && matchFields(o));
    const limit = Number(query.get('limit') ?? 0);
    const start = Number(Buffer.from(query.get('continue') ?? '', 'base64url').toString() || 0);
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    return {
      kind: `${route.info.kind}List`,
      apiVersion: route.info.group ? `${route.info.group}/${route.info.version}` : route.info.version,
      metadata: {
        resourceVersion: this.cluster.kube.resourceVersion(),
        ...(more
          ? {
              continue: Buffer.from(String(start + limit)).toString('base64url'),
              remainingItemCount: all.length - start - limit,
            }
          : {}),
      },
      items: page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  /** PATCH on a Deployment, StatefulSet or DaemonSet, with the API server's content-type and validation rules. */
  private patch(route: Route, req: IncomingMessage, query: URLSearchParams, body: string): KubeObject {
    this.authorize('patch', route);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!PATCH_TYPES.includes(contentType)) {
      throw kubeError(
        415,
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
      );
    }
    if (contentType !== 'application/strategic-merge-patch+json') {
      // A real API server also takes JSON and merge patches and server-side apply; nothing the bot or the commands it
      // prints send uses them, so the sandbox refuses them rather than carry code nobody exercises.
      throw kubeError(415, `${contentType} is not implemented by the sandbox API server: use a strategic merge patch`);
    }
    const current = this.cluster.kube.get<Workload>(
      route.info.kind as Workload['kind'],
      route.namespace,
      route.name ?? '',
    );
    if (!current) throw notFound(route.resource, route.name ?? '', route.info.group);
    let patchBody: Json;
    try {
      patchBody = JSON.parse(body) as Json;
    } catch (e) {
      throw kubeError(400, `error decoding patch: ${(e as Error).message}`);
    }
    if (patchBody === null || typeof patchBody !== 'object' || Array.isArray(patchBody)) {
      throw kubeError(400, 'error decoding patch: a strategic merge patch must be a JSON object');
    }
    const patched = strategicMerge(current as unknown as Json, patchBody);
    const next = patched as unknown as Workload;
    this.validate(current, next, route);
    // Identity and status are the server's; a PATCH on the main resource cannot change them.
    next.metadata = {
      ...next.metadata,
      name: current.metadata.name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: current.metadata.generation ?? 1,
    };
    next.status = current.status as never;
    const specChanged = canonicalJson(next.spec) !== canonicalJson(current.spec);
    if (specChanged) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    const fieldManager = query.get('fieldManager') ?? undefined;
    const dryRun = query.get('dryRun') === 'All';
    const manager = fieldManager ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0] ?? 'unknown';
    const entry: ManagedFieldsEntry = {
      manager,
      operation: 'Update',
      apiVersion: `${route.info.group}/${route.info.version}`,
      time: iso(this.world.now()),
      fieldsType: 'FieldsV1',
      fieldsV1: {},
    };
    next.metadata.managedFields = [
      ...(current.metadata.managedFields ?? []).filter((m) => m.manager !== manager),
      entry,
    ];
    this.cluster.kube.patches.push({
      kind: route.info.kind,
      namespace: route.namespace ?? '',
      name: route.name ?? '',
      contentType,
      ...(fieldManager ? { fieldManager } : {}),
      dryRun,
      body: patchBody,
      at: new Date(this.world.now()).toISOString(),
    });
    if (dryRun) return next;
    this.cluster.kube.put(next);
    if (specChanged) this.controller.workloadChanged(next);
    return next;
  }

  private validate(current: Workload, next: Workload, route: Route): void {
    const problems: string[] = [];
    if (next.metadata?.name !== undefined && next.metadata.name !== current.metadata.name) {
      problems.push(`metadata.name: Invalid value: "${next.metadata.name}": field is immutable`);
    }
    const spec = next.spec as { replicas?: unknown; template?: { spec?: { containers?: unknown } } } | undefined;
    if (next.kind !== 'DaemonSet' && spec?.replicas !== undefined) {
      if (typeof spec.replicas !== 'number' || !Number.isInteger(spec.replicas) || spec.replicas < 0) {
        problems.push(
          `spec.replicas: Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`,
        );
      }
    }
    const containers = spec?.template?.spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      problems.push('spec.template.spec.containers: Required value');
    } else {
      containers.forEach((c: { name?: unknown; image?: unknown }, i) => {
        if (typeof c?.name !== 'string' || !c.name)
          problems.push(`spec.template.spec.containers[${i}].name: Required value`);
        if (typeof c?.image !== 'string' || !c.image)
          problems.push(`spec.template.spec.containers[${i}].image: Required value`);
      });
    }
    if (problems.length) {
      throw kubeError(
        422,
        `${route.info.kind}.${route.info.group} "${current.metadata.name}" is invalid: ${problems.join(', ')}`,
        { name: current.metadata.name, group: route.info.group, kind: route.info.kind },
      );
    }
  }

  /** SelfSubjectAccessReview: allowed unless the world's RBAC denials say otherwise. */
  private accessReview(body: string): object {
    let review: {
      spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: Record<string, string> };
    };
    try {
      review = JSON.parse(body || '{}');
    } catch (e) {
      throw kubeError(400, `error decoding SelfSubjectAccessReview: ${(e as Error).message}`);
    }
    const attrs = review.spec?.resourceAttributes;
    const denied = attrs
      ? this.world.botKubeDenied(attrs.verb ?? '', attrs.resource ?? '', attrs.namespace || undefined)
      : false;
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: review.spec ?? {},
      status: denied
        ? { allowed: false }
        : {
            allowed: true,
            reason: `RBAC: allowed by ClusterRoleBinding "imagepull-bot" of ClusterRole "imagepull-bot" to User "${this.world.bot.email}"`,
          },
    };
  }
}
