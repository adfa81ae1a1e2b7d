import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP proxy that a test can cut, restore and point elsewhere: a network fault on demand. */
export interface TcpProxy {
  /** `127.0.0.1:PORT` to give the client instead of the target. */
  readonly host: string;
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Sends new connections to another `host:port` (an emulator restarted elsewhere). Open ones are dropped. */
  retarget(target: string): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  let to = target;
  let cut = false;
  const open = new Set<Socket>();
  const dropAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const [host = '127.0.0.1', port = '0'] = to.split(':');
    const upstream = connect(Number(port), host);
    open.add(client);
    open.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    cut() {
      cut = true;
      dropAll();
    },
    restore() {
      cut = false;
    },
    retarget(next) {
      to = next;
      dropAll();
    },
    async stop() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
