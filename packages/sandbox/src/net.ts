/**
 * Loopback networking helpers for the sandbox: free ports, listening, closing and polling.
 *
 * Everything here binds or dials 127.0.0.1 only; nothing in the sandbox may reach another address.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The only host sandbox servers bind and sandbox clients dial. */
export const LOOPBACK = '127.0.0.1';

/**
 * Starts `server` listening on a free loopback port.
 *
 * @returns the port the kernel chose; the server is listening when the promise resolves.
 */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(0, LOOPBACK, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Closes `server` and every connection it holds (idle keep-alive sockets included).
 *
 * Resolves once the server has stopped listening; safe to call on a server that is already closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Finds a loopback port that is free right now, for a process that must be told its port on the command line.
 *
 * The port is released before this resolves, so another process could take it in between: callers that spawn a
 * server should be ready to retry on "address in use".
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await closeServer(server);
  return port;
}

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Time between attempts. Default 20 ms. */
  readonly intervalMs?: number;
  /** Named in the timeout error, e.g. `'the incident message'`. */
  readonly what?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`/`null`, and resolves with that value.
 *
 * A probe that throws is treated as "not yet"; the last error is quoted in the timeout error.
 *
 * @throws Error naming `what` and the timeout when the deadline passes.
 */
export async function waitUntil<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * One GET on a fresh connection (no pooling, so nothing lingers once the server goes away).
 *
 * @throws the connection error, or an Error after `timeoutMs`.
 */
export function httpGetText(url: string, timeoutMs = 1000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
