/**
 * One fix run, from the re-check to its summary (docs/incidents-and-fixes.md, "A run"): beats the heartbeat (and
 * renews the lock) on a timer and with every step, re-reads the world, hands each applicable fix of the registry its
 * turn, and leaves the incident `fixed` or `failed` with a summary — or, on shutdown, marked interrupted so that it is
 * resumed from what it recorded. The runner (`runner.ts`) decides which runs start; this is what a run does.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import type { AuditRecord, FixAction, FixRun, GrantRecord, IncidentRecord, PlanRecord } from '../incidents/model.ts';
import type { StateStore } from '../ports/store.port.ts';
import { errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { duration } from '../shared/time.ts';
import { FixInterrupted, type FixRunContext, type FixTiming, type FixWorld } from './fix.ts';
import { grantStillNeeded, HEARTBEAT_MS } from './guards.ts';
import { FIXES } from './index.ts';
import { setStep } from './steps.ts';

/** Reads and writes incidents, with the store's atomic read-modify-write. */
export interface IncidentState {
  get(id: string): Promise<IncidentRecord | undefined>;
  /** `now`: show the change before returning (else it is shown with the next coalesced update). */
  update(
    id: string,
    mutate: (r: IncidentRecord) => IncidentRecord | undefined,
    options?: { now?: boolean },
  ): Promise<IncidentRecord | undefined>;
}

/** What a run reaches the world through: the incident's lock and state, the audit trail, the re-check, the fixes' world. */
export interface RunDeps {
  readonly locks: Pick<StateStore, 'acquireLock' | 'releaseLock'>;
  readonly incidents: IncidentState;
  readonly audit: (record: Omit<AuditRecord, 'at'>) => Promise<void>;
  /** Re-reads the world for an incident (no cache): the diagnosis of the same root cause, or why there is none. */
  readonly recheck: (incident: IncidentRecord) => Promise<{ diagnosis?: Diagnosis; note?: string }>;
  readonly world: FixWorld;
  readonly timing: FixTiming & { readonly factTimeoutMs: number };
  readonly logger: Logger;
}

/** What the runner hands a run besides its deps: its clock, the lock's lifetime, its shutdown signal, its metrics. */
export interface RunEnv {
  readonly deps: RunDeps;
  readonly now: () => Date;
  /** The lock's lifetime, renewed with every heartbeat. */
  readonly staleMs: number;
  /** Aborted on shutdown: every wait ends at once and the run ends as interrupted (to be resumed). */
  readonly stopping: AbortSignal;
  /** Called once when the run finishes (succeeded or failed), with its time since approval. */
  readonly finished: (action: FixAction, outcome: 'succeeded' | 'failed', seconds: number) => void;
}

/**
 * Carries out one accepted run that holds the lock `fix:<incident id>` under `runId` (the caller releases it after).
 * `previous`: the run as recorded by a replica that stopped; what it finished is not done again.
 *
 * Guarantees: only ever writes the incident while its `fix.runId` is `runId`; ends with the incident `fixed` or
 * `failed` and a summary, audited as `finish` — except on shutdown, when it is left `fixing` with `interruptedAt`;
 * never rejects for a failed step or fix (a crash of the store itself may still reject); the heartbeat timer is
 * always cleared.
 */
