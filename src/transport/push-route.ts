import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Alert } from '../alerts/alert.ts';
import { parseAlert } from '../alerts/parse-alert.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from '../usecases/alert-intake.ts';
import { type Route, text } from './http-routes.ts';
import type { PushAuthResult, PushRefusal } from './push-auth.ts';

export interface PushRouteOptions {
  /** Checks the request's `Authorization` header (transport/push-auth.ts). */
  readonly authenticate: (authorization: string | undefined, url: string) => Promise<PushAuthResult>;
  readonly handle: (alert: Alert, attempt: number) => Promise<IntakeOutcome>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

const MAX_PUSH_BODY = 2 * 1024 * 1024;

/** What each refusal is logged as: what was wrong, and where to look. Never the token. */
const REFUSED: Record<PushRefusal, string> = {
  missing: 'no Authorization: Bearer token (is the subscription created with --push-auth-service-account?)',
  'token-in-url':
    'a token in the URL is not accepted: the subscription must send its OIDC token (--push-auth-service-account; docs/alerts.md, "Push")',
  malformed: 'the Authorization header is not a well-formed bearer JWT',
  'unknown-key': 'the token is signed with a key Google does not publish (unknown kid)',
  'bad-signature': 'the token’s signature does not verify',
  expired: 'the token has expired',
  'not-yet-valid': 'the token is not valid yet (issued in the future)',
  'lifetime-too-long': 'the token’s expiry is too far in the future',
  'wrong-issuer': 'the token was not issued by https://accounts.google.com',
  'wrong-audience': 'the token’s audience is not PUBSUB_PUSH_AUDIENCE',
  'wrong-email': 'the token was minted for another service account than PUBSUB_PUSH_SERVICE_ACCOUNT',
  'email-unverified': 'the token’s email is not verified',
};

/**
 * `POST /pubsub/push` for push subscriptions (docs/alerts.md, "Push"): only a request carrying the OIDC token Pub/Sub
 * signs for the configured service account and audience is read (401 before the body otherwise); the envelope is
 * parsed like a pulled message; 204 acknowledges and 503 has Pub/Sub redeliver, like the pull consumer's ack and nack.
 */
export function pushRoute(o: PushRouteOptions): Route {
  const count = o.metrics.counter('imagepull_push_requests_total', 'Pub/Sub push requests by result', ['result']);
  const refused = o.metrics.counter('imagepull_push_refused_total', 'Pub/Sub push requests refused, by reason', [
    'reason',
  ]);
  return {
    path: '/pubsub/push',
    method: ['POST'],
    handler: (req, res) => {
      o.authenticate(req.headers.authorization, req.url ?? '/')
        .then(async (auth) => {
          if (auth.ok) {
            await accept(req, res);
            return;
          }
          if (auth.reason === 'certs-unavailable') {
            count({ result: 'unavailable' });
            o.logger.error('Pub/Sub push request not checked: Google’s signing certificates could not be fetched');
            text(res, 503, 'retry');
            return;
          }
          count({ result: 'unauthorized' });
          refused({ reason: auth.reason });
          o.logger.warn(
            { reason: auth.reason, ...auth.detail },
            `Pub/Sub push request refused: ${REFUSED[auth.reason]}`,
          );
          text(res, 401, 'unauthorized');
        })
        .catch((e: unknown) => {
          count({ result: 'error' });
          o.logger.error({ err: e }, 'Pub/Sub push request failed');
          if (!res.headersSent) text(res, 503, 'retry');
        });
    },
  };

  function accept(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return readBody(req, MAX_PUSH_BODY)
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
  }
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
