import type {
  ContainerFacts,
  KubernetesServiceAccountFacts,
  NodeFacts,
  PodEventFacts,
  PodFacts,
  WorkloadKind,
  WorkloadRef,
} from '../../diagnosis/facts.ts';
import type { ClusterApi, ClusterConnector, WorkloadState } from '../../ports/cluster.port.ts';
import type { ClusterInfo } from '../../ports/gcp.port.ts';
import type { NodeLabels, TemplateKind, WorkloadTemplate } from '../../prevention/facts.ts';
import { byInstant } from '../../shared/time.ts';
import type {
  ContainerSpec,
  ContainerStatus,
  CoreEvent,
  LabelSelector,
  List,
  NodeObject,
  ObjectMeta,
  Pod,
  SelfSubjectAccessReview,
  ServiceAccount,
  Workload,
} from './k8s-types.ts';
import { KubeHttp } from './kube-http.ts';
import { listAll, listNodes, listWorkloadTemplates } from './workload-templates.ts';

const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
const WI_ANNOTATION = 'iam.gke.io/gcp-service-account';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
/**
 * A Kubernetes API path with every interpolated segment percent-encoded: names come from alerts and API answers, and
 * a namespace like `../../api/v1/namespaces/prod/pods/x#` must stay one segment, never a different path.
 */
export function path(strings: TemplateStringsArray, ...segments: string[]): string {
  return strings.reduce((out, s, i) => {
    if (i >= segments.length) return out + s;
    const segment = segments[i] as string;
    // `.` and `..` survive percent-encoding and URL parsing would resolve them: no Kubernetes name is either.
    if (segment === '' || segment === '.' || segment === '..')
      throw new Error(`invalid name in a Kubernetes path: "${segment}"`);
    return out + s + encodeURIComponent(segment);
  }, '');
}

/** The field manager `kubectl rollout restart` uses (docs/incidents-and-fixes.md, "Fixes"). */
const FIELD_MANAGER = 'kubectl-rollout';
const STRATEGIC_MERGE = 'application/strategic-merge-patch+json';
const PLURAL: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

/**
 * Connects to a GKE cluster's Kubernetes API exactly as kubectl would after `get-credentials`: `https://ENDPOINT`,
 * the cluster CA from GKE, and a Google access token as bearer (docs/library-traps.md, "Kubernetes"). Connections (keep-alive) are
 * reused for a few minutes; tokens come from the caller (google-auth-library caches and refreshes them).
 */
export class KubernetesConnector implements ClusterConnector {
  readonly #token: () => Promise<string>;
  readonly #timeoutMs: number;
  /** One client (and keep-alive pool) per endpoint + CA; the token is fetched per request, so nothing expires. */
  readonly #cache = new Map<string, KubernetesClusterApi>();

