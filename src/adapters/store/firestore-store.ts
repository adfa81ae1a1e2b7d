import { hash as digest, randomBytes } from 'node:crypto';
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
 * records the log's name and which segments hold live deliveries (`deliveryLog`, `deliveryFrom`, `deliverySegments`,
 * beside the record). Every segment write goes with an incident write conditional on the incident being as read, so
 * the incident's update time stands for its deliveries too. Under a storm that is one commit of two documents per
 * group of sightings (usecases/incidents.ts), not a claim and a completion per alert, nor a document per delivery.
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
        const { log, written } = new DeliveryLog(logName()).with(
          [...new Set(deliveries?.keys ?? [])].map(deliveryHash),
          now + (deliveries?.ttlMs ?? 0),
          now,
        );
        const batch = this.#db.batch().create(ref, { ...encode(record), ...segmentFields(log) });
        for (const i of written) batch.set(this.#segment(record.id, log.name, i), segmentDoc(log, i));
        // Set, not create: a lease left by an incident of the same id deleted since is not this one's.
        if (leases)
          for (const name of leases.names) batch.set(this.#lock(name), lease(name, leases.owner, leases.ttlMs));
        const [result] = await batch.commit();
        if (result) this.#keep(record.id, log, { record, at: result.writeTime });
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
      for (const i of written) batch.set(this.#segment(id, log.name, i), segmentDoc(log, i));
      try {
        const [result] = await batch.commit();
        if (result) this.#keep(id, log, { record: stored, at: result.writeTime });
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
   * segment and the next one, beside the incident); the segments it could not know of are read after. A segment
   * read before the incident is read again: the client may answer part of one `getAll` later than the rest (when it
   * retries a broken stream), and only what changed after the incident was read fails the commit's precondition.
   */
  async #read(id: string): Promise<Stored | undefined> {
    const ref = this.#col('incidents').doc(id);
    const prior = this.#logs.get(id);
    const guess = prior ? [prior.end - 1, prior.end].filter((i) => i >= prior.first) : [];
    const [snap, ...guessed] = await this.#db.getAll(ref, ...guess.map((i) => this.#segment(id, prior?.name ?? '', i)));
    if (!snap?.exists) return undefined;
    const record = decode(snap.get('data'));
    const name = snap.get('deliveryLog') as string | undefined;
    // An incident created without deliveries (or by an older version) has no log yet: its first write names one.
    if (!name) return { record, at: snap.updateTime as Timestamp, log: new DeliveryLog(logName()) };
    const first = Number(snap.get('deliveryFrom') ?? 0);
    const end = Number(snap.get('deliverySegments') ?? 0);
    const reuse = prior?.name === name ? prior : undefined;
    const segments: Segment[] = [];
    const missing: number[] = [];
    for (let i = first; i < end; i++) {
      const g = reuse ? guess.indexOf(i) : -1;
      const got = g >= 0 ? guessed[g] : undefined;
      if (got && !readBefore(got, snap)) segments.push(decodeSegment(got.get('keys')));
      else if (reuse && i >= reuse.first && i < reuse.end - 1) segments.push(reuse.segment(i));
      else {
        missing.push(i);
        segments.push(new Map());
      }
    }
    if (missing.length > 0) {
      const more = await this.#db.getAll(...missing.map((i) => this.#segment(id, name, i)));
      more.forEach((s, j) => {
        segments[(missing[j] as number) - first] = decodeSegment(s.get('keys'));
      });
    }
    const log = new DeliveryLog(name, first, segments);
    this.#keep(id, log);
    return { record, at: snap.updateTime as Timestamp, log };
  }

  /**
   * Keeps an incident's log (and the incident as this store just wrote it, if it did) for the next write, within
   * {@link CACHED_INCIDENTS} incidents and {@link MAX_CACHED_DELIVERIES} deliveries over all the logs kept, the oldest
   * forgotten first. A log of over a quarter of that (an incident fed by a flood for a day) is not kept: it is read.
   */
  #keep(id: string, log: DeliveryLog, written?: Omit<Stored, 'log'>): void {
    this.#written.delete(id);
    this.#logs.delete(id);
    if (log.size > MAX_CACHED_DELIVERIES / 4) return;
    if (written) setNewest(this.#written, id, { ...written, log }, CACHED_INCIDENTS);
    setNewest(this.#logs, id, log, CACHED_INCIDENTS);
    let total = 0;
    for (const kept of this.#logs.values()) total += kept.size;
    for (const [old, kept] of this.#logs) {
      if (total <= MAX_CACHED_DELIVERIES) break;
      total -= kept.size;
      this.#logs.delete(old);
      this.#written.delete(old);
    }
  }

  #segment(incident: string, log: string, i: number): FirebaseFirestore.DocumentReference {
    return this.#col('deliveries').doc(hash(`${incident}\n${log}\n${i}`));
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
/** Deliveries kept in memory over all the logs kept (~80 bytes each, ~20 MB): beyond it, the oldest are read again. */
const MAX_CACHED_DELIVERIES = 250_000;

/** Attempts of one read-decide-write before the contention is reported. */
const CONDITIONAL_ATTEMPTS = 20;

/**
 * Read, decide, and write only if the document is as read: created if it was absent, replaced or deleted only if its
 * update time is unchanged; read and decide again when another writer came first. No transaction: a process killed
 * between its read and its write holds nothing. (A transaction killed there left its lock on the document, and every
 * other writer waiting or aborting, for ~60 s: docs/library-traps.md, "Firestore".) An update replaces the fields it
 * names and keeps the others: an incident's delivery-log fields, which only writes with deliveries set, stay as they
 * are (so this must stay an update, never a set).
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
  return { deliveryLog: log.name, deliveryFrom: log.first, deliverySegments: log.end };
}

/** A fresh delivery log's name. */
function logName(): string {
  return randomBytes(8).toString('hex');
}

/** Whether `a` was read before `b` (their read times; a Timestamp's `valueOf()` orders as the time does). */
function readBefore(a: FirebaseFirestore.DocumentSnapshot, b: FirebaseFirestore.DocumentSnapshot): boolean {
  return a.readTime.valueOf() < b.readTime.valueOf();
}

/** A segment of an incident's delivery log, kept until its last entry expires (`expireAt`: the TTL policy's field). */
function segmentDoc(log: DeliveryLog, i: number) {
  const segment = log.segment(i);
  return {
    keys: encodeSegment(segment),
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
  return digest('sha256', s).slice(0, 40);
}

function alreadyExists(e: unknown): boolean {
  return (e as { code?: number }).code === 6;
}

/** FAILED_PRECONDITION: the document changed since the write time given (or is gone). */
function failedPrecondition(e: unknown): boolean {
  const code = (e as { code?: number }).code;
  return code === 9 || code === 5;
}
