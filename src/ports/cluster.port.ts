import type {
  KubernetesServiceAccountFacts,
  NodeFacts,
  PodEventFacts,
  PodFacts,
  WorkloadKind,
  WorkloadRef,
} from '../diagnosis/facts.ts';
import type { NodeLabels, TemplateKind, WorkloadTemplate } from '../prevention/facts.ts';
import type { ClusterInfo } from './gcp.port.ts';

/** A workload as the fix needs it: whether it may be restarted and how many pods it should run. */
export interface WorkloadState extends WorkloadRef {
  readonly paused: boolean;
  readonly desiredReplicas: number;
  /** Label selector of its pods (`k=v,k2=v2`). */
  readonly selector: string;
  readonly generation: number;
  readonly observedGeneration: number;
}

/** The Kubernetes API of one cluster, as the diagnosis and the fix use it. */
export interface ClusterApi {
  getPod(namespace: string, name: string): Promise<PodFacts>;
  /** Events about the pod, newest last. */
  listPodEvents(namespace: string, pod: string): Promise<PodEventFacts[]>;
  /** The Warning events about any pod of the namespace (each with its `pod`), newest last: one read for a storm. */
  listPodWarnings(namespace: string): Promise<PodEventFacts[]>;
  /** Follows the controller chain (Pod → ReplicaSet → Deployment, or StatefulSet/DaemonSet). */
  resolveWorkload(namespace: string, owner: { kind: string; name: string }): Promise<WorkloadState | undefined>;
  getWorkload(ref: WorkloadRef): Promise<WorkloadState>;
  /** Every workload of `kind` in a namespace, in one (paged) list: under a storm one read serves every pod's owner. */
  listWorkloads(namespace: string, kind: WorkloadKind): Promise<WorkloadState[]>;
  /** Pods of a workload, with their creation time and the `restartedAt` annotation their template carried. */
  listWorkloadPods(
    ref: WorkloadRef,
  ): Promise<(PodFacts & { readonly createdAt: string; readonly restartedAt?: string })[]>;
  /** Every pod of a namespace, in one list call (the incident message's live counts). */
  listPods(namespace: string): Promise<PodFacts[]>;
  getNode(name: string): Promise<NodeFacts>;
  getServiceAccount(namespace: string, name: string): Promise<KubernetesServiceAccountFacts>;
  /** Every service account of a namespace, in one (paged) list: under a storm one read serves every pod's. */
  listServiceAccounts(namespace: string): Promise<KubernetesServiceAccountFacts[]>;
  /** What `kubectl rollout restart` sends: the restartedAt annotation as a strategic-merge patch. */
  restartWorkload(ref: WorkloadRef, at: Date): Promise<void>;
  /** The pod templates of every workload of `kind` in every namespace: one list call (the pull audit). */
  listWorkloadTemplates(kind: TemplateKind): Promise<WorkloadTemplate[]>;
  /** Every node with its labels: one list call (the pull audit matches node selectors against them). */
  listNodes(): Promise<NodeLabels[]>;
  /** SelfSubjectAccessReview: may the bot do `verb` on `resource`? */
  canI(verb: string, group: string, resource: string, namespace?: string): Promise<boolean>;
}

export interface ClusterConnector {
  connect(cluster: ClusterInfo): Promise<ClusterApi>;
}
