import { setNewest } from '../shared/bounded.ts';

/** Clusters whose window is remembered; one past it forgets the cluster whose window started longest ago. */
const MAX_CLUSTERS = 1_000;
/** Names seen real per cluster and kind; one past it forgets the one seen least recently. */
const MAX_KNOWN: Record<ReadAheadSubject, number> = { namespace: 2_000, node: 5_000 };

/** What an alert names that its reads beside the pod start from: the pod's namespace, the node its event names. */
export type ReadAheadSubject = 'namespace' | 'node';

export interface ReadAheadBudgetOptions {
  /** Distinct namespaces read ahead per cluster per window (default 64). */
  readonly namespaces?: number;
  /** Distinct nodes read ahead per cluster per window (default 256: a storm can span many nodes). */
  readonly nodes?: number;
  /** The window, in ms (default one minute). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

interface Window {
  readonly start: number;
  readonly admitted: Record<ReadAheadSubject, Set<string>>;
}

/**
 * How many distinct namespaces and nodes an alert's reads may start on a guess (`readAhead` in fact-gathering.ts)
 * per cluster per window. An alert is input from whoever can publish to the topic, and every made-up namespace it
 * names would otherwise cost three more lists and every made-up node one more GET. A real storm names a few
 * namespaces and some nodes, admitted once per window and then free; past the budget an alert reads as it did before
 * read-ahead, the pod first (one round trip slower, same diagnosis). So a flood of made-up names costs the apiserver
 * what the alerts themselves name — the pod list and GET — and, per cluster and window, at most three lists per
 * admitted namespace and one GET per admitted node (docs/diagnosis.md, "Facts"). Windows are fixed (each minute's
 * own), so across a window's end up to twice the budget can be admitted within a minute. A namespace or node seen
 * real — a pod read in it, on it (`known`) — is never refused, so real alerts keep reading ahead during a flood; only
 * a pod the apiserver answered makes one known, which a publisher cannot fake.
 */
export class ReadAheadBudget {
  readonly #limits: Record<ReadAheadSubject, number>;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #clusters = new Map<string, Window>();
  readonly #known = new Map<string, Record<ReadAheadSubject, Map<string, true>>>();
  #refused = 0;

  constructor(options: ReadAheadBudgetOptions = {}) {
    this.#limits = { namespace: options.namespaces ?? 64, node: options.nodes ?? 256 };
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Namespaces and nodes refused so far: their reads waited for the pod instead. */
  get refused(): number {
    return this.#refused;
  }

  /** Records that `name` of `cluster` is real: a pod was read in that namespace, or on that node. */
  known(cluster: string, subject: ReadAheadSubject, name: string): void {
    let k = this.#known.get(cluster);
    if (!k) {
      k = { namespace: new Map(), node: new Map() };
      setNewest(this.#known, cluster, k, MAX_CLUSTERS);
    }
    setNewest(k[subject], name, true, MAX_KNOWN[subject]);
  }

  /** Whether `name` of `cluster` may be read ahead: known real, admitted already this window, or room for one more. */
  allow(cluster: string, subject: ReadAheadSubject, name: string): boolean {
    if (this.#known.get(cluster)?.[subject].has(name)) return true;
    const now = this.#now();
    const start = now - (now % this.#windowMs);
    let w = this.#clusters.get(cluster);
    if (w?.start !== start) {
      w = { start, admitted: { namespace: new Set(), node: new Set() } };
      setNewest(this.#clusters, cluster, w, MAX_CLUSTERS);
    }
    const admitted = w.admitted[subject];
    if (admitted.has(name)) return true;
    if (admitted.size >= this.#limits[subject]) {
      this.#refused++;
      return false;
    }
    admitted.add(name);
    return true;
  }
}
