import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Google's OIDC signing, on loopback: an RSA key pair named by a key id, the certificates JSON served the way
 * https://www.googleapis.com/oauth2/v1/certs serves it (`{kid: PEM}`, with a cache lifetime), and ID tokens signed
 * the way Pub/Sub signs a push request's (RS256, `iss` https://accounts.google.com, `aud`, `email`,
 * `email_verified`, one hour). The published PEM is the public key rather than an X.509 certificate: the verifier
 * only uses the key in it.
 */
export interface GoogleOidc {
  /** The certificates URL (PUBSUB_PUSH_CERTS_URL). */
  readonly certsUrl: string;
  readonly kid: string;
  /** How many times the certificates were fetched. */
  fetches(): number;
  /** A token with Pub/Sub's claims, overridden by `claims`; signed by the published key unless `key`/`kid` say otherwise. */
  sign(claims: Record<string, unknown>, options?: { key?: KeyObject; kid?: string }): string;
  /** A key Google does not publish. */
  readonly strangerKey: KeyObject;
  stop(): Promise<void>;
}

export async function startGoogleOidc(): Promise<GoogleOidc> {
  const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'f2e11986282de93f27b264fd2a4de192993dcb8c';
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/oauth2/v1/certs') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ [kid]: published.publicKey.export({ type: 'spki', format: 'pem' }) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    certsUrl: `http://127.0.0.1:${port}/oauth2/v1/certs`,
    kid,
    fetches: () => fetches,
    strangerKey: stranger.privateKey,
    sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', kid: options.kid ?? kid, typ: 'JWT' };
      const payload = {
        iss: 'https://accounts.google.com',
        azp: '108713276546210876543',
        sub: '108713276546210876543',
        email_verified: true,
        iat: now,
        exp: now + 3600,
        ...claims,
      };
      const signed = `${b64(header)}.${b64(payload)}`;
      const signature = createSign('RSA-SHA256')
        .update(signed)
        .sign(options.key ?? published.privateKey)
        .toString('base64url');
      return `${signed}.${signature}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
