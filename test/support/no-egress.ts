import dns from 'node:dns';
import net from 'node:net';
import { after } from 'node:test';

/**
 * Preloaded into every test process (`node --import ./test/support/no-egress.ts --test …`, see package.json): nothing
 * a test runs may reach beyond loopback (docs/testing.md, "Nothing leaves the machine").
 *
 * - Google clients are told never to probe the GCE metadata server (`METADATA_SERVER_DETECTION=none`).
 * - Every outgoing TCP connection and every name lookup of this process is recorded; one that is not loopback fails
 *   the file. That catches a client probing `169.254.169.254` or resolving `metadata.google.internal`, `slack.com`…
 *
 * Child processes (emulators, `gcloud`, `kubectl`) are not covered here: the tests that run them prove it on their
 * own (test/support/egress-trace.ts).
 */
process.env.METADATA_SERVER_DETECTION ??= 'none';

const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOOPBACK_NAME = /^(localhost|[\w.-]+\.localhost)$/i;

export const offLoopback: string[] = [];

function isLoopback(host: string): boolean {
  return LOOPBACK_ADDRESS.test(host) || LOOPBACK_NAME.test(host);
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  // net.connect() hands over its normalized [options, callback] array as the first argument.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  let host: string | undefined;
  let isPath = false;
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; path?: string };
    host = o.host ?? (typeof o.path === 'string' ? undefined : 'localhost');
    isPath = typeof o.path === 'string';
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? (args[1] as string) : 'localhost';
  } else if (typeof first === 'string') {
    isPath = true;
  }
  if (!isPath && host !== undefined && !isLoopback(host)) offLoopback.push(`connect ${host}`);
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

// Name lookups leave the machine (a DNS query) even when the connection never happens.
const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string' && !isLoopback(hostname)) offLoopback.push(`lookup ${hostname}`);
  return (originalLookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
} as typeof dns.lookup;
const originalPromiseLookup = dns.promises.lookup;
dns.promises.lookup = function lookup(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string' && !isLoopback(hostname)) offLoopback.push(`lookup ${hostname}`);
  return (originalPromiseLookup as (...a: unknown[]) => unknown).call(dns.promises, hostname, ...rest);
} as typeof dns.promises.lookup;

after(() => {
  if (offLoopback.length > 0) throw new Error(`reached beyond loopback: ${[...new Set(offLoopback)].join(', ')}`);
});
