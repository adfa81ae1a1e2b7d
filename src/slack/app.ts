import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { App, type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Config } from '../config.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { type ListenerDeps, registerListeners } from './listeners/index.ts';

export interface SlackAppOptions {
  readonly config: Config;
  readonly listeners: ListenerDeps;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** `/readyz` answers 200 only when this says so (alert intake running, store reachable). */
  readonly ready: () => boolean;
}

/**
 * The Bolt app: Socket Mode (default) or HTTP with signed requests, the listeners, and `/healthz`, `/readyz`,
 * `/metrics` on the same HTTP port. Transport only: everything else is in the listeners' use cases.
 */
export function createSlackApp(o: SlackAppOptions): App {
  const { config } = o;
  const s = config.slack;
  const app = new App({
    token: s.botToken,
    // Socket Mode: the health routes are served by serveHealth (bound to HOST); HTTP mode: by Bolt's receiver.
    ...(s.mode === 'socket'
      ? { socketMode: true, appToken: s.appToken }
      : { signingSecret: s.signingSecret as string, port: config.port, customRoutes: healthRoutes(o) }),
    ...(s.botUserId ? { botUserId: s.botUserId } : {}),
    ...(s.botId ? { botId: s.botId } : {}),
    // Without known bot ids, auth.test runs in init(), where a failure is an error we can report (engineering.md §0.4).
    deferInitialization: true,
    clientOptions: { slackApiUrl: s.apiUrl },
    logger: boltLogger(o.logger),
  });
  app.error(async (e) => {
    o.logger.error({ err: e, code: (e as { code?: string }).code }, 'Slack listener error');
  });
  registerListeners(app, o.listeners);
  return app;
}

type Route = { path: string; method: string[]; handler: (req: IncomingMessage, res: ServerResponse) => void };

/** `/healthz` (alive), `/readyz` (intake running), `/metrics` (Prometheus text). */
export function healthRoutes(o: Pick<SlackAppOptions, 'metrics' | 'ready'>): Route[] {
  const route = (path: string, handler: (res: ServerResponse) => void): Route => ({
    path,
    method: ['GET'],
    handler: (_req, res) => handler(res),
  });
  return [
    route('/healthz', (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    }),
    route('/readyz', (res) => {
      const ready = o.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ready' : 'not ready');
    }),
    route('/metrics', (res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(o.metrics.render());
    }),
  ];
}

/** In Socket Mode, a small HTTP server for the health routes only. Resolves once listening. */
export async function serveHealth(
  o: Pick<SlackAppOptions, 'metrics' | 'ready'>,
  port: number,
  host: string,
): Promise<Server> {
  const routes = healthRoutes(o);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const r = routes.find((x) => x.path === path);
    if (r && req.method === 'GET') r.handler(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m) => child.debug(fmt(m)),
    info: (...m) => child.info(fmt(m)),
    warn: (...m) => child.warn(fmt(m)),
    error: (...m) => child.error(fmt(m)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
