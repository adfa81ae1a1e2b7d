/** Least time between two collections asked for here. */
const MIN_INTERVAL_MS = 100;
/** How long after the ask the collection runs: the refused message's last references are gone by then. */
const DELAY_MS = 10;

type Gc = () => void;

/**
 * Asks V8 for a full garbage collection soon, when the process exposes one (`--expose-gc`: `npm start` and the image
 * set it; without it this does nothing). For a message refused for its size (Pub/Sub takes up to 10 MB): a buffer's
 * memory goes back to the system only when V8 collects it, and V8 collects for buffers only once tens of MB more of
 * them have piled up, so a wave of 9 MB messages took the bot 75–110 MB over idle — up to 257 MB, over its 250 MB
 * budget — and 54–75 MB with a collection after each (test/wire/hostile/large-payloads.test.ts; docs/alerts.md,
 * "Bounded memory"). At most one collection per 100 ms, each 5–30 ms of a ~60 MB heap; ordinary alerts never ask.
 */
export function collectSoon(gc: Gc | undefined = (globalThis as { gc?: Gc }).gc): void {
  if (!gc || state.pending) return;
  state.pending = true;
  const wait = Math.max(DELAY_MS, state.last + MIN_INTERVAL_MS - Date.now());
  setTimeout(() => {
    state.pending = false;
    state.last = Date.now();
    gc();
  }, wait).unref();
}

const state = { pending: false, last: 0 };
