import type { FixMode } from '../config.ts';
import { parseRepositoryName } from '../diagnosis/commands.ts';
import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import { ACTIONABLE, type FixAction, type IncidentRecord, type PlanRecord } from '../incidents/model.ts';

/**
 * Pure decisions before any change (docs/incidents-and-fixes.md, "Refusals"): who may approve, whether fixes are
 * enabled, whether the plan is in scope, still current and still what the world needs. A refusal carries a stable
 * `code` (audit records, metrics and tests key on it) and the reason shown to the person.
 */
export const REFUSAL_CODES = [
  'not-approver',
  'four-eyes',
  'fix-mode-off',
  'project-not-allowed',
  'namespace-not-allowed',
  'no-plan',
  'plan-outdated',
  'plan-expired',
  'fix-running',
  'incident-closed',
  'no-grant',
  'nothing-to-restart',
  'already-granted',
  'diagnosis-changed',
  'grant-target-changed',
  'nothing-failing',
  'nothing-to-undo',
  'not-added-by-bot',
  'incident-unknown',
  'shutting-down',
  'already-approved',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

export type Decision =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: RefusalCode; readonly reason: string };

const OK: Decision = { ok: true };

export function refuse(code: RefusalCode, reason: string): Decision & { ok: false } {
  return { ok: false, code, reason };
}

export interface ApproverPolicy {
  /** Slack user ids allowed directly. */
  readonly users: ReadonlySet<string>;
  /** Members of the configured approver user groups, resolved by the caller. */
  readonly groupMembers: ReadonlySet<string>;
  readonly fourEyes: boolean;
}

export function authorize(user: string, policy: ApproverPolicy, incident: IncidentRecord): Decision {
  if (!policy.users.has(user) && !policy.groupMembers.has(user)) {
    return refuse('not-approver', 'you are not an approver for image-pull fixes (APPROVERS): nothing was changed');
  }
  if (policy.fourEyes && incident.requestedBy === user) {
    return refuse('four-eyes', 'four-eyes is on: the person who asked for this diagnosis cannot approve its fix');
  }
  return OK;
}

export function fixModeAllows(mode: FixMode): Decision {
  return mode === 'off' ? refuse('fix-mode-off', 'fixes are turned off here (FIX_MODE=off): nothing was changed') : OK;
}

export function inScope(
  plan: PlanRecord,
  allowedProjects: readonly string[],
  allowedNamespaces: readonly string[],
  withGrant: boolean,
): Decision {
  if (allowedProjects.length > 0) {
    if (withGrant && plan.grant) {
      const project = parseRepositoryName(plan.grant.repository)?.project;
      if (!project || !allowedProjects.includes(project)) {
        return refuse(
          'project-not-allowed',
          `project \`${project}\` is not in ALLOWED_PROJECTS: the bot may not change its IAM`,
        );
      }
    }
    const foreign = plan.restarts.find((r) => !allowedProjects.includes(r.cluster.project));
    if (foreign) {
      return refuse(
        'project-not-allowed',
        `project \`${foreign.cluster.project}\` is not in ALLOWED_PROJECTS: the bot may not restart workloads in its clusters`,
      );
    }
  }
  if (allowedNamespaces.length > 0) {
    const outside = plan.restarts.find((r) => !allowedNamespaces.includes(r.workload.namespace));
    if (outside) {
      return refuse(
        'namespace-not-allowed',
        `namespace \`${outside.workload.namespace}\` is not in ALLOWED_NAMESPACES: the bot may not restart workloads there`,
      );
    }
  }
  return OK;
}

/** Does the plan have what the pressed button asks for? */
export function planAllows(plan: PlanRecord, action: FixAction): Decision {
  if (action === 'grant-restart' && !plan.grant) return refuse('no-grant', 'this plan has no grant: use Restart only');
  if (action === 'restart' && plan.restarts.length === 0)
    return refuse('nothing-to-restart', 'there is no workload to restart');
  return OK;
}

/**
 * Is the plan behind this button the current one, unexpired, and free to run? A run that has been "fixing" for
 * longer than any run can last (its replica died) no longer blocks.
 */
export function planCurrent(
  incident: IncidentRecord,
  planId: string | undefined,
  now: Date,
  staleFixingMs: number,
): Decision {
  const plan = incident.plan;
  if (!plan) return refuse('no-plan', 'there is no fix to apply for this incident any more');
  if (planId !== plan.id) {
    return refuse(
      'plan-outdated',
      'this button belongs to an older version of the plan; the message now shows the current one',
    );
  }
  if (new Date(plan.expiresAt) <= now)
    return refuse('plan-expired', 'the plan has expired: press Re-check to compute a fresh one');
  if (incident.status === 'fixing') {
    return fixingIsStale(incident, now, staleFixingMs)
      ? OK
      : refuse('fix-running', 'a fix for this incident is already running');
  }
  if (!ACTIONABLE.includes(incident.status)) return refuse('incident-closed', `the incident is ${incident.status}`);
  return OK;
}

/** How often a live run writes its heartbeat (a timer, whatever the run is waiting on). */
export const HEARTBEAT_MS = 5_000;

/**
 * How long a run may stay silent before it is taken for dead and resumed by another replica (or this one after a
 * restart): three missed heartbeats.
 */
export function staleRunMs(): number {
  return 3 * HEARTBEAT_MS;
}

/** A "fixing" state whose run has not beaten for `staleFixingMs`: the replica that ran it is gone. */
export function fixingIsStale(incident: IncidentRecord, now: Date, staleFixingMs: number): boolean {
  const last = incident.fix?.heartbeatAt ?? incident.fix?.startedAt;
  return incident.status === 'fixing' && last !== undefined && now.getTime() - new Date(last).getTime() > staleFixingMs;
}

/**
 * After re-reading the world: does the approved grant still match what is needed? It must be the same repository,
 * member and role (a plan altered in the state store cannot widen the grant), and the node must still lack access. A different etag alone is fine (the write re-reads and keeps
 * other bindings); a grant that someone already made is not (offer a restart instead).
 */
export function grantStillNeeded(plan: PlanRecord, fresh: Diagnosis): Decision {
  if (!plan.grant) return OK;
  const grant = fresh.fixes.find((f) => f.kind === 'grant-repo-reader');
  if (fresh.findings.some((f) => f.id === 'access-already-granted')) {
    return refuse(
      'already-granted',
      'the node service account can already pull (someone granted access since): use Restart only',
    );
  }
  if (!grant) {
    const now = fresh.findings[0]?.title ?? fresh.headline;
    return refuse('diagnosis-changed', `the diagnosis changed (${now}): the grant no longer applies`);
  }
  if (
    grant.repository !== plan.grant.repository ||
    grant.member !== plan.grant.member ||
    grant.role !== plan.grant.role
  ) {
    return refuse(
      'grant-target-changed',
      `the diagnosis now points at ${grant.role} for ${grant.member} on ${grant.repository}: review the new plan`,
    );
  }
  return OK;
}
