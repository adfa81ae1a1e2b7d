/**
 * What GKE's node lifecycle controller does to a cordoned node: while `spec.unschedulable` is true the node carries
 * the `node.kubernetes.io/unschedulable:NoSchedule` taint (`kubectl describe node` shows it under Taints).
 */
import type { Node } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import { iso } from '../world/workloads.ts';

const UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

interface Taint {
  key: string;
  effect: string;
  timeAdded?: string;
}

/** Adds or removes the unschedulable taint on every node whose cordon state and taint disagree. */
export function syncUnschedulableTaints(cluster: Cluster, now: number): void {
  for (const node of cluster.kube.list<Node>('Node')) {
    const taints = (node.spec.taints as Taint[] | undefined) ?? [];
    const tainted = taints.some((t) => t.key === UNSCHEDULABLE);
    const cordoned = node.spec.unschedulable === true;
    if (tainted === cordoned) continue;
    const next = cordoned
      ? [...taints, { key: UNSCHEDULABLE, effect: 'NoSchedule', timeAdded: iso(now) }]
      : taints.filter((t) => t.key !== UNSCHEDULABLE);
    if (next.length) node.spec.taints = next;
    else delete node.spec.taints;
    cluster.kube.put(node);
  }
}
