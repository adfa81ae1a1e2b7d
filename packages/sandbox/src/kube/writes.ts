/**
 * The writes the Kubernetes API fake accepts, with the API server's rules: strategic-merge PATCH of workloads and
 * nodes (content-type checks, validation, generation bumps, managedFields), POST of Secrets (name and type
 * validation, AlreadyExists), the `pods/eviction` subresource and DELETE of pods (graceful: the pod gets a
 * deletionTimestamp and the controller's kubelet removes it), and SelfSubjectAccessReview.
 */
import type { IncomingMessage } from 'node:http';
import type { KubeObject, ManagedFieldsEntry, Pod, Workload } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import { canonicalJson, iso } from '../world/workloads.ts';
import type { World } from '../world/world.ts';
import type { ClusterController } from './controller.ts';
import { parseObject } from './http.ts';
import { type Json, strategicMerge } from './patch.ts';
import type { Route } from './resources.ts';
import { alreadyExists, kubeError, notFound } from './status.ts';

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
];

/** RFC 1123 subdomain, what object names must be. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Secret types whose required keys the API server checks. */
const SECRET_KEYS: Readonly<Record<string, string>> = {
  'kubernetes.io/dockerconfigjson': '.dockerconfigjson',
  'kubernetes.io/dockercfg': '.dockercfg',
};

/** The writes of one cluster's API server. */
export class KubeWrites {
  private readonly world: World;
  private readonly cluster: Cluster;
  private readonly controller: ClusterController;

  constructor(world: World, cluster: Cluster, controller: ClusterController) {
    this.world = world;
    this.cluster = cluster;
    this.controller = controller;
  }

  private managedEntry(manager: string, route: Route, operation: 'Update', subresource?: string): ManagedFieldsEntry {
    return {
      manager,
      operation,
      apiVersion: route.info.group ? `${route.info.group}/${route.info.version}` : route.info.version,
      time: iso(this.world.now()),
      fieldsType: 'FieldsV1',
      fieldsV1: {},
      ...(subresource ? { subresource } : {}),
    };
  }

