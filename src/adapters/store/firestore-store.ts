import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Firestore, Timestamp } from '@google-cloud/firestore';
import type { AuditRecord, IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { Deliveries, Leases, StateStore } from '../../ports/store.port.ts';
import { setNewest } from '../../shared/bounded.ts';
import type { Logger } from '../../shared/logger.ts';

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
 * The Pub/Sub deliveries an incident's sightings came with are documents of their own (`deliveries`, one per incident
 * and key, expiring), written in the same atomic commit as the incident: created, so a key recorded before makes the
 * commit fail and is read and left out on the next attempt. Under a storm that is one commit per group of sightings
 * (usecases/incidents.ts), not a claim and a completion per alert.
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
  readonly #written = new Map<string, { record: IncidentRecord; at: Timestamp }>();

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
        const batch = this.#db.batch().create(ref, encode(record));
        // Set, not create: a key already recorded belongs to an incident that was deleted since; this one counts it.
        if (deliveries)
          for (const key of deliveries.keys) batch.set(this.#delivery(record.id, key), delivery(key, deliveries.ttlMs));
        // Set, too: a lease left by an incident of the same id deleted since is not this one's.
        if (leases)
          for (const name of leases.names) batch.set(this.#lock(name), lease(name, leases.owner, leases.ttlMs));
        await batch.commit();
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
    const refs = keys.map((k) => this.#delivery(id, k));
    // Optimistic: most keys are new. Once a commit finds one that is not, the keys are read with the incident.
    let readKeys = false;
    for (let attempt = 1; ; attempt++) {
      const known = readKeys ? undefined : this.#written.get(id);
      this.#written.delete(id);
      const [snap, ...keySnaps] = known ? [] : readKeys ? await this.#db.getAll(ref, ...refs) : [await ref.get()];
      if (!known && !snap?.exists) return undefined;
      const current = known ? known.record : decode(snap?.get('data'));
      const at = known ? known.at : (snap?.updateTime as Timestamp);
      const now = Date.now();
      // A key whose record expired (TTL policies delete lazily) counts as new: rewritten only if unchanged.
      const expired = new Map<number, Timestamp>();
      const fresh = new Set<string>();
      keys.forEach((k, i) => {
        const ks = keySnaps[i];
        const until = ks?.exists ? (ks.get('expireAt') as Timestamp | undefined)?.toMillis() : undefined;
        if (ks?.exists && until !== undefined && until > now) return;
        if (ks?.exists) expired.set(i, ks.updateTime as Timestamp);
        fresh.add(k);
      });
      const next = mutate(current, fresh);
      // Nothing to write: answer with the incident as it is now, read if it was only remembered.
      if (!next && known) continue;
      if (!next) return current;
      const stored = { ...next, version: current.version + 1 };
      const batch = this.#db.batch().update(ref, encode(stored), { lastUpdateTime: at });
      keys.forEach((k, i) => {
        if (!fresh.has(k)) return;
        const was = expired.get(i);
        const doc = delivery(k, deliveries.ttlMs);
        if (was) batch.update(refs[i] as FirebaseFirestore.DocumentReference, doc, { lastUpdateTime: was });
        else batch.create(refs[i] as FirebaseFirestore.DocumentReference, doc);
      });
      try {
        const [result] = await batch.commit();
        if (result) setNewest(this.#written, id, { record: stored, at: result.writeTime }, 1000);
        return stored;
      } catch (e) {
        if (!(alreadyExists(e) || failedPrecondition(e)) || attempt >= CONDITIONAL_ATTEMPTS) throw e;
        if (alreadyExists(e)) readKeys = true;
        // Read again at once after a write made on what this store wrote last; another writer came first otherwise.
        else if (!known) await delay(Math.random() * Math.min(5 * 2 ** attempt, 200));
      }
    }
  }

  #delivery(incident: string, key: string): FirebaseFirestore.DocumentReference {
    return this.#col('deliveries').doc(hash(`${incident}\n${key}`));
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

/** A delivery recorded into an incident, remembered until `expireAt` (also the field a TTL policy deletes by). */
/** A lock document: held by `owner` until `ttlMs` from now. */
function lease(name: string, owner: string, ttlMs: number) {
  return { name, owner, until: Date.now() + ttlMs };
}

function delivery(key: string, ttlMs: number) {
  return { key: key.slice(0, 500), expireAt: Timestamp.fromMillis(Date.now() + ttlMs) };
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
