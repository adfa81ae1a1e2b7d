import type { NodePoolFacts, Taint } from '../diagnosis/facts.ts';
import type { NodeLabels, NodeRequirement, NodeSelectorTerm, Toleration, WorkloadTemplate } from './facts.ts';

/**
 * Which node pools can schedule a workload's pods (docs/prevention.md, "Which pools"): its `nodeSelector` and its
 * required node affinity, matched as the scheduler matches them, against the labels a node of each pool carries;
 * and its tolerations against the pool's `NoSchedule` and `NoExecute` taints (configured on the pool, or on its
 * current nodes). Pure.
 *
 * A node of a pool carries the pool's labels (`cloud.google.com/gke-nodepool`, the pool's `config.labels`, its
 * machine type) plus labels GKE sets per node (zone, hostname…). A new node is taken to be like the current ones (a
 * zone the pool spans but no current node is in is not considered). A pool with no node yet (scaled to zero, just
 * created) is known only by its configuration, and a requirement on another label is then undecidable: the pool
 * counts as able to schedule the workload (the safe side for an audit), and the answer says so.
 */

/** `yes`: some node of the pool matches; `no`: none can; `unknown`: it depends on labels not known for this pool. */
export type Match = 'yes' | 'no' | 'unknown';

const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
const INSTANCE_TYPE_LABELS = ['node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type'];

/** A label set to match against, and whether it is everything a node has (then a missing key is really missing). */
interface Candidate {
  readonly labels: Readonly<Record<string, string>>;
  readonly complete: boolean;
  readonly taints: readonly Taint[];
}

/** The labels every new node of the pool will have, from GKE's configuration alone. */
export function poolConfigLabels(pool: NodePoolFacts): Record<string, string> {
  const labels: Record<string, string> = { ...(pool.labels ?? {}), [NODE_POOL_LABEL]: pool.name };
  if (pool.machineType) for (const k of INSTANCE_TYPE_LABELS) labels[k] = pool.machineType;
  return labels;
}

/**
 * Whether the workload's pods may land on nodes of `pool`: `yes` when a current node matches (or, for a pool with no
 * node, its configured labels do), `no` when none can, `unknown` when it depends on labels nobody knows yet (a pool
 * with no node and a requirement on a label GKE sets per node).
 */
export function poolCanSchedule(w: WorkloadTemplate, pool: NodePoolFacts, nodes: readonly NodeLabels[]): Match {
  const config = poolConfigLabels(pool);
  const own = nodes.filter((n) => n.pool === pool.name);
  // New nodes of a pool are like its current ones; a pool with none is known only by its configured labels.
  const candidates: Candidate[] =
    own.length > 0
      ? own.map((n) => ({
          labels: { ...n.labels, ...config },
          complete: true,
          taints: [...(pool.taints ?? []), ...(n.taints ?? [])],
        }))
      : [{ labels: config, complete: false, taints: pool.taints ?? [] }];
  let best: Match = 'no';
  for (const c of candidates) {
    const m = matchesNode(w, c);
    if (m === 'yes') return 'yes';
    if (m === 'unknown') best = 'unknown';
  }
  return best;
}

function matchesNode(w: WorkloadTemplate, c: Candidate): Match {
  if (!tolerates(w.tolerations ?? [], c.taints)) return 'no';
  const selector = Object.entries(w.nodeSelector).map(
    ([key, value]): NodeRequirement => ({ key, operator: 'In', values: [value] }),
  );
  const bySelector = all(selector.map((r) => requirement(r, c)));
  if (bySelector === 'no' || !w.requiredTerms) return bySelector;
  return all([bySelector, any(w.requiredTerms.map((t) => term(t, c)))]);
}

/** A term with no requirement matches nothing (core/v1 NodeSelectorTerm). */
function term(t: NodeSelectorTerm, c: Candidate): Match {
  if (t.opaque) return 'unknown';
  if (t.requirements.length === 0) return 'no';
  return all(t.requirements.map((r) => requirement(r, c)));
}

function requirement(r: NodeRequirement, c: Candidate): Match {
  const value = c.labels[r.key];
  // The configured labels are all a new node is known to have: another key may or may not come with it.
  if (value === undefined && !c.complete) return 'unknown';
  switch (r.operator) {
    case 'In':
      return value !== undefined && r.values.includes(value) ? 'yes' : 'no';
    case 'NotIn':
      return value === undefined || !r.values.includes(value) ? 'yes' : 'no';
    case 'Exists':
      return value !== undefined ? 'yes' : 'no';
    case 'DoesNotExist':
      return value === undefined ? 'yes' : 'no';
    case 'Gt':
    case 'Lt': {
      // Gt/Lt take one integer value and compare the label as an integer; anything else matches nothing.
      const want = Number.parseInt(r.values[0] ?? '', 10);
      const have = value === undefined ? Number.NaN : Number.parseInt(value, 10);
      if (r.values.length !== 1 || Number.isNaN(want) || Number.isNaN(have)) return 'no';
      return (r.operator === 'Gt' ? have > want : have < want) ? 'yes' : 'no';
    }
    default:
      return 'unknown';
  }
}

function all(ms: readonly Match[]): Match {
  if (ms.includes('no')) return 'no';
  return ms.includes('unknown') ? 'unknown' : 'yes';
}

function any(ms: readonly Match[]): Match {
  if (ms.includes('yes')) return 'yes';
  return ms.includes('unknown') ? 'unknown' : 'no';
}

/** Whether each taint that keeps pods off a node (NoSchedule, NoExecute) is tolerated; PreferNoSchedule only steers. */
export function tolerates(tolerations: readonly Toleration[], taints: readonly Taint[]): boolean {
  return taints
    .filter((t) => t.effect !== 'PreferNoSchedule')
    .every((t) => tolerations.some((o) => toleratesOne(o, t)));
}

/** core/v1 `Toleration.ToleratesTaint`. */
function toleratesOne(o: Toleration, t: Taint): boolean {
  if (o.effect && o.effect !== t.effect) return false;
  if (o.operator === 'Exists') return !o.key || o.key === t.key;
  return o.key === t.key && (o.value ?? '') === (t.value ?? '');
}
