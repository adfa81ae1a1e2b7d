import { randomUUID } from 'node:crypto';
import type { ClusterRef, FactError } from '../diagnosis/facts.ts';
import type { UninvestigableNotifier, UninvestigableSummary } from '../ports/notifier.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';

export interface UninvestigableDeps {
  readonly notifier: UninvestigableNotifier;
  readonly store: Pick<StateStore, 'acquireLock'>;
  readonly logger: Logger;
  /** One message per window at most (default one hour). */
  readonly windowMs?: number;
  /** How long the first alert of a window waits for the rest of its burst before the message is posted. */
  readonly firstDelayMs?: number;
  /** Minimum spacing of the message's updates. */
  readonly updateIntervalMs?: number;
  readonly now?: () => Date;
}

/** Clusters named per reason in the summary; the rest are counted. */
const MAX_CLUSTERS = 500;

interface Tally {
  alerts: number;
  message: string;
  permission?: string;
  readonly clusters: Map<string, number>;
}

/**
 * Alerts whose cluster the bot cannot read at all — it does not exist, or the bot may not see its project — cannot be
 * investigated: each would otherwise become its own incident post (an alert is input from whoever can publish to the
 * topic: 100 made-up cluster names were 100 posts). They are acknowledged and counted here instead, and shown as one
 * message per window that says which clusters and why, edited as more come (docs/alerts.md, "Alerts that cannot be
 * investigated"). With several replicas one holds the window's message (a store lease); the others log and count.
 */
export class UninvestigableAlerts {
  readonly #d: UninvestigableDeps;
  readonly #now: () => Date;
  readonly #owner = randomUUID();
  readonly #window: number;
  #current: { start: number; held: Promise<boolean>; tallies: Map<string, Tally>; total: number; lastAt: number } =
    this.#fresh(-1);
  #timer: NodeJS.Timeout | undefined;
  #lastShown = 0;
  #showing: Promise<void> | undefined;
  #closed = false;

  constructor(deps: UninvestigableDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#window = deps.windowMs ?? 60 * 60_000;
  }

  /** Counts one alert whose cluster could not be read, and schedules the window's message. */
  record(cluster: ClusterRef, error: FactError): void {
    const now = this.#now().getTime();
    const start = now - (now % this.#window);
    if (start !== this.#current.start) this.#current = this.#fresh(start);
    const w = this.#current;
    const tally: Tally = w.tallies.get(error.code) ?? { alerts: 0, message: error.message, clusters: new Map() };
    w.tallies.set(error.code, tally);
    tally.alerts++;
    tally.message = error.message;
    if (error.permission) tally.permission = error.permission;
    const name = `${cluster.project}/${cluster.location}/${cluster.name}`;
    const seen = tally.clusters.get(name);
    if (seen !== undefined) tally.clusters.set(name, seen + 1);
    else if (tally.clusters.size < MAX_CLUSTERS) tally.clusters.set(name, 1);
    else tally.clusters.set(OTHERS, (tally.clusters.get(OTHERS) ?? 0) + 1);
    w.total++;
    w.lastAt = now;
    if (w.total === 1)
      this.#d.logger.warn(
        { cluster: name, code: error.code },
        'alert cannot be investigated: its cluster cannot be read',
      );
    this.#schedule(w.total === 1);
  }

  /** The window so far, as the message shows it. */
  summary(): UninvestigableSummary {
    const w = this.#current;
    const reasons = [...w.tallies.entries()]
      .map(([code, t]) => {
        const named = [...t.clusters.entries()].filter(([c]) => c !== OTHERS);
        return {
          code,
          message: t.message,
          ...(t.permission ? { permission: t.permission } : {}),
          alerts: t.alerts,
          clusters: named.sort((a, b) => b[1] - a[1]).map(([cluster, alerts]) => ({ cluster, alerts })),
          clusterCount: named.length + (t.clusters.has(OTHERS) ? 1 : 0),
        };
      })
      .sort((a, b) => b.alerts - a.alerts);
    return {
      window: new Date(Math.max(0, w.start)).toISOString(),
      total: w.total,
      reasons,
      lastAt: new Date(w.lastAt).toISOString(),
    };
  }

  /** Shows what is pending, then stops scheduling. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#show();
    }
    await this.#showing;
  }

  #fresh(start: number) {
    return {
      start,
      held: start < 0 ? Promise.resolve(false) : this.#lease(start),
      tallies: new Map<string, Tally>(),
      total: 0,
      lastAt: start,
    };
  }

  #lease(start: number): Promise<boolean> {
    return this.#d.store
      .acquireLock(`uninvestigable:${new Date(start).toISOString()}`, this.#owner, this.#window)
      .catch(() => false);
  }

  #schedule(first: boolean): void {
    if (this.#timer || this.#closed) return;
    const spacing = this.#d.updateIntervalMs ?? 30_000;
    const wait = first
      ? (this.#d.firstDelayMs ?? 2000)
      : Math.max(0, this.#lastShown + spacing - this.#now().getTime());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#show();
    }, wait);
    this.#timer.unref();
  }

  async #show(): Promise<void> {
    await this.#showing;
    const w = this.#current;
    const run = (async () => {
      if (!(await w.held)) return;
      this.#lastShown = this.#now().getTime();
      try {
        await this.#d.notifier.show(this.summary());
      } catch (e) {
        this.#d.logger.error({ err: e }, 'the message about alerts that cannot be investigated could not be shown');
      }
    })();
    this.#showing = run;
    await run;
  }
}

const OTHERS = '\u0000others';

/** Read errors of the cluster itself that mean no alert from it can be investigated until someone acts. */
export function cannotInvestigate(error: FactError): boolean {
  return error.code === 'not-found' || error.code === 'permission-denied' || error.code === 'unauthenticated';
}
