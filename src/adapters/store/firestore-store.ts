import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Firestore, Timestamp } from '@google-cloud/firestore';
import type { AuditRecord, IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { Deliveries, Leases, StateStore } from '../../ports/store.port.ts';
import { setNewest } from '../../shared/bounded.ts';
import type { Logger } from '../../shared/logger.ts';
import {
  DeliveryLog,
  decodeSegment,
  deliveryHash,
  encodeSegment,
  type Segment,
  segmentExpiry,
} from './delivery-log.ts';

export interface FirestoreStoreOptions {
  readonly projectId: string;
  readonly logger: Logger;
  /** Collection name prefix, so several bots (or tests) can share a database. */
  readonly prefix?: string;
  /** `host:port` of the Firestore emulator (else FIRESTORE_EMULATOR_HOST, read by the library, or the real service). */
  readonly emulatorHost?: string;
}

/**
 * State in Firestore, for several replicas sharing one subscription (docs/architecture.md, "State"): incidents are
 * created with `create()` (exactly one writer wins); incidents and locks change by conditional writes (read, then
 * write only if the document is unchanged: {@link conditionally}); locks are leases with an expiry. Records are stored
 * as JSON text plus the few fields queries need.
 *
 * The Pub/Sub deliveries an incident's sightings came with are kept in a few segment documents per incident
 * (`deliveries`: adapters/store/delivery-log.ts), written in the same atomic commit as the incident, which also
 * records which segments hold live deliveries (`deliveryFrom`, `deliverySegments`, beside the record). Every segment
 * write goes with an incident write conditional on the incident being as read, so the incident's update time stands
 * for its deliveries too. Under a storm that is one commit of two documents per group of sightings (usecases/incidents.ts), not a claim
 * and a completion per alert, nor a document per delivery.
 */
export class FirestoreStore implements StateStore {
  readonly #db: Firestore;
  readonly #p: string;
  readonly #logger: Logger;
  /**
   * The incidents this store last wrote with deliveries, as written: the next group of sightings is committed on
   * them without reading first (the write is conditional on the incident being unchanged since, so a write by
   * anyone else in between makes it fail, and it is read and tried again).
   */
  readonly #written = new Map<string, Stored>();
  /**
   * The delivery logs this store last read or wrote: on a re-read, their full segments (never written again) are
   * kept and only the last one, and any after it, are read.
   */
  readonly #logs = new Map<string, DeliveryLog>();

  constructor(o: FirestoreStoreOptions) {
    this.#db = new Firestore({
      projectId: o.projectId,
      ignoreUndefinedProperties: true,
      ...(o.emulatorHost ? { host: o.emulatorHost, ssl: false, customHeaders: { Authorization: 'Bearer owner' } } : {}),
    });
    this.#p = o.prefix ?? 'imagepull';
    this.#logger = o.logger;
  }

  #col(name: string) {
    return this.#db.collection(`${this.#p}_${name}`);
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const snap = await this.#col('incidents').doc(id).get();
    return snap.exists ? decode(snap.get('data')) : undefined;
  }

  async createIncident(record: IncidentRecord, deliveries?: Deliveries, leases?: Leases): Promise<boolean> {
    const ref = this.#col('incidents').doc(record.id);
    try {
      if (!deliveries?.keys.length && !leases?.names.length) await ref.create(encode(record));
      else {
        const now = Date.now();
        const { log, written } = new DeliveryLog(record.createdAt).with(
          [...new Set(deliveries?.keys ?? [])].map(deliveryHash),
          now + (deliveries?.ttlMs ?? 0),
          now,
        );
        const batch = this.#db.batch().create(ref, { ...encode(record), ...segmentFields(log) });
        for (const i of written) batch.set(this.#segment(record.id, log.createdAt, i), segmentDoc(log, i));
        // Set, not create: a lease left by an incident of the same id deleted since is not this one's.
        if (leases)
          for (const name of leases.names) batch.set(this.#lock(name), lease(name, leases.owner, leases.ttlMs));
        const [result] = await batch.commit();
        if (result) this.#remember(record.id, { record, at: result.writeTime, log });
      }
      return true;
    } catch (e) {
      if (alreadyExists(e)) return false;
      throw e;
    }
  }

  async updateIncident(
    id: string,
    mutate: (current: IncidentRecord, fresh: ReadonlySet<string>) => IncidentRecord | undefined,
    deliveries?: Deliveries,
  ): Promise<IncidentRecord | undefined> {
    const ref = this.#col('incidents').doc(id);
    if (!deliveries?.keys.length) {
      return conditionally(ref, (snap) => {
        if (!snap.exists) return { result: undefined };
        const current = decode(snap.get('data'));
        const next = mutate(current, new Set());
        if (!next) return { result: current };
        const stored = { ...next, version: current.version + 1 };
        return { result: stored, write: encode(stored) };
      });
    }
    const keys = [...new Set(deliveries.keys)];
    const hashes = keys.map(deliveryHash);
    for (let attempt = 1; ; attempt++) {
      // Optimistic: the incident as this store last wrote it, unread; the commit fails if anyone wrote since.
      const known = this.#written.get(id);
      this.#written.delete(id);
      const state = known ?? (await this.#read(id));
      if (!state) return undefined;
      const now = Date.now();
      const fresh = new Set<string>();
      const freshHashes: string[] = [];
      keys.forEach((k, i) => {
        const h = hashes[i] as string;
        if (state.log.remembers(h, now)) return;
        fresh.add(k);
        freshHashes.push(h);
      });
      const next = mutate(state.record, fresh);
      // Nothing to write: answer with the incident as it is now, read if it was only remembered.
      if (!next && known) continue;
      if (!next) return state.record;
      const stored = { ...next, version: state.record.version + 1 };
      const { log, written } = state.log.with(freshHashes, now + deliveries.ttlMs, now);
      const batch = this.#db
        .batch()
        .update(ref, { ...encode(stored), ...segmentFields(log) }, { lastUpdateTime: state.at });
      for (const i of written) batch.set(this.#segment(id, log.createdAt, i), segmentDoc(log, i));
      try {
        const [result] = await batch.commit();
        if (result) this.#remember(id, { record: stored, at: result.writeTime, log });
        return stored;
      } catch (e) {
        if (!failedPrecondition(e) || attempt >= CONDITIONAL_ATTEMPTS) throw e;
        // Read again at once after a write made on what this store wrote last; another writer came first otherwise.
        if (!known) await delay(Math.random() * Math.min(5 * 2 ** attempt, 200));
      }
    }
  }

  /**
   * The incident and its delivery log, read in one round trip when this store has seen the log before (its last
   * segment and the next one, beside the incident); the segments it could not know of are read after.
   */
  async #read(id: string): Promise<Stored | undefined> {
    const ref = this.#col('incidents').doc(id);
    const prior = this.#logs.get(id);
    const guess = prior ? [prior.end - 1, prior.end].filter((i) => i >= prior.first) : [];
    const [snap, ...guessed] = await this.#db.getAll(
      ref,
      ...guess.map((i) => this.#segment(id, prior?.createdAt ?? '', i)),
    );
    if (!snap?.exists) return undefined;
    const record = decode(snap.get('data'));
    const first = Number(snap.get('deliveryFrom') ?? 0);
    const end = Number(snap.get('deliverySegments') ?? 0);
    const reuse = prior?.createdAt === record.createdAt ? prior : undefined;
    const segments: Segment[] = [];
    const missing: number[] = [];
    for (let i = first; i < end; i++) {
      const g = reuse ? guess.indexOf(i) : -1;
      if (g >= 0) segments.push(decodeSegment(guessed[g]?.get('keys')));
      else if (reuse && i >= reuse.first && i < reuse.end - 1) segments.push(reuse.segment(i));
      else {
        missing.push(i);
        segments.push(new Map());
      }
    }
    if (missing.length > 0) {
      const more = await this.#db.getAll(...missing.map((i) => this.#segment(id, record.createdAt, i)));
      more.forEach((s, j) => {
        segments[(missing[j] as number) - first] = decodeSegment(s.get('keys'));
      });
    }
    const log = new DeliveryLog(record.createdAt, first, segments);
    if (log.size <= MAX_CACHED_DELIVERIES) setNewest(this.#logs, id, log, CACHED_INCIDENTS);
    return { record, at: snap.updateTime as Timestamp, log };
  }

  #remember(id: string, state: Stored): void {
    // An incident fed for days by a flood of alerts can hold more deliveries than are worth keeping here: it is read.
    if (state.log.size > MAX_CACHED_DELIVERIES) return;
    setNewest(this.#written, id, state, CACHED_INCIDENTS);
    setNewest(this.#logs, id, state.log, CACHED_INCIDENTS);
  }

  #segment(incident: string, createdAt: string, i: number): FirebaseFirestore.DocumentReference {
    return this.#col('deliveries').doc(hash(`${incident}\n${createdAt}\n${i}`));
  }

  async listIncidents(statuses?: readonly IncidentStatus[], alertIncidentId?: string): Promise<IncidentRecord[]> {
    let q: FirebaseFirestore.Query = this.#col('incidents');
    if (statuses && statuses.length > 0) q = q.where('status', 'in', [...statuses]);
    if (alertIncidentId) q = q.where('alertIncidentIds', 'array-contains', alertIncidentId);
    // Paged by document id: no cap on how many incidents a sweep sees.
    const out: IncidentRecord[] = [];
    let last: FirebaseFirestore.QueryDocumentSnapshot | undefined;
    for (;;) {
      let page = q.orderBy('__name__').limit(500);
      if (last) page = page.startAfter(last);
      const snap = await page.get();
      out.push(...snap.docs.map((d) => decode(d.get('data'))));
      if (snap.size < 500) return out;
      last = snap.docs[snap.docs.length - 1];
    }
  }

  async deleteIncident(id: string): Promise<void> {
    await this.#col('incidents').doc(id).delete();
  }

  #lock(name: string): FirebaseFirestore.DocumentReference {
    return this.#col('locks').doc(hash(name));
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const ref = this.#lock(name);
    // Most leases are new (each message's post lease, each fix's lock): one create, not a read and then a create.
    try {
      await ref.create(lease(name, owner, ttlMs));
      return true;
    } catch (e) {
      if (!alreadyExists(e)) throw e;
    }
    return conditionally(ref, (snap) => {
      const until = snap.get('until') as number | undefined;
      const holder = snap.get('owner') as string | undefined;
      if (snap.exists && until !== undefined && until > Date.now() && holder !== owner) return { result: false };
      return { result: true, write: lease(name, owner, ttlMs) };
    });
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    const ref = this.#lock(name);
    await conditionally(ref, (snap) =>
      snap.exists && snap.get('owner') === owner
        ? { result: undefined, write: 'delete' as const }
        : { result: undefined },
    );
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    await this.#col('audit').add({ ...record, detail: record.detail ?? {} });
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    const snap = await this.#col('audit').orderBy('at', 'desc').limit(limit).get();
    return snap.docs.map((d) => d.data() as AuditRecord);
  }

  async close(): Promise<void> {
    await this.#db.terminate().catch((e: unknown) => this.#logger.warn({ err: e }, 'closing Firestore failed'));
  }
}

export function createFirestoreStore(o: FirestoreStoreOptions): FirestoreStore {
  return new FirestoreStore(o);
}

/** What {@link conditionally} decided from a read: its answer, and the document to write (or delete), if any. */
interface Decision<T> {
  readonly result: T;
  readonly write?: FirebaseFirestore.DocumentData | 'delete';
}

/** An incident as stored, when (its update time), and its delivery log. */
interface Stored {
  readonly record: IncidentRecord;
  readonly at: Timestamp;
  readonly log: DeliveryLog;
}

/** Incidents whose last write (and delivery log) a store keeps: those of a storm are a few. */
const CACHED_INCIDENTS = 100;
/** Deliveries of one incident beyond which its log is not kept in memory but read each time (~60 bytes each). */
const MAX_CACHED_DELIVERIES = 50_000;

/** Attempts of one read-decide-write before the contention is reported. */
const CONDITIONAL_ATTEMPTS = 20;

/**
 * Read, decide, and write only if the document is as read: created if it was absent, replaced or deleted only if its
 * update time is unchanged; read and decide again when another writer came first. No transaction: a process killed
 * between its read and its write holds nothing. (A transaction killed there left its lock on the document, and every
 * other writer waiting or aborting, for ~60 s: docs/library-traps.md, "Firestore".) Every document written this way has
 * the same fields each time, so an update with all of them replaces it.
 */
async function conditionally<T>(
  ref: FirebaseFirestore.DocumentReference,
  decide: (snap: FirebaseFirestore.DocumentSnapshot) => Decision<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const snap = await ref.get();
    const { result, write } = decide(snap);
    if (write === undefined) return result;
    try {
      if (!snap.exists) {
        if (write !== 'delete') await ref.create(write);
      } else if (write === 'delete') await ref.delete({ lastUpdateTime: snap.updateTime as Timestamp });
      else await ref.update(write, { lastUpdateTime: snap.updateTime as Timestamp });
      return result;
    } catch (e) {
      if (!(alreadyExists(e) || failedPrecondition(e)) || attempt >= CONDITIONAL_ATTEMPTS) throw e;
      // Another writer came first: a short, growing, jittered pause, then read again.
      await delay(Math.random() * Math.min(5 * 2 ** attempt, 200));
    }
  }
}

/** A lock document: held by `owner` until `ttlMs` from now. */
function lease(name: string, owner: string, ttlMs: number) {
  return { name, owner, until: Date.now() + ttlMs };
}

/** Beside the incident's record: where its delivery log's live segments are (the first index and one past the last). */
function segmentFields(log: DeliveryLog) {
  return { deliveryFrom: log.first, deliverySegments: log.end };
}

/** A segment of an incident's delivery log, kept until its last entry expires (`expireAt`: the TTL policy's field). */
function segmentDoc(log: DeliveryLog, i: number) {
  const segment = log.segment(i);
  return {
    keys: encodeSegment(segment),
    entries: segment.size,
    expireAt: Timestamp.fromMillis(segmentExpiry(segment)),
  };
}

function encode(r: IncidentRecord) {
  return {
    data: JSON.stringify(r),
    status: r.status,
    key: r.key.slice(0, 1000),
    alertIncidentIds: [...r.alertIncidentIds],
    version: r.version,
    updatedAt: r.updatedAt,
  };
}

function decode(data: unknown): IncidentRecord {
  return JSON.parse(String(data)) as IncidentRecord;
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 40);
}

function alreadyExists(e: unknown): boolean {
  return (e as { code?: number }).code === 6;
}

/** FAILED_PRECONDITION: the document changed since the write time given (or is gone). */
function failedPrecondition(e: unknown): boolean {
  const code = (e as { code?: number }).code;
  return code === 9 || code === 5;
}
