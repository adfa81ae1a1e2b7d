type Gc = () => void;

export interface CollectorOptions {
  readonly now?: () => number;
  readonly schedule?: (fn: () => void, ms: number) => void;
}

/** Bytes refused since the last collection before the next is asked for. */
const EVERY_BYTES = 8 * 1024 * 1024;
/** Least time between two collections. */
const MIN_INTERVAL_MS = 100;
/** How long after the ask the collection runs: the refused message's last references are gone by then. */
const DELAY_MS = 10;

/**
 * Collections after refused large bodies. A message Pub/Sub hands the bot can be 10 MB; a buffer's memory goes back to
 * the system only when V8 collects it, and V8 collects for buffers only once tens of MB more of them have piled up, so
 * a wave of 9 MB messages took the bot 75–110 MB over idle — up to 257 MB, over its 250 MB budget — and 54–75 MB with
 * a collection soon after the refused bytes add up (test/wire/hostile/large-payloads.test.ts; docs/alerts.md, "Bounded
 * memory"). A collection is asked for only once 8 MB have been refused since the last one, and at most one per
 * 100 ms: whoever publishes to the topic pays 8 MB of upload for each 5–30 ms collection of a ~60 MB heap (a 9 MB body
 * is one; with 16 MB, every other one, the wave peaked ~15 MB higher); ordinary alerts never ask. `gc` is V8's,
 * exposed by `--expose-gc` (`npm start` and the image set it); without it, nothing.
 */
export function createCollector(gc: Gc | undefined, options: CollectorOptions = {}): (bytes: number) => void {
  const now = options.now ?? Date.now;
  const schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms).unref());
  let refused = 0;
  let pending = false;
  let last = Number.NEGATIVE_INFINITY;
  return (bytes) => {
    if (!gc) return;
    refused += bytes;
    if (pending || refused < EVERY_BYTES) return;
    pending = true;
    schedule(
      () => {
        pending = false;
        refused = 0;
        last = now();
        gc();
      },
      Math.max(DELAY_MS, last + MIN_INTERVAL_MS - now()),
    );
  };
}

/** Counts a body refused for its size (`bytes` long) and asks for a collection when they add up (`createCollector`). */
export const refusedLarge: (bytes: number) => void = createCollector((globalThis as { gc?: Gc }).gc);
