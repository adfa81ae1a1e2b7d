/**
 * A fake Slack for the sandbox (docs/testing.md, "The sandbox"): a Web API, response URLs and Socket Mode on one loopback port, plus
 * signed HTTP delivery to a bot's HTTP receiver. The bot's real `@slack/bolt` App and WebClient talk to it over the
 * wire exactly as to Slack; tests, the demo and the benchmark drive users through it and read back what the bot did.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { stringify as toForm } from 'node:querystring';
import { closeServer, LOOPBACK, listenOnLoopback, waitUntil } from '../net.ts';
import { isRecord } from './block-rules.ts';
import {
  type AppIdentity,
  appHomeOpenedPayload,
  blockActionsPayload,
  findButton,
  slashCommandPayload,
} from './payloads.ts';
import { RateMeter } from './rate-meter.ts';
import { DEFAULT_SIGNING_SECRET, headersFor } from './signing.ts';
import { AckTimeoutError, LINK_PATH, SocketModeHub } from './socket-mode.ts';
import type {
  ApiCall,
  ClickInput,
  Delivery,
  DeliveryFailure,
  EnvelopeType,
  SimulationOptions,
  SlackFake,
  SlackFakeOptions,
  SlashCommandInput,
  Tamper,
} from './types.ts';
import { serveWebApi } from './web-api.ts';
import { dmChannelId, SlackWorkspace } from './workspace.ts';

export { validateBlocks } from './block-rules.ts';
export {
  computeSignature,
  forgedHeaders,
  STALE_AGE_SECONDS,
  signedHeaders,
  staleHeaders,
} from './signing.ts';
export { AckTimeoutError } from './socket-mode.ts';
export type * from './types.ts';

/** Sandbox defaults, exported so tests and the demo configure the bot to match. */
export const SLACK_FAKE_DEFAULTS = {
  botToken: 'xoxb-sandbox',
  appToken: 'xapp-sandbox',
  teamId: 'T0SANDBOX',
  teamDomain: 'sandbox',
  botUserId: 'U0IMAGEPULL',
  botId: 'B0IMAGEPULL',
  appId: 'A0IMAGEPULL',
  users: [
    { id: 'U0ALICE', name: 'alice' },
    { id: 'U0BOB', name: 'bob' },
    { id: 'U0CAROL', name: 'carol' },
  ],
  channels: [{ id: 'C0INCIDENTS', name: 'incidents' }],
  ackTimeoutMs: 3000,
  /** The bot scopes manifest.yml asks for. */
  scopes: ['chat:write', 'commands', 'usergroups:read', 'channels:read', 'groups:read'],
} as const;

/** Largest request body the fake reads (Slack's own limit on API bodies is in this range). */
const MAX_BODY = 4 * 1024 * 1024;

/**
 * Starts the fake on a free loopback port.
 *
 * Guarantees: nothing listens beyond 127.0.0.1; `stop()` closes every socket and the server; deliveries time out
 * after `ackTimeoutMs` and are then listed in `failures()`.
 */
