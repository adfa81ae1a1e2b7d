import type { Taint } from '../../diagnosis/facts.ts';
import type {
  NodeLabels,
  NodeRequirement,
  NodeSelectorTerm,
  TemplateKind,
  Toleration,
  WorkloadTemplate,
} from '../../prevention/facts.ts';
import type { ContainerSpec, List, NodeObject, ObjectMeta } from './k8s-types.ts';
import type { KubeHttp } from './kube-http.ts';

/**
 * The list calls of the pull audit (docs/prevention.md, "What it reads"): every workload of a kind across namespaces
 * (apps/v1 and batch/v1) and every node, paged with `limit`/`continue`, turned into the audit's facts.
 */

const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
const PAGE = 500;

const PATHS: Record<TemplateKind, { path: string; rbac: string }> = {
  Deployment: { path: '/apis/apps/v1/deployments', rbac: 'list deployments' },
  StatefulSet: { path: '/apis/apps/v1/statefulsets', rbac: 'list statefulsets' },
  DaemonSet: { path: '/apis/apps/v1/daemonsets', rbac: 'list daemonsets' },
  Job: { path: '/apis/batch/v1/jobs', rbac: 'list jobs' },
  CronJob: { path: '/apis/batch/v1/cronjobs', rbac: 'list cronjobs' },
};

interface NodeSelectorRequirementJson {
  key?: string;
  operator?: string;
  values?: string[];
}

interface PodTemplateJson {
  spec?: {
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    nodeSelector?: Record<string, string>;
    tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: {
          nodeSelectorTerms?: { matchExpressions?: NodeSelectorRequirementJson[]; matchFields?: unknown[] }[];
        };
      };
    };
  };
}

/** The fields of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs the audit reads. */
interface TemplatedObject {
  metadata?: ObjectMeta;
  spec?: {
    replicas?: number;
    parallelism?: number;
    suspend?: boolean;
    template?: PodTemplateJson;
    jobTemplate?: { spec?: { template?: PodTemplateJson } };
  };
  status?: {
    readyReplicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
    active?: number | unknown[];
    lastScheduleTime?: string;
    completionTime?: string;
    conditions?: { type?: string; status?: string }[];
  };
}

/** Every item of a list (cluster-wide or one namespace's), paged with `limit`, following `continue` tokens. */
export async function listAll<T>(http: KubeHttp, path: string, rbac: string): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page: List<T> & { metadata?: { continue?: string } } = await http.get(
      path,
      { limit: String(PAGE), ...(token ? { continue: token } : {}) },
      rbac,
    );
    items.push(...page.items);
    token = page.metadata?.continue || undefined;
  } while (token);
  return items;
}

/** The pod templates of every workload of `kind`, all namespaces. */
export async function listWorkloadTemplates(http: KubeHttp, kind: TemplateKind): Promise<WorkloadTemplate[]> {
  const { path, rbac } = PATHS[kind];
  const items = await listAll<TemplatedObject>(http, path, rbac);
  return items.map((o) => templateOf(kind, o));
}

/** Every node, its pool and its labels. */
export async function listNodes(http: KubeHttp): Promise<NodeLabels[]> {
  const items = await listAll<NodeObject>(http, '/api/v1/nodes', 'list nodes');
  return items.map((n) => {
    const labels = n.metadata?.labels ?? {};
    const pool = labels[NODE_POOL_LABEL];
    const images = (n.status?.images ?? []).flatMap((i) => i.names ?? []);
    const taints = (n.spec?.taints ?? []).flatMap(lastingTaint);
    return {
      name: n.metadata?.name ?? '',
      ...(pool ? { pool } : {}),
      labels: { ...labels },
      ...(taints.length > 0 ? { taints } : {}),
      images,
    };
  });
}

function templateOf(kind: TemplateKind, o: TemplatedObject): WorkloadTemplate {
  const template = kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
  const spec = template?.spec;
  const containers = [
    ...(spec?.initContainers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', init: true })),
    ...(spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', init: false })),
  ];
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const owner = o.metadata?.ownerReferences?.find((r) => r.controller) ?? o.metadata?.ownerReferences?.[0];
  const status = o.status ?? {};
  const active = Array.isArray(status.active) ? status.active.length : (status.active ?? 0);
  const finished =
    status.completionTime !== undefined ||
    (status.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const running =
    kind === 'DaemonSet'
      ? (status.numberReady ?? 0)
      : kind === 'Job' || kind === 'CronJob'
        ? active
        : (status.readyReplicas ?? 0);
  const desired =
    kind === 'DaemonSet'
      ? (status.desiredNumberScheduled ?? 0)
      : kind === 'Job'
        ? (o.spec?.parallelism ?? 1)
        : kind === 'CronJob'
          ? 0
          : (o.spec?.replicas ?? 1);
  const idle = (kind === 'CronJob' && o.spec?.suspend === true) || (kind === 'Job' && finished && active === 0);
  return {
    kind,
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    containers,
    nodeSelector: { ...(spec?.nodeSelector ?? {}) },
    ...(terms ? { requiredTerms: terms.map(termOf) } : {}),
    ...(spec?.tolerations?.length ? { tolerations: spec.tolerations.map(tolerationOf) } : {}),
    running,
    desired,
    ...(status.lastScheduleTime ? { lastScheduled: new Date(status.lastScheduleTime).toISOString() } : {}),
    ...(idle ? { idle: true } : {}),
    ...(owner ? { ownerKind: owner.kind } : {}),
  };
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);

function termOf(t: { matchExpressions?: NodeSelectorRequirementJson[]; matchFields?: unknown[] }): NodeSelectorTerm {
  const expressions = t.matchExpressions ?? [];
  const known = expressions.every((e) => e.key && OPERATORS.has(e.operator ?? ''));
  const requirements = expressions
    .filter((e) => e.key && OPERATORS.has(e.operator ?? ''))
    .map((e) => ({
      key: e.key as string,
      operator: e.operator as NodeRequirement['operator'],
      values: e.values ?? [],
    }));
  // matchFields select nodes by name (metadata.name): not something a pool's labels can answer.
  const opaque = !known || (t.matchFields ?? []).length > 0;
  return { requirements, ...(opaque ? { opaque: true } : {}) };
}

function tolerationOf(t: { key?: string; operator?: string; value?: string; effect?: string }): Toleration {
  return {
    ...(t.key ? { key: t.key } : {}),
    operator: t.operator === 'Exists' ? 'Exists' : 'Equal',
    ...(t.value ? { value: t.value } : {}),
    ...(t.effect ? { effect: t.effect } : {}),
  };
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/**
 * A node's taint as the audit weighs it: not the passing ones the node lifecycle and the cluster autoscaler set
 * (not-ready, unreachable, unschedulable while cordoned, about to be deleted), which say nothing of the pool's next
 * node.
 */
function lastingTaint(t: { key?: string; value?: string; effect?: string }): Taint[] {
  if (!t.key || !EFFECTS.has(t.effect ?? '')) return [];
  if (/^node\.(kubernetes\.io|cloudprovider\.kubernetes\.io)\//.test(t.key)) return [];
  if (t.key === 'ToBeDeletedByClusterAutoscaler' || t.key === 'DeletionCandidateOfClusterAutoscaler') return [];
  return [{ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect as Taint['effect'] }];
}
