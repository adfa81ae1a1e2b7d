import dns from 'node:dns';
import net from 'node:net';

/**
 * Preloaded into the bot when the image test runs it (`NODE_OPTIONS=--import=file:///tmp/egress-guard.ts`): every
 * outgoing TCP connection and every name lookup that is not loopback is refused before a packet leaves, and written
 * to stderr as `egress-guard: blocked …`, which fails the test. It changes nothing else in the image's code.
 */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

function refuse(what: string): never {
  process.stderr.write(`egress-guard: blocked ${what}\n`);
  throw new Error(`egress-guard: ${what} is not loopback`);
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  let host: string | undefined;
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; path?: string };
    if (typeof o.path !== 'string') host = o.host ?? 'localhost';
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? (args[1] as string) : 'localhost';
  }
  if (host !== undefined && !LOOPBACK.test(host)) refuse(`connect ${host}`);
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string' && !LOOPBACK.test(hostname)) refuse(`lookup ${hostname}`);
  return (originalLookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
} as typeof dns.lookup;
const originalPromiseLookup = dns.promises.lookup;
dns.promises.lookup = function lookup(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string' && !LOOPBACK.test(hostname)) refuse(`lookup ${hostname}`);
  return (originalPromiseLookup as (...a: unknown[]) => unknown).call(dns.promises, hostname, ...rest);
} as typeof dns.promises.lookup;
