import { type Fact, type FactError, factFailed, factOk } from '../diagnosis/facts.ts';
import { ReadError } from '../shared/errors.ts';

/** Reads within one investigation: each key at most once (see `FactReader.session`). */
export interface FactSession {
  /** Whether the session reads everything anew (a person asked) rather than sharing recent reads (an alert). */
  readonly fresh: boolean;
  read<T>(key: string, source: string, fn: () => Promise<T>): Promise<Fact<T>>;
}

/**
 * Reads facts for the diagnosis: every read becomes a `Fact` (never a throw), has a deadline, and identical reads
 * in flight or done within the TTL are shared. Under an alert storm this keeps Google API calls bounded by the
 * number of distinct facts, not by the number of messages (docs/testing.md, "The benchmark").
 */
export class FactReader {
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; value: Promise<Fact<unknown>> }>();
  #reads = 0;

  constructor(options: { ttlMs: number; timeoutMs: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  /** Reads actually sent (cache misses), for metrics and the benchmark. */
  get reads(): number {
    return this.#reads;
  }

  /**
   * Reads once per `key` within the TTL (or `maxAgeMs`, when the caller wants fresher). `source` names the call in evidence. Failed reads are cached for a shorter
   * time (a fifth of the TTL) so a transient failure does not stick.
   */
  read<T>(
    key: string,
    source: string,
    fn: () => Promise<T>,
    options?: { fresh?: boolean; maxAgeMs?: number },
  ): Promise<Fact<T>> {
    const now = this.#now();
    const hit = this.#entries.get(key);
    const maxAge = Math.min(this.#ttlMs, options?.maxAgeMs ?? this.#ttlMs);
    if (!options?.fresh && hit && now - hit.at < maxAge) return hit.value as Promise<Fact<T>>;
    const value = this.#attempt(source, fn);
    this.#entries.set(key, { at: now, value });
    void value.then((f) => {
      if (f.ok) return;
      const entry = this.#entries.get(key);
      if (entry?.value !== value) return;
      // A transient failure is shared only while in flight; a definite answer (not found, denied) for a fifth of
      // the TTL, so a retry sees the world again.
      if (f.error.code === 'unavailable' || f.error.code === 'timeout') this.#entries.delete(key);
      else entry.at = now - this.#ttlMs + this.#ttlMs / 5;
    });
    if (this.#entries.size > 20_000) this.#evict(now);
    return value;
  }

  /**
   * A session for one investigation: each key is read at most once in it. `fresh` sessions (Re-check, the re-read
   * before a fix, `/imagepull diagnose`) send each read anew the first time, then share it within the session.
   */
  session(options?: { fresh?: boolean }): FactSession {
    const fresh = options?.fresh === true;
    const seen = new Map<string, Promise<Fact<unknown>>>();
    return {
      fresh,
      read: <T>(key: string, source: string, fn: () => Promise<T>): Promise<Fact<T>> => {
        const hit = seen.get(key);
        if (hit) return hit as Promise<Fact<T>>;
        const value = this.read(key, source, fn, { fresh });
        seen.set(key, value);
        return value;
      },
    };
  }

  /** Drops cached reads whose key starts with `prefix` (after a change the bot made itself). */
  invalidate(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  async #attempt<T>(source: string, fn: () => Promise<T>): Promise<Fact<T>> {
    this.#reads++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ReadError('timeout', `${source}: no answer within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      return factOk(await Promise.race([fn(), timeout]), source);
    } catch (e) {
      return factFailed(toFactError(e), source);
    } finally {
      clearTimeout(timer);
    }
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#entries) if (now - entry.at >= this.#ttlMs) this.#entries.delete(key);
  }
}

export function toFactError(e: unknown): FactError {
  if (e instanceof ReadError) {
    return {
      code: e.code === 'conflict' ? 'failed' : e.code,
      message: e.message,
      ...(e.permission ? { permission: e.permission } : {}),
    };
  }
  return { code: 'failed', message: e instanceof Error ? e.message : String(e) };
}