  constructor(token: () => Promise<string>, timeoutMs = 10_000) {
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  async connect(cluster: ClusterInfo): Promise<ClusterApi> {
    const key = `${cluster.endpoint}|${cluster.caCertificate}`;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const api = new KubernetesClusterApi(
      new KubeHttp({
        server: `https://${cluster.endpoint}`,
        caPem: Buffer.from(cluster.caCertificate, 'base64').toString('utf8'),
        token: this.#token,
        name: `${cluster.ref.project}/${cluster.ref.location}/${cluster.ref.name}`,
        timeoutMs: this.#timeoutMs,
      }),
    );
    this.#cache.set(key, api);
    return api;
  }

  /** Closes every keep-alive pool (shutdown). */
  close(): void {
    for (const api of this.#cache.values()) api.close();
    this.#cache.clear();
  }
}

class KubernetesClusterApi implements ClusterApi {
  readonly #http: KubeHttp;

  constructor(http: KubeHttp) {
    this.#http = http;
  }

  close(): void {
    this.#http.close();
  }

  async getPod(namespace: string, name: string): Promise<PodFacts> {
    return podFacts(
      await this.#http.get<Pod>(path`/api/v1/namespaces/${namespace}/pods/${name}`, undefined, 'get pods'),
    );
  }

  async listPodEvents(namespace: string, pod: string): Promise<PodEventFacts[]> {
    return this.#events(namespace, `involvedObject.name=${pod},involvedObject.kind=Pod`);
  }

  async listPodWarnings(namespace: string): Promise<PodEventFacts[]> {
    return this.#events(namespace, 'involvedObject.kind=Pod,type=Warning');
  }

  async #events(namespace: string, fieldSelector: string): Promise<PodEventFacts[]> {
    const list = await this.#http.get<List<CoreEvent>>(
      path`/api/v1/namespaces/${namespace}/events`,
      { fieldSelector },
      'list events',
    );
    return list.items
      .map((e) => {
        const container = /^spec\.(?:init)?[cC]ontainers\{(.+)\}$/.exec(e.involvedObject?.fieldPath ?? '')?.[1];
        const last = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
        const pod = e.involvedObject?.name;
        return {
          type: e.type ?? 'Normal',
          reason: e.reason ?? '',
          message: e.message ?? '',
          ...(pod ? { pod } : {}),
          ...(container ? { container } : {}),
          count: e.count ?? 1,
          ...(last ? { lastSeen: new Date(last).toISOString() } : {}),
        };
      })
      .sort((a, b) => byInstant(a.lastSeen, b.lastSeen));
  }

  async resolveWorkload(namespace: string, owner: { kind: string; name: string }): Promise<WorkloadState | undefined> {
    if (owner.kind === 'ReplicaSet') {
      // A Deployment names its ReplicaSets NAME-<pod-template-hash>: read the likely Deployment in parallel with the
      // ReplicaSet (one round trip instead of two), and use it only if the ReplicaSet confirms it.
      const guess = /^(.+)-[a-z0-9]{5,10}$/.exec(owner.name)?.[1];
      const speculative = guess
        ? this.getWorkload({ kind: 'Deployment', namespace, name: guess }).catch(() => undefined)
        : undefined;
      const rs = await this.#http.get<Workload>(
        path`/apis/apps/v1/namespaces/${namespace}/replicasets/${owner.name}`,
        undefined,
        'get replicasets',
      );
      const parent = controllerOf(rs.metadata);
      if (parent?.kind !== 'Deployment') return undefined;
      const hit = parent.name === guess ? await speculative : undefined;
      return hit ?? this.getWorkload({ kind: 'Deployment', namespace, name: parent.name });
    }
    if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet' || owner.kind === 'Deployment') {
      return this.getWorkload({ kind: owner.kind, namespace, name: owner.name });
    }
    return undefined;
  }

  async getWorkload(ref: WorkloadRef): Promise<WorkloadState> {
    const plural = PLURAL[ref.kind];
    const obj = await this.#http.get<Workload>(
      path`/apis/apps/v1/namespaces/${ref.namespace}/${plural}/${ref.name}`,
      undefined,
      `get ${plural}`,
    );
    return workloadState(ref, obj);
  }

  async listWorkloads(namespace: string, kind: WorkloadKind): Promise<WorkloadState[]> {
    const plural = PLURAL[kind];
    const items = await listAll<Workload>(
      this.#http,
      path`/apis/apps/v1/namespaces/${namespace}/${plural}`,
      `list ${plural}`,
    );
    return items.map((obj) => workloadState({ kind, namespace, name: obj.metadata?.name ?? '' }, obj));
  }

  async listWorkloadPods(
    ref: WorkloadRef,
  ): Promise<(PodFacts & { readonly createdAt: string; readonly restartedAt?: string })[]> {
    const w = await this.getWorkload(ref);
    const list = await this.#http.get<List<Pod>>(
      path`/api/v1/namespaces/${ref.namespace}/pods`,
      { labelSelector: w.selector },
      'list pods',
    );
    return list.items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => {
        const restartedAt = p.metadata?.annotations?.[RESTARTED_AT];
        return {
          ...podFacts(p),
          createdAt: new Date(p.metadata?.creationTimestamp ?? 0).toISOString(),
          ...(restartedAt ? { restartedAt } : {}),
        };
      });
  }

  async listPods(namespace: string): Promise<PodFacts[]> {
    const list = await this.#http.get<List<Pod>>(path`/api/v1/namespaces/${namespace}/pods`, undefined, 'list pods');
    return list.items.filter((p) => !p.metadata?.deletionTimestamp).map(podFacts);
  }

  async getNode(name: string): Promise<NodeFacts> {
    const node = await this.#http.get<NodeObject>(path`/api/v1/nodes/${name}`, undefined, 'get nodes');
    const pool = node.metadata?.labels?.[NODE_POOL_LABEL];
    return { name, ...(pool ? { nodePool: pool } : {}) };
  }

  async getServiceAccount(namespace: string, name: string): Promise<KubernetesServiceAccountFacts> {
    const sa = await this.#http.get<ServiceAccount>(
      path`/api/v1/namespaces/${namespace}/serviceaccounts/${name}`,
      undefined,
      'get serviceaccounts',
    );
    return serviceAccountFacts(namespace, name, sa);
  }

  async listServiceAccounts(namespace: string): Promise<KubernetesServiceAccountFacts[]> {
    const items = await listAll<ServiceAccount>(
      this.#http,
      path`/api/v1/namespaces/${namespace}/serviceaccounts`,
      'list serviceaccounts',
    );
    return items.map((sa) => serviceAccountFacts(namespace, sa.metadata?.name ?? '', sa));
  }

  async restartWorkload(ref: WorkloadRef, at: Date): Promise<void> {
    const plural = PLURAL[ref.kind];
    // Exactly what `kubectl rollout restart` sends: a strategic-merge patch of the pod template annotation.
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at.toISOString() } } } } };
    await this.#http.patch(
      path`/apis/apps/v1/namespaces/${ref.namespace}/${plural}/${ref.name}`,
      body,
      STRATEGIC_MERGE,
      { fieldManager: FIELD_MANAGER },
      `patch ${plural}`,
    );
  }

  listWorkloadTemplates(kind: TemplateKind): Promise<WorkloadTemplate[]> {
    return listWorkloadTemplates(this.#http, kind);
  }

  listNodes(): Promise<NodeLabels[]> {
    return listNodes(this.#http);
  }

  async canI(verb: string, group: string, resource: string, namespace?: string): Promise<boolean> {
    const review = await this.#http.post<SelfSubjectAccessReview>(
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
      },
      'create selfsubjectaccessreviews',
    );
    return review.status?.allowed === true;
  }
}

