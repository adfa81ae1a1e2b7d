import type { IamPolicy } from './iam-policy.ts';

/**
 * Facts: what the use case read from GKE, Kubernetes, Artifact Registry, Resource Manager and the Policy
 * Troubleshooter, handed to the pure checks. Every read can fail on its own; a failed read is a visible `FactError`
 * that degrades the checks depending on it to `unknown`, never the whole diagnosis.
 */

export type FactErrorCode =
  | 'permission-denied'
  | 'not-found'
  | 'timeout'
  | 'unavailable'
  | 'unauthenticated'
  | 'failed';

export interface FactError {
  readonly code: FactErrorCode;
  readonly message: string;
  /** The IAM permission (or Kubernetes RBAC verb/resource) the bot lacked, when the API said so. */
  readonly permission?: string;
}

/** The outcome of one read. `source` names the call, for evidence ("GKE clusters.get projects/…/clusters/prod"). */
export type Fact<T> =
  | { readonly ok: true; readonly value: T; readonly source: string }
  | { readonly ok: false; readonly error: FactError; readonly source: string };

export function factOk<T>(value: T, source: string): Fact<T> {
  return { ok: true, value, source };
}

export function factFailed<T>(error: FactError, source: string): Fact<T> {
  return { ok: false, error, source };
}

export interface ClusterRef {
  readonly project: string;
  readonly location: string;
  readonly name: string;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

export interface NodePoolFacts {
  readonly name: string;
  /** As configured: an email, or `default` / empty for the Compute Engine default service account. */
  readonly configuredServiceAccount: string;
  readonly oauthScopes: readonly string[];
  /** `config.labels`: the Kubernetes labels GKE puts on every node of the pool (besides its own). */
  readonly labels?: Readonly<Record<string, string>>;
  /** `config.machineType`, e.g. `e2-standard-4` (nodes carry it as `node.kubernetes.io/instance-type`). */
  readonly machineType?: string;
  /** `config.taints`: the Kubernetes taints GKE puts on every node of the pool. */
  readonly taints?: readonly Taint[];
}

/** A Kubernetes node taint (GKE's `NO_SCHEDULE` is `NoSchedule`, and so on). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface ClusterFacts {
  readonly ref: ClusterRef;
  readonly nodePools: readonly NodePoolFacts[];
  /** Workload Identity pool (`PROJECT.svc.id.goog`) when enabled. */
  readonly workloadPool?: string;
  readonly autopilot: boolean;
  /** Node SA used by node auto-provisioning / Autopilot, when set. */
  readonly autoprovisioningServiceAccount?: string;
}

/** One container of the pod and the state the kubelet reports for it. */
export interface ContainerFacts {
  readonly name: string;
  readonly image: string;
  readonly init: boolean;
  /** `ErrImagePull`, `ImagePullBackOff`, `ErrImageNeverPull`, `InvalidImageName`, … when waiting. */
  readonly waitingReason?: string;
  readonly waitingMessage?: string;
  readonly running: boolean;
  readonly ready: boolean;
}

export interface PodEventFacts {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  /** The pod it is about (`involvedObject.name`), when read for a whole namespace. */
  readonly pod?: string;
  /** Container name from `involvedObject.fieldPath`, when set. */
  readonly container?: string;
  readonly count: number;
  readonly lastSeen?: string;
}

export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  readonly phase: string;
  readonly serviceAccountName: string;
  readonly imagePullSecrets: readonly string[];
  readonly containers: readonly ContainerFacts[];
  /** The controller owner of the pod (`ReplicaSet/x`, `StatefulSet/y`, …), before resolving ReplicaSets. */
  readonly owner?: { readonly kind: string; readonly name: string };
  /** The `pod-template-hash` label a Deployment's ReplicaSet gives its pods (the ReplicaSet is `NAME-<hash>`). */
  readonly templateHash?: string;
}

export interface NodeFacts {
  readonly name: string;
  /** From the `cloud.google.com/gke-nodepool` label. */
  readonly nodePool?: string;
}

export interface RepositoryFacts {
  readonly name: string;
  readonly format: string;
  /** `STANDARD_REPOSITORY`, `REMOTE_REPOSITORY` or `VIRTUAL_REPOSITORY`. */
  readonly mode: string;
}

export interface TagFacts {
  /** Whether the tag (or digest) the pod asks for exists in the package. */
  readonly exists: boolean;
  /** Most recent tags of the package (newest first), for the "did you mean" list. */
  readonly recentTags: readonly { readonly tag: string; readonly updated?: string }[];
  /** False when the package itself does not exist. */
  readonly packageExists: boolean;
}

export type OverallAccess = 'CAN_ACCESS' | 'CANNOT_ACCESS' | 'UNKNOWN_INFO' | 'UNKNOWN_CONDITIONAL';

export interface DenyPolicyHit {
  /** Full deny policy name (`policies/…/denypolicies/ID`). */
  readonly policy: string;
  readonly attachmentPoint?: string;
}

/** The Policy Troubleshooter v3 verdict for (node SA, repository, downloadArtifacts). */
export interface AccessVerdict {
  readonly overall: OverallAccess;
  /** `ALLOW_ACCESS_STATE_GRANTED`, `…_NOT_GRANTED`, `…_UNKNOWN_CONDITIONAL`, `…_UNKNOWN_INFO`. */
  readonly allow?: string;
  /** `DENY_ACCESS_STATE_DENIED`, `…_NOT_DENIED`, … */
  readonly deny?: string;
  readonly denyPolicies: readonly DenyPolicyHit[];
}

export interface KubernetesServiceAccountFacts {
  readonly name: string;
  /** `iam.gke.io/gcp-service-account` annotation: the GSA a workload impersonates via Workload Identity. */
  readonly gcpServiceAccount?: string;
}

/** All facts gathered for one failing container (or one image, for `--image`). */
export interface Facts {
  readonly cluster?: Fact<ClusterFacts>;
  /** Number of the cluster's project, to resolve the `default` node service account. */
  readonly clusterProjectNumber?: Fact<string>;
  readonly pod?: Fact<PodFacts>;
  readonly events?: Fact<readonly PodEventFacts[]>;
  readonly workload?: Fact<WorkloadRef & { readonly paused: boolean }>;
  readonly node?: Fact<NodeFacts>;
  readonly kubernetesServiceAccount?: Fact<KubernetesServiceAccountFacts>;
  readonly repository?: Fact<RepositoryFacts>;
  /** Repositories with the same id in other locations, read only when the repository is missing. */
  readonly similarRepositories?: Fact<readonly RepositoryFacts[]>;
  readonly tag?: Fact<TagFacts>;
  readonly repositoryPolicy?: Fact<IamPolicy>;
  /** The allow policy of the repository's project. */
  readonly projectPolicy?: Fact<IamPolicy>;
  readonly access?: Fact<AccessVerdict>;
}
