import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from '../shared/metrics.ts';

/** A custom HTTP route, in the shape Bolt's receivers accept (`customRoutes`). */
export interface Route {
  readonly path: string;
  readonly method: string[];
  handler(req: IncomingMessage, res: ServerResponse): void;
}

export interface RouteOptions {
  readonly metrics: Metrics;
  readonly ready: () => boolean;
}

/**
 * The bot's own HTTP routes, beside Slack's: `/healthz` (alive), `/readyz` (ready to take work), `/metrics`
 * (Prometheus text). Push intake adds its own route (transport/push-route.ts).
 */
export function operationalRoutes(o: RouteOptions): Route[] {
  const get = (path: string, handler: (res: ServerResponse) => void): Route => ({
    path,
    method: ['GET'],
    handler: (_req, res) => handler(res),
  });
  const routes: Route[] = [
    get('/healthz', (res) => text(res, 200, 'ok')),
    get('/readyz', (res) => (o.ready() ? text(res, 200, 'ready') : text(res, 503, 'not ready'))),
    get('/metrics', (res) => {
      o.metrics.render().then(
        (body) => {
          res.writeHead(200, { 'content-type': o.metrics.contentType });
          res.end(body);
        },
        () => text(res, 500, 'metrics unavailable'),
      );
    }),
  ];
  return routes;
}

/** Serves routes on their own HTTP server (Socket Mode, where Bolt has no HTTP listener). */
export async function serveRoutes(routes: readonly Route[], port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path && r.method.includes(req.method ?? 'GET'));
    if (route) route.handler(req, res);
    else text(res, 404, 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}
