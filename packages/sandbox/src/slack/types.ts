/**
 * Public types of the Slack fake (docs/testing.md, "The sandbox"): what tests, the demo and the benchmark read back from it.
 *
 * Snapshots returned by the fake are copies: mutating them never changes the fake's state.
 */
import type { RateReport } from './rate-meter.ts';

/** A workspace member the fake knows (for `users.info`, payloads and ephemeral targets). */
export interface SlackUser {
  readonly id: string;
  readonly name: string;
}

/** A channel the bot may post to. Ids start with `C` (public) or `G` (private). */
export interface SlackChannel {
  readonly id: string;
  readonly name: string;
  /** A private channel (`conversations.info` then needs `groups:read`). Default false. */
  readonly isPrivate?: boolean;
}

/** Options for {@link startSlackFake}. Every field has a sandbox default. */
export interface SlackFakeOptions {
  /** Default `xoxb-sandbox`. */
  readonly botToken?: string;
  /** Default `xapp-sandbox`. */
  readonly appToken?: string;
  /** Default {@link DEFAULT_SIGNING_SECRET}. */
  readonly signingSecret?: string;
  /** Default `T0SANDBOX`. */
  readonly teamId?: string;
  /** Default `U0IMAGEPULL`. */
  readonly botUserId?: string;
  /** Default `B0IMAGEPULL`. */
  readonly botId?: string;
  /** Default `A0IMAGEPULL`. */
  readonly appId?: string;
  /** Workspace members. Default alice (`U0ALICE`), bob (`U0BOB`), carol (`U0CAROL`). */
  readonly users?: readonly SlackUser[];
  /** User groups, e.g. `{ S0APPROVERS: ['U0ALICE'] }`. Default none. */
  readonly usergroups?: Readonly<Record<string, readonly string[]>>;
  /** Channels. Default `#incidents` (`C0INCIDENTS`). Posting anywhere else is `channel_not_found`, like Slack. */
  readonly channels?: readonly SlackChannel[];
  /** Added before every Web API answer. Default 0. */
  readonly latencyMs?: number;
  /** Answer HTTP 429 + `Retry-After` when a method goes over its tier. Default false (count only). */
  readonly enforceRateLimits?: boolean;
  /** How long a delivery waits for the bot's ack before it counts as failed. Default 3000 ms (Slack's rule). */
  readonly ackTimeoutMs?: number;
  /**
   * The bot token's scopes, sent in `x-oauth-scopes` on every answer; a method that needs a scope the token lacks
   * answers `missing_scope` (see `METHOD_SCOPES`). Default {@link SLACK_FAKE_DEFAULTS}`.scopes` (what manifest.yml asks).
   */
  readonly scopes?: readonly string[];
}

/** Content of a message at one point in time. */
export interface MessageContent {
  readonly text?: string;
  readonly blocks?: readonly unknown[];
  readonly metadata?: unknown;
}

/** One edit of a message: its content right after the edit. */
export interface MessageRevision extends MessageContent {
  readonly at: number;
  readonly via: 'chat.update' | 'response_url';
}

/** A message visible to everyone in a channel (top-level or thread reply), as it looks now. */
export interface PostedMessage extends MessageContent {
  readonly channel: string;
  readonly ts: string;
  /** Set on thread replies: the parent's `ts`. */
  readonly threadTs?: string;
  readonly user: string;
  readonly botId: string;
  /** How it was created: the Web API, a `response_url` post, or a slash-command ack body. */
  readonly via: 'chat.postMessage' | 'response_url' | 'ack';
  readonly postedAt: number;
  /** The content it was first posted with. */
  readonly original: MessageContent;
  /** Every edit, oldest first. */
  readonly updates: readonly MessageRevision[];
  /** Thread replies, oldest first (empty on replies themselves). */
  readonly replies: readonly PostedMessage[];
  /** Deleted through `delete_original`; only {@link SlackFake.message} still returns it. */
  readonly deleted: boolean;
  /** Blocks were sent without a top-level `text` (Slack accepts this but warns: no notification/screen-reader text). */
  readonly missingText: boolean;
}

/** A message only one user sees. */
export interface EphemeralMessage extends MessageContent {
  readonly channel: string;
  readonly user: string;
  /** The ts Slack gives it (`message_ts`); buttons in it are clickable with this ts. */
  readonly ts: string;
  readonly threadTs?: string;
  readonly via: 'chat.postEphemeral' | 'response_url' | 'ack';
  readonly postedAt: number;
  readonly updates: readonly MessageRevision[];
  readonly deleted: boolean;
  readonly missingText: boolean;
}

/** One post the bot made to a `response_url` (what `respond()` sends). */
export interface ResponseUrlPost {
  /** The id in `/response/<id>`. */
  readonly id: string;
  readonly at: number;
  /** The JSON body as posted. */
  readonly body: Record<string, unknown>;
  /** The HTTP status the fake answered. */
  readonly status: number;
  /** Set when refused: `used_url`, `expired_url`, `invalid_blocks`, `invalid_payload`, `no_text`. */
  readonly error?: string;
  /** For `invalid_blocks`: what is wrong, one line per problem, with a json-pointer. */
  readonly problems?: readonly string[];
  /** What it did to the conversation. */
  readonly effect: 'new-ephemeral' | 'new-message' | 'replaced' | 'deleted' | 'none';
  /** The message it created, replaced or deleted. */
  readonly target?: { readonly channel: string; readonly ts: string; readonly ephemeral: boolean };
}

