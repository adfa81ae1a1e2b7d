import type { Cause, NetworkSubKind } from './cause.ts';
import type { ClusterRef, FactError, WorkloadRef } from './facts.ts';
import type { ImageRef } from './image-ref.ts';

/**
 * Findings: what the gathered facts prove about a pull failure (docs/diagnosis.md, "Findings"). Stable ids — renderers, metrics,
 * tests and the CLI switch on them, never on prose. Add new ids at the end; never rename.
 */
export const FINDING_IDS = [
  'node-sa-missing-reader',
  'cross-project-reader-missing',
  'node-scopes-insufficient',
  'deny-policy',
  'vpc-sc',
  'repository-not-found',
  'image-not-found',
  'access-already-granted',
  'workload-identity-misconception',
  'non-gcp-registry',
  'cannot-verify',
] as const;

export type FindingId = (typeof FINDING_IDS)[number];

/** One thing that was read and what it showed. `source` names the API call or message it came from. */
export interface Evidence {
  readonly label: string;
  readonly value: string;
  readonly source?: string;
}

/** A command a person could run to check or do the same by hand. */
export interface ShellCommand {
  readonly tool: 'gcloud' | 'kubectl';
  readonly purpose: string;
  readonly command: string;
}

export interface Link {
  readonly label: string;
  readonly url: string;
}

/** A proven (or, for `cannot-verify`, an admitted) fact about the failure, with its human text. */
export interface Finding {
  readonly id: FindingId;
  /** One line: what is wrong. */
  readonly title: string;
  /** Why it breaks the pull, in a few sentences. Plain text with `code` spans only. */
  readonly summary: string;
  readonly evidence: readonly Evidence[];
  readonly nextSteps: readonly string[];
  readonly commands: readonly ShellCommand[];
  readonly links: readonly Link[];
}

export const FIX_KINDS = ['grant-repo-reader', 'restart-workload'] as const;
export type FixKind = (typeof FIX_KINDS)[number];

/**
 * The least-privilege grant: `roles/artifactregistry.reader` on one repository for one service account. Pure data
 * a person approves; `basedOnEtag` is the policy version it was computed from.
 */
export interface GrantRepoReaderPlan {
  readonly kind: 'grant-repo-reader';
  /** `projects/P/locations/L/repositories/R`. */
  readonly repository: string;
  readonly member: `serviceAccount:${string}`;
  readonly role: 'roles/artifactregistry.reader';
  readonly basedOnEtag?: string;
}

/** What `kubectl rollout restart` does, for one workload. */
export interface RestartWorkloadPlan {
  readonly kind: 'restart-workload';
  readonly cluster: ClusterRef;
  readonly workload: WorkloadRef;
}

export type FixPlan = GrantRepoReaderPlan | RestartWorkloadPlan;

/** A check that could not conclude because a read failed. */
export interface Unknown {
  readonly check: string;
  readonly source: string;
  readonly error: FactError;
}

/** What the diagnosis is about. */
export interface DiagnosisSubject {
  readonly cluster?: ClusterRef;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  readonly initContainer?: boolean;
  readonly workload?: WorkloadRef;
  /** The image as written in the pod spec (or given with `--image`). */
  readonly image?: string;
}

export type Confidence = 'high' | 'medium' | 'low';

/** The node identity that pulls the image. */
export interface PullIdentity {
  readonly nodePool: string;
  readonly serviceAccount: string;
  /** True when the pool runs as the Compute Engine default service account. */
  readonly isDefaultComputeAccount: boolean;
  readonly oauthScopes: readonly string[];
}

/**
 * The diagnosis of one image-pull failure: one failing container (or one image), one root cause.
 * Channel-neutral: renderers turn it into Slack blocks or terminal text.
 */
export interface Diagnosis {
  /** Root-cause key: incidents are deduplicated on it (e.g. repository × node SA × finding). */
  readonly key: string;
  readonly subject: DiagnosisSubject;
  readonly cause: Cause;
  readonly subKind?: NetworkSubKind;
  /** The kubelet message the cause was read from. */
  readonly message?: string;
  readonly image?: ImageRef;
  readonly identity?: PullIdentity;
  /** One sentence for a header or a log line. */
  readonly headline: string;
  /** What the message cause means, when no finding refines it (network, TLS, platform…). */
  readonly causeExplanation: string;
  readonly findings: readonly Finding[];
  readonly fixes: readonly FixPlan[];
  /** General commands to look closer (describe pod, node pool, IAM policy, troubleshooter). */
  readonly commands: readonly ShellCommand[];
  readonly links: readonly Link[];
  readonly confidence: Confidence;
  readonly unknowns: readonly Unknown[];
}
