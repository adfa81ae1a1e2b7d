import type { Diagnosis, GrantRepoReaderPlan, RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import type { ClusterRef, WorkloadRef } from '../diagnosis/facts.ts';

/**
 * The incident model: one incident per root cause, its fix plan, the runs of that plan and the grants they made, and
 * the audit records of every decision (docs/incidents-and-fixes.md). Pure data, persisted by the state store and
 * rendered by `slack/`; everything that is matched or persisted is an id, never a label.
 */

/**
 * `undone`: Undo removed every member the bot added (the pods that already pulled keep running; new ones will fail
 * again), so the grant is offered again. `superseded`: a Re-check found another root cause, tracked by the incident
 * named in `supersededBy`.
 */
export type IncidentStatus =
  | 'open'
  | 'fixing'
  | 'fixed'
  | 'resolved'
  | 'dismissed'
  | 'failed'
  | 'undone'
  | 'superseded';

/** Statuses in which the plan may be approved (and the incident dismissed). */
export const ACTIONABLE: readonly IncidentStatus[] = ['open', 'failed', 'undone'];

/** One copy of the incident message: each owner channel gets its own, kept in step with the others. */
export interface MessagePost {
  readonly channel: string;
  readonly ts: string;
  /** Stored when it is posted (App Home lists incidents without asking Slack again). */
  readonly permalink?: string;
  /** The first thread reply: the details (evidence, next steps, commands, the kubelet message, Terraform). */
  readonly detailsTs?: string;
}

/** A workload hit by the incident, with its counters. */
export interface AffectedWorkload {
  readonly cluster: ClusterRef;
  readonly namespace: string;
  /** Absent when the pod has no known controller. */
  readonly workload?: WorkloadRef;
  /** A few pod names (bounded), for the message. */
  readonly pods: readonly string[];
  readonly podCount: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** Where one failing pod was seen, as recorded on its incident. */
export interface Sighting {
  readonly cluster: ClusterRef;
  readonly namespace: string;
  readonly pod?: string;
  readonly workload?: WorkloadRef;
  /** Alerts this sighting stands for (coalesced redeliveries and repeats). */
  readonly alerts: number;
  readonly alertIncidentId?: string;
}

/** The fix a person approves: pure data, with an id the buttons carry and an expiry. */
export interface PlanRecord {
  readonly id: string;
  readonly grant?: GrantRepoReaderPlan;
  readonly restarts: readonly RestartWorkloadPlan[];
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** Grant & restart, or Restart only. */
export type FixAction = 'grant-restart' | 'restart';

/**
 * Stable step ids (persisted, matched by tests and renderers); labels come from `stepLabel` (fixes/steps.ts).
 * `restart:KIND/NAMESPACE/NAME` names the workload it restarts.
 */
export type StepId = 'recheck' | 'grant' | 'propagate' | 'verify' | `restart:${string}`;

export type FixStepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface FixStep {
  readonly id: StepId;
  readonly state: FixStepState;
  readonly detail?: string;
}

/** One approver's press of Grant & restart or Restart only, for one plan. */
export interface Approval {
  readonly user: string;
  readonly at: string;
  readonly planId: string;
  readonly action: FixAction;
}

/** One execution of a plan (or a dry run), as shown in the message and the audit trail. */
export interface FixRun {
  /** Unique per attempt: tells concurrent attempts (double clicks, replicas) apart. */
  readonly runId?: string;
  readonly planId: string;
  readonly action: FixAction | 'dry-run';
  readonly approvedBy: string;
  /** Under the two-person rule: every approver who pressed, in order (the last is `approvedBy`). */
  readonly approvers?: readonly string[];
  readonly startedAt: string;
  /** Refreshed on every step of a live run; a silent run belongs to a replica that is gone. */
  readonly heartbeatAt?: string;
  readonly finishedAt?: string;
  readonly outcome?: 'succeeded' | 'failed' | 'dry-run';
  /** One line for people: what happened, and what to do if it failed. */
  readonly summary?: string;
  /** For a dry run: the commands that would have run. */
  readonly wouldRun?: readonly string[];
  /** The `restartedAt` this run stamped on the workloads it restarted (a resumed run verifies the same rollout). */
  readonly restartedAt?: string;
  /** Times the run was taken over after its replica stopped (SIGTERM, crash) and carried on from its ledger. */
  readonly resumes?: number;
  /** The replica running it stopped at this instant; another may resume it at once. */
  readonly interruptedAt?: string;
  readonly steps: readonly FixStep[];
  readonly undo?: {
    readonly by: string;
    readonly at: string;
    readonly outcome: 'succeeded' | 'failed';
    readonly detail?: string;
  };
}

/**
 * A member the bot put on a repository policy (or found there), kept for the life of the incident whatever became
 * of the run that made it: Undo works from this ledger, never from a run that may have been replaced.
 */
export interface GrantRecord {
  readonly repository: string;
  readonly member: string;
  readonly role: string;
  /** False when the member was already there: Undo then removes nothing. */
  readonly added: boolean;
  /**
   * The write was sent but its outcome is not known (recorded before the write, so a crash or a lost answer
   * cannot hide it): Undo removes the member if it is on the policy.
   */
  readonly pending?: boolean;
  /** The run that made it. */
  readonly runId?: string;
  readonly etagBefore: string;
  readonly etagAfter?: string;
  readonly by: string;
  readonly at: string;
  readonly undone?: {
    readonly by: string;
    readonly at: string;
    readonly etagBefore?: string;
    readonly etagAfter?: string;
  };
}

export interface IncidentRecord {
  /** Short stable id derived from `key`: buttons and the store use it. */
  readonly id: string;
  /** Root-cause key of the diagnosis (e.g. repository × node SA × finding). */
  readonly key: string;
  readonly status: IncidentStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The copies of the message, one per owner channel, once posted. */
  readonly posts?: readonly MessagePost[];
  /** The channel `/imagepull diagnose --share` was run in: the incident is posted there. */
  readonly requestedIn?: string;
  /** The latest diagnosis of a representative pod. */
  readonly diagnosis: Diagnosis;
  readonly affected: readonly AffectedWorkload[];
  readonly alertCount: number;
  /** Monitoring incident ids that fed it (to resolve on `closed`). */
  readonly alertIncidentIds: readonly string[];
  readonly origin: 'alert' | 'command' | 'audit';
  /** Who asked, for `/imagepull diagnose --share` (four-eyes). */
  readonly requestedBy?: string;
  readonly plan?: PlanRecord;
  /**
   * Approvals given so far under the two-person rule (`APPROVALS_REQUIRED=2`): only those for the current plan and
   * action count; the fix starts when enough distinct approvers have pressed.
   */
  readonly approvals?: readonly Approval[];
  readonly fix?: FixRun;
  /** Every grant the bot made for this incident (append-only; Undo marks them undone). */
  readonly grants?: readonly GrantRecord[];
  readonly resolvedAt?: string;
  readonly dismissedBy?: string;
  /** For an incident the pull audit opened (`origin: 'audit'`): what it found, as of its last run. */
  readonly prevention?: PreventionRecord;
  /** Set with status `superseded`: the incident of the root cause a Re-check found instead. */
  readonly supersededBy?: { readonly id: string; readonly headline: string };
  /** Bumped on every write; the store rejects stale writes. */
  readonly version: number;
}

/** What an audit record is about. `finish` ends a run; `apply` is one change a run made. */
export type AuditAction = 'approve' | 'refuse' | 'dry-run' | 'apply' | 'finish' | 'undo' | 'dismiss' | 'recheck';

/** A structured record of one decision or change: logged, stored, and rendered into the incident's thread. */
export interface AuditRecord {
  readonly at: string;
  readonly incidentId: string;
  readonly action: AuditAction;
  readonly user: string;
  readonly planId?: string;
  /** A stable code: `accepted`, `succeeded`, `failed`, a refusal code (fixes/guards.ts), `granted`… */
  readonly result: string;
  /** One line for people (channel-neutral text with `code` spans). */
  readonly summary?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What the pull audit (docs/prevention.md) knows about the gap behind an `origin: 'audit'` incident: nothing fails
 * yet, and this says what would. Rewritten by an audit that sees it changed; `closedAt` is set when one no longer sees it.
 */
export interface PreventionRecord {
  /** One line: "node pool `pool-b` (`gke-nodes@…`) cannot pull 3 images used by 2 workloads; …". */
  readonly summary: string;
  /** `PROJECT/LOCATION/CLUSTER/POOL` of each pool that cannot pull. */
  readonly pools: readonly string[];
  readonly images: readonly string[];
  /** `kind/namespace/name` of each workload that needs them (CronJobs and Jobs included). */
  readonly workloads: readonly string[];
  /** What ran the audit that last saw it. */
  readonly trigger: 'schedule' | 'command' | 'iam-change';
  /** For `iam-change`: the change, for people (`SetIamPolicy on repository web by maria@…`). */
  readonly because?: string;
  readonly auditedAt: string;
  readonly closedAt?: string;
}
