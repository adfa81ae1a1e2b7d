/**
 * Watches (`?watch=true`), as the API server streams them: one JSON object per line, `{"type","object"}`, over a
 * chunked 200 response. Without a resourceVersion (or with `0`) the stream starts with a synthetic ADDED per
 * existing object; with one it replays the store's changes after it, or sends a 410 `Expired` ERROR event when
 * that version has left the window (clients then relist). `sendInitialEvents=true` ends the initial ADDEDs with
 * the `k8s.io/initial-events-end` bookmark. The stream ends after `timeoutSeconds` or when the client goes away.
 * Selectors are evaluated on each new state (an object that stops matching is not reported as DELETED).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeStore, StoreChange } from '../world/kube-store.ts';
import type { KubeObject } from '../world/kube-types.ts';
import { KubeError, kubeError } from './status.ts';

/** What one watch streams. */
export interface WatchOptions {
  readonly store: KubeStore;
  readonly kind: string;
  readonly namespace?: string;
  /** Label and field selectors combined. */
  readonly matches: (obj: KubeObject) => boolean;
  readonly query: URLSearchParams;
  readonly contentType: string;
  /** How each object is written (plain, or as a one-row Table; `first` is true for the first event only). */
  readonly encode: (obj: KubeObject, first: boolean) => unknown;
  /** Objects currently stored, for the synthetic ADDED events. */
  readonly current: () => KubeObject[];
}

/** Streams a watch until its timeout or the client disconnects. */
export function serveWatch(req: IncomingMessage, res: ServerResponse, opts: WatchOptions): void {
  const rv = opts.query.get('resourceVersion') ?? '';
  const timeout = Number(opts.query.get('timeoutSeconds') ?? 1800);
  if (!Number.isFinite(timeout) || timeout < 0) throw kubeError(400, `invalid timeoutSeconds: ${timeout}`);
  if (rv !== '' && !/^\d+$/.test(rv)) throw kubeError(400, `invalid resource version: ${rv}`);
  const initialEvents = opts.query.get('sendInitialEvents') === 'true';
  res.writeHead(200, {
    'content-type': opts.contentType,
    'cache-control': 'no-cache, private',
    'transfer-encoding': 'chunked',
    'audit-id': crypto.randomUUID(),
  });
  // The API server sends the headers at once: clients wait for them before they treat the watch as started.
  res.flushHeaders();
  let first = true;
  const write = (type: string, obj: unknown) => {
    res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };
  const deliver = (type: StoreChange['type'], obj: KubeObject) => {
    if (!wanted(obj)) return;
    write(type, opts.encode(obj, first));
    first = false;
  };
  const wanted = (obj: KubeObject) =>
    obj.kind === opts.kind &&
    (opts.namespace === undefined || obj.metadata.namespace === opts.namespace) &&
    opts.matches(obj);

  let replay: StoreChange[] = [];
  if (rv === '' || rv === '0' || initialEvents) {
    for (const obj of opts.current()) deliver('ADDED', structuredClone(obj));
    if (initialEvents) {
      write('BOOKMARK', {
        kind: opts.kind,
        apiVersion: opts.current()[0]?.apiVersion ?? 'v1',
        metadata: {
          resourceVersion: opts.store.resourceVersion(),
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      });
    }
  } else {
    const since = opts.store.changesSince(Number(rv));
    if (!since) {
      const gone = new KubeError(410, 'Expired', `too old resource version: ${rv} (${opts.store.resourceVersion()})`);
      write('ERROR', gone.body());
      res.end();
      return;
    }
    replay = since;
  }
  for (const c of replay) deliver(c.type, c.object);
  const unsubscribe = opts.store.subscribe((c) => {
    if (!res.writableEnded) deliver(c.type, c.object);
  });
  const stop = () => {
    clearTimeout(timer);
    unsubscribe();
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(stop, timeout * 1000);
  req.once('close', stop);
  res.once('close', stop);
}