/** One Web API call the bot made. */
export interface ApiCall {
  readonly method: string;
  /** Decoded arguments (JSON-string fields parsed), without the token. */
  readonly args: Record<string, unknown>;
  /** Epoch ms when the request arrived. */
  readonly at: number;
  /** HTTP status answered: 200, or 429 when rate limits are enforced. */
  readonly status: number;
  /** The JSON body answered. */
  readonly result: Record<string, unknown>;
  /** `missing_text` when blocks came without a top-level text. */
  readonly warnings: readonly string[];
}

/** What the bot answered to one delivered request (slash command, click, event). */
export interface Delivery {
  readonly transport: 'socket-mode' | 'http';
  /** Socket Mode: the envelope id the ack named. */
  readonly envelope_id?: string;
  /** Socket Mode: the ack's `payload` (what `ack(x)` sent), if any. */
  readonly payload?: Record<string, unknown>;
  /** HTTP: the receiver's status. Socket Mode: 200 once acked. */
  readonly status: number;
  /** HTTP: the response body (parsed when JSON). */
  readonly body?: unknown;
  /** The Slack payload that was delivered (slash command fields, block_actions payload, event callback). */
  readonly request: Record<string, unknown>;
  /** From sending to the ack, in ms. */
  readonly elapsedMs: number;
}

/** A delivery Slack would have shown the user as an error. */
export interface DeliveryFailure {
  readonly at: number;
  readonly type: EnvelopeType;
  readonly transport: 'socket-mode' | 'http';
  readonly reason: 'ack-timeout' | 'no-connection' | 'http-status' | 'http-error' | 'invalid-ack-payload';
  readonly detail: string;
}

/** Socket Mode envelope types (docs/library-traps.md, "Slack and Bolt"). */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** Deliberately broken signing, to prove the bot refuses such requests (HTTP mode only). */
export type Tamper = 'forged-signature' | 'stale-timestamp';

/** Options shared by the user-simulation calls. */
export interface SimulationOptions {
  /** HTTP mode only: send a forged signature or a 6-minute-old timestamp. */
  readonly tamper?: Tamper;
}

/** A user typing a slash command. */
export interface SlashCommandInput extends SimulationOptions {
  readonly user: string;
  readonly channel: string;
  readonly text: string;
  /** Default `/imagepull`. */
  readonly command?: string;
}

/** A user pressing a button in a message (channel or ephemeral). */
export interface ClickInput extends SimulationOptions {
  readonly user: string;
  readonly channel: string;
  readonly ts: string;
  readonly actionId: string;
  /** Picks the button with this value when several share the action id; checked against the button's value. */
  readonly value?: string;
}

/** The running fake. Every method is safe to call after {@link SlackFake.stop} (state stays readable). */
export interface SlackFake {
  /** `http://127.0.0.1:PORT/api/` — the bot's `SLACK_API_URL` / `clientOptions.slackApiUrl`. */
  readonly apiUrl: string;
  readonly signingSecret: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;

  /** Top-level messages of a channel (id or name), oldest first, current content, deleted ones left out. */
  messages(channel: string): PostedMessage[];
  /** One message (top-level or reply) by channel and ts, deleted or not. */
  message(channel: string, ts: string): PostedMessage | undefined;
  /** Ephemeral messages, oldest first; only those for `userId` when given. Deleted ones left out. */
  ephemerals(userId?: string): EphemeralMessage[];
  /** Posts the bot made to response URLs, oldest first. */
  responses(): ResponseUrlPost[];
  /** Web API calls, oldest first; only `method` when given. */
  calls(method?: string): ApiCall[];
  /** The last view published to the user's App Home. */
  homeViews(userId: string): object | undefined;
  /** Rate accounting (the bot's promise: ≤ 1 chat.update per incident per 3 s; README, "Performance"). */
  rateReport(): RateReport;
  /** Deliveries Slack would have shown as errors (no ack in time, HTTP errors). */
  failures(): DeliveryFailure[];
  /**
   * The next `times` calls of a Web API `method` fail: 429 with `Retry-After: retryAfterSec` (default 1), or the
   * HTTP status given (500, 503…), or for 401 / 403 Slack's refusal as it sends it (HTTP 200, `invalid_auth` /
   * `missing_scope`). Calls are still recorded, with the status they got.
   */
  failNext(method: string, status: number, times?: number, retryAfterSec?: number): void;

  /** Replaces the bot token's scopes (a reinstall with a different manifest). */
  setScopes(scopes: readonly string[]): void;
  /** Puts the bot in or out of a channel (default: a member of every channel); posting outside is `not_in_channel`. */
  setBotMember(channel: string, member: boolean): void;

  /** Deliver to `url` over signed HTTP from now on, instead of Socket Mode. */
  setHttpTarget(url: string): void;
  slashCommand(input: SlashCommandInput): Promise<Delivery>;
  clickButton(input: ClickInput): Promise<Delivery>;
  openAppHome(user: string, options?: SimulationOptions): Promise<Delivery>;

  /** Socket Mode connections open now, and ever opened (reconnects count). */
  socketConnections(): { readonly open: number; readonly total: number };
  /** Ask connected clients to reconnect (`{"type":"disconnect"}`), or drop them abruptly. */
  disconnectSocketMode(options?: { readonly abrupt?: boolean; readonly reason?: string }): void;

  /** Polls `predicate` (every 20 ms) until it returns a value; rejects after `timeoutMs` (default 5000). */
  waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** Closes sockets and the server. Pending deliveries reject. Idempotent. */
  stop(): Promise<void>;
}
