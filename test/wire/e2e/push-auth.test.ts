import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { serveRoutes } from '../../../src/transport/http-routes.ts';
import { PushAuthenticator } from '../../../src/transport/push-auth.ts';
import { pushRoute } from '../../../src/transport/push-route.ts';
import { type GoogleOidc, startGoogleOidc } from '../../support/google-oidc.ts';
import { eventually } from '../helpers.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

const AUDIENCE = 'https://imagepull.example.com/pubsub/push';
const PUSH_SA = 'pubsub-push@acme-prod-417.iam.gserviceaccount.com';
const ENVELOPE = readFileSync(new URL('../../fixtures/alerts/push-envelope-logentry.json', import.meta.url), 'utf8');

/**
 * Push intake authenticated the way Pub/Sub does it (docs/alerts.md, "Push"): `imagepull serve` as its own process,
 * Google's signing certificates served on loopback, tokens signed like Pub/Sub's. Only a token Google signed, for
 * PUBSUB_PUSH_AUDIENCE, minted for PUBSUB_PUSH_SERVICE_ACCOUNT with a verified email and not expired, gets an alert
 * handled; every other request is a 401, handles nothing, and is logged as a warning that says why — never the token.
 */
describe('Pub/Sub push: the OIDC token is checked before anything is handled', () => {
  let sb: Sandbox;
  let oidc: GoogleOidc;
  let bot: ServeProcess;
  const seen: string[] = [];
  before(async () => {
    sb = await startSandbox({ scenario: 'seed', pubsub: false });
    oidc = await startGoogleOidc();
    bot = await startServe({
      ...sb.env,
      PUBSUB_PUSH_AUDIENCE: AUDIENCE,
      PUBSUB_PUSH_SERVICE_ACCOUNT: PUSH_SA,
      PUBSUB_PUSH_CERTS_URL: oidc.certsUrl,
    });
  });
  after(async () => {
    await bot?.kill();
    await oidc?.stop();
    await sb?.stop();
  });

  const push = (headers: Record<string, string>, query = '', body = ENVELOPE) =>
    fetch(`http://127.0.0.1:${bot.port}/pubsub/push${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  const bearer = (token: string) => {
    seen.push(token);
    return { authorization: `Bearer ${token}` };
  };
  const logs = () =>
    bot.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const now = () => Math.floor(Date.now() / 1000);
  const good = { aud: AUDIENCE, email: PUSH_SA };

  const REFUSED: [string, string, () => { headers: Record<string, string>; query?: string }][] = [
    [
      'a wrong audience',
      'wrong-audience',
      () => ({ headers: bearer(oidc.sign({ ...good, aud: 'https://x.example/' })) }),
    ],
    [
      'another service account',
      'wrong-email',
      () => ({ headers: bearer(oidc.sign({ ...good, email: 'intruder@evil-417.iam.gserviceaccount.com' })) }),
    ],
    [
      'an unverified email',
      'email-unverified',
      () => ({ headers: bearer(oidc.sign({ ...good, email_verified: false })) }),
    ],
    [
      'an expired token (beyond the 5-minute clock skew)',
      'expired',
      () => ({ headers: bearer(oidc.sign({ ...good, iat: now() - 4200, exp: now() - 600 })) }),
    ],
    [
      'another issuer',
      'wrong-issuer',
      () => ({ headers: bearer(oidc.sign({ ...good, iss: 'https://accounts.evil.example' })) }),
    ],
    [
      'a signature by a key Google does not hold',
      'bad-signature',
      () => ({ headers: bearer(oidc.sign(good, { key: oidc.strangerKey })) }),
    ],
    [
      'a key id Google does not publish',
      'unknown-key',
      () => ({ headers: bearer(oidc.sign(good, { key: oidc.strangerKey, kid: 'a9b8c7d6e5f4' })) }),
    ],
    ['no Authorization header', 'missing', () => ({ headers: {} })],
    [
      'a genuine token in the URL only (the old ?token=)',
      'token-in-url',
      () => {
        const token = oidc.sign(good);
        seen.push(token);
        return { headers: {}, query: `?token=${token}` };
      },
    ],
    ['a Basic Authorization header', 'malformed', () => ({ headers: { authorization: 'Basic cHViOnN1Yg==' } })],
    ['a bearer that is not a JWT', 'malformed', () => ({ headers: bearer('not-a-jwt') })],
  ];

  for (const [what, reason, request] of REFUSED) {
    it(`${what}: 401, nothing handled, a warning saying why (${reason}) without the token`, async () => {
      const { headers, query } = request();
      const r = await push(headers, query);
      assert.equal(r.status, 401);
      assert.equal(await r.text(), 'unauthorized');
      const line = await eventually(
        () => logs().find((l) => l.reason === reason && l.severity === 'WARNING'),
        `the ${reason} warning`,
      );
      assert.match(String(line.message), /^Pub\/Sub push request refused: /);
      assert.equal(sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).length, 0, 'no incident posted');
    });
  }

  it('says what to fix: the audience and email the token had, against the configured ones', () => {
    const audience = logs().find((l) => l.reason === 'wrong-audience');
    assert.equal(audience?.audience, 'https://x.example/');
    assert.equal(audience?.expected, AUDIENCE);
    const email = logs().find((l) => l.reason === 'wrong-email');
    assert.equal(email?.email, 'intruder@evil-417.iam.gserviceaccount.com');
    assert.equal(email?.expected, PUSH_SA);
  });

  it('a genuine token with a body that is no alert: acknowledged, nothing posted', async () => {
    const r = await push(bearer(oidc.sign(good)), '', '{"message":{"data":"bm90IGpzb24="}}');
    assert.equal(r.status, 204, 'a malformed alert is acknowledged (no redelivery loop)');
    assert.equal(sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).length, 0);
  });

  it('a genuine token: 204, and the incident is posted', async () => {
    const r = await push(bearer(oidc.sign(good)));
    assert.equal(r.status, 204);
    const channel = sb.env.INCIDENT_CHANNEL as string;
    const m = await sb.slack.waitFor(() => sb.slack.messages(channel).find((x) => !x.threadTs), 20_000);
    assert.match(JSON.stringify(m.blocks), /Node service account lacks read access to repository services/);
  });

  it('handled exactly the two genuine requests, counted every refusal, and fetched Google’s certificates once', async () => {
    const text = await (await bot.get('/metrics'))?.text();
    const alerts = [...(text ?? '').matchAll(/^imagepull_alerts_total\{[^}]*\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.equal(alerts, 2, 'the garbage body and the alert; no refused request reached intake');
    assert.match(text ?? '', /imagepull_push_requests_total\{result="unauthorized"\} 11/);
    assert.match(text ?? '', /imagepull_push_refused_total\{reason="malformed"\} 2/);
    assert.equal(oidc.fetches(), 1, 'the certificates are cached for their max-age');
  });

  it('no log line holds a push token (or its signature), nor the Slack tokens', () => {
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']) {
      const secret = sb.env[name] as string;
      assert.ok(secret.length > 10, name);
      assert.equal(
        bot.lines.find((l) => l.includes(secret)),
        undefined,
        `${name} is in the logs`,
      );
    }
    assert.ok(seen.length >= 10);
    for (const token of seen) {
      const signature = token.split('.')[2] ?? token;
      const leak = bot.lines.find((l) => l.includes(token) || l.includes(signature));
      assert.equal(leak, undefined, `a log line carries a token: ${leak?.slice(0, 120)}`);
    }
  });
});

/** The route and the real verifier on a real HTTP server, with Google's certificates out of reach. */
describe('Pub/Sub push: Google’s certificates unreachable', () => {
  let server: Server;
  let oidc: GoogleOidc;
  const handled: unknown[] = [];
  before(async () => {
    oidc = await startGoogleOidc();
    const closed = oidc.certsUrl;
    await oidc.stop();
    const route = pushRoute({
      authenticate: (h, url) =>
        new PushAuthenticator({ audience: AUDIENCE, serviceAccount: PUSH_SA, certsUrl: closed }).check(h, url),
      handle: async (alert) => {
        handled.push(alert);
        return { ack: true, reason: 'recorded' };
      },
      metrics: new Metrics({ defaults: false }),
      logger: silentLogger(),
    });
    server = await serveRoutes([route], 0, '127.0.0.1');
  });
  after(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('answers 503 so Pub/Sub redelivers, and handles nothing', async () => {
    const port = (server.address() as AddressInfo).port;
    const r = await fetch(`http://127.0.0.1:${port}/pubsub/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${oidc.sign({ aud: AUDIENCE, email: PUSH_SA })}` },
      body: ENVELOPE,
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(r.status, 503);
    assert.deepEqual(handled, []);
  });
});
