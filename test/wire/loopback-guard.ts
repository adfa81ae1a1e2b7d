import net from 'node:net';
import { after } from 'node:test';

/**
 * Records every outgoing TCP connection this test process makes that is not to loopback, and fails the file if
 * there was one (e.g. a Google client probing the metadata server at 169.254.169.254). Import it first.
 */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/;
export const offLoopback: string[] = [];

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  // net.connect() hands over its normalized [options, callback] array as the first argument.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  let host: string | undefined;
  let isPath = false;
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; path?: string };
    host = o.host;
    isPath = typeof o.path === 'string';
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? (args[1] as string) : undefined;
  } else if (typeof first === 'string') {
    isPath = true;
  }
  if (!isPath && host !== undefined && !LOOPBACK.test(host)) offLoopback.push(host);
  return (original as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

after(() => {
  if (offLoopback.length > 0) throw new Error(`connections beyond loopback: ${[...new Set(offLoopback)].join(', ')}`);
});
