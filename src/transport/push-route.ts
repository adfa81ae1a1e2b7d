import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Alert } from '../alerts/alert.ts';
import { parseAlert } from '../alerts/parse-alert.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from '../usecases/alert-intake.ts';
import { type Route, text } from './http-routes.ts';

export interface PushRouteOptions {
  readonly token: string;
  readonly handle: (alert: Alert, attempt: number) => Promise<IntakeOutcome>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

const MAX_PUSH_BODY = 2 * 1024 * 1024;

/**
 * `POST /pubsub/push?token=…` for push subscriptions (docs/alerts.md, "Push"): the envelope is parsed like a pulled
 * message; 204 acknowledges and 503 has Pub/Sub redeliver, like the pull consumer's ack and nack.
 */
export function pushRoute(o: PushRouteOptions): Route {
  const count = o.metrics.counter('imagepull_push_requests_total', 'Pub/Sub push requests by result', ['result']);
  return {
    path: '/pubsub/push',
    method: ['POST'],
    handler: (req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
      if (!sameSecret(token, o.token)) {
        count({ result: 'unauthorized' });
        o.logger.warn('Pub/Sub push request with a missing or wrong token: refused');
        text(res, 401, 'unauthorized');
        return;
      }
      readBody(req, MAX_PUSH_BODY)
        .then(async (body) => {
          const attempt =
            Number((safeJson(body) as { deliveryAttempt?: unknown } | undefined)?.deliveryAttempt ?? 1) || 1;
          const outcome = await o.handle(parseAlert(body), attempt);
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
  };
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
