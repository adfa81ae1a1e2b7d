import * as k8s from '@kubernetes/client-node';
import type {
  ContainerFacts,
  KubernetesServiceAccountFacts,
  NodeFacts,
  PodEventFacts,
  PodFacts,
  WorkloadRef,
} from '../../diagnosis/facts.ts';
import type { ClusterApi, ClusterConnector, WorkloadState } from '../../ports/cluster.port.ts';
import type { ClusterInfo } from '../../ports/gcp.port.ts';
import { ReadError } from '../../shared/errors.ts';

const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
const WI_ANNOTATION = 'iam.gke.io/gcp-service-account';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
/** The field manager `kubectl rollout restart` uses (gcp-facts.md §5). */
const FIELD_MANAGER = 'kubectl-rollout';

/**
 * Connects to a GKE cluster's Kubernetes API exactly as kubectl would after `get-credentials`: `https://ENDPOINT`,
 * the cluster CA from GKE, and a Google access token as bearer (engineering.md §4.1). Connections are reused for a
 * few minutes; tokens come from the caller (google-auth-library caches and refreshes them).
 */
export class KubernetesConnector implements ClusterConnector {
  readonly #token: () => Promise<string>;
  readonly #cache = new Map<string, { api: ClusterApi; until: number }>();

  constructor(token: () => Promise<string>) {
    this.#token = token;
  }

  async connect(cluster: ClusterInfo): Promise<ClusterApi> {
    const key = `${cluster.endpoint}|${cluster.caCertificate.length}`;
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.api;
    const token = await this.#token();
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'gke', server: `https://${cluster.endpoint}`, caData: cluster.caCertificate, skipTLSVerify: false },
      ],
      users: [{ name: 'gke', token }],
      contexts: [{ name: 'gke', cluster: 'gke', user: 'gke' }],
      currentContext: 'gke',
    });
    const api = new KubernetesClusterApi(kc, `${cluster.ref.project}/${cluster.ref.location}/${cluster.ref.name}`);
    this.#cache.set(key, { api, until: Date.now() + 5 * 60_000 });
    return api;
  }
}

class KubernetesClusterApi implements ClusterApi {
  readonly #core: k8s.CoreV1Api;
  readonly #apps: k8s.AppsV1Api;
  readonly #authz: k8s.AuthorizationV1Api;
  readonly #name: string;

  constructor(kc: k8s.KubeConfig, name: string) {
    this.#core = kc.makeApiClient(k8s.CoreV1Api);
    this.#apps = kc.makeApiClient(k8s.AppsV1Api);
    this.#authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    this.#name = name;
  }

