import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Alert } from '../alerts/alert.ts';
import { parseAlert } from '../alerts/parse-alert.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from '../usecases/alert-intake.ts';

/** A custom HTTP route, in the shape Bolt's receivers accept (`customRoutes`). */
export interface Route {
  readonly path: string;
  readonly method: string[];
  handler(req: IncomingMessage, res: ServerResponse): void;
}

export interface RouteOptions {
  readonly metrics: Metrics;
  readonly ready: () => boolean;
  readonly logger: Logger;
  /** Pub/Sub push intake, when a push token is configured. */
  readonly push?: {
    readonly token: string;
    readonly handle: (alert: Alert, attempt: number) => Promise<IntakeOutcome>;
  };
}

const MAX_PUSH_BODY = 2 * 1024 * 1024;

/**
 * The bot's own HTTP routes, beside Slack's: `/healthz` (alive), `/readyz` (intake running), `/metrics` (Prometheus
 * text), and `POST /pubsub/push?token=…` for push subscriptions (DESIGN §2: the push envelope). Push answers 204 to
 * acknowledge and 503 to have Pub/Sub redeliver, like the pull consumer's ack/nack.
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
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(o.metrics.render());
    }),
  ];
  const push = o.push;
  if (push) {
    const count = o.metrics.counter('imagepull_push_requests_total', 'Pub/Sub push requests by result');
    routes.push({
      path: '/pubsub/push',
      method: ['POST'],
      handler: (req, res) => {
        const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
        if (!sameSecret(token, push.token)) {
          count({ result: 'unauthorized' });
          o.logger.warn('Pub/Sub push request with a missing or wrong token: refused');
          text(res, 401, 'unauthorized');
          return;
        }
        readBody(req, MAX_PUSH_BODY)
          .then(async (body) => {
            const attempt =
              Number((safeJson(body) as { deliveryAttempt?: unknown } | undefined)?.deliveryAttempt ?? 1) || 1;
            const outcome = await push.handle(parseAlert(body), attempt);
            count({ result: outcome.ack ? 'acked' : 'nacked' });
            if (outcome.ack) {
              res.writeHead(204);
              res.end();
            } else text(res, 503, outcome.reason);
          })
          .catch((e: unknown) => {
            count({ result: 'error' });
            o.logger.error({ err: e }, 'Pub/Sub push request failed');
            text(res, 503, 'retry');
          });
      },
    });
  }
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

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        reject(new Error(`push body larger than ${max} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