export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const d = SLACK_FAKE_DEFAULTS;
  const botToken = options.botToken ?? d.botToken;
  const appToken = options.appToken ?? d.appToken;
  const signingSecret = options.signingSecret ?? DEFAULT_SIGNING_SECRET;
  const botId = options.botId ?? d.botId;
  const ackTimeoutMs = options.ackTimeoutMs ?? d.ackTimeoutMs;
  const app: AppIdentity = {
    teamId: options.teamId ?? d.teamId,
    teamDomain: d.teamDomain,
    appId: options.appId ?? d.appId,
    botUserId: options.botUserId ?? d.botUserId,
    verificationToken: `sandbox-verification-${randomBytes(6).toString('hex')}`,
  };
  const workspace = new SlackWorkspace({
    app,
    botId,
    users: options.users ?? d.users,
    channels: options.channels ?? d.channels,
    usergroups: options.usergroups ?? {},
  });
  let scopes: readonly string[] = [...(options.scopes ?? d.scopes)];
  const meter = new RateMeter();
  const hub = new SocketModeHub(app.appId);
  const calls: ApiCall[] = [];
  const faults = new Map<string, { status: number; times: number; retryAfterSec?: number }[]>();
  const failures: DeliveryFailure[] = [];
  let httpTarget: string | undefined;
  let host = '';

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413).end();
      return;
    }
    if (path.startsWith('/api/')) {
      await serveWebApi(req, res, decodeURIComponent(path.slice('/api/'.length)), body, {
        workspace,
        meter,
        botToken,
        appToken,
        latencyMs: options.latencyMs ?? 0,
        enforceRateLimits: options.enforceRateLimits ?? false,
        openSocketUrl: () => hub.issueUrl(host),
        scopes: () => scopes,
        record: (call) => calls.push(call),
        takeFault: (method) => {
          const queue = faults.get(method);
          const next = queue?.[0];
          if (!queue || !next) return undefined;
          if (--next.times <= 0) queue.shift();
          return {
            status: next.status,
            ...(next.retryAfterSec !== undefined ? { retryAfterSec: next.retryAfterSec } : {}),
          };
        },
      });
      return;
    }
    if (path.startsWith('/response/') && req.method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
      const answer = workspace.respond(path.slice('/response/'.length), parsed, Date.now());
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      return;
    }
    if (path === '/' || path.startsWith(LINK_PATH)) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Ok');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  const port = await listenOnLoopback(server);
  host = `${LOOPBACK}:${port}`;
  const base = `http://${host}`;

  async function deliver(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    http: { contentType: string; body: string },
    tamper: Tamper | undefined,
  ): Promise<Delivery> {
    const started = Date.now();
    const fail = (reason: DeliveryFailure['reason'], detail: string, transport: Delivery['transport']) => {
      failures.push({ at: Date.now(), type, transport, reason, detail });
    };
    if (httpTarget === undefined) {
      if (tamper !== undefined) throw new Error(`tamper '${tamper}' needs HTTP mode: call setHttpTarget(url) first`);
      try {
        const ack = await hub.deliver(type, payload, ackTimeoutMs);
        return {
          transport: 'socket-mode',
          envelope_id: ack.envelope_id,
          ...(ack.payload === undefined ? {} : { payload: ack.payload }),
          status: 200,
          request: payload,
          elapsedMs: Date.now() - started,
        };
      } catch (err) {
        const reason = err instanceof AckTimeoutError ? 'ack-timeout' : 'no-connection';
        fail(reason, (err as Error).message, 'socket-mode');
        throw err;
      }
    }
    const headers = {
      'content-type': http.contentType,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...headersFor(signingSecret, http.body, tamper),
    };
    try {
      const answer = await postOnce(httpTarget, headers, http.body, ackTimeoutMs);
      if ((answer.status < 200 || answer.status > 299) && tamper === undefined) {
        fail('http-status', `${type} answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`, 'http');
      }
      return {
        transport: 'http',
        status: answer.status,
        body: answer.json ?? answer.text,
        request: payload,
        elapsedMs: Date.now() - started,
      };
    } catch (err) {
      const timeout = err instanceof AckTimeoutError;
      fail(timeout ? 'ack-timeout' : 'http-error', (err as Error).message, 'http');
      throw err;
    }
  }

  function userOrThrow(id: string) {
    const user = workspace.user(id);
    if (user === undefined) throw new Error(`unknown Slack user ${id}: add it to SlackFakeOptions.users`);
    return user;
  }

  function channelOrThrow(idOrName: string) {
    const channel = workspace.resolveChannel(idOrName);
    if (channel === undefined)
      throw new Error(`unknown Slack channel ${idOrName}: add it to SlackFakeOptions.channels`);
    return channel;
  }

  const triggerId = () => `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`;

  let stopping: Promise<void> | undefined;

  const fake: SlackFake = {
    apiUrl: `${base}/api/`,
    signingSecret,
    botToken,
    appToken,
    teamId: app.teamId,
    botUserId: app.botUserId,
    botId,
    appId: app.appId,

    messages: (channel) => workspace.messages(channel),
    message: (channel, ts) => workspace.message(channel, ts),
    ephemerals: (userId) => workspace.ephemerals(userId),
    responses: () => workspace.responses(),
    calls: (method) => structuredClone(method === undefined ? calls : calls.filter((c) => c.method === method)),
    homeViews: (userId) => workspace.homeView(userId),
    rateReport: () => meter.report(),
    failures: () => structuredClone(failures),
    failNext(method, status, times = 1, retryAfterSec) {
      const queue = faults.get(method) ?? [];
      queue.push({ status, times, ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) });
      faults.set(method, queue);
    },

    setScopes(next) {
      scopes = [...next];
    },
    setBotMember(channel, member) {
      workspace.setBotMember(channel, member);
    },

    setHttpTarget(url: string): void {
      const parsed = new URL(url);
      if (parsed.hostname !== LOOPBACK && parsed.hostname !== 'localhost') {
        throw new Error(`the Slack fake only delivers to loopback, not ${parsed.hostname}`);
      }
      httpTarget = url;
    },

    async slashCommand(input: SlashCommandInput): Promise<Delivery> {
      const user = userOrThrow(input.user);
      const channel = channelOrThrow(input.channel);
      const responseUrlId = workspace.openResponseUrl(channel.id, user.id, Date.now());
      const payload = slashCommandPayload(app, {
        user,
        channel,
        command: input.command ?? '/imagepull',
        text: input.text,
        responseUrl: `${base}/response/${responseUrlId}`,
        triggerId: triggerId(),
      });
      const delivery = await deliver(
        'slash_commands',
        payload,
        { contentType: 'application/x-www-form-urlencoded', body: toForm(payload) },
        input.tamper,
      );
      const ackBody = ackContent(delivery);
      if (ackBody !== undefined) {
        const problem = workspace.applyCommandAck(responseUrlId, ackBody, Date.now());
        if (problem !== undefined) {
          failures.push({
            at: Date.now(),
            type: 'slash_commands',
            transport: delivery.transport,
            reason: 'invalid-ack-payload',
            detail: problem,
          });
        }
      }
      return delivery;
    },

    async clickButton(input: ClickInput): Promise<Delivery> {
      const user = userOrThrow(input.user);
      const channel = channelOrThrow(input.channel);
      const target = workspace.clickable(channel.id, input.ts, user.id);
      if (target === undefined) {
        throw new Error(
          `no message ${input.ts} in ${channel.id} that ${user.id} can see (deleted, or someone else's ephemeral?)`,
        );
      }
      const blocks = target.message.blocks ?? [];
      const button = findButton(blocks, input.actionId, input.value);
      if (button === undefined) {
        const present = listButtons(blocks).join(', ') || 'none';
        throw new Error(
          `no button with action_id ${input.actionId}${input.value === undefined ? '' : ` and value ${input.value}`} ` +
            `in message ${input.ts}; buttons present: ${present}`,
        );
      }
      const isEphemeral = target.kind === 'ephemeral';
      const at = Date.now();
      const responseUrlId = workspace.openResponseUrl(channel.id, user.id, at, {
        channel: channel.id,
        ts: input.ts,
        ephemeral: isEphemeral,
      });
      const payload = blockActionsPayload(app, {
        user,
        channel,
        messageTs: input.ts,
        ...(target.message.threadTs === undefined ? {} : { threadTs: target.message.threadTs }),
        isEphemeral,
        ...(target.kind === 'message' ? { message: target.json } : {}),
        button,
        responseUrl: `${base}/response/${responseUrlId}`,
        triggerId: triggerId(),
        actionTs: workspace.nextTs(at),
      });
      return deliver(
        'interactive',
        payload,
        {
          contentType: 'application/x-www-form-urlencoded',
          body: `payload=${encodeURIComponent(JSON.stringify(payload))}`,
        },
        input.tamper,
      );
    },

    async openAppHome(userId: string, simulation: SimulationOptions = {}): Promise<Delivery> {
      const user = userOrThrow(userId);
      const view = workspace.homeView(user.id);
      const eventTs = workspace.nextTs();
      const payload = appHomeOpenedPayload(app, {
        user: user.id,
        dmChannel: dmChannelId(user.id),
        ...(view === undefined ? {} : { view }),
        eventId: workspace.nextId('Ev'),
        eventTs,
      });
      return deliver(
        'events_api',
        payload,
        { contentType: 'application/json', body: JSON.stringify(payload) },
        simulation.tamper,
      );
    },

    socketConnections: () => hub.counts(),
    disconnectSocketMode: (opts = {}) => hub.disconnectAll(opts),

    waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs = 5000): Promise<T> {
      return waitUntil(predicate, { timeoutMs, what: 'the Slack fake condition' });
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        await hub.close();
        await closeServer(server);
      })();
      return stopping;
    },
  };
  return fake;
}

/** What a slash-command ack asks Slack to show: the Socket Mode ack payload or the HTTP response body. */
function ackContent(delivery: Delivery): Record<string, unknown> | undefined {
  if (delivery.transport === 'socket-mode') return delivery.payload;
  if (delivery.status !== 200) return undefined;
  if (isRecord(delivery.body)) return delivery.body;
  if (typeof delivery.body === 'string' && delivery.body.trim() !== '') return { text: delivery.body };
  return undefined;
}

function listButtons(blocks: readonly unknown[]): string[] {
  const ids: string[] = [];
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const elements = block.type === 'actions' && Array.isArray(block.elements) ? block.elements : [block.accessory];
    for (const el of elements) {
      if (isRecord(el) && el.type === 'button') ids.push(`${String(el.action_id)}=${String(el.value)}`);
    }
  }
  return ids;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** One POST on a fresh connection (`agent: false`), so nothing lingers in a pool after the bot's server closes. */
function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string; json?: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve(
            json === undefined ? { status: res.statusCode ?? 0, text } : { status: res.statusCode ?? 0, text, json },
          );
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new AckTimeoutError(`the bot did not answer ${url} within ${timeoutMs} ms (Slack's 3-second rule)`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
