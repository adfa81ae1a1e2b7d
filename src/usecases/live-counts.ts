import type { ClusterRef, PodFacts } from '../diagnosis/facts.ts';
import { countFailing, type IncidentCounts } from '../incidents/counts.ts';
import type { IncidentRecord } from '../incidents/model.ts';
import type { ClusterAccess } from './cluster-access.ts';

/**
 * The incident message's "how bad": failing pods and workloads read from the cluster each time the message is
 * rendered. The cost is bounded whatever the storm: one `list pods` per affected namespace (never a read per pod),
 * shared by every incident and reused for `ttlMs` (the message update interval), with concurrent reads of the same
 * namespace joined. So a storm of 500 pods in 20 Deployments of one namespace costs one list per update interval.
 */
export class LiveCounts {
  readonly #access: Pick<ClusterAccess, 'api'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; pods: Promise<PodFacts[]> }>();

  constructor(access: Pick<ClusterAccess, 'api'>, ttlMs: number, now: () => number = Date.now) {
    this.#access = access;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Counts for the incident's affected workloads; rejects when a cluster cannot be read. */
  async read(incident: IncidentRecord): Promise<IncidentCounts> {
    const namespaces = new Map<string, { cluster: ClusterRef; namespace: string }>();
    for (const a of incident.affected) namespaces.set(key(a.cluster, a.namespace), a);
    const lists = await Promise.all([...namespaces.values()].map((n) => this.#pods(n.cluster, n.namespace)));
    return countFailing(incident.affected, lists.flat());
  }

  #pods(cluster: ClusterRef, namespace: string): Promise<PodFacts[]> {
    const k = key(cluster, namespace);
    const now = this.#now();
    const hit = this.#cache.get(k);
    if (hit && now - hit.at < this.#ttlMs) return hit.pods;
    const pods = this.#access.api(cluster).then((api) => api.listPods(namespace));
    // A failed read is not reused: the next render tries again.
    pods.catch(() => {
      if (this.#cache.get(k)?.pods === pods) this.#cache.delete(k);
    });
    this.#cache.set(k, { at: now, pods });
    for (const [other, v] of this.#cache) if (now - v.at >= this.#ttlMs) this.#cache.delete(other);
    return pods;
  }
}

function key(c: ClusterRef, namespace: string): string {
  return `${c.project}/${c.location}/${c.name}/${namespace}`;
}