export async function executeRun(
  env: RunEnv,
  incident: IncidentRecord,
  plan: PlanRecord,
  action: FixAction,
  user: string,
  runId: string,
  previous?: FixRun,
): Promise<void> {
  const d = env.deps;
  const stopping = () => env.stopping.aborted;
  const startedAt = previous ? new Date(previous.startedAt) : env.now();
  const lock = `fix:${incident.id}`;
  // The heartbeat (and the lock) is renewed by a timer, whatever the run is waiting on, and by every step; it only
  // ever touches this run's own state.
  const heartbeat = async (change?: (f: FixRun) => Partial<FixRun>) => {
    await d.locks.acquireLock(lock, runId, env.staleMs).catch(() => undefined);
    await d.incidents.update(incident.id, (cur) =>
      cur.fix?.runId === runId
        ? {
            ...cur,
            fix: { ...cur.fix, heartbeatAt: env.now().toISOString(), ...(change ? change(cur.fix) : {}) },
          }
        : undefined,
    );
  };
  const beating = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
  beating.unref();
  const audit: FixRunContext['audit'] = (r) => d.audit({ incidentId: incident.id, user, planId: plan.id, ...r });
  const ctx: FixRunContext = {
    incident,
    plan,
    action,
    user,
    runId,
    startedAt,
    ...(previous ? { previous } : {}),
    world: d.world,
    timing: d.timing,
    logger: d.logger,
    step: async (id, state, detail) => {
      if (stopping() && state === 'running') throw new FixInterrupted();
      await heartbeat((f) => ({ steps: setStep(f.steps, id, state, detail) }));
    },
    remember: (facts) => heartbeat(() => facts),
    poll: (timeoutMs, probe, progress) => poll(env, timeoutMs, probe, progress),
    sleep: (ms) => sleep(env.stopping, ms),
    now: env.now,
    audit,
    ledger: (grant, op) => ledger(d.incidents, incident.id, grant, op),
  };
  let finished = false;
  const finish = async (outcome: 'succeeded' | 'failed', summary: string) => {
    finished = true;
    await d.incidents.update(
      incident.id,
      (cur) =>
        cur.fix?.runId === runId
          ? {
              ...cur,
              status: outcome === 'succeeded' ? 'fixed' : 'failed',
              fix: { ...(cur.fix as FixRun), outcome, summary, finishedAt: env.now().toISOString() },
            }
          : undefined,
      { now: true },
    );
    env.finished(action, outcome, (env.now().getTime() - startedAt.getTime()) / 1000);
    await audit({ action: 'finish', result: outcome, summary, detail: { action } });
  };

  try {
    // 1. Re-read the world: the plan must still be what the failure needs. A resumed run that got past this step
    //    does not look again: its own grant may have propagated meanwhile ("already granted" would stop it).
    if (previous?.steps.find((st) => st.id === 'recheck')?.state !== 'done') {
      await ctx.step('recheck', 'running');
      const fresh = await d.recheck(incident);
      if (!fresh.diagnosis && plan.restarts.length > 0) {
        const why = fresh.note ?? 'no pod is failing to pull any more';
        await ctx.step('recheck', 'done', why);
        await finish('failed', `Nothing changed: ${why}.`);
        return;
      }
      if (fresh.diagnosis && action === 'grant-restart') {
        const still = grantStillNeeded(plan, fresh.diagnosis);
        if (!still.ok) {
          await ctx.step('recheck', 'failed', still.reason);
          await finish('failed', `Nothing changed: ${still.reason}.`);
          return;
        }
      }
      await ctx.step('recheck', 'done', fresh.diagnosis?.headline ?? 'plan still applies');
    }

    // 2. Each fix of the registry that has work in this plan, in order; a failure stops the run.
    const said: string[] = [];
    for (const fix of FIXES) {
      if (!fix.appliesTo(plan, action)) continue;
      const r = await fix.apply(ctx);
      if (!r.ok) {
        await finish('failed', r.summary);
        return;
      }
      if (r.summary) said.push(r.summary);
    }
    await finish('succeeded', `${said.join('; ')}.`);
  } catch (e) {
    if (e instanceof FixInterrupted) {
      // Stopping (SIGTERM): leave the run as it is, marked so another replica (or this one after its restart)
      // resumes it at once, from what it recorded.
      await d.incidents
        .update(incident.id, (cur) =>
          cur.fix?.runId === runId
            ? { ...cur, fix: { ...cur.fix, interruptedAt: env.now().toISOString() } }
            : undefined,
        )
        .catch(() => undefined);
      d.logger.warn({ incident: incident.id }, 'fix interrupted by shutdown: it will be resumed');
      return;
    }
    d.logger.error({ incident: incident.id, err: e }, 'fix failed');
    if (!finished) await finish('failed', `Stopped: ${errorMessage(e)}`);
  } finally {
    clearInterval(beating);
  }
}

/** Writes (or removes) one grant in the incident's ledger, matched by what it grants and the run that made it. */
async function ledger(
  incidents: IncidentState,
  incidentId: string,
  grant: GrantRecord,
  op: 'put' | 'remove',
): Promise<void> {
  await incidents.update(incidentId, (cur) => {
    const others = (cur.grants ?? []).filter((g) => !sameGrant(g, grant));
    return { ...cur, grants: op === 'put' ? [...others, grant] : others };
  });
}

/** Polls until `probe` says done, or the timeout passes; every wait ends early on shutdown. */
async function poll(
  env: RunEnv,
  timeoutMs: number,
  probe: (elapsed: string) => Promise<{ done: boolean; detail: string }>,
  progress: (detail: string) => Promise<unknown>,
): Promise<{ ok: boolean; detail: string }> {
  const start = Date.now();
  for (;;) {
    const r = await probe(duration(new Date(start), new Date()));
    if (r.done) return { ok: true, detail: r.detail };
    const waited = Date.now() - start;
    if (waited >= timeoutMs) return { ok: false, detail: r.detail };
    await progress(r.detail);
    await sleep(env.stopping, Math.min(env.deps.timing.pollIntervalMs, timeoutMs - waited));
  }
}

/** Waits `ms`; throws `FixInterrupted` at once if `stopping` is (or becomes) aborted. */
async function sleep(stopping: AbortSignal, ms: number): Promise<void> {
  try {
    await delay(ms, undefined, { signal: stopping });
  } catch {
    throw new FixInterrupted();
  }
}

/** The same ledger entry: same grant by the same run (or, for entries without a run id, at the same instant). */
export function sameGrant(a: GrantRecord, b: GrantRecord): boolean {
  return (
    a.repository === b.repository &&
    a.member === b.member &&
    a.role === b.role &&
    (a.runId ?? a.at) === (b.runId ?? b.at)
  );
}
