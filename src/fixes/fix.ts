import type { FixKind } from '../diagnosis/diagnosis.ts';
import type { ClusterRef, WorkloadRef } from '../diagnosis/facts.ts';
import type {
  AuditRecord,
  FixAction,
  FixRun,
  FixStepState,
  GrantRecord,
  IncidentRecord,
  PlanRecord,
  StepId,
} from '../incidents/model.ts';
import type { ClusterApi } from '../ports/cluster.port.ts';
import type { AccessChecker, RepositoryIam } from '../ports/gcp.port.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * A fix kind: the twin of a diagnosis check (docs/incidents-and-fixes.md, "Fixes"). A check turns facts into a
 * finding and the plans that would help; a fix carries out its part of an approved plan through ports, step by
 * step, and says what it did. One file per kind (`*.fix.ts`), one registry (`fixes/index.ts`) keyed by `kind`.
 */
export interface Fix {
  readonly kind: FixKind;
  /** Whether this fix has work in `plan` for the button pressed. */
  appliesTo(plan: PlanRecord, action: FixAction): boolean;
  /** The steps it reports, in order (ids, persisted). */
  steps(plan: PlanRecord): StepId[];
  /** What a person would run to do the same by hand (shown by a dry run). */
  commands(plan: PlanRecord): string[];
  /** Does the work. Resolves with the outcome; throws only when interrupted or on a bug (the runner reports it). */
  apply(run: FixRunContext): Promise<FixResult>;
}

/** What a fix says it did: one clause of the run's summary; a failure stops the run. */
export type FixResult =
  | { readonly ok: true; readonly summary: string }
  | { readonly ok: false; readonly summary: string };

/** Pods of one workload, as the verification needs them. */
export interface WorkloadHealth {
  readonly total: number;
  readonly ready: number;
  readonly failing: readonly { readonly pod: string; readonly reason: string; readonly message?: string }[];
}

/** The world as fixes touch it: ports, plus the cluster access the use cases wire in. */
export interface FixWorld {
  readonly repositoryIam: RepositoryIam;
  readonly access: AccessChecker;
  /** The Kubernetes API of a cluster. */
  cluster(ref: ClusterRef): Promise<ClusterApi>;
  /** Health of a workload's pods; with `restartedAt`, only the pods of that restart. */
  workloadHealth(cluster: ClusterRef, ref: WorkloadRef, restartedAt?: string): Promise<WorkloadHealth>;
  /** Forgets cached reads whose key starts with `prefix` (after the bot changed something itself). */
  invalidate(prefix: string): void;
}

export interface FixTiming {
  readonly propagationTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  readonly pollIntervalMs: number;
}

/** What the runner hands a fix: the run's identity and its means to report, wait and record. */
export interface FixRunContext {
  readonly incident: IncidentRecord;
  readonly plan: PlanRecord;
  readonly action: FixAction;
  readonly user: string;
  readonly runId: string;
  readonly startedAt: Date;
  /** When this run resumes one whose replica stopped: that run as it was recorded (steps, `restartedAt`). */
  readonly previous?: FixRun;
  readonly world: FixWorld;
  readonly timing: FixTiming;
  readonly logger: Logger;
  /** Shows a step's state (and beats the heartbeat). Throws `FixInterrupted` if the bot stops before a step runs. */
  step(id: StepId, state: FixStepState, detail?: string): Promise<void>;
  /** Records facts about the run a resumed run needs (before acting on them: e.g. `restartedAt` before the patch). */
  remember(facts: Pick<FixRun, 'restartedAt'>): Promise<void>;
  /** Waits until `probe` says done, showing progress, or the timeout passes; cut short (throws) on shutdown. */
  poll(
    timeoutMs: number,
    probe: (elapsed: string) => Promise<{ done: boolean; detail: string }>,
    progress: (detail: string) => Promise<unknown>,
  ): Promise<{ ok: boolean; detail: string }>;
  /** Waits, cut short (throws `FixInterrupted`) on shutdown. */
  sleep(ms: number): Promise<void>;
  now(): Date;
  /** Records one change in the audit trail. */
  audit(record: Pick<AuditRecord, 'action' | 'result' | 'summary' | 'detail'>): Promise<void>;
  /** Writes (or removes) a grant in the incident's ledger before and after an IAM write (Undo works from it). */
  ledger(grant: GrantRecord, op: 'put' | 'remove'): Promise<void>;
}

/** Thrown into a running fix when the bot shuts down; the run ends as interrupted, and says so. */
export class FixInterrupted extends Error {
  override readonly name = 'FixInterrupted';
  readonly code = 'ipb_fix_interrupted';
  constructor() {
    super('interrupted: the bot is shutting down');
  }
}
