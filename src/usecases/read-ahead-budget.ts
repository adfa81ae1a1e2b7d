import { setNewest } from '../shared/bounded.ts';

/** Clusters whose window is remembered; one past it forgets the least recently seen. */
const MAX_CLUSTERS = 1_000;

export interface ReadAheadBudgetOptions {
  /** Distinct subjects (namespaces, nodes) read ahead per cluster per window (default 64). */
  readonly perWindow?: number;
  /** The window, in ms (default one minute). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/**
 * How many distinct namespaces and nodes an alert's reads may start on a guess (`readAhead` in fact-gathering.ts)
 * per cluster per window. An alert is input from whoever can publish to the topic, and every made-up namespace it
 * names would otherwise cost three more lists and every made-up node one more GET. A real storm names a few
 * namespaces and nodes, admitted once per window and then free; past the budget an alert reads as before read-ahead,
 * the pod first (one round trip slower, same diagnosis), so a flood of made-up names costs the apiserver what the
 * alerts themselves name — the pod list and GET — and at most `perWindow` subjects more (docs/diagnosis.md, "Facts").
 */
export class ReadAheadBudget {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #clusters = new Map<string, { start: number; admitted: Set<string> }>();
  #refused = 0;

  constructor(options: ReadAheadBudgetOptions = {}) {
    this.#perWindow = options.perWindow ?? 64;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Subjects refused so far: the reads that waited for the pod instead. */
  get refused(): number {
    return this.#refused;
  }

  /** Whether `subject` of `cluster` may be read ahead: admitted already this window, or room for one more. */
  allow(cluster: string, subject: string): boolean {
    const now = this.#now();
    const start = now - (now % this.#windowMs);
    let w = this.#clusters.get(cluster);
    if (w?.start !== start) {
      w = { start, admitted: new Set() };
      setNewest(this.#clusters, cluster, w, MAX_CLUSTERS);
    }
    if (w.admitted.has(subject)) return true;
    if (w.admitted.size >= this.#perWindow) {
      this.#refused++;
      return false;
    }
    w.admitted.add(subject);
    return true;
  }
}
