import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import {
  type IncidentOrigin,
  incidentId,
  mergeSightings,
  newIncident,
  type PendingSighting,
} from '../incidents/merge.ts';
import type { FixRun, IncidentRecord, Sighting } from '../incidents/model.ts';
import { withPlan } from '../incidents/plan.ts';
import type { IncidentNotifier } from '../ports/notifier.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { ClusterAccess } from './cluster-access.ts';

export interface IncidentServiceDeps {
  readonly store: StateStore;
  readonly notifier: IncidentNotifier;
  readonly access: Pick<ClusterAccess, 'workloadHealth' | 'podsHealth'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
  readonly planTtlMs: number;
}

/** Ended incidents are kept this long (for the App Home history and re-opening), then forgotten. */
const RETENTION_MS = 14 * 24 * 60 * 60_000;

/** How long a recorded Pub/Sub delivery is remembered, to drop its redeliveries. */
export const DELIVERY_TTL_MS = 24 * 60 * 60_000;
/** Sightings per store write at most (in Firestore, the incident and the segments their deliveries go into). */
const MAX_BATCH = 400;

/** A sighting waiting for the next group-committed write, with the Pub/Sub delivery it came with. */
interface Waiting {
  readonly item: PendingSighting;
  readonly delivery: string | undefined;
  resolve(r: Recorded): void;
  reject(e: unknown): void;
}

/** What recording a sighting did: the incident as stored, and false when its delivery had been recorded before. */
export interface Recorded {
  readonly incident: IncidentRecord;
  readonly counted: boolean;
}

/**
 * Incidents: one per root cause (docs/incidents-and-fixes.md). Sightings of the same root cause merge into one
 * record (incidents/merge.ts) with its plan (incidents/plan.ts); exactly one writer creates each incident, the store
 * arbitrating between replicas. Every change is handed to the notifier, which shows it.
 */
export class IncidentService {
  readonly #d: IncidentServiceDeps;
  readonly #now: () => Date;
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  readonly #firstPost: (seconds: number) => void;
  /** Incidents known to exist (skips a store read per sighting). */
  readonly #known = new Set<string>();
  /** Incidents this process is opening (reading the store, creating): settles when it knows the incident exists. */
  readonly #opening = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, Waiting[]>();
  readonly #writing = new Set<string>();

