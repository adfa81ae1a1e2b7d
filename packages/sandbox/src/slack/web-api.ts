/**
 * The HTTP face of the fake Web API: `POST /api/<method>` decoded like Slack decodes it (docs/library-traps.md, "Slack and Bolt").
 *
 * `@slack/web-api` sends `application/x-www-form-urlencoded` with non-scalar arguments (blocks, metadata, view)
 * as JSON strings; other clients send `application/json` with a Bearer token. Both are accepted. Answers are
 * always HTTP 200 JSON `{ok, …}`, except 429 + `Retry-After` when rate limits are enforced.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { sleep } from '../net.ts';
import { isRecord } from './block-rules.ts';
import type { RateMeter } from './rate-meter.ts';
import type { ApiCall } from './types.ts';
import { type SlackWorkspace, str } from './workspace.ts';

/**
 * The scope each Web API method the bot calls needs (the "Required scopes" of https://api.slack.com/methods/<method>).
 * Methods not listed are answered whatever the token's scopes. `conversations.info` needs `channels:read` for a
 * public channel and `groups:read` for a private one.
 */
export const METHOD_SCOPES: Readonly<Record<string, string>> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'usergroups.users.list': 'usergroups:read',
  'conversations.info': 'channels:read',
};

/** Form fields that carry JSON (the WebClient JSON-stringifies every non-scalar argument). */
const JSON_FIELDS = new Set(['attachments', 'blocks', 'metadata', 'view', 'unfurls', 'user_auth_blocks']);

/** What the Web API handler needs from the fake. */
export interface WebApiContext {
  readonly workspace: SlackWorkspace;
  readonly meter: RateMeter;
  readonly botToken: string;
  readonly appToken: string;
  readonly latencyMs: number;
  readonly enforceRateLimits: boolean;
  /** Issues a Socket Mode URL for `apps.connections.open`. */
  readonly openSocketUrl: () => string;
  /** Keeps the call for {@link SlackFake.calls}. */
  readonly record: (call: ApiCall) => void;
  /** The bot token's scopes now (`SlackFakeOptions.scopes`). */
  readonly scopes: () => readonly string[];
  /** A scripted failure for this call of `method`, if any (see {@link SlackFake.failNext}). */
  readonly takeFault: (method: string) => { status: number; retryAfterSec?: number } | undefined;
}

/** Serves one Web API request (`method` already taken from the path). */
export async function serveWebApi(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  rawBody: string,
  ctx: WebApiContext,
): Promise<void> {
  const at = Date.now();
  const decoded = decodeArgs(req, rawBody);
  const args = decoded ?? {};
  const bodyToken = str(args.token);
  delete args.token;
  let botCall = false;
  let accepted: string | undefined;
  const answer = async (status: number, result: Record<string, unknown>, warnings: readonly string[] = []) => {
    ctx.record({ method, args, at, status, result, warnings });
    if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    // Slack sends the token's scopes with every answer to an authenticated call, and what the method accepts.
    if (botCall) headers['x-oauth-scopes'] = ctx.scopes().join(',');
    if (botCall && accepted !== undefined) headers['x-accepted-oauth-scopes'] = accepted;
    if (status === 429) headers['retry-after'] = String(result.retry_after ?? 1);
    if (status === 429) delete result.retry_after;
    res.writeHead(status, headers).end(JSON.stringify(result));
  };

  if (decoded === undefined || req.method !== 'POST') return answer(200, { ok: false, error: 'invalid_form_data' });
  if (method !== 'apps.connections.open' && !ctx.workspace.has(method)) {
    return answer(200, { ok: false, error: 'unknown_method' });
  }
  const token = bearer(req.headers.authorization) ?? bodyToken;
  const authError = checkToken(method, token, ctx);
  if (authError !== undefined) return answer(200, { ok: false, error: authError });
  botCall = method !== 'apps.connections.open';
  accepted = scopeFor(method, args, ctx);
  if (botCall && accepted !== undefined && !ctx.scopes().includes(accepted)) {
    return answer(200, { ok: false, error: 'missing_scope', needed: accepted, provided: ctx.scopes().join(',') });
  }

  const fault = ctx.takeFault(method);
  if (fault) {
    if (fault.status === 429)
      return answer(429, { ok: false, error: 'ratelimited', retry_after: fault.retryAfterSec ?? 1 });
    // 401/403: Slack's own refusal, which it sends as HTTP 200 `{ok:false}` (no retry can fix it).
    if (fault.status === 401) return answer(200, { ok: false, error: 'invalid_auth' });
    if (fault.status === 403) return answer(200, { ok: false, error: 'missing_scope', needed: 'chat:write' });
    // A 5xx from Slack's edge: not JSON `{ok:false}` but an HTTP error the client retries.
    return answer(fault.status, { ok: false, error: 'fatal_error' });
  }

  if (ctx.enforceRateLimits) {
    const channel =
      method === 'chat.postMessage' ? ctx.workspace.resolveChannel(str(args.channel) ?? '')?.id : undefined;
    const verdict = ctx.meter.check(method, at, channel);
    if (verdict.limited) {
      ctx.meter.recordLimited();
      return answer(429, { ok: false, error: 'ratelimited', retry_after: verdict.retryAfterSec });
    }
  }

  if (method === 'apps.connections.open') {
    ctx.meter.record(method, at);
    return answer(200, { ok: true, url: ctx.openSocketUrl() });
  }
  const outcome = ctx.workspace.call(method, args, at);
  const key: { channel?: string; ts?: string } = {};
  if (outcome.channel !== undefined) key.channel = outcome.channel;
  if (outcome.ts !== undefined) key.ts = outcome.ts;
  ctx.meter.record(method, at, key);
  return answer(200, outcome.result, outcome.warnings);
}

/** Slack's auth errors: `not_authed` (none), `not_allowed_token_type` (bot vs app token), `invalid_auth`. */
function checkToken(method: string, token: string | undefined, ctx: WebApiContext): string | undefined {
  if (token === undefined || token === '') return 'not_authed';
  const wantsAppToken = method === 'apps.connections.open';
  if (token === (wantsAppToken ? ctx.appToken : ctx.botToken)) return undefined;
  if (token === (wantsAppToken ? ctx.botToken : ctx.appToken)) return 'not_allowed_token_type';
  return 'invalid_auth';
}

function scopeFor(method: string, args: Record<string, unknown>, ctx: WebApiContext): string | undefined {
  if (method === 'conversations.info' && ctx.workspace.resolveChannel(str(args.channel) ?? '')?.isPrivate) {
    return 'groups:read';
  }
  return METHOD_SCOPES[method];
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Arguments from the query string and the body (form or JSON); JSON-string form fields parsed.
 *
 * @returns undefined when the body cannot be read as either encoding.
 */
export function decodeArgs(req: IncomingMessage, rawBody: string): Record<string, unknown> | undefined {
  const url = new URL(req.url ?? '/', 'http://fake');
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (rawBody.length === 0) return args;
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (!isRecord(parsed)) return undefined;
      return { ...args, ...parsed };
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    for (const [name, value] of Object.entries(parseQuery(rawBody))) {
      const single = Array.isArray(value) ? value.at(-1) : value;
      if (single === undefined) continue;
      args[name] = JSON_FIELDS.has(name) ? parseJson(single) : single;
    }
    return args;
  }
  return undefined;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
