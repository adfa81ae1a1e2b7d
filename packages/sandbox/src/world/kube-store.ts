/**
 * The object store of one simulated cluster: what its API server would hold in etcd. Every write stamps a new
 * `metadata.resourceVersion` from one counter, like the real server, so lists carry a meaningful version; every
 * write is also a watch event (ADDED / MODIFIED / DELETED) for subscribers, and, once history is on, kept in a
 * bounded window so a watch can resume from a list's resourceVersion like it does against etcd's watch cache.
 */
import type { KubeEvent, KubeObject } from './kube-types.ts';

/** One change to the store, as a watch delivers it: the object as it was right after the change. */
export interface StoreChange {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The resourceVersion the change was written at (the object's own `metadata.resourceVersion`). */
  readonly resourceVersion: number;
  readonly kind: string;
  /** A snapshot: later writes to the live object do not show through. */
  readonly object: KubeObject;
}

/** One PATCH the API server accepted, for assertions (`fieldManager` included). */
export interface PatchRecord {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly contentType: string;
  readonly fieldManager?: string;
  readonly dryRun: boolean;
  readonly body: unknown;
  readonly at: string;
}

/** The objects of one cluster by kind and `namespace/name`, with a single resourceVersion counter. */
export class KubeStore {
  private version = 48_213_000;
  private readonly byKind = new Map<string, Map<string, KubeObject>>();
  /** Event keys by `involvedObject.uid`, so per-pod event lookups stay cheap with thousands of pods. */
  private readonly eventsByObject = new Map<string, Set<string>>();
  /** Every PATCH accepted, oldest first. */
  readonly patches: PatchRecord[] = [];
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private history: StoreChange[] | undefined;
  private historyLimit = 0;
  /** The resourceVersion before the oldest change still in the history window. */
  private historyFloor = 0;
  /** What each object looked like at its last write (once history is on), to recognise writes that change nothing. */
  private readonly fingerprints = new Map<string, { fingerprint: string; resourceVersion: string }>();

  /**
   * Starts keeping the last `limit` changes, so watches can resume from a resourceVersion at or after the current
   * one. Off by default, because building a large scenario should not pay for snapshots nobody reads.
   */
  keepHistory(limit: number): void {
    this.historyLimit = limit;
    this.history ??= [];
    this.historyFloor = this.version;
  }

  /**
   * Changes after `resourceVersion`, oldest first; `undefined` when that version is older than the window (the
   * API server's "too old resource version", 410 Gone).
   */
  changesSince(resourceVersion: number): StoreChange[] | undefined {
    if (!this.history || resourceVersion < this.historyFloor) return undefined;
    return this.history.filter((c) => c.resourceVersion > resourceVersion);
  }

  /** Calls `fn` after every write, until the returned function is called. */
  subscribe(fn: (change: StoreChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(type: StoreChange['type'], obj: KubeObject): void {
    if (!this.history && this.listeners.size === 0) return;
    const change: StoreChange = {
      type,
      resourceVersion: this.version,
      kind: obj.kind,
      object: structuredClone(obj),
    };
    if (this.history) {
      this.history.push(change);
      if (this.history.length > this.historyLimit) {
        const dropped = this.history.splice(0, this.history.length - this.historyLimit);
        this.historyFloor = dropped.at(-1)?.resourceVersion ?? this.historyFloor;
      }
    }
    for (const fn of this.listeners) fn(change);
  }

  /** The current resourceVersion (what a list's `metadata.resourceVersion` reports). */
  resourceVersion(): string {
    return String(this.version);
  }

  /** Stores (or replaces) an object and stamps a fresh resourceVersion on it. Returns the stored object. */
  put<T extends KubeObject>(obj: T): T {
    let bucket = this.byKind.get(obj.kind);
    if (!bucket) {
      bucket = new Map();
      this.byKind.set(obj.kind, bucket);
    }
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const existed = bucket.has(k);
    if (this.history) {
      // Like etcd behind the API server, a write that changes nothing keeps the resourceVersion and emits no event.
      const full = `${obj.kind}/${k}`;
      const previous = this.fingerprints.get(full);
      const fingerprint = fingerprintOf(obj);
      if (existed && previous?.fingerprint === fingerprint) {
        obj.metadata.resourceVersion = previous.resourceVersion;
        bucket.set(k, obj);
        return obj;
      }
      this.fingerprints.set(full, { fingerprint, resourceVersion: String(this.version + 1) });
    }
    this.version += 1;
    obj.metadata.resourceVersion = String(this.version);
    bucket.set(k, obj);
    if (obj.kind === 'Event') {
      const uid = (obj as unknown as KubeEvent).involvedObject.uid;
      let keys = this.eventsByObject.get(uid);
      if (!keys) {
        keys = new Set();
        this.eventsByObject.set(uid, keys);
      }
      keys.add(k);
    }
    this.emit(existed ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  get<T extends KubeObject>(kind: T['kind'], namespace: string | undefined, name: string): T | undefined {
    return this.byKind.get(kind)?.get(key(namespace, name)) as T | undefined;
  }

  /** Objects of a kind, in one namespace or all, sorted by namespace then name (the API server's order). */
  list<T extends KubeObject>(kind: T['kind'], namespace?: string): T[] {
    const all = [...(this.byKind.get(kind)?.entries() ?? [])];
    return all
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o as T);
  }

  /** Events whose `involvedObject.uid` is `uid`, oldest first. */
  eventsFor(uid: string): KubeEvent[] {
    const bucket = this.byKind.get('Event');
    return [...(this.eventsByObject.get(uid) ?? [])]
      .map((k) => bucket?.get(k) as KubeEvent | undefined)
      .filter((e): e is KubeEvent => e !== undefined);
  }

  delete(kind: string, namespace: string | undefined, name: string): boolean {
    const k = key(namespace, name);
    const obj = this.byKind.get(kind)?.get(k);
    if (obj?.kind === 'Event') this.eventsByObject.get((obj as unknown as KubeEvent).involvedObject.uid)?.delete(k);
    const deleted = this.byKind.get(kind)?.delete(k) ?? false;
    if (deleted && obj) {
      this.fingerprints.delete(`${kind}/${k}`);
      this.version += 1;
      obj.metadata.resourceVersion = String(this.version);
      this.emit('DELETED', obj);
    }
    return deleted;
  }
}

/** The object's JSON without its resourceVersion. */
function fingerprintOf(obj: KubeObject): string {
  const rv = obj.metadata.resourceVersion;
  delete obj.metadata.resourceVersion;
  const json = JSON.stringify(obj);
  if (rv !== undefined) obj.metadata.resourceVersion = rv;
  return json;
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
