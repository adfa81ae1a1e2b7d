import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type BulkWriter, Firestore, Timestamp } from '@google-cloud/firestore';
import type { AuditRecord, IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { DeliveryClaim, StateStore } from '../../ports/store.port.ts';
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
 * State in Firestore, for several replicas sharing one subscription (docs/architecture.md, "State"): deliveries and
 * incidents are created with `create()` (exactly one writer wins); incidents and locks change by conditional writes
 * (read, then write only if the document is unchanged: {@link conditionally}); locks are leases with an expiry.
 * Records are stored as JSON text plus the few fields queries need.
 *
 * Delivery claims — two writes per alert, the store's hottest path under a storm — go through one BulkWriter, flushed
 * on the next turn of the event loop: the writes of a burst share a BatchWrite call instead of one commit each. A
 * claim is created (exactly one writer wins), and completed or released by an update or delete conditioned on the
 * claim's own write time, so it still changes only what this owner wrote.
 */
export class FirestoreStore implements StateStore {
  readonly #db: Firestore;
  readonly #p: string;
  readonly #logger: Logger;
  readonly #bulk: BulkWriter;
  #flushScheduled = false;
  /** `key owner` → the write time of the claim this process created, for the conditional complete or release. */
  readonly #claims = new Map<string, Timestamp>();

  constructor(o: FirestoreStoreOptions) {
    this.#db = new Firestore({
      projectId: o.projectId,
      ignoreUndefinedProperties: true,
      ...(o.emulatorHost ? { host: o.emulatorHost, ssl: false, customHeaders: { Authorization: 'Bearer owner' } } : {}),
    });
    this.#p = o.prefix ?? 'imagepull';
    this.#logger = o.logger;
    // Retries transient errors (the library's default); a failed precondition or an existing document is an answer.
    this.#bulk = this.#db.bulkWriter({ throttling: false });
  }

  /** Queues a write on the BulkWriter and has it sent with the rest of this turn's writes. */
  #batched<T>(write: (b: BulkWriter) => Promise<T>): Promise<T> {
    const result = write(this.#bulk);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        void this.#bulk.flush().catch(() => undefined);
      });
    }
    return result;
  }

  /** Remembers when this owner's claim was written (bounded: the oldest is forgotten first). */
  #rememberClaim(key: string, owner: string, at: Timestamp): void {
    this.#claims.set(`${key} ${owner}`, at);
    if (this.#claims.size > 100_000) this.#claims.delete(this.#claims.keys().next().value as string);
  }

  /** When this owner's claim was written, forgotten as it is read: a claim is completed or released once. */
  #takeClaim(key: string, owner: string): Timestamp | undefined {
    const k = `${key} ${owner}`;
    const at = this.#claims.get(k);
    this.#claims.delete(k);
    return at;
  }

  #col(name: string) {
    return this.#db.collection(`${this.#p}_${name}`);
  }

  async claimDelivery(key: string, leaseMs: number, owner: string): Promise<DeliveryClaim> {
    const ref = this.#col('deliveries').doc(hash(key));
    const claim = () => ({
      key: key.slice(0, 500),
      done: false,
      owner,
      expireAt: Timestamp.fromMillis(Date.now() + leaseMs),
    });
    try {
      // create() is the arbiter for a new key: exactly one writer succeeds.
      const written = await this.#batched((b) => b.create(ref, claim()));
      this.#rememberClaim(key, owner, written.writeTime);
      return 'claimed';
    } catch (e) {
      if (!alreadyExists(e)) throw e;
    }
    return conditionally(ref, (snap) => {
      const expireAt = snap.get('expireAt') as Timestamp | undefined;
      // An expired record (TTL policies delete lazily, a crashed claim) counts as absent.
      if (snap.exists && expireAt && expireAt.toMillis() > Date.now()) {
        if (snap.get('done') === true) return { result: 'done' as const };
        return { result: snap.get('owner') === owner ? ('claimed' as const) : ('in-progress' as const) };
      }
      return { result: 'claimed' as const, write: claim() };
    });
  }

  async completeDelivery(key: string, ttlMs: number, owner: string): Promise<void> {
    const ref = this.#col('deliveries').doc(hash(key));
    const claimedAt = this.#takeClaim(key, owner);
    if (claimedAt) {
      try {
        // Unchanged since this owner created it: still its claim.
        await this.#batched((b) =>
          b.update(
            ref,
            { done: true, expireAt: Timestamp.fromMillis(Date.now() + ttlMs) },
            { lastUpdateTime: claimedAt },
          ),
        );
        return;
      } catch (e) {
        if (!failedPrecondition(e)) throw e;
      }
    }
    await conditionally(ref, (snap) =>
      snap.exists && snap.get('owner') !== owner
        ? { result: undefined }
        : {
            result: undefined,
            write: { key: key.slice(0, 500), done: true, owner, expireAt: Timestamp.fromMillis(Date.now() + ttlMs) },
          },
    );
  }

  async releaseDelivery(key: string, owner: string): Promise<void> {
    const ref = this.#col('deliveries').doc(hash(key));
    const claimedAt = this.#takeClaim(key, owner);
    if (claimedAt) {
      try {
        await this.#batched((b) => b.delete(ref, { lastUpdateTime: claimedAt }));
        return;
      } catch (e) {
        if (!failedPrecondition(e)) throw e;
      }
    }
    await conditionally(ref, (snap) =>
      snap.exists && snap.get('owner') === owner && snap.get('done') !== true
        ? { result: undefined, write: 'delete' as const }
        : { result: undefined },
    );
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const snap = await this.#col('incidents').doc(id).get();
    return snap.exists ? decode(snap.get('data')) : undefined;
  }

  async createIncident(record: IncidentRecord): Promise<boolean> {
    try {
      await this.#col('incidents').doc(record.id).create(encode(record));
      return true;
    } catch (e) {
      if (alreadyExists(e)) return false;
      throw e;
    }
  }

  async updateIncident(
    id: string,
    mutate: (current: IncidentRecord) => IncidentRecord | undefined,
  ): Promise<IncidentRecord | undefined> {
    const ref = this.#col('incidents').doc(id);
    return conditionally(ref, (snap) => {
      if (!snap.exists) return { result: undefined };
      const current = decode(snap.get('data'));
      const next = mutate(current);
      if (!next) return { result: current };
      const stored = { ...next, version: current.version + 1 };
      return { result: stored, write: encode(stored) };
    });
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

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const ref = this.#col('locks').doc(hash(name));
    // Most leases are new (each message's post lease, each fix's lock): one create, not a read and then a create.
    try {
      await ref.create({ name, owner, until: Date.now() + ttlMs });
      return true;
    } catch (e) {
      if (!alreadyExists(e)) throw e;
    }
    return conditionally(ref, (snap) => {
      const until = snap.get('until') as number | undefined;
      const holder = snap.get('owner') as string | undefined;
      if (snap.exists && until !== undefined && until > Date.now() && holder !== owner) return { result: false };
      return { result: true, write: { name, owner, until: Date.now() + ttlMs } };
    });
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    const ref = this.#col('locks').doc(hash(name));
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
    await this.#bulk.close().catch((e: unknown) => this.#logger.warn({ err: e }, 'flushing Firestore writes failed'));
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
