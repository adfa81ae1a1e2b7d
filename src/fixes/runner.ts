import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { FixMode } from '../config.ts';
import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import type {
  AuditRecord,
  FixAction,
  FixRun,
  FixStep,
  GrantRecord,
  IncidentRecord,
  PlanRecord,
} from '../incidents/model.ts';
import type { StateStore } from '../ports/store.port.ts';
import { errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { duration } from '../shared/time.ts';
import { FixInterrupted, type FixRunContext, type FixTiming, type FixWorld } from './fix.ts';
import {
  type Decision,
  fixingIsStale,
  grantStillNeeded,
  HEARTBEAT_MS,
  planCurrent,
  type RefusalCode,
  refuse,
  staleRunMs,
} from './guards.ts';
import { commandsFor, FIXES, stepsFor } from './index.ts';
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

export interface FixRunnerDeps {
  readonly locks: Pick<StateStore, 'acquireLock' | 'releaseLock'>;
  readonly incidents: IncidentState;
  readonly audit: (record: Omit<AuditRecord, 'at'>) => Promise<void>;
  /** Re-reads the world for an incident (no cache): the diagnosis of the same root cause, or why there is none. */
  readonly recheck: (incident: IncidentRecord) => Promise<{ diagnosis?: Diagnosis; note?: string }>;
  readonly world: FixWorld;
  readonly timing: FixTiming & { readonly factTimeoutMs: number };
  readonly fixMode: FixMode;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

/** The answer to a click: accepted (the run goes on in `done`) or refused with a code. */
export type StartResult =
  | { readonly ok: true; readonly dryRun: boolean; readonly done: Promise<void> }
  | { readonly ok: false; readonly code: RefusalCode; readonly reason: string };

/**
 * The one fix runner (docs/incidents-and-fixes.md, "A run"): takes the incident's lock so one replica and one click
 * run a plan, marks it `fixing`, re-reads the world, then hands each applicable fix of the registry its turn, showing
 * every step as it happens and beating a heartbeat so a live run is never taken for a dead one. Whatever happens, the
 * lock is released and the incident leaves `fixing` with a summary; on shutdown waits are cut short and the run ends
 * as interrupted.
 */
export class FixRunner {
  readonly #d: FixRunnerDeps;
  readonly #now: () => Date;
  readonly #owner = randomUUID();
  readonly #runs = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  readonly #duration: (seconds: number, labels?: Record<string, string>) => void;

  constructor(deps: FixRunnerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_fix_runs_total', 'Fix runs by action and outcome', [
      'action',
      'outcome',
    ]);
    this.#duration = deps.metrics.histogram(
      'imagepull_fix_duration_seconds',
      'From approval to a verified (or failed) fix',
      ['action', 'outcome'],
      [5, 15, 30, 60, 120, 300, 600, 1200],
    );
  }

  /** A run that has not beaten for this long belongs to a replica that is gone (and its lock lapses with it). */
  get staleMs(): number {
    return staleRunMs();
  }

  get stopping(): boolean {
    return this.#stopping.signal.aborted;
  }

  /** Refuses new runs, cuts waits short (runs end as interrupted, and say so), and waits for every run to end. */
  async close(): Promise<void> {
    this.#stopping.abort();
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  /** Registers work that `close()` must wait for (an approval still being checked). */
  track<T>(work: Promise<T>): Promise<T> {
    const p = work.then(
      () => undefined,
      () => undefined,
    );
    this.#runs.add(p);
    void p.finally(() => this.#runs.delete(p));
    return work;
  }

  /**
   * Starts an approved plan (the caller has checked who may approve and the scope). In dry-run mode it only shows
   * what would run. Resolves at once; the run itself goes on in `done`, which never rejects.
   */
  async start(
    incident: IncidentRecord,
    plan: PlanRecord,
    action: FixAction,
    user: string,
    approvers: readonly string[] = [user],
  ): Promise<StartResult> {
    if (this.stopping)
      return refuse('shutting-down', 'the bot is restarting: nothing was changed; try again in a minute');
    if (this.#d.fixMode === 'dry-run') {
      await this.#dryRun(incident, plan, action, user);
      return { ok: true, dryRun: true, done: Promise.resolve() };
    }
    const lock = `fix:${incident.id}`;
    // One token per attempt: a double click on the same replica must not re-enter the lock.
    const runId = `${this.#owner}:${randomUUID()}`;
    if (!(await this.#d.locks.acquireLock(lock, runId, this.staleMs)))
      return refuse('fix-running', 'a fix for this incident is already running');
    let started: IncidentRecord | undefined;
    let refused: (Decision & { ok: false }) | undefined;
    try {
      const now = this.#now();
      started = await this.#d.incidents.update(
        incident.id,
        // Re-checked inside the store transaction: another click may have started (or finished) a run meanwhile,
        // or the plan may have expired or changed since the click was checked.
        (cur) => {
          const current = planCurrent(cur, plan.id, now, this.staleMs);
          if (!current.ok) {
            refused = current;
            return undefined;
          }
          return {
            ...cur,
            status: 'fixing',
            fix: {
              runId,
              planId: plan.id,
              action,
              approvedBy: user,
              ...(approvers.length > 1 ? { approvers } : {}),
              startedAt: now.toISOString(),
              steps: stepsFor(plan, action),
            },
            approvals: [],
          };
        },
        { now: true },
      );
    } finally {
      if (started?.fix?.runId !== runId) await this.#d.locks.releaseLock(lock, runId);
    }
    if (started?.fix?.runId !== runId || started.status !== 'fixing')
      return refused ?? refuse('fix-running', 'a fix for this incident is already running');
    await this.#d.audit({
      incidentId: incident.id,
      action: 'approve',
      user,
      planId: plan.id,
      result: 'accepted',
      detail: { action, ...(approvers.length > 1 ? { approvers: approvers.join(',') } : {}) },
    });
    const run = started;
    const done: Promise<void> = this.#run(run, plan, action, user, runId)
      .catch((e: unknown) => this.#d.logger.error({ err: e, incident: incident.id }, 'fix run crashed'))
      .finally(async () => {
        await this.#d.locks.releaseLock(lock, runId).catch(() => undefined);
        this.#runs.delete(done);
      });
    this.#runs.add(done);
    return { ok: true, dryRun: false, done };
  }

  async #dryRun(incident: IncidentRecord, plan: PlanRecord, action: FixAction, user: string): Promise<void> {
    const wouldRun = commandsFor(plan, action);
    const steps: FixStep[] = stepsFor(plan, action).map((s) => ({ ...s, state: 'skipped', detail: 'dry run' }));
    const at = this.#now().toISOString();
    await this.#d.incidents.update(
      incident.id,
      (cur) => ({
        ...cur,
        fix: {
          planId: plan.id,
          action: 'dry-run',
          approvedBy: user,
          startedAt: at,
          finishedAt: at,
          outcome: 'dry-run',
          steps,
          wouldRun,
          summary: 'Nothing was changed (FIX_MODE=dry-run).',
        },
      }),
      { now: true },
    );
    await this.#d.audit({
      incidentId: incident.id,
      action: 'dry-run',
      user,
      planId: plan.id,
      result: 'nothing-changed',
      summary: wouldRun.join('\n'),
      detail: { action },
    });
  }

  /**
   * Takes over runs whose replica stopped (SIGTERM, a crash): every `fixing` incident whose heartbeat is older than
   * the stale window, or that its replica marked interrupted. The run carries on from what it recorded — a grant in
   * the ledger is not written again, a restart that happened is verified, not repeated. Returns how many it took.
   */
  async resumeStale(list: () => Promise<readonly IncidentRecord[]>): Promise<number> {
    if (this.stopping) return 0;
    let taken = 0;
    for (const r of await list()) {
      const fix = r.fix;
      if (!fix || fix.outcome || (!fixingIsStale(r, this.#now(), this.staleMs) && !fix.interruptedAt)) continue;
      const lock = `fix:${r.id}`;
      const runId = `${this.#owner}:${randomUUID()}`;
      if (!(await this.#d.locks.acquireLock(lock, runId, this.staleMs))) continue;
      const plan = r.plan?.id === fix.planId ? r.plan : undefined;
      const action = fix.action === 'dry-run' ? undefined : fix.action;
      const resumed = await this.#d.incidents.update(r.id, (cur) => {
        const f = cur.fix;
        if (cur.status !== 'fixing' || !f || f.runId !== fix.runId) return undefined;
        if (!plan || !action) {
          return {
            ...cur,
            status: 'failed',
            fix: {
              ...f,
              outcome: 'failed',
              finishedAt: this.#now().toISOString(),
              summary:
                'Interrupted: the bot replica running this fix stopped, and its plan has changed since. Press Re-check, then approve again if needed.',
            },
          };
        }
        const { interruptedAt: _gone, ...rest } = f;
        return {
          ...cur,
          fix: { ...rest, runId, heartbeatAt: this.#now().toISOString(), resumes: (f.resumes ?? 0) + 1 },
        };
      });
      if (resumed?.fix?.runId !== runId || !plan || !action) {
        await this.#d.locks.releaseLock(lock, runId);
        continue;
      }
      this.#d.logger.warn({ incident: r.id, previousRun: fix.runId }, 'resuming a fix whose replica stopped');
      taken++;
      const done: Promise<void> = this.#run(resumed, plan, action, fix.approvedBy, runId, fix)
        .catch((e: unknown) => this.#d.logger.error({ err: e, incident: r.id }, 'resumed fix run crashed'))
        .finally(async () => {
          await this.#d.locks.releaseLock(lock, runId).catch(() => undefined);
          this.#runs.delete(done);
        });
      this.#runs.add(done);
    }
    return taken;
  }

  async #run(
    incident: IncidentRecord,
    plan: PlanRecord,
    action: FixAction,
    user: string,
    runId: string,
    previous?: FixRun,
  ) {
    const startedAt = previous ? new Date(previous.startedAt) : this.#now();
    const lock = `fix:${incident.id}`;
    // The heartbeat (and the lock) is renewed by a timer, whatever the run is waiting on, and by every step; it only
    // ever touches this run's own state.
    const heartbeat = async (change?: (f: FixRun) => Partial<FixRun>) => {
      await this.#d.locks.acquireLock(lock, runId, this.staleMs).catch(() => undefined);
      await this.#d.incidents.update(incident.id, (cur) =>
        cur.fix?.runId === runId
          ? {
              ...cur,
              fix: { ...cur.fix, heartbeatAt: this.#now().toISOString(), ...(change ? change(cur.fix) : {}) },
            }
          : undefined,
      );
    };
    const beating = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
    beating.unref();
    const audit: FixRunContext['audit'] = (r) =>
      this.#d.audit({ incidentId: incident.id, user, planId: plan.id, ...r });
    const ctx: FixRunContext = {
      incident,
      plan,
      action,
      user,
      runId,
      startedAt,
      ...(previous ? { previous } : {}),
      world: this.#d.world,
      timing: this.#d.timing,
      logger: this.#d.logger,
      step: async (id, state, detail) => {
        if (this.stopping && state === 'running') throw new FixInterrupted();
        await heartbeat((f) => ({ steps: setStep(f.steps, id, state, detail) }));
      },
      remember: (facts) => heartbeat(() => facts),
      poll: (timeoutMs, probe, progress) => this.#poll(timeoutMs, probe, progress),
      sleep: (ms) => this.#sleep(ms),
      now: this.#now,
      audit,
      ledger: (grant, op) => this.#ledger(incident.id, grant, op),
    };
    let finished = false;
    const finish = async (outcome: 'succeeded' | 'failed', summary: string) => {
      finished = true;
      await this.#d.incidents.update(
        incident.id,
        (cur) =>
          cur.fix?.runId === runId
            ? {
                ...cur,
                status: outcome === 'succeeded' ? 'fixed' : 'failed',
                fix: { ...(cur.fix as FixRun), outcome, summary, finishedAt: this.#now().toISOString() },
              }
            : undefined,
        { now: true },
      );
      this.#count({ action, outcome });
      this.#duration((this.#now().getTime() - startedAt.getTime()) / 1000, { action, outcome });
      await audit({ action: 'finish', result: outcome, summary, detail: { action } });
    };

    try {
      // 1. Re-read the world: the plan must still be what the failure needs. A resumed run that got past this step
      //    does not look again: its own grant may have propagated meanwhile ("already granted" would stop it).
      if (previous?.steps.find((st) => st.id === 'recheck')?.state !== 'done') {
        await ctx.step('recheck', 'running');
        const fresh = await this.#d.recheck(incident);
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
        await this.#d.incidents
          .update(incident.id, (cur) =>
            cur.fix?.runId === runId
              ? { ...cur, fix: { ...cur.fix, interruptedAt: this.#now().toISOString() } }
              : undefined,
          )
          .catch(() => undefined);
        this.#d.logger.warn({ incident: incident.id }, 'fix interrupted by shutdown: it will be resumed');
        return;
      }
      this.#d.logger.error({ incident: incident.id, err: e }, 'fix failed');
      if (!finished) await finish('failed', `Stopped: ${errorMessage(e)}`);
    } finally {
      clearInterval(beating);
    }
  }

  /** Writes (or removes) one grant in the incident's ledger, matched by what it grants and the run that made it. */
  async #ledger(incidentId: string, grant: GrantRecord, op: 'put' | 'remove'): Promise<void> {
    await this.#d.incidents.update(incidentId, (cur) => {
      const others = (cur.grants ?? []).filter((g) => !sameGrant(g, grant));
      return { ...cur, grants: op === 'put' ? [...others, grant] : others };
    });
  }

  /** Polls until `probe` says done, or the timeout passes; every wait ends early on shutdown. */
  async #poll(
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
      await this.#sleep(Math.min(this.#d.timing.pollIntervalMs, timeoutMs - waited));
    }
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.#stopping.signal });
    } catch {
      throw new FixInterrupted();
    }
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
