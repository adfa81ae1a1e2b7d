import { randomUUID } from 'node:crypto';
import type { FixMode } from '../config.ts';
import type { FixAction, FixStep, IncidentRecord, PlanRecord } from '../incidents/model.ts';
import type { Metrics } from '../shared/metrics.ts';
import { type Decision, fixingIsStale, planCurrent, type RefusalCode, refuse, staleRunMs } from './guards.ts';
import { commandsFor, stepsFor } from './index.ts';
import { executeRun, type RunDeps, type RunEnv } from './run-execution.ts';

/** What the runner needs: what a run needs (`RunDeps`), the fix mode, metrics and, for tests, a clock. */
export interface FixRunnerDeps extends RunDeps {
  readonly fixMode: FixMode;
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
 * as interrupted. What a run does once started is `executeRun` (run-execution.ts).
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
    const done: Promise<void> = executeRun(this.#env(), run, plan, action, user, runId)
      .catch((e: unknown) => this.#d.logger.error({ err: e, incident: incident.id }, 'fix run crashed'))
      .finally(async () => {
        await this.#d.locks.releaseLock(lock, runId).catch(() => undefined);
        this.#runs.delete(done);
      });
    this.#runs.add(done);
    return { ok: true, dryRun: false, done };
  }

  /** What a run gets from this runner: its deps, clock, lock lifetime, shutdown signal and metrics. */
  #env(): RunEnv {
    return {
      deps: this.#d,
      now: this.#now,
      staleMs: this.staleMs,
      stopping: this.#stopping.signal,
      finished: (action, outcome, seconds) => {
        this.#count({ action, outcome });
        this.#duration(seconds, { action, outcome });
      },
    };
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
      const done: Promise<void> = executeRun(this.#env(), resumed, plan, action, fix.approvedBy, runId, fix)
        .catch((e: unknown) => this.#d.logger.error({ err: e, incident: r.id }, 'resumed fix run crashed'))
        .finally(async () => {
          await this.#d.locks.releaseLock(lock, runId).catch(() => undefined);
          this.#runs.delete(done);
        });
      this.#runs.add(done);
    }
    return taken;
  }
}
