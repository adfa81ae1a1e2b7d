/**
 * The Socket Mode side of the Slack fake (docs/library-traps.md, "Slack and Bolt"; verified against `@slack/socket-mode` 3):
 * `apps.connections.open` hands out a single-use `ws://127.0.0.1:PORT/link/?ticket=…` URL; on connect the fake sends
 * `{"type":"hello"}`; envelopes go out as `{envelope_id, type, payload, accepts_response_payload}` and are settled
 * by the client's `{envelope_id, payload?}` ack.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { sleep } from '../net.ts';
import { isRecord } from './block-rules.ts';
import type { EnvelopeType } from './types.ts';

/** The path prefix of Socket Mode URLs. */
export const LINK_PATH = '/link/';

/** Slack's server pings keep `@slack/socket-mode` from reconnecting (its `serverPingTimeout` is 30 s). */
const SERVER_PING_MS = 10_000;

/** How long {@link SocketModeHub.close} lets clients finish the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 1_000;

/** Thrown when the bot did not ack within the time allowed (Slack's 3-second rule). */
export class AckTimeoutError extends Error {
  readonly code = 'slack_ack_timeout';
}

/** Thrown when no Socket Mode client is connected and no HTTP target is set. */
export class NoConnectionError extends Error {
  readonly code = 'slack_no_connection';
}

/** The ack a client sent back. */
export interface SocketAck {
  readonly envelope_id: string;
  readonly payload?: Record<string, unknown>;
}

interface Pending {
  readonly resolve: (ack: SocketAck) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Socket Mode connections and envelope delivery.
 *
 * Guarantees: each envelope goes to exactly one open connection (round robin across several, as Slack spreads
 * load over an app's connections); a delivery settles exactly once — with the ack, a timeout, or the hub closing.
 */
export class SocketModeHub {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #appId: string;
  readonly #tickets = new Set<string>();
  readonly #open: WebSocket[] = [];
  /** Every socket not yet closed, including retired ones. */
  readonly #all = new Set<WebSocket>();
  readonly #pending = new Map<string, Pending>();
  readonly #pingTimer: NodeJS.Timeout;
  #total = 0;
  #next = 0;
  #closed = false;

  constructor(appId: string) {
    this.#appId = appId;
    this.#pingTimer = setInterval(() => {
      for (const socket of this.#open) socket.ping();
    }, SERVER_PING_MS);
    this.#pingTimer.unref();
  }

  /** A single-use WebSocket URL on `host` (`127.0.0.1:PORT`), as `apps.connections.open` returns. */
  issueUrl(host: string): string {
    const ticket = randomUUID();
    this.#tickets.add(ticket);
    return `ws://${host}${LINK_PATH}?ticket=${ticket}&app_id=${this.#appId}`;
  }

  /** Takes over an HTTP upgrade on the link path; refuses unknown or reused tickets with 401. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (this.#closed || !url.pathname.startsWith(LINK_PATH) || !this.#tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  /** Open connections now, and connections accepted since start. */
  counts(): { open: number; total: number } {
    return { open: this.#open.length, total: this.#total };
  }

  /**
   * Sends one envelope and resolves with the ack.
   *
   * Waits up to `timeoutMs` for a connection when none is open (a client may be reconnecting), then up to
   * `timeoutMs` for the ack.
   *
   * @throws NoConnectionError when no client connects in time; AckTimeoutError when the ack does not come in time.
   */
  async deliver(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs: number): Promise<SocketAck> {
    const deadline = Date.now() + timeoutMs;
    while (this.#open.length === 0) {
      if (this.#closed) throw new NoConnectionError('the Slack fake is stopped');
      if (Date.now() >= deadline) {
        throw new NoConnectionError(
          `no Socket Mode client connected within ${timeoutMs} ms and no HTTP target set: cannot deliver ${type}`,
        );
      }
      await sleep(20);
    }
    const socket = this.#open[this.#next++ % this.#open.length] as WebSocket;
    const envelopeId = randomUUID();
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      // Slack accepts a response payload in the ack for slash commands (shown to the user), not for clicks/events.
      accepts_response_payload: type === 'slash_commands',
      ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
    };
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(
          new AckTimeoutError(
            `the bot did not ack ${type} envelope ${envelopeId} within ${timeoutMs} ms ` +
              '(Slack would show the user "operation_timeout")',
          ),
        );
      }, timeoutMs);
      this.#pending.set(envelopeId, { resolve, reject, timer });
      socket.send(JSON.stringify(envelope), (err) => {
        if (err === undefined || err === null) return;
        clearTimeout(timer);
        this.#pending.delete(envelopeId);
        reject(new NoConnectionError(`could not send ${type} over Socket Mode: ${err.message}`));
      });
    });
  }

  /**
   * Asks every client to reconnect (Slack's `disconnect` message), or cuts them off without a word. Deliveries
   * then wait for the client's new connection (`@slack/socket-mode` reconnects after about 5 s).
   */
  disconnectAll(options: { abrupt?: boolean; reason?: string } = {}): void {
    // Retired at once: like Slack, nothing more is sent on a connection told to go away.
    const retired = this.#open.splice(0);
    for (const socket of retired) {
      if (options.abrupt === true) {
        socket.terminate();
      } else {
        socket.send(
          JSON.stringify({
            type: 'disconnect',
            reason: options.reason ?? 'refresh_requested',
            debug_info: { host: 'sandbox' },
          }),
        );
      }
    }
  }

  /** Closes every connection; pending deliveries reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new NoConnectionError(`the Slack fake stopped before envelope ${id} was acked`));
    }
    this.#pending.clear();
    // Finish close handshakes first (a client that is itself disconnecting, like Bolt's `app.stop()`, otherwise
    // sees an abnormal 1006 close and leaves a 30-second timer behind); cut off whoever does not answer in time.
    const sockets = [...this.#all];
    const closed = sockets.map(
      (socket) =>
        new Promise<void>((resolve) =>
          socket.readyState === socket.CLOSED ? resolve() : socket.once('close', () => resolve()),
        ),
    );
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.close(1001, 'server shutting down');
    const grace = setTimeout(() => {
      for (const socket of sockets) socket.terminate();
    }, CLOSE_GRACE_MS);
    await Promise.all(closed);
    clearTimeout(grace);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    this.#open.push(ws);
    this.#all.add(ws);
    this.#total += 1;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.#onMessage(data);
    });
    ws.on('close', () => {
      this.#all.delete(ws);
      const i = this.#open.indexOf(ws);
      if (i >= 0) this.#open.splice(i, 1);
    });
    ws.on('error', () => {
      // A client vanishing mid-frame is normal during reconnect tests; the close handler cleans up.
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#open.length,
        debug_info: { host: 'sandbox', approximate_connection_time: 18060 },
        connection_info: { app_id: this.#appId },
      }),
    );
  }

  #onMessage(data: RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!isRecord(message) || typeof message.envelope_id !== 'string') return;
    const pending = this.#pending.get(message.envelope_id);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#pending.delete(message.envelope_id);
    const ack: SocketAck = isRecord(message.payload)
      ? { envelope_id: message.envelope_id, payload: message.payload }
      : { envelope_id: message.envelope_id };
    pending.resolve(ack);
  }
}
