/**
 * The object store of one simulated cluster: what its API server would hold in etcd. Every write stamps a new
 * `metadata.resourceVersion` from one counter, like the real server, so lists carry a meaningful version.
 */
import type { KubeEvent, KubeObject } from './kube-types.ts';

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

  /** The current resourceVersion (what a list's `metadata.resourceVersion` reports). */
  resourceVersion(): string {
    return String(this.version);
  }

  /** Stores (or replaces) an object and stamps a fresh resourceVersion on it. Returns the stored object. */
  put<T extends KubeObject>(obj: T): T {
    this.version += 1;
    obj.metadata.resourceVersion = String(this.version);
    let bucket = this.byKind.get(obj.kind);
    if (!bucket) {
      bucket = new Map();
      this.byKind.set(obj.kind, bucket);
    }
    const k = key(obj.metadata.namespace, obj.metadata.name);
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
    if (deleted) this.version += 1;
    return deleted;
  }
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
