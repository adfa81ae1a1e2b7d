import { createHash, randomUUID } from 'node:crypto';
import type { FixMode } from '../config.ts';
import type { Diagnosis, RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import type { ClusterRef, WorkloadRef } from '../diagnosis/facts.ts';
import { fixingIsStale } from '../fixes/guards.ts';
import type { ChatMessage, ChatPort } from '../ports/chat.port.ts';
import type { AffectedWorkload, IncidentRecord, PlanRecord, StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { incidentMessage } from '../slack/blocks/incident.blocks.ts';
import type { ClusterAccess } from './cluster-access.ts';

export interface IncidentServiceDeps {
  readonly store: StateStore;
  readonly chat: ChatPort;
  readonly access: ClusterAccess;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
  readonly channel: string;
  readonly fixMode: FixMode;
  readonly updateIntervalMs: number;
  readonly planTtlMs: number;
  /** The longest a fix can run; a `fixing` incident older than this was abandoned. */
  readonly staleFixingMs: number;
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

const MAX_POD_NAMES = 200;
/** Ended incidents are kept this long (for the App Home history and re-opening), then forgotten. */
const RETENTION_MS = 14 * 24 * 60 * 60_000;
/** How long the replica that created an incident has to post its message before another may. */
const POST_LEASE_MS = 60_000;

/** Slack errors that no retry fixes (https://api.slack.com/methods/chat.postMessage#errors). */
const PERMANENT_SLACK_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'invalid_blocks',
  'msg_too_long',
  'restricted_action',
]);

function slackError(e: unknown): string | undefined {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

interface PendingSighting {
  readonly diagnosis: Diagnosis;
  readonly sighting: Sighting;
  readonly at: string;
}

interface Batch {
  readonly items: PendingSighting[];
  readonly done: Promise<IncidentRecord>;
  resolve(r: IncidentRecord): void;
  reject(e: unknown): void;
}

/** Stable short id of a root-cause key: button values and store documents use it. */
export function incidentId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Incidents: one Slack message per root cause (DESIGN §5). Sightings of the same root cause merge into one record
 * whose counters and affected workloads are re-rendered in place, at most once per `updateIntervalMs` per message.
 * Exactly one writer creates (and posts) each incident; the store arbitrates between replicas.
 */
export class IncidentService {
  readonly #d: IncidentServiceDeps;
  readonly #now: () => Date;
  readonly #render = new Map<
    string,
    { timer?: NodeJS.Timeout; inFlight?: Promise<void>; lastAt: number; dirty: boolean }
  >();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  /** Incidents known to exist (skips a store read per sighting). */
  readonly #known = new Set<string>();
  readonly #batches = new Map<string, Batch>();
  readonly #writing = new Set<string>();
  readonly #owner = randomUUID();
  #closed = false;

  constructor(deps: IncidentServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_incident_events_total', 'Incident lifecycle events by kind');
  }

  get fixMode(): FixMode {
    return this.#d.fixMode;
  }

  /**
   * Records a diagnosis for a sighting. Creates the incident (and posts its message, awaited, so a failure to post
   * surfaces to the caller) or merges into the existing one and schedules a coalesced update.
   */
  async record(
    diagnosis: Diagnosis,
    sighting: Sighting,
    origin: { kind: 'alert' } | { kind: 'command'; user: string; channel: string },
  ): Promise<IncidentRecord> {
    const id = incidentId(diagnosis.key);
    const now = this.#now().toISOString();
    const existing = this.#known.has(id) || (await this.#d.store.getIncident(id)) !== undefined;
    if (!existing) {
      const fresh: IncidentRecord = {
        id,
        key: diagnosis.key,
        status: 'open',
        createdAt: now,
        updatedAt: now,
        ...(origin.kind === 'command' ? { channel: origin.channel, requestedBy: origin.user } : {}),
        diagnosis,
        affected: mergeAffected([], sighting, now),
        alertCount: sighting.alerts,
        alertIncidentIds: sighting.alertIncidentId ? [sighting.alertIncidentId] : [],
        origin: origin.kind,
        version: 1,
      };
      const withPlan = { ...fresh, ...this.#planFor(fresh) };
      if (await this.#d.store.createIncident(withPlan)) {
        this.#known.add(id);
        this.#count({ event: 'created', finding: diagnosis.findings[0]?.id ?? diagnosis.cause });
        this.#d.logger.info(
          { incident: id, key: diagnosis.key, cause: diagnosis.cause, findings: diagnosis.findings.map((f) => f.id) },
          'incident created',
        );
        await this.flush(id);
        return (await this.#d.store.getIncident(id)) ?? withPlan;
      }
    }
    this.#known.add(id);
    return this.#merge(id, { diagnosis, sighting, at: now });
  }

  /**
   * Group commit: sightings of one incident that arrive while a write is in flight are merged into the next single
   * write. Under an alert storm that is a few store transactions per second per incident, not one per message,
   * and each caller still resolves only once its sighting is stored.
   */
  #merge(id: string, item: PendingSighting): Promise<IncidentRecord> {
    let batch = this.#batches.get(id);
    if (!batch) {
      let resolve!: (r: IncidentRecord) => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<IncidentRecord>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      batch = { items: [], done, resolve, reject };
      this.#batches.set(id, batch);
    }
    batch.items.push(item);
    void this.#drain(id);
    return batch.done;
  }

  async #drain(id: string): Promise<void> {
    if (this.#writing.has(id)) return;
    this.#writing.add(id);
    try {
      for (let batch = this.#batches.get(id); batch; batch = this.#batches.get(id)) {
        this.#batches.delete(id);
        const items = batch.items;
        try {
          const updated = await this.#d.store.updateIncident(id, (cur) => {
            let merged: IncidentRecord = cur;
            for (const { diagnosis, sighting, at } of items) {
              const reopened =
                merged.status === 'resolved' ||
                (merged.status === 'fixed' && sighting.alerts > 0 && isAfterFix(merged, at));
              merged = {
                ...merged,
                updatedAt: at,
                status: reopened ? 'open' : merged.status,
                ...(reopened ? { diagnosis } : {}),
                affected: mergeAffected(merged.affected, sighting, at),
                alertCount: merged.alertCount + sighting.alerts,
                alertIncidentIds:
                  sighting.alertIncidentId && !merged.alertIncidentIds.includes(sighting.alertIncidentId)
                    ? [...merged.alertIncidentIds, sighting.alertIncidentId]
                    : merged.alertIncidentIds,
              };
            }
            return { ...merged, ...this.#planFor(merged) };
          });
          if (!updated) throw new Error(`incident ${id} vanished while updating`);
          batch.resolve(updated);
          this.requestRender(id);
        } catch (e) {
          batch.reject(e);
        }
      }
    } finally {
      this.#writing.delete(id);
    }
  }

  /** Applies a change to an incident and schedules its re-render. */
  async update(
    id: string,
    mutate: (r: IncidentRecord) => IncidentRecord | undefined,
    options?: { now?: boolean },
  ): Promise<IncidentRecord | undefined> {
    const r = await this.#d.store.updateIncident(id, (cur) => {
      const next = mutate(cur);
      return next ? { ...next, updatedAt: this.#now().toISOString() } : undefined;
    });
    // The state change is stored; showing it never fails the caller (a Slack error is logged and retried).
    if (options?.now) {
      await this.flush(id).catch((e: unknown) =>
        this.#d.logger.warn({ incident: id, err: e }, 'incident update not shown yet; will retry'),
      );
    } else this.requestRender(id);
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
        const next = { ...cur, diagnosis, status };
        return { ...next, ...this.#planFor(next, true) };
      },
      { now: true },
    );
  }

  get(id: string): Promise<IncidentRecord | undefined> {
    return this.#d.store.getIncident(id);
  }

  /** Marks for re-render, coalesced: at most one chat.update per message per interval. */
  requestRender(id: string): void {
    if (this.#closed) return;
    const st = this.#render.get(id) ?? { lastAt: 0, dirty: false };
    this.#render.set(id, st);
    st.dirty = true;
    if (st.timer || st.inFlight) return;
    const wait = Math.max(0, st.lastAt + this.#d.updateIntervalMs - Date.now());
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void this.flush(id).catch((e) =>
        this.#d.logger.warn({ incident: id, err: e }, 'incident update failed; will retry'),
      );
    }, wait);
    st.timer.unref?.();
  }

  /** Posts (first time) or updates the incident message now. Retries later on failure. */
  async flush(id: string): Promise<void> {
    const st = this.#render.get(id) ?? { lastAt: 0, dirty: true };
    this.#render.set(id, st);
    if (st.inFlight) {
      st.dirty = true;
      return st.inFlight;
    }
    if (st.timer) {
      clearTimeout(st.timer);
      st.timer = undefined;
    }
    st.dirty = false;
    st.inFlight = (async () => {
      try {
        const rec = await this.#d.store.getIncident(id);
        if (!rec) return;
        const message = incidentMessage(rec, { fixMode: this.#d.fixMode, now: this.#now() });
        if (rec.ts && rec.channel) {
          try {
            await this.#d.chat.update({ channel: rec.channel, ts: rec.ts }, message);
            this.#count({ event: 'updated' });
          } catch (e) {
            if (slackError(e) !== 'message_not_found') throw e;
            // Someone deleted the message: post a new one rather than retrying an update forever.
            this.#d.logger.warn({ incident: id }, 'incident message was deleted; posting it again');
            // Only if no other replica has re-posted it meanwhile.
            await this.#d.store.updateIncident(id, ({ ts, ...cur }) => (ts === rec.ts ? cur : undefined));
            st.dirty = true;
          }
        } else if (await this.#d.store.acquireLock(`post:${id}`, this.#owner, POST_LEASE_MS)) {
          // Exactly one replica posts: the creator holds the lease; another takes over only if it lapses.
          const posted = await this.#d.chat.post(rec.channel ?? this.#d.channel, message);
          const stored = await this.#d.store.updateIncident(id, (cur) => ({
            ...cur,
            channel: posted.channel,
            ts: posted.ts,
          }));
          if (stored && stored.version > rec.version + 1) st.dirty = true;
          this.#count({ event: 'posted' });
          this.#d.logger.info({ incident: id, channel: posted.channel, ts: posted.ts }, 'incident posted');
        } else {
          // Another replica is posting it: render again once its message exists.
          st.dirty = true;
        }
      } catch (e) {
        const code = slackError(e);
        if (code && PERMANENT_SLACK_ERRORS.has(code)) {
          // Retrying cannot help (the bot is not in the channel, the channel is gone…): say so once, loudly.
          this.#d.logger.error(
            { incident: id, slackError: code },
            'cannot post or update the incident message; fix the Slack setup',
          );
          this.#count({ event: 'slack-error', code });
          return;
        }
        st.dirty = true;
        throw e;
      } finally {
        st.lastAt = Date.now();
        st.inFlight = undefined;
        if (st.dirty) this.requestRender(id);
      }
    })();
    return st.inFlight;
  }

  /** Posts a thread reply under the incident message (audit trail, dry runs). */
  async reply(id: string, message: ChatMessage): Promise<void> {
    try {
      const rec = await this.#d.store.getIncident(id);
      if (rec?.channel && rec.ts) await this.#d.chat.reply({ channel: rec.channel, ts: rec.ts }, message);
    } catch (e) {
      // The audit record is already stored and logged; a thread reply that fails must not fail the caller.
      this.#d.logger.warn({ incident: id, err: e }, 'could not post the thread reply');
    }
  }

  /**
   * Re-checks the affected pods of open incidents; when every one of them runs (or is gone), the message turns to
   * Resolved. Used on a `closed` Monitoring notification and periodically.
   */
  async sweep(filter?: (r: IncidentRecord) => boolean): Promise<number> {
    await this.#releaseStaleRuns();
    if (!filter) await this.#purge();
    const open = (await this.#d.store.listIncidents(['open', 'failed'])).filter((r) => !filter || filter(r));
    let resolved = 0;
    for (const r of open) {
      try {
        if (await this.#healthy(r)) {
          await this.update(r.id, (cur) =>
            cur.status === 'open' || cur.status === 'failed'
              ? { ...cur, status: 'resolved', resolvedAt: this.#now().toISOString() }
              : undefined,
          );
          this.#count({ event: 'resolved' });
          this.#d.logger.info({ incident: r.id }, 'incident resolved: affected pods run');
          resolved++;
        }
      } catch (e) {
        this.#d.logger.warn({ incident: r.id, err: e }, 'could not check whether the incident is resolved');
      }
    }
    return resolved;
  }

  /** Forgets incidents that ended (resolved, fixed, dismissed) more than two weeks ago, so sweeps stay small. */
  async #purge(): Promise<void> {
    const cutoff = this.#now().getTime() - RETENTION_MS;
    for (const r of await this.#d.store.listIncidents(['resolved', 'fixed', 'dismissed'])) {
      if (new Date(r.updatedAt).getTime() < cutoff) await this.#d.store.deleteIncident(r.id);
    }
  }

  /** A run whose replica died leaves `fixing` behind: after the longest possible run, call it failed. */
  async #releaseStaleRuns(): Promise<void> {
    const now = this.#now();
    for (const r of await this.#d.store.listIncidents(['fixing'])) {
      if (!fixingIsStale(r, now, this.#d.staleFixingMs)) continue;
      await this.update(r.id, (cur) =>
        fixingIsStale(cur, now, this.#d.staleFixingMs) && cur.fix
          ? {
              ...cur,
              status: 'failed',
              fix: {
                ...cur.fix,
                outcome: 'failed',
                finishedAt: now.toISOString(),
                summary:
                  'Interrupted: the bot replica running this fix stopped. Press Re-check, then approve again if needed.',
              },
            }
          : undefined,
      );
      this.#d.logger.warn({ incident: r.id }, 'a fix was left running by a replica that stopped: marked failed');
    }
  }

  /** Resolves the incidents fed by a Monitoring incident that closed, if their pods now run. */
  async monitoringIncidentClosed(alertIncidentId: string): Promise<number> {
    const fed = new Set((await this.#d.store.listIncidents(['open', 'failed'], alertIncidentId)).map((r) => r.id));
    return fed.size === 0 ? 0 : this.sweep((r) => fed.has(r.id));
  }

  async #healthy(r: IncidentRecord): Promise<boolean> {
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

  /** Flushes pending renders and stops scheduling (SIGTERM). */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = [...this.#render.entries()];
    for (const [, st] of pending) if (st.timer) clearTimeout(st.timer);
    await Promise.allSettled(
      pending.map(async ([id, st]) => {
        await st.inFlight;
        if (!st.dirty) return;
        // The last update still keeps to the per-message interval (within the shutdown grace period).
        const wait = Math.max(0, st.lastAt + this.#d.updateIntervalMs - Date.now());
        await new Promise((r) => setTimeout(r, wait));
        await this.flush(id);
      }),
    );
  }

  /** The plan a person approves: the diagnosis's grant plus a restart of every affected workload. */
  #planFor(r: IncidentRecord, renew = false): { plan?: PlanRecord } {
    const fixes = r.diagnosis.fixes;
    const grant = fixes.find((f) => f.kind === 'grant-repo-reader');
    const wantsRestart = fixes.some((f) => f.kind === 'restart-workload');
    const restarts: RestartWorkloadPlan[] = wantsRestart
      ? r.affected.flatMap((a) =>
          a.workload ? [{ kind: 'restart-workload' as const, cluster: a.cluster, workload: a.workload }] : [],
        )
      : [];
    if (!grant && restarts.length === 0) return {};
    const content = JSON.stringify({ grant, restarts });
    const id = createHash('sha256').update(`${r.id}|${content}`).digest('hex').slice(0, 10);
    const now = this.#now();
    if (!renew && r.plan?.id === id && new Date(r.plan.expiresAt) > now) return { plan: r.plan };
    return {
      plan: {
        id,
        ...(grant ? { grant } : {}),
        restarts,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.#d.planTtlMs).toISOString(),
      },
    };
  }
}

function mergeAffected(list: readonly AffectedWorkload[], s: Sighting, now: string): AffectedWorkload[] {
  const same = (a: AffectedWorkload) =>
    a.cluster.project === s.cluster.project &&
    a.cluster.location === s.cluster.location &&
    a.cluster.name === s.cluster.name &&
    a.namespace === s.namespace &&
    (s.workload
      ? a.workload?.kind === s.workload.kind && a.workload.name === s.workload.name
      : !a.workload && a.pods.includes(s.pod ?? ''));
  const i = list.findIndex(same);
  if (i < 0) {
    return [
      ...list,
      {
        cluster: s.cluster,
        namespace: s.namespace,
        ...(s.workload ? { workload: s.workload } : {}),
        pods: s.pod ? [s.pod] : [],
        podCount: s.pod ? 1 : 0,
        firstSeen: now,
        lastSeen: now,
      },
    ];
  }
  const a = list[i] as AffectedWorkload;
  const isNew = s.pod !== undefined && !a.pods.includes(s.pod);
  const pods = isNew && a.pods.length < MAX_POD_NAMES ? [...a.pods, s.pod as string] : a.pods;
  const next = { ...a, pods, podCount: a.podCount + (isNew ? 1 : 0), lastSeen: now };
  return list.map((x, j) => (j === i ? next : x));
}

/** A sighting after a successful fix means the problem is back (fixes are verified before they are marked fixed). */
function isAfterFix(r: IncidentRecord, now: string): boolean {
  const done = r.fix?.finishedAt;
  return done !== undefined && now > new Date(new Date(done).getTime() + 60_000).toISOString();
}