function workloadState(ref: WorkloadRef, obj: Workload): WorkloadState {
  const desired = ref.kind === 'DaemonSet' ? (obj.status?.desiredNumberScheduled ?? 0) : (obj.spec?.replicas ?? 1);
  return {
    ...ref,
    paused: obj.spec?.paused === true,
    desiredReplicas: desired,
    selector: labelSelector(obj.spec?.selector),
    generation: obj.metadata?.generation ?? 0,
    observedGeneration: obj.status?.observedGeneration ?? 0,
  };
}

/** A LabelSelector as the `labelSelector` query string (matchLabels and matchExpressions). */
function labelSelector(sel: LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function controllerOf(meta: ObjectMeta | undefined): { kind: string; name: string } | undefined {
  const ref = meta?.ownerReferences?.find((o) => o.controller) ?? meta?.ownerReferences?.[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

function podFacts(pod: Pod): PodFacts {
  const statuses = new Map<string, ContainerStatus>();
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])])
    statuses.set(s.name, s);
  const container = (c: ContainerSpec, init: boolean): ContainerFacts => {
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
  const templateHash = pod.metadata?.labels?.['pod-template-hash'];
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
    ...(templateHash ? { templateHash } : {}),
  };
}

function serviceAccountFacts(namespace: string, name: string, sa: ServiceAccount): KubernetesServiceAccountFacts {
  const gsa = sa.metadata?.annotations?.[WI_ANNOTATION];
  return { name: `${namespace}/${name}`, ...(gsa ? { gcpServiceAccount: gsa } : {}) };
}
