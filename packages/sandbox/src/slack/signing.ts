/**
 * Slack request signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=hex(hmac_sha256(secret, 'v0:' + ts + ':' + body))` with `X-Slack-Request-Timestamp: ts`.
 *
 * Receivers refuse timestamps older than five minutes, so {@link staleHeaders} dates the request six minutes back.
 */
import { createHmac } from 'node:crypto';
import type { Tamper } from './types.ts';

/** The fake's signing secret unless one is given. Not a secret: it only signs loopback requests. */
export const DEFAULT_SIGNING_SECRET = 'sandbox-signing-secret-0123456789ab';

/** The two headers Slack signs a request with. */
export interface SignatureHeaders {
  readonly 'x-slack-request-timestamp': string;
  readonly 'x-slack-signature': string;
}

/** How far back a stale request is dated: one minute past Slack's five-minute replay window. */
export const STALE_AGE_SECONDS = 6 * 60;

/** The `v0=` signature of `body` sent at `timestampSec`. */
export function computeSignature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

/** Correct headers for `body`, timestamped now (or at `nowSec`). */
export function signedHeaders(secret: string, body: string, nowSec = Math.floor(Date.now() / 1000)): SignatureHeaders {
  return {
    'x-slack-request-timestamp': String(nowSec),
    'x-slack-signature': computeSignature(secret, nowSec, body),
  };
}

/** A current timestamp with a signature made with the wrong secret: a receiver must answer 401. */
export function forgedHeaders(secret: string, body: string, nowSec = Math.floor(Date.now() / 1000)): SignatureHeaders {
  return signedHeaders(`forged-${secret}`, body, nowSec);
}

/** A correct signature over a six-minute-old timestamp (a replay): a receiver must answer 401. */
export function staleHeaders(secret: string, body: string, nowSec = Math.floor(Date.now() / 1000)): SignatureHeaders {
  return signedHeaders(secret, body, nowSec - STALE_AGE_SECONDS);
}

/** The headers for `body`, honest or broken as `tamper` says. */
export function headersFor(secret: string, body: string, tamper?: Tamper): SignatureHeaders {
  if (tamper === 'forged-signature') return forgedHeaders(secret, body);
  if (tamper === 'stale-timestamp') return staleHeaders(secret, body);
  return signedHeaders(secret, body);
}
