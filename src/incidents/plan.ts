import { createHash } from 'node:crypto';
import type { RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import type { IncidentRecord, PlanRecord } from './model.ts';

/**
 * The plan a person approves: the diagnosis's grant (if any) plus a restart of every affected workload, with an id
 * derived from its content (a button carries it; a changed plan gets a new id, so an old button is refused) and an
 * expiry. Pure.
 */
export function planFor(
  r: IncidentRecord,
  options: { readonly now: Date; readonly ttlMs: number; readonly renew?: boolean },
): PlanRecord | undefined {
  const fixes = r.diagnosis.fixes;
  const grant = fixes.find((f) => f.kind === 'grant-repo-reader');
  // After Undo the pods that pulled still run: granting again needs no restart.
  const wantsRestart = fixes.some((f) => f.kind === 'restart-workload') && r.status !== 'undone';
  const restarts: RestartWorkloadPlan[] = wantsRestart
    ? r.affected.flatMap((a) =>
        a.workload ? [{ kind: 'restart-workload' as const, cluster: a.cluster, workload: a.workload }] : [],
      )
    : [];
  if (!grant && restarts.length === 0) return undefined;
  const content = JSON.stringify({ grant, restarts });
  const id = createHash('sha256').update(`${r.id}|${content}`).digest('hex').slice(0, 10);
  const { now } = options;
  if (!options.renew && r.plan?.id === id && new Date(r.plan.expiresAt) > now) return r.plan;
  return {
    id,
    ...(grant ? { grant } : {}),
    restarts,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + options.ttlMs).toISOString(),
  };
}

/** The record with its plan recomputed (or removed when nothing can be fixed any more). */
export function withPlan(
  r: IncidentRecord,
  options: { readonly now: Date; readonly ttlMs: number; readonly renew?: boolean },
): IncidentRecord {
  const plan = planFor(r, options);
  const { plan: _old, ...rest } = r;
  return plan ? { ...rest, plan } : rest;
}
