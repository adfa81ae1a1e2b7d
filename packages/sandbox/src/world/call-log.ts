/**
 * What the sandbox observes and injects on the wire: every Google and Kubernetes call by method (for assertions
 * and the benchmark's "Google API calls" count), scripted failures, and added latency.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** One call the fakes answered. */
export interface CallRecord {
  /** `artifactregistry.GetIamPolicy`, `container.GetCluster`, `troubleshooter.troubleshoot`, `kube.GET pods`, … */
  readonly method: string;
  /** Epoch ms when it arrived. */
  readonly at: number;
  /** The resource or path it was about, when known. */
  readonly detail?: string;
}

/** Every Google and Kubernetes call the sandbox answered, in arrival order. */
export class CallLog {
  private readonly records: CallRecord[] = [];

  record(method: string, detail?: string): void {
    this.records.push({ method, at: Date.now(), ...(detail ? { detail } : {}) });
  }

  /**
   * Calls of `method`; every call when omitted. A trailing `*` matches a prefix (`kube.*`, `artifactregistry.*`).
   */
  count(method?: string): number {
    if (method === undefined) return this.records.length;
    return this.records.filter((r) => matches(method, r.method)).length;
  }

  /** A copy of the records, oldest first. */
  list(method?: string): CallRecord[] {
    return this.records.filter((r) => method === undefined || matches(method, r.method));
  }

  reset(): void {
    this.records.length = 0;
  }
}

function matches(pattern: string, method: string): boolean {
  return pattern.endsWith('*') ? method.startsWith(pattern.slice(0, -1)) : method === pattern;
}

/** Scripted failures: the next `times` calls of a method answer with a status code instead of the world. */
export class FaultInjector {
  private readonly pending = new Map<string, { code: number; times: number }[]>();

  /** The next `times` calls of `method` fail with `code` (a gRPC status for gRPC methods, an HTTP status otherwise). */
  failNext(method: string, code: number, times = 1): void {
    const queue = this.pending.get(method) ?? [];
    queue.push({ code, times });
    this.pending.set(method, queue);
  }

  /** Consumes one scripted failure for `method`, if any. */
  take(method: string): number | undefined {
    const queue = this.pending.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.times -= 1;
    if (head.times <= 0) queue.shift();
    return head.code;
  }
}

/** The shared wire-side state of a running sandbox. */
export interface WireRuntime {
  readonly calls: CallLog;
  readonly faults: FaultInjector;
  /** Current added latency in ms. */
  latencyMs(): number;
}

/**
 * Admits one call: records it, waits the configured latency (a timer, never blocking the loop), and returns a
 * scripted failure code for it, if one is pending.
 */
export async function admit(rt: WireRuntime, method: string, detail?: string): Promise<number | undefined> {
  rt.calls.record(method, detail);
  const ms = rt.latencyMs();
  if (ms > 0) await sleep(ms);
  return rt.faults.take(method);
}