  /** PATCH on a workload or node: strategic merge only (what the bot, kubectl rollout and cordon send). */
  patch(route: Route, req: IncomingMessage, query: URLSearchParams, body: string): KubeObject {
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
    const { info } = route;
    const name = route.name ?? '';
    const current = this.cluster.kube.get<KubeObject>(info.kind, route.namespace, name);
    if (!current) throw notFound(info.resource, name, info.group);
    const patchBody = parseObject(body, 'patch') as Json;
    const next = strategicMerge(current as unknown as Json, patchBody) as unknown as KubeObject & {
      spec?: unknown;
      status?: unknown;
    };
    if (info.kind !== 'Node') validateWorkload(current as Workload, next as unknown as Workload, route);
    // Identity and status are the server's; a PATCH on the main resource cannot change them.
    next.kind = current.kind;
    next.apiVersion = current.apiVersion;
    next.metadata = {
      ...next.metadata,
      name: current.metadata.name,
      ...(current.metadata.namespace !== undefined ? { namespace: current.metadata.namespace } : {}),
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
    };
    next.status = (current as { status?: unknown }).status;
    const specChanged = canonicalJson(next.spec) !== canonicalJson((current as { spec?: unknown }).spec);
    if (info.kind === 'Node') delete next.metadata.generation;
    else {
      next.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    }
    const fieldManager = query.get('fieldManager') ?? undefined;
    const dryRun = query.get('dryRun') === 'All';
    const manager = fieldManager ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0] ?? 'unknown';
    const { managedFields: _before, ...currentMeta } = current.metadata;
    const { managedFields: _after, ...nextMeta } = next.metadata;
    const unchanged =
      canonicalJson({ ...next, metadata: nextMeta }) === canonicalJson({ ...current, metadata: currentMeta }) &&
      (current.metadata.managedFields ?? []).some((m) => m.manager === manager);
    // A patch that changes nothing leaves managedFields (and so the object and its resourceVersion) as they were,
    // as the API server ignores timestamp-only managedFields changes.
    next.metadata.managedFields = unchanged
      ? current.metadata.managedFields
      : [
          ...(current.metadata.managedFields ?? []).filter((m) => m.manager !== manager),
          this.managedEntry(manager, route, 'Update'),
        ];
    this.cluster.kube.patches.push({
      kind: info.kind,
      namespace: route.namespace ?? '',
      name,
      contentType,
      ...(fieldManager ? { fieldManager } : {}),
      dryRun,
      body: patchBody,
      at: new Date(this.world.now()).toISOString(),
    });
    if (dryRun) return next;
    this.cluster.kube.put(next);
    if (info.kind !== 'Node' && specChanged) this.controller.workloadChanged(next as unknown as Workload);
    return next;
  }

  /** POST of a Secret: name and type rules of the API server; the stored object is returned (201). */
  createSecret(route: Route, query: URLSearchParams, body: string, userAgent: string): KubeObject {
    const obj = parseObject(body, 'Secret') as {
      kind?: string;
      apiVersion?: string;
      metadata?: Record<string, unknown>;
      type?: string;
      data?: Record<string, string>;
      stringData?: Record<string, string>;
      immutable?: boolean;
    };
    const ns = route.namespace ?? '';
    if (obj.kind !== undefined && obj.kind !== 'Secret') {
      throw kubeError(
        400,
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (v1)`,
      );
    }
    const name = String(obj.metadata?.name ?? '');
    const problems: string[] = [];
    if (!name) problems.push('metadata.name: Required value: name or generateName is required');
    else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      problems.push(
        `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    }
    const metaNs = obj.metadata?.namespace;
    if (metaNs !== undefined && metaNs !== ns) {
      throw kubeError(400, 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!this.cluster.kube.get('Namespace', undefined, ns)) throw notFound('namespaces', ns);
    const data: Record<string, string> = { ...(obj.data ?? {}) };
    for (const [k, v] of Object.entries(obj.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
    for (const [k, v] of Object.entries(data)) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k))
        problems.push(
          `data[${k}]: Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
        );
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
        problems.push(`data[${k}]: Invalid value: illegal base64 data`);
    }
    const type = obj.type || 'Opaque';
    const required = SECRET_KEYS[type];
    if (required) {
      const raw = data[required];
      if (raw === undefined) problems.push(`data[${required}]: Required value`);
      else {
        try {
          JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
        } catch (e) {
          problems.push(`data[${required}]: Invalid value: "<secret contents redacted>": ${(e as Error).message}`);
        }
      }
    }
    if (problems.length) {
      throw kubeError(422, `Secret "${name}" is invalid: ${problems.join(', ')}`, { name, kind: 'Secret' });
    }
    if (this.cluster.kube.get('Secret', ns, name)) throw alreadyExists('secrets', name);
    const manager = query.get('fieldManager') ?? userAgent.split('/')[0] ?? 'unknown';
    const secret = {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: {
        ...(obj.metadata ?? {}),
        name,
        namespace: ns,
        uid: this.world.rng.uuid(),
        creationTimestamp: iso(this.world.now()),
        managedFields: [this.managedEntry(manager, route, 'Update')],
      },
      ...(obj.immutable !== undefined ? { immutable: obj.immutable } : {}),
      data,
      type,
    } as KubeObject;
    if (query.get('dryRun') === 'All') return secret;
    return this.cluster.kube.put(secret);
  }

  /**
   * `POST pods/NAME/eviction`: no PodDisruptionBudget exists in the sandbox, so every eviction is allowed and the
   * pod is deleted gracefully (201 with a Success Status, like the API server).
   */
  evict(route: Route, body: string): object {
    const eviction = parseObject(body, 'Eviction') as { metadata?: { name?: string }; deleteOptions?: unknown };
    const name = route.name ?? '';
    if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) {
      throw kubeError(400, `name in URL does not match name in Eviction object`);
    }
    const pod = this.cluster.kube.get<Pod>('Pod', route.namespace, name);
    if (!pod) throw notFound('pods', name);
    const grace = (eviction.deleteOptions as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds;
    if (!pod.metadata.deletionTimestamp) this.controller.deletePod(pod, grace);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  /** `DELETE pods/NAME`: graceful deletion; the pod as it is now (with its deletionTimestamp) is returned. */
  deletePod(route: Route, body: string): KubeObject {
    const name = route.name ?? '';
    const pod = this.cluster.kube.get<Pod>('Pod', route.namespace, name);
    if (!pod) throw notFound('pods', name);
    const options = body.trim() ? (parseObject(body, 'DeleteOptions') as { gracePeriodSeconds?: number }) : {};
    if (!pod.metadata.deletionTimestamp) this.controller.deletePod(pod, options.gracePeriodSeconds);
    return pod;
  }

  /** SelfSubjectAccessReview: allowed unless the world's RBAC denials say otherwise. */
  accessReview(body: string): object {
    const review = parseObject(body || '{}', 'SelfSubjectAccessReview') as {
      spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: Record<string, string> };
    };
    const attrs = review.spec?.resourceAttributes;
    const resource = attrs?.subresource ? `${attrs.resource}/${attrs.subresource}` : (attrs?.resource ?? '');
    const denied = attrs ? this.world.botKubeDenied(attrs.verb ?? '', resource, attrs.namespace || undefined) : false;
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

/** The API server's validation of a workload update (immutable name, replicas, containers). */
function validateWorkload(current: Workload, next: Workload, route: Route): void {
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
