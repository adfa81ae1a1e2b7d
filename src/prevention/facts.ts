import type { ClusterRef, NodePoolFacts, Taint } from '../diagnosis/facts.ts';

/**
 * What the pull audit reads from Kubernetes (docs/prevention.md): the pod templates of the workloads and the labels
 * of the nodes, as far as scheduling and pulling go. Pure data; the use case reads it through `ClusterApi`.
 */

/** Workload kinds whose pod templates the audit reads, one list call each across namespaces. */
export const TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** One container of a pod template. */
export interface TemplateContainer {
  readonly name: string;
  readonly image: string;
  readonly init: boolean;
}

/** A core/v1 NodeSelectorRequirement (`matchExpressions` of a node selector term). */
export interface NodeRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  readonly values: readonly string[];
}

/**
 * A required node selector term: its requirements all hold (AND). `opaque` is set when the term uses what the audit
 * cannot evaluate against node labels (`matchFields`, an unknown operator): it may match any pool.
 */
export interface NodeSelectorTerm {
  readonly requirements: readonly NodeRequirement[];
  readonly opaque?: boolean;
}

/** A core/v1 Toleration: `Equal` (the default) matches key and value, `Exists` the key (every key when empty). */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Equal' | 'Exists';
  readonly value?: string;
  /** Empty: every effect. */
  readonly effect?: string;
}

/** A workload's pod template and state, as the audit needs them. */
export interface WorkloadTemplate {
  readonly kind: TemplateKind;
  readonly namespace: string;
  readonly name: string;
  /** Init containers first, then containers, as in the pod spec. */
  readonly containers: readonly TemplateContainer[];
  /** `spec.template.spec.nodeSelector`. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /**
   * `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms` (any one must hold). Absent: no required
   * node affinity.
   */
  readonly requiredTerms?: readonly NodeSelectorTerm[];
  /** `spec.template.spec.tolerations`. */
  readonly tolerations?: readonly Toleration[];
  /** Pods of it running and ready now (ready replicas, ready DaemonSet pods, active Jobs). */
  readonly running: number;
  /** Pods it wants (replicas, scheduled DaemonSet pods, Job parallelism); 0 for a CronJob. */
  readonly desired: number;
  /** A CronJob's last run (`status.lastScheduleTime`); absent when it has never run. */
  readonly lastScheduled?: string;
  /** A suspended CronJob, or a Job that has finished: it starts no pod, so it pulls nothing. */
  readonly idle?: boolean;
  /** Kind of the controller that owns it (a Job created by a CronJob: the CronJob stands for it). */
  readonly ownerKind?: string;
}

/** A node and its labels (for matching node selectors and affinity against the pools). */
export interface NodeLabels {
  readonly name: string;
  /** Its `cloud.google.com/gke-nodepool` label. */
  readonly pool?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.taints`, without the passing ones the node lifecycle sets (not-ready, unschedulable…). */
  readonly taints?: readonly Taint[];
  /**
   * The images in the node's cache (`status.images` names: `repo:tag` and `repo@digest`). The kubelet reports at most
   * 50 by default (`nodeStatusMaxImages`), the largest first, so an image missing here may still be cached.
   */
  readonly images?: readonly string[];
}

/** A cluster with what the audit crosses: its node pools, their nodes, its workloads. */
export interface ClusterInventory {
  readonly cluster: ClusterRef;
  readonly pools: readonly NodePoolFacts[];
  /** Nodes by pool, when they could be read; a pool scaled to zero has none. */
  readonly nodes?: readonly NodeLabels[];
  readonly workloads: readonly WorkloadTemplate[];
}
