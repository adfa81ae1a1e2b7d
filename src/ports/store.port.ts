import type { Diagnosis, GrantRepoReaderPlan, RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import type { ClusterRef, WorkloadRef } from '../diagnosis/facts.ts';

/**
 * Durable state: incidents (one per root cause), their fix plans and runs, Pub/Sub delivery dedupe, locks and the
 * audit trail. In memory for one replica; Firestore when several replicas share a subscription (DESIGN §5).
 */

export type IncidentStatus = 'open' | 'fixing' | 'fixed' | 'resolved' | 'dismissed' | 'failed';

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

/** The fix a person approves: pure data, with an id the buttons carry and an expiry. */
export interface PlanRecord {
  readonly id: string;
  readonly grant?: GrantRepoReaderPlan;
  readonly restarts: readonly RestartWorkloadPlan[];
  readonly createdAt: string;
  readonly expiresAt: string;
}

export type FixStepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface FixStep {
  readonly name: string;
  readonly state: FixStepState;
  readonly detail?: string;
}

/** One execution of a plan (or of Undo), as shown in the message and the audit trail. */
export interface FixRun {
  /** Unique per attempt: tells concurrent attempts (double clicks, replicas) apart. */
  readonly runId?: string;
  readonly planId: string;
  readonly action: 'grant-restart' | 'restart' | 'dry-run';
  readonly approvedBy: string;
  readonly startedAt: string;
  /** Refreshed on every step of a live run; a silent run belongs to a replica that is gone. */
  readonly heartbeatAt?: string;
  readonly finishedAt?: string;
  readonly outcome?: 'succeeded' | 'failed' | 'refused' | 'dry-run';
  readonly summary?: string;
  readonly steps: readonly FixStep[];
  /** What this run's grant changed (the incident's `grants` ledger is what Undo works from). */
  readonly grant?: Omit<GrantRecord, 'by' | 'at' | 'undone' | 'pending'>;
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
  /** The message, once posted. */
  readonly channel?: string;
  readonly ts?: string;
  /** The latest diagnosis of a representative pod. */
  readonly diagnosis: Diagnosis;
  readonly affected: readonly AffectedWorkload[];
  readonly alertCount: number;
  /** Monitoring incident ids that fed it (to resolve on `closed`). */
  readonly alertIncidentIds: readonly string[];
  readonly origin: 'alert' | 'command';
  /** Who asked, for `/imagepull diagnose --share` (four-eyes). */
  readonly requestedBy?: string;
  readonly plan?: PlanRecord;
  readonly fix?: FixRun;
  /** Every grant the bot made for this incident (append-only; Undo marks them undone). */
  readonly grants?: readonly GrantRecord[];
  readonly resolvedAt?: string;
  readonly dismissedBy?: string;
  /** Bumped on every write; the store rejects stale writes. */
  readonly version: number;
}

export interface AuditRecord {
  readonly at: string;
  readonly incidentId: string;
  readonly action: 'approve' | 'refuse' | 'apply' | 'verify' | 'undo' | 'dismiss' | 'dry-run' | 'recheck';
  readonly user: string;
  readonly planId?: string;
  readonly result: string;
  readonly detail?: Record<string, string | number | boolean>;
}

export type DeliveryClaim = 'claimed' | 'in-progress' | 'done';

export interface StateStore {
  /**
   * Claims a delivery key (Pub/Sub redeliveries: `insertId`, `incident_id`) for `owner` for `leaseMs` while its
   * work runs. `done`: it was already handled; `in-progress`: someone else holds an unexpired claim (redeliver
   * later); `claimed`: go ahead, then `completeDelivery` (or `releaseDelivery` on failure). A crashed claim expires.
   */
  claimDelivery(key: string, leaseMs: number, owner: string): Promise<DeliveryClaim>;
  /** Marks a delivery `owner` claimed as handled, remembered for `ttlMs` (no-op if the claim is not `owner`'s). */
  completeDelivery(key: string, ttlMs: number, owner: string): Promise<void>;
  /** Forgets `owner`'s claim whose work failed, so the redelivery is processed (no-op if not `owner`'s). */
  releaseDelivery(key: string, owner: string): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Creates the incident unless it exists; false when another writer (replica) got there first. */
  createIncident(record: IncidentRecord): Promise<boolean>;
  /**
   * Atomic read-modify-write. `mutate` may run more than once (on contention) and returns the new record, or
   * undefined to leave it unchanged. Resolves to the record as stored afterwards.
   */
  updateIncident(
    id: string,
    mutate: (current: IncidentRecord) => IncidentRecord | undefined,
  ): Promise<IncidentRecord | undefined>;
  /** Every incident with one of `statuses` (all when omitted), optionally only those fed by a Monitoring incident. */
  listIncidents(statuses?: readonly IncidentStatus[], alertIncidentId?: string): Promise<IncidentRecord[]>;
  deleteIncident(id: string): Promise<void>;
  /** A lease: true when `owner` holds `name` now. Used so one replica applies each fix and posts each incident. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
  appendAudit(record: AuditRecord): Promise<void>;
  listAudit(limit: number): Promise<AuditRecord[]>;
  close(): Promise<void>;
}
