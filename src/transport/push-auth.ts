import { OAuth2Client } from 'google-auth-library';

export interface PushAuthOptions {
  /** The subscription's `--push-auth-token-audience` (the token's `aud`). */
  readonly audience: string;
  /** The subscription's `--push-auth-service-account` (the token's `email`). */
  readonly serviceAccount: string;
  /** Google's signing certificates, PEM by key id (https://www.googleapis.com/oauth2/v1/certs). */
  readonly certsUrl: string;
}

/** Why a push request was refused; each is logged with its reason (docs/alerts.md, "Push"). */
export type PushRefusal =
  | 'missing'
  | 'token-in-url'
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'wrong-email'
  | 'email-unverified';

export type PushAuthResult =
  | { readonly ok: true; readonly email: string }
  | { readonly ok: false; readonly reason: PushRefusal; readonly detail?: Readonly<Record<string, string>> }
  /** Google's certificates could not be fetched: not the caller's fault, so Pub/Sub is asked to retry. */
  | { readonly ok: false; readonly reason: 'certs-unavailable' };

/** Google ID tokens carry either form of the issuer (the same pair google-auth-library accepts by default). */
const ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

/**
 * Checks the OIDC token Pub/Sub puts in `Authorization: Bearer` of each push request: Google's signature (the key named
 * by `kid` in the published certificates), issuer, audience, expiry (google-auth-library's `verifyIdToken`, which
 * allows 5 minutes of clock skew), then that it was minted for the push service account with a verified email.
 * The token itself is never returned or logged: the library's error messages quote it, so they are mapped to reasons.
 */
export class PushAuthenticator {
  readonly #client: OAuth2Client;
  readonly #audience: string;
  readonly #serviceAccount: string;

  constructor(o: PushAuthOptions) {
    this.#client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: o.certsUrl }, issuers: ISSUERS });
    this.#audience = o.audience;
    this.#serviceAccount = o.serviceAccount.toLowerCase();
  }

  async check(authorization: string | undefined, url: string): Promise<PushAuthResult> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!bearer) {
      const inUrl = new URL(url, 'http://x').searchParams.has('token');
      return { ok: false, reason: authorization ? 'malformed' : inUrl ? 'token-in-url' : 'missing' };
    }
    let payload: { email?: unknown; email_verified?: unknown } | undefined;
    try {
      const ticket = await this.#client.verifyIdToken({ idToken: bearer, audience: this.#audience });
      payload = ticket.getPayload();
    } catch (e) {
      return refusal(e instanceof Error ? e.message : '', bearer, this.#audience);
    }
    const email = typeof payload?.email === 'string' ? payload.email : '';
    if (email.toLowerCase() !== this.#serviceAccount) {
      return { ok: false, reason: 'wrong-email', detail: { email: clip(email), expected: this.#serviceAccount } };
    }
    if (payload?.email_verified !== true && payload?.email_verified !== 'true') {
      return { ok: false, reason: 'email-unverified', detail: { email: clip(email) } };
    }
    return { ok: true, email };
  }
}

/**
 * google-auth-library's messages for each failed check (oauth2client.js, verifySignedJwtWithCertsAsync), pinned by
 * test/wire/e2e/push-auth.test.ts; anything else is `malformed`.
 */
function refusal(message: string, token: string, expected: string): PushAuthResult {
  if (message.startsWith('Failed to retrieve verification certificates'))
    return { ok: false, reason: 'certs-unavailable' };
  if (message.startsWith('No pem found')) return { ok: false, reason: 'unknown-key' };
  if (message.startsWith('Invalid token signature')) return { ok: false, reason: 'bad-signature' };
  if (message.startsWith('Token used too late')) return { ok: false, reason: 'expired' };
  if (message.startsWith('Token used too early')) return { ok: false, reason: 'not-yet-valid' };
  if (message.startsWith('Expiration time too far in future')) return { ok: false, reason: 'lifetime-too-long' };
  // The signature has been checked by now: the claims below are Google's, and say what to fix.
  const claims = decodeClaims(token);
  if (message.startsWith('Invalid issuer')) {
    return { ok: false, reason: 'wrong-issuer', detail: { issuer: clip(String(claims.iss ?? '')) } };
  }
  if (message.startsWith('Wrong recipient')) {
    return { ok: false, reason: 'wrong-audience', detail: { audience: clip(String(claims.aud ?? '')), expected } };
  }
  return { ok: false, reason: 'malformed' };
}

function decodeClaims(token: string): Record<string, unknown> {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