  async getPod(namespace: string, name: string): Promise<PodFacts> {
    const pod = await this.#call(`get pods ${namespace}/${name}`, 'get pods', () =>
      this.#core.readNamespacedPod({ namespace, name }),
    );
    return podFacts(pod);
  }

  async listPodEvents(namespace: string, pod: string): Promise<PodEventFacts[]> {
    const list = await this.#call(`list events ${namespace}/${pod}`, 'list events', () =>
      this.#core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${pod},involvedObject.kind=Pod`,
      }),
    );
    return list.items
      .map((e) => {
        const container = /^spec\.(?:init)?[cC]ontainers\{(.+)\}$/.exec(e.involvedObject.fieldPath ?? '')?.[1];
        const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
        return {
          type: e.type ?? 'Normal',
          reason: e.reason ?? '',
          message: e.message ?? '',
          ...(container ? { container } : {}),
          count: e.count ?? 1,
          ...(last ? { lastSeen: new Date(last).toISOString() } : {}),
        };
      })
      .sort((a, b) => (a.lastSeen ?? '').localeCompare(b.lastSeen ?? ''));
  }

  async resolveWorkload(namespace: string, owner: { kind: string; name: string }): Promise<WorkloadState | undefined> {
    if (owner.kind === 'ReplicaSet') {
      const rs = await this.#call(`get replicasets ${namespace}/${owner.name}`, 'get replicasets', () =>
        this.#apps.readNamespacedReplicaSet({ namespace, name: owner.name }),
      );
      const parent = controllerOf(rs.metadata);
      if (parent?.kind !== 'Deployment') return undefined;
      return this.getWorkload({ kind: 'Deployment', namespace, name: parent.name });
    }
    if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet' || owner.kind === 'Deployment') {
      return this.getWorkload({ kind: owner.kind, namespace, name: owner.name });
    }
    return undefined;
  }

  async getWorkload(ref: WorkloadRef): Promise<WorkloadState> {
    const { namespace, name } = ref;
    const what = `get ${ref.kind.toLowerCase()}s ${namespace}/${name}`;
    const obj =
      ref.kind === 'Deployment'
        ? await this.#call(what, 'get deployments', () => this.#apps.readNamespacedDeployment({ namespace, name }))
        : ref.kind === 'StatefulSet'
          ? await this.#call(what, 'get statefulsets', () => this.#apps.readNamespacedStatefulSet({ namespace, name }))
          : await this.#call(what, 'get daemonsets', () => this.#apps.readNamespacedDaemonSet({ namespace, name }));
    const spec = obj.spec as { paused?: boolean; replicas?: number; selector?: k8s.V1LabelSelector } | undefined;
    const status = obj.status as { observedGeneration?: number; desiredNumberScheduled?: number } | undefined;
    const desired = ref.kind === 'DaemonSet' ? (status?.desiredNumberScheduled ?? 0) : (spec?.replicas ?? 1);
    return {
      ...ref,
      paused: spec?.paused === true,
      desiredReplicas: desired,
      selector: Object.entries(spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      generation: obj.metadata?.generation ?? 0,
      observedGeneration: status?.observedGeneration ?? 0,
    };
  }

  async listWorkloadPods(ref: WorkloadRef): Promise<(PodFacts & { readonly createdAt: string })[]> {
    const w = await this.getWorkload(ref);
    const list = await this.#call(`list pods ${ref.namespace} ${w.selector}`, 'list pods', () =>
      this.#core.listNamespacedPod({ namespace: ref.namespace, labelSelector: w.selector }),
    );
    return list.items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => ({ ...podFacts(p), createdAt: new Date(p.metadata?.creationTimestamp ?? 0).toISOString() }));
  }

  async getNode(name: string): Promise<NodeFacts> {
    const node = await this.#call(`get nodes ${name}`, 'get nodes', () => this.#core.readNode({ name }));
    const pool = node.metadata?.labels?.[NODE_POOL_LABEL];
    return { name, ...(pool ? { nodePool: pool } : {}) };
  }

  async getServiceAccount(namespace: string, name: string): Promise<KubernetesServiceAccountFacts> {
    const sa = await this.#call(`get serviceaccounts ${namespace}/${name}`, 'get serviceaccounts', () =>
      this.#core.readNamespacedServiceAccount({ namespace, name }),
    );
    const gsa = sa.metadata?.annotations?.[WI_ANNOTATION];
    return { name: `${namespace}/${name}`, ...(gsa ? { gcpServiceAccount: gsa } : {}) };
  }

  async restartWorkload(ref: WorkloadRef, at: Date): Promise<void> {
    const { namespace, name } = ref;
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at.toISOString() } } } } };
    // client-node defaults to json-patch; kubectl sends a strategic-merge patch (engineering.md §0.5).
    const options = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
    const what = `patch ${ref.kind.toLowerCase()}s ${namespace}/${name}`;
    const args = { namespace, name, body, fieldManager: FIELD_MANAGER };
    if (ref.kind === 'Deployment')
      await this.#call(what, 'patch deployments', () => this.#apps.patchNamespacedDeployment(args, options));
    else if (ref.kind === 'StatefulSet')
      await this.#call(what, 'patch statefulsets', () => this.#apps.patchNamespacedStatefulSet(args, options));
    else await this.#call(what, 'patch daemonsets', () => this.#apps.patchNamespacedDaemonSet(args, options));
  }

  async canI(verb: string, group: string, resource: string, namespace?: string): Promise<boolean> {
    const review = await this.#call(
      `create selfsubjectaccessreviews ${verb} ${resource}`,
      'create selfsubjectaccessreviews',
      () =>
        this.#authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
          },
        }),
    );
    return review.status?.allowed === true;
  }

  async #call<T>(what: string, rbac: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw kubeError(e, `Kubernetes ${what} (${this.#name})`, rbac);
    }
  }
}

function controllerOf(meta: k8s.V1ObjectMeta | undefined): { kind: string; name: string } | undefined {
  const ref = meta?.ownerReferences?.find((o) => o.controller) ?? meta?.ownerReferences?.[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

function podFacts(pod: k8s.V1Pod): PodFacts {
  const statuses = new Map<string, k8s.V1ContainerStatus>();
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    statuses.set(s.name, s);
  }
  const container = (c: k8s.V1Container, init: boolean): ContainerFacts => {
    const s = statuses.get(c.name);
    const waiting = s?.state?.waiting;
    return {
      name: c.name,
      image: c.image ?? s?.image ?? '',
      init,
      ...(waiting?.reason ? { waitingReason: waiting.reason } : {}),
      ...(waiting?.message ? { waitingMessage: waiting.message } : {}),
      running: s?.state?.running !== undefined,
      ready: s?.ready === true,
    };
  };
  const owner = controllerOf(pod.metadata);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    phase: pod.status?.phase ?? 'Unknown',
    serviceAccountName: pod.spec?.serviceAccountName ?? 'default',
    imagePullSecrets: (pod.spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter((s) => s !== ''),
    containers: [
      ...(pod.spec?.initContainers ?? []).map((c) => container(c, true)),
      ...(pod.spec?.containers ?? []).map((c) => container(c, false)),
    ],
    ...(owner ? { owner } : {}),
  };
}

function kubeError(e: unknown, what: string, rbac: string): ReadError {
  const err = e as { code?: number; body?: unknown; message?: string };
  let message = err.message ?? String(e);
  if (typeof err.body === 'string') {
    try {
      message = (JSON.parse(err.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: keep the client's message
    }
  }
  const text = `${what}: ${message.split('\n')[0]}`;
  switch (err.code) {
    case 401:
      return new ReadError('unauthenticated', text, { cause: e });
    case 403:
      return new ReadError('permission-denied', text, { permission: `Kubernetes RBAC: ${rbac}`, cause: e });
    case 404:
      return new ReadError('not-found', text, { cause: e });
    case 429:
    case 500:
    case 502:
    case 503:
      return new ReadError('unavailable', text, { cause: e });
    case 504:
      return new ReadError('timeout', text, { cause: e });
    default:
      return new ReadError(
        /ECONNREFUSED|ECONNRESET|ETIMEDOUT|fetch failed/i.test(message) ? 'unavailable' : 'failed',
        text,
        { cause: e },
      );
  }
}