  constructor(deps: IncidentServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_incident_events_total', 'Incident lifecycle events by kind', [
      'event',
      'finding',
    ]);
    this.#firstPost = deps.metrics.histogram(
      'imagepull_alert_to_first_post_seconds',
      'From receiving the alert that opens an incident to its message being posted',
      [],
      [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    );
  }

  /**
   * Records a diagnosis for a sighting. Creates the incident (and has it shown, awaited, so a failure to post
   * surfaces to the caller) or merges into the existing one.
   */
  async record(diagnosis: Diagnosis, sighting: Sighting, origin: IncidentOrigin): Promise<IncidentRecord> {
    return (await this.recordDelivered(diagnosis, sighting, origin)).incident;
  }

  /**
   * {@link record}, for a sighting that came with a Pub/Sub delivery key (`insertId`, `incident_id`): the key is
   * stored with the sighting in one write, and a redelivery of it — here, on another replica, after a restart — is
   * not counted again (`counted: false`).
   */
  async recordDelivered(
    diagnosis: Diagnosis,
    sighting: Sighting,
    origin: IncidentOrigin,
    delivery?: string,
  ): Promise<Recorded> {
    const id = incidentId(diagnosis.key);
    const now = this.#now();
    // One sighting per process opens an incident; those arriving meanwhile wait for it, then merge into it (a storm's
    // first thousand alerts would otherwise each read the store and race to create the same incident).
    for (let o = this.#opening.get(id); o && !this.#known.has(id); o = this.#opening.get(id)) await o;
    if (!this.#known.has(id)) {
      const { promise, resolve: opened } = Promise.withResolvers<void>();
      this.#opening.set(id, promise);
      let created = false;
      const fresh = withPlan(newIncident(diagnosis, sighting, origin, now.toISOString()), {
        now,
        ttlMs: this.#d.planTtlMs,
      });
      const leases = this.#d.notifier.firstPostLeases?.(fresh);
      try {
        const deliveries = delivery ? { keys: [delivery], ttlMs: DELIVERY_TTL_MS } : undefined;
        // Created without reading first: it is new far more often than it was made by another replica or before
        // a restart, and then the create fails and the sighting merges.
        created = await this.#d.store.createIncident(fresh, deliveries, leases);
        this.#known.add(id);
      } finally {
        this.#opening.delete(id);
        opened();
      }
      if (created) {
        this.#count({ event: 'created', finding: diagnosis.findings[0]?.id ?? diagnosis.cause });
        this.#d.logger.info(
          { incident: id, key: diagnosis.key, cause: diagnosis.cause, findings: diagnosis.findings.map((f) => f.id) },
          'incident created',
        );
        await this.#d.notifier.changed(id, { now: true, stored: fresh, ...(leases ? { leases } : {}) });
        if (origin.kind === 'alert' && origin.receivedAt)
          this.#firstPost((this.#now().getTime() - origin.receivedAt.getTime()) / 1000);
        return { incident: (await this.#d.store.getIncident(id)) ?? fresh, counted: true };
      }
    }
    return this.#merge(id, { diagnosis, sighting, at: now.toISOString() }, delivery);
  }

  /**
   * Creates an incident from a complete record — a pull-audit gap, with every workload and the audit's summary at
   * once — and has it shown before returning. False when it exists already (an earlier audit, another replica).
   */
  async open(record: IncidentRecord): Promise<boolean> {
    const fresh = withPlan(record, { now: this.#now(), ttlMs: this.#d.planTtlMs });
    const leases = this.#d.notifier.firstPostLeases?.(fresh);
    if (!(await this.#d.store.createIncident(fresh, undefined, leases))) return false;
    this.#known.add(record.id);
    const finding = record.diagnosis.findings[0]?.id ?? record.diagnosis.cause;
    this.#count({ event: 'created', finding });
    this.#d.logger.info({ incident: record.id, key: record.key, origin: record.origin, finding }, 'incident created');
    await this.#d.notifier.changed(record.id, { now: true, stored: fresh, ...(leases ? { leases } : {}) });
    return true;
  }

  /**
   * Group commit: sightings of one incident that arrive while a write is in flight are merged into the next single
   * write, with the deliveries they came with. Under an alert storm that is a few store writes per second per
   * incident, not one per message, and each caller still resolves only once its sighting is stored.
   */
  #merge(id: string, item: PendingSighting, delivery: string | undefined): Promise<Recorded> {
    return new Promise<Recorded>((resolve, reject) => {
      const waiting = this.#waiting.get(id);
      if (waiting) waiting.push({ item, delivery, resolve, reject });
      else this.#waiting.set(id, [{ item, delivery, resolve, reject }]);
      void this.#drain(id);
    });
  }

  async #drain(id: string): Promise<void> {
    if (this.#writing.has(id)) return;
    this.#writing.add(id);
    try {
      for (let queue = this.#waiting.get(id); queue?.length; queue = this.#waiting.get(id)) {
        const batch = queue.splice(0, MAX_BATCH);
        if (queue.length === 0) this.#waiting.delete(id);
        const keys = batch.flatMap((w) => (w.delivery ? [w.delivery] : []));
        // Which sightings the write counted: those without a delivery, and the first of each fresh key.
        let counted = new Set<Waiting>();
        try {
          const updated = await this.#d.store.updateIncident(
            id,
            (cur, fresh) => {
              const unseen = new Set(fresh);
              counted = new Set(batch.filter((w) => !w.delivery || unseen.delete(w.delivery)));
              if (counted.size === 0) return undefined;
              const items = batch.filter((w) => counted.has(w)).map((w) => w.item);
              return withPlan(mergeSightings(cur, items), { now: this.#now(), ttlMs: this.#d.planTtlMs });
            },
            keys.length > 0 ? { keys, ttlMs: DELIVERY_TTL_MS } : undefined,
          );
          if (!updated) throw new Error(`incident ${id} vanished while updating`);
          for (const w of batch) w.resolve({ incident: updated, counted: counted.has(w) });
          if (counted.size > 0) void this.#d.notifier.changed(id).catch(() => undefined);
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.#writing.delete(id);
    }
  }

  /** Applies a change to an incident and has it shown (`now`: before returning; a failure to show is logged). */
  async update(
    id: string,
    mutate: (r: IncidentRecord) => IncidentRecord | undefined,
    options?: { now?: boolean },
  ): Promise<IncidentRecord | undefined> {
    const r = await this.#d.store.updateIncident(id, (cur) => {
      const next = mutate(cur);
      return next ? { ...next, updatedAt: this.#now().toISOString() } : undefined;
    });
    // The state change is stored; showing it never fails the caller (the notifier retries).
    await this.#d.notifier
      .changed(id, options?.now ? { now: true } : {})
      .catch((e: unknown) =>
        this.#d.logger.warn({ incident: id, err: e }, 'incident update not shown yet; will retry'),
      );
    return r;
  }

  /**
   * Replaces the diagnosis (Re-check) and recomputes the plan. A dismissed or running incident keeps its status; a
   * resolved or fixed one that still fails is open again.
   */
  async replaceDiagnosis(id: string, diagnosis: Diagnosis): Promise<IncidentRecord | undefined> {
    return this.update(
      id,
      (cur) => {
        const status = cur.status === 'dismissed' || cur.status === 'fixing' ? cur.status : ('open' as const);
        return withPlan({ ...cur, diagnosis, status }, { now: this.#now(), ttlMs: this.#d.planTtlMs, renew: true });
      },
      { now: true },
    );
  }

  /**
   * Undo removed every member the bot added: the incident is `undone` and its plan renewed as a grant without a
   * restart (the pods that pulled still run), so the message offers the grant again. A running fix keeps its state.
   */
  async markUndone(id: string, undo: NonNullable<FixRun['undo']>): Promise<IncidentRecord | undefined> {
    return this.update(
      id,
      (cur) => {
        const fix = cur.fix ? { ...cur.fix, undo } : undefined;
        const next = { ...cur, ...(fix ? { fix } : {}) };
        if (cur.status === 'fixing' || undo.outcome !== 'succeeded') return next;
        return withPlan({ ...next, status: 'undone' }, { now: this.#now(), ttlMs: this.#d.planTtlMs, renew: true });
      },
      { now: true },
    );
  }

  /**
   * A Re-check found another root cause: the new one gets its own incident (created, or joined if it exists, with
   * the workloads of this one) and this one is marked `superseded`, pointing at it. A running fix is left alone.
   */
  async supersede(old: IncidentRecord, diagnosis: Diagnosis): Promise<IncidentRecord | undefined> {
    const origin: IncidentOrigin =
      old.origin === 'command' && old.requestedIn && old.requestedBy
        ? { kind: 'command', user: old.requestedBy, channel: old.requestedIn }
        : { kind: 'alert' };
    const sightings: Sighting[] = old.affected.map((a) => ({
      cluster: a.cluster,
      namespace: a.namespace,
      ...(a.pods[0] ? { pod: a.pods[0] } : {}),
      ...(a.workload ? { workload: a.workload } : {}),
      alerts: 0,
    }));
    let next: IncidentRecord | undefined;
    for (const s of sightings) next = await this.record(diagnosis, s, origin);
    if (!next) return undefined;
    const by = { id: next.id, headline: diagnosis.headline };
    return this.update(
      old.id,
      (cur) =>
        cur.status === 'fixing' || cur.id === by.id ? undefined : { ...cur, status: 'superseded', supersededBy: by },
      { now: true },
    );
  }

  get(id: string): Promise<IncidentRecord | undefined> {
    return this.#d.store.getIncident(id);
  }

  /**
   * Re-checks the affected pods of open incidents; when every one of them runs (or is gone), the incident is
   * resolved. Used on a `closed` Monitoring notification and periodically.
   */
  async sweep(filter?: (r: IncidentRecord) => boolean): Promise<number> {
    if (!filter) await this.#purge();
    const open = (await this.#d.store.listIncidents(['open', 'failed'])).filter((r) => !filter || filter(r));
    let resolved = 0;
    for (const r of open) {
      try {
        if (!(await this.#healthy(r))) {
          // Still failing: refresh the message's counts from the cluster (nothing is sent if they did not change).
          void this.#d.notifier.changed(r.id).catch(() => undefined);
          continue;
        }
        await this.update(r.id, (cur) =>
          cur.status === 'open' || cur.status === 'failed'
            ? { ...cur, status: 'resolved', resolvedAt: this.#now().toISOString() }
            : undefined,
        );
        this.#count({ event: 'resolved' });
        this.#d.logger.info({ incident: r.id }, 'incident resolved: affected pods run');
        resolved++;
      } catch (e) {
        this.#d.logger.warn({ incident: r.id, err: e }, 'could not check whether the incident is resolved');
      }
    }
    return resolved;
  }

  /** Resolves the incidents fed by a Monitoring incident that closed, if their pods now run. */
  async monitoringIncidentClosed(alertIncidentId: string): Promise<number> {
    const fed = new Set((await this.#d.store.listIncidents(['open', 'failed'], alertIncidentId)).map((r) => r.id));
    return fed.size === 0 ? 0 : this.sweep((r) => fed.has(r.id));
  }

  /** Forgets incidents that ended (resolved, fixed, dismissed, undone, superseded) over two weeks ago, so sweeps stay small. */
  async #purge(): Promise<void> {
    const cutoff = this.#now().getTime() - RETENTION_MS;
    for (const r of await this.#d.store.listIncidents(['resolved', 'fixed', 'dismissed', 'undone', 'superseded'])) {
      if (new Date(r.updatedAt).getTime() < cutoff) await this.#d.store.deleteIncident(r.id);
    }
  }

  async #healthy(r: IncidentRecord): Promise<boolean> {
    // A gap the pull audit found fails no pod yet: the audit resolves it when the gap closes (usecases/prevention.ts).
    if (r.origin === 'audit' && r.alertCount === 0) return false;
    // An incident about an image alone (`/imagepull diagnose IMAGE --share`) has no pods to watch: it never resolves
    // by itself.
    if (r.affected.some((a) => !a.workload && a.pods.length === 0)) return false;
    for (const a of r.affected) {
      const h = a.workload
        ? await this.#d.access.workloadHealth(a.cluster, a.workload)
        : await this.#d.access.podsHealth(a.cluster, a.namespace, a.pods);
      if (h.failing.length > 0 || h.ready < h.total) return false;
    }
    return r.affected.length > 0;
  }
}
