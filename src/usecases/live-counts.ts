import type { ClusterRef, PodFacts } from '../diagnosis/facts.ts';
import { countFailing, type IncidentCounts } from '../incidents/counts.ts';
import type { IncidentRecord } from '../incidents/model.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { namespacePodsKey } from './fact-gathering.ts';
import type { FactReader } from './fact-reader.ts';

/**
 * The incident message's "how bad": failing pods and workloads read from the cluster each time the message is
 * rendered. The cost is bounded whatever the storm: one `list pods` per affected namespace (never a read per pod),
 * shared by every incident and reused for `ttlMs` (the message update interval), with concurrent reads of the same
 * namespace joined. So a storm of 500 pods in 20 Deployments of one namespace costs one list per update interval.
 * The list is the same fact as the investigation's (fact-gathering.ts, `podFact`): the first post of an incident
 * reuses the list its diagnosis just read.
 */
export class LiveCounts {
  readonly #access: Pick<ClusterAccess, 'api'>;
  readonly #reader: FactReader;
  readonly #ttlMs: number;

  constructor(access: Pick<ClusterAccess, 'api'>, reader: FactReader, ttlMs: number) {
    this.#access = access;
    this.#reader = reader;
    this.#ttlMs = ttlMs;
  }

  /** Counts for the incident's affected workloads; rejects when a cluster cannot be read. */
  async read(incident: IncidentRecord): Promise<IncidentCounts> {
    const namespaces = new Map<string, { cluster: ClusterRef; namespace: string }>();
    for (const a of incident.affected) namespaces.set(key(a.cluster, a.namespace), a);
    const lists = await Promise.all([...namespaces.values()].map((n) => this.#pods(n.cluster, n.namespace)));
    return countFailing(incident.affected, lists.flat());
  }

  async #pods(cluster: ClusterRef, namespace: string): Promise<PodFacts[]> {
    const api = await this.#access.api(cluster);
    const listed = await this.#reader.read(
      namespacePodsKey(cluster, namespace),
      `Kubernetes list pods -n ${namespace}`,
      () => api.listPods(namespace),
      { maxAgeMs: this.#ttlMs },
    );
    if (!listed.ok) throw new Error(listed.error.message);
    return listed.value;
  }
}

function key(c: ClusterRef, namespace: string): string {
  return `${c.project}/${c.location}/${c.name}/${namespace}`;
}
