/**
 * The fake workspace's state and the semantics of the Web API methods and `response_url` posts over it.
 *
 * Transport-free: `web-api.ts` decodes requests, checks tokens and rate limits, then calls {@link SlackWorkspace.call}.
 * Errors are Slack's error strings (https://api.slack.com/methods/<method> "Errors" tables).
 */
import { isRecord, validateBlocks } from './block-rules.ts';
import type { AppIdentity } from './payloads.ts';
import type {
  EphemeralMessage,
  MessageRevision,
  PostedMessage,
  ResponseUrlPost,
  SlackChannel,
  SlackUser,
} from './types.ts';

/** Slack's limit on a message's top-level text (`msg_too_long` beyond it). */
const MAX_TEXT = 40_000;
/** A response_url works five times within thirty minutes (Slack's "Handling user interaction" documentation). */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** What the workspace is made of. */
export interface WorkspaceConfig {
  readonly app: AppIdentity;
  readonly botId: string;
  readonly users: readonly SlackUser[];
  readonly channels: readonly SlackChannel[];
  readonly usergroups: Readonly<Record<string, readonly string[]>>;
}

/** The outcome of one method call: Slack's JSON plus what the fake noticed. */
export interface MethodOutcome {
  readonly result: Record<string, unknown>;
  readonly warnings: readonly string[];
  /** The message the call posted or updated (for rate accounting). */
  readonly channel?: string;
  readonly ts?: string;
}

/** A button press target: a channel message (or reply) or an ephemeral message. */
export type Clickable =
  | { readonly kind: 'message'; readonly message: PostedMessage; readonly json: Record<string, unknown> }
  | { readonly kind: 'ephemeral'; readonly message: EphemeralMessage };

interface Content {
  text?: string;
  blocks?: unknown[];
  metadata?: unknown;
}

interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly via: PostedMessage['via'];
  readonly postedAt: number;
  readonly original: Content;
  content: Content;
  readonly updates: MessageRevision[];
  readonly replies: string[];
  deleted: boolean;
  missingText: boolean;
  editedTs?: string;
}

interface StoredEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly via: EphemeralMessage['via'];
  readonly postedAt: number;
  content: Content;
  readonly updates: MessageRevision[];
  deleted: boolean;
  missingText: boolean;
}

interface ResponseUrlState {
  readonly id: string;
  readonly createdAt: number;
  readonly channel: string;
  readonly user: string;
  uses: number;
  /** Interactions keep acting on the message the user clicked; slash commands on their latest response. */
  readonly followsResponses: boolean;
  /** The message `replace_original`/`delete_original` act on. */
  target?: { readonly channel: string; readonly ts: string; readonly ephemeral: boolean };
}

type Args = Record<string, unknown>;
type Handler = (args: Args, at: number) => MethodOutcome;

/**
 * In-memory Slack workspace.
 *
 * Guarantees: every message gets a unique, increasing `ts`; `chat.update` keeps a revision history and never
 * creates messages; blocks are validated like Slack (`invalid_blocks` with json-pointer messages); a response URL
 * answers 404 after five uses or thirty minutes.
 */
export class SlackWorkspace {
  readonly #config: WorkspaceConfig;
  readonly #messages = new Map<string, StoredMessage>();
  readonly #topLevel = new Map<string, string[]>();
  readonly #ephemerals: StoredEphemeral[] = [];
  readonly #responseUrls = new Map<string, ResponseUrlState>();
  readonly #responses: ResponseUrlPost[] = [];
  readonly #homeViews = new Map<string, Record<string, unknown>>();
  readonly #handlers: Readonly<Record<string, Handler>>;
  /** Channels the bot has left (or was never invited to); it is a member of every other channel. */
  readonly #outside = new Set<string>();
  #lastMicros = 0;
  #counter = 0;

  constructor(config: WorkspaceConfig) {
    this.#config = config;
    this.#handlers = {
      'auth.test': () => this.#authTest(),
      'chat.postMessage': (a, at) => this.#postMessage(a, at),
      'chat.update': (a, at) => this.#update(a, at),
      'chat.postEphemeral': (a, at) => this.#postEphemeral(a, at),
      'chat.getPermalink': (a) => this.#permalink(a),
      'usergroups.users.list': (a) => this.#usergroupUsers(a),
      'views.publish': (a, at) => this.#publishView(a, at),
      'users.info': (a) => this.#userInfo(a),
      'conversations.replies': (a) => this.#replies(a),
      'conversations.history': (a) => this.#history(a),
      'conversations.info': (a) => this.#conversationInfo(a),
    };
  }

  /** Puts the bot in or out of a channel (by id or name). */
  setBotMember(idOrName: string, member: boolean): void {
    const channel = this.resolveChannel(idOrName);
    if (channel === undefined) throw new Error(`unknown Slack channel ${idOrName}`);
    if (member) this.#outside.delete(channel.id);
    else this.#outside.add(channel.id);
  }

  /** True when the fake implements `method` (other than the transport's own `apps.connections.open`). */
  has(method: string): boolean {
    return Object.hasOwn(this.#handlers, method);
  }

  /** Runs one Web API method. Unknown methods answer `unknown_method`. */
  call(method: string, args: Args, at: number): MethodOutcome {
    const handler = this.#handlers[method];
    if (handler === undefined) return fail('unknown_method');
    return handler(args, at);
  }

  // ---- lookups -------------------------------------------------------------------------------------------------

  /** A channel by id, by name (with or without `#`), or a user's DM channel by the user's id. */
  resolveChannel(idOrName: string): SlackChannel | undefined {
    const bare = idOrName.startsWith('#') ? idOrName.slice(1) : idOrName;
    const channel = this.#config.channels.find((c) => c.id === bare || c.name === bare);
    if (channel !== undefined) return channel;
    const user = this.#config.users.find((u) => u.id === bare || dmChannelId(u.id) === bare);
    return user === undefined ? undefined : { id: dmChannelId(user.id), name: 'directmessage' };
  }

  /** A workspace member by id. */
  user(id: string): SlackUser | undefined {
    return this.#config.users.find((u) => u.id === id);
  }

  /** Top-level messages of a channel, oldest first, deleted ones left out. */
  messages(channel: string): PostedMessage[] {
    const id = this.resolveChannel(channel)?.id ?? channel;
    const list = this.#topLevel.get(id) ?? [];
    const out: PostedMessage[] = [];
    for (const ts of list) {
      const stored = this.#messages.get(key(id, ts));
      if (stored !== undefined && !stored.deleted) out.push(this.#snapshot(stored));
    }
    return out;
  }

  /** One message by channel and ts, deleted or not. */
  message(channel: string, ts: string): PostedMessage | undefined {
    const id = this.resolveChannel(channel)?.id ?? channel;
    const stored = this.#messages.get(key(id, ts));
    return stored === undefined ? undefined : this.#snapshot(stored);
  }

  /** Live ephemeral messages, oldest first. */
  ephemerals(user?: string): EphemeralMessage[] {
    return this.#ephemerals
      .filter((e) => !e.deleted && (user === undefined || e.user === user))
      .map((e) => ephemeralSnapshot(e));
  }

  /** Every response_url post, oldest first. */
  responses(): ResponseUrlPost[] {
    return structuredClone(this.#responses);
  }

  /** The user's last published Home view. */
  homeView(user: string): Record<string, unknown> | undefined {
    const view = this.#homeViews.get(user);
    return view === undefined ? undefined : structuredClone(view);
  }

  /** The message a user can press a button in: a live channel message (or reply) or the user's own ephemeral. */
  clickable(channel: string, ts: string, user: string): Clickable | undefined {
    const id = this.resolveChannel(channel)?.id ?? channel;
    const stored = this.#messages.get(key(id, ts));
    if (stored !== undefined && !stored.deleted) {
      return { kind: 'message', message: this.#snapshot(stored), json: this.#messageJson(stored, false) };
    }
    const eph = this.#ephemerals.find((e) => e.channel === id && e.ts === ts && e.user === user && !e.deleted);
    return eph === undefined ? undefined : { kind: 'ephemeral', message: ephemeralSnapshot(eph) };
  }

  // ---- ids -----------------------------------------------------------------------------------------------------

  /** A fresh Slack-style timestamp (`1700000000.000100`), strictly increasing. */
  nextTs(at = Date.now()): string {
    this.#lastMicros = Math.max(at * 1000, this.#lastMicros + 1);
    const seconds = Math.floor(this.#lastMicros / 1_000_000);
    const micros = this.#lastMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  /** A unique id with a prefix, e.g. `Ev0001`. */
  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${String(this.#counter).padStart(4, '0')}${Math.random().toString(36).slice(2, 8)}`;
  }

  // ---- response_url ---------------------------------------------------------------------------------------------

  /**
   * Registers a response URL for an interaction by `user` in `channel`; returns its id.
   *
   * @param target the message a button was pressed in; omitted for slash commands, whose `replace_original` then
   *   acts on the command's latest response.
   */
  openResponseUrl(
    channel: string,
    user: string,
    at: number,
    target?: { channel: string; ts: string; ephemeral: boolean },
  ): string {
    const id = this.nextId('R');
    const state: ResponseUrlState = {
      id,
      createdAt: at,
      channel,
      user,
      uses: 0,
      followsResponses: target === undefined,
    };
    if (target !== undefined) state.target = target;
    this.#responseUrls.set(id, state);
    return id;
  }

  /**
   * Applies one post to a response URL, as Slack does: `delete_original`, `replace_original`, else a new message
   * (`response_type: 'in_channel'` for everyone, otherwise ephemeral to the user who acted).
   *
   * @returns the HTTP status and JSON body to answer, and the recorded post.
   */
  respond(id: string, body: unknown, at: number): { status: number; json: Record<string, unknown> } {
    const state = this.#responseUrls.get(id);
    const record = (status: number, effect: ResponseUrlPost['effect'], extra: Partial<ResponseUrlPost> = {}) => {
      const post: ResponseUrlPost = { id, at, body: isRecord(body) ? body : { raw: body }, status, effect, ...extra };
      this.#responses.push(structuredClone(post));
      if (post.error === undefined) return { status, json: { ok: true } };
      const json: Record<string, unknown> = { ok: false, error: post.error };
      if (post.problems !== undefined && post.problems.length > 0) json.errors = [...post.problems];
      return { status, json };
    };
    if (state === undefined || at - state.createdAt > RESPONSE_URL_TTL_MS) {
      return record(404, 'none', { error: 'expired_url' });
    }
    if (state.uses >= RESPONSE_URL_USES) return record(404, 'none', { error: 'used_url' });
    state.uses += 1;
    if (!isRecord(body)) return record(400, 'none', { error: 'invalid_payload' });

    const target = state.target;
    if (body.delete_original === true || body.delete_original === 'true') {
      if (target === undefined || !this.#delete(target)) return record(200, 'none');
      return record(200, 'deleted', { target });
    }
    const content = contentOf(body);
    const problem = checkContent(content, false);
    if (problem !== undefined) return record(400, 'none', { error: problem.error, problems: problem.messages });
    if ((body.replace_original === true || body.replace_original === 'true') && target !== undefined) {
      if (this.#replace(target, content, at)) return record(200, 'replaced', { target });
    }
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    const created =
      body.response_type === 'in_channel'
        ? this.#createMessage(state.channel, content, at, 'response_url', threadTs)
        : this.#createEphemeral(state.channel, state.user, content, at, 'response_url', threadTs);
    if (state.followsResponses) state.target = created;
    return record(200, created.ephemeral ? 'new-ephemeral' : 'new-message', { target: created });
  }

  /**
   * Shows what a slash command's ack carried (text/blocks), as Slack does: ephemeral to the user, or in the channel
   * for `response_type: 'in_channel'`. Later `replace_original` posts to the command's response URL act on it.
   *
   * @returns an error string when Slack would have refused the ack body.
   */
  applyCommandAck(responseUrlId: string, payload: unknown, at: number): string | undefined {
    const state = this.#responseUrls.get(responseUrlId);
    if (state === undefined || !isRecord(payload)) return undefined;
    const content = contentOf(payload);
    if (content.text === undefined && content.blocks === undefined) return undefined;
    const problem = checkContent(content, false);
    if (problem !== undefined) return `${problem.error}: ${problem.messages.join('; ')}`;
    state.target =
      payload.response_type === 'in_channel'
        ? this.#createMessage(state.channel, content, at, 'ack')
        : this.#createEphemeral(state.channel, state.user, content, at, 'ack');
    return undefined;
  }

  // ---- methods -------------------------------------------------------------------------------------------------

  #authTest(): MethodOutcome {
    const { app } = this.#config;
    return ok({
      url: `https://${app.teamDomain}.slack.com/`,
      team: app.teamDomain,
      user: 'imagepull-bot',
      team_id: app.teamId,
      user_id: app.botUserId,
      bot_id: this.#config.botId,
      is_enterprise_install: false,
    });
  }

  #postMessage(args: Args, at: number): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    // chat:write alone posts only where the bot is a member (https://api.slack.com/methods/chat.postMessage#errors).
    if (this.#outside.has(channel.id)) return fail('not_in_channel');
    const content = contentOf(args);
    const problem = checkContent(content, args.attachments !== undefined);
    if (problem !== undefined) return fail(problem.error, problem.messages);
    const threadTs = str(args.thread_ts);
    if (threadTs !== undefined) {
      const parent = this.#messages.get(key(channel.id, threadTs));
      if (parent === undefined || parent.deleted) return fail('thread_not_found');
    }
    const created = this.#createMessage(channel.id, content, at, 'chat.postMessage', threadTs);
    const stored = this.#messages.get(key(created.channel, created.ts)) as StoredMessage;
    return {
      result: { ok: true, channel: channel.id, ts: created.ts, message: this.#messageJson(stored, true) },
      warnings: stored.missingText ? ['missing_text'] : [],
      channel: channel.id,
      ts: created.ts,
    };
  }

  #update(args: Args, at: number): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    const ts = str(args.ts) ?? '';
    const stored = this.#messages.get(key(channel.id, ts));
    if (stored === undefined || stored.deleted) return fail('message_not_found');
    const given = contentOf(args);
    if (given.text === undefined && given.blocks === undefined && args.attachments === undefined) {
      return fail('no_text');
    }
    const problem = checkContent(given, true);
    if (problem !== undefined) return fail(problem.error, problem.messages);
    // Omitted fields keep their previous value; an empty metadata object removes it (Slack's chat.update docs).
    const next: Content = { ...stored.content };
    if (given.text !== undefined) next.text = given.text;
    if (given.blocks !== undefined) next.blocks = given.blocks;
    if (given.metadata !== undefined) {
      if (isRecord(given.metadata) && Object.keys(given.metadata).length === 0) delete next.metadata;
      else next.metadata = given.metadata;
    }
    this.#applyRevision(stored, next, at, 'chat.update');
    return {
      result: {
        ok: true,
        channel: channel.id,
        ts,
        text: stored.content.text ?? '',
        message: this.#messageJson(stored, true),
      },
      warnings: stored.missingText ? ['missing_text'] : [],
      channel: channel.id,
      ts,
    };
  }

  #postEphemeral(args: Args, at: number): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    const user = this.user(str(args.user) ?? '');
    if (user === undefined) return fail('user_not_in_channel');
    const content = contentOf(args);
    const problem = checkContent(content, args.attachments !== undefined);
    if (problem !== undefined) return fail(problem.error, problem.messages);
    const created = this.#createEphemeral(channel.id, user.id, content, at, 'chat.postEphemeral', str(args.thread_ts));
    const missing = this.#ephemerals.at(-1)?.missingText === true;
    return { result: { ok: true, message_ts: created.ts }, warnings: missing ? ['missing_text'] : [] };
  }

  #permalink(args: Args): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    const stored = this.#messages.get(key(channel.id, str(args.message_ts) ?? ''));
    if (stored === undefined || stored.deleted) return fail('message_not_found');
    const base = `https://${this.#config.app.teamDomain}.slack.com/archives/${channel.id}/p${stored.ts.replace('.', '')}`;
    const permalink =
      stored.threadTs === undefined
        ? base
        : `${base}?thread_ts=${stored.threadTs}&cid=${encodeURIComponent(channel.id)}`;
    return ok({ channel: channel.id, permalink });
  }

  #usergroupUsers(args: Args): MethodOutcome {
    const group = this.#config.usergroups[str(args.usergroup) ?? ''];
    if (group === undefined) return fail('no_such_subteam');
    return ok({ users: [...group] });
  }

  #publishView(args: Args, at: number): MethodOutcome {
    const userId = str(args.user_id) ?? '';
    if (this.user(userId) === undefined) return fail('user_not_found');
    const view = args.view;
    if (!isRecord(view) || view.type !== 'home') return fail('invalid_arguments');
    const check = validateBlocks(view.blocks, 'home');
    if (check.error !== undefined) return fail(check.error, check.messages);
    const published = {
      ...view,
      id: this.nextId('V'),
      team_id: this.#config.app.teamId,
      type: 'home',
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      external_id: view.external_id ?? '',
      state: { values: {} },
      hash: `${Math.floor(at / 1000)}.${this.nextId('h')}`,
      app_id: this.#config.app.appId,
      bot_id: this.#config.botId,
    };
    this.#homeViews.set(userId, published);
    return ok({ view: structuredClone(published) });
  }

  /** `conversations.info`: the channel with `is_member` for the bot (https://api.slack.com/methods/conversations.info). */
  #conversationInfo(args: Args): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined || channel.name === 'directmessage') return fail('channel_not_found');
    const isPrivate = channel.isPrivate === true;
    // A private channel the bot is not in does not exist for it.
    if (isPrivate && this.#outside.has(channel.id)) return fail('channel_not_found');
    return ok({
      channel: {
        id: channel.id,
        name: channel.name,
        is_channel: !isPrivate,
        is_group: isPrivate,
        is_private: isPrivate,
        is_archived: false,
        is_member: !this.#outside.has(channel.id),
      },
    });
  }

  #userInfo(args: Args): MethodOutcome {
    const id = str(args.user) ?? '';
    const { app } = this.#config;
    const isBot = id === app.botUserId;
    const user = isBot ? { id, name: 'imagepull-bot' } : this.user(id);
    if (user === undefined) return fail('user_not_found');
    return ok({
      user: {
        id: user.id,
        team_id: app.teamId,
        name: user.name,
        deleted: false,
        real_name: user.name,
        is_bot: isBot,
        is_admin: false,
        tz: 'UTC',
        profile: { real_name: user.name, display_name: user.name, team: app.teamId },
      },
    });
  }

  #replies(args: Args): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    const stored = this.#messages.get(key(channel.id, str(args.ts) ?? ''));
    if (stored === undefined || stored.deleted) return fail('thread_not_found');
    const parent =
      stored.threadTs === undefined ? stored : (this.#messages.get(key(channel.id, stored.threadTs)) ?? stored);
    const withMetadata = truthy(args.include_all_metadata);
    const thread = [parent, ...parent.replies.map((ts) => this.#messages.get(key(channel.id, ts)))].filter(
      (m): m is StoredMessage => m !== undefined && !m.deleted,
    );
    return ok({ messages: thread.map((m) => this.#messageJson(m, withMetadata)), has_more: false });
  }

  #history(args: Args): MethodOutcome {
    const channel = this.resolveChannel(str(args.channel) ?? '');
    if (channel === undefined) return fail('channel_not_found');
    const limit = Math.max(1, Math.min(999, Number(str(args.limit) ?? 100) || 100));
    const oldest = Number(str(args.oldest) ?? 0);
    const latest = Number(str(args.latest) ?? Number.POSITIVE_INFINITY);
    const withMetadata = truthy(args.include_all_metadata);
    const list = (this.#topLevel.get(channel.id) ?? [])
      .map((ts) => this.#messages.get(key(channel.id, ts)))
      .filter((m): m is StoredMessage => m !== undefined && !m.deleted)
      .filter((m) => Number(m.ts) >= oldest && Number(m.ts) <= latest)
      .reverse();
    return ok({
      messages: list.slice(0, limit).map((m) => this.#messageJson(m, withMetadata)),
      has_more: list.length > limit,
    });
  }

  // ---- state changes -------------------------------------------------------------------------------------------

  #createMessage(
    channel: string,
    content: Content,
    at: number,
    via: StoredMessage['via'],
    threadTs?: string,
  ): { channel: string; ts: string; ephemeral: false } {
    const ts = this.nextTs(at);
    const stored: StoredMessage = {
      channel,
      ts,
      via,
      postedAt: at,
      original: structuredClone(content),
      content: structuredClone(content),
      updates: [],
      replies: [],
      deleted: false,
      missingText: isMissingText(content),
    };
    const named = threadTs === undefined ? undefined : this.#messages.get(key(channel, threadTs));
    // A reply to a reply joins the parent's thread.
    const parent = named?.threadTs === undefined ? named : this.#messages.get(key(channel, named.threadTs));
    if (parent !== undefined) {
      (stored as { threadTs?: string }).threadTs = parent.ts;
      parent.replies.push(ts);
    } else {
      const list = this.#topLevel.get(channel);
      if (list === undefined) this.#topLevel.set(channel, [ts]);
      else list.push(ts);
    }
    this.#messages.set(key(channel, ts), stored);
    return { channel, ts, ephemeral: false };
  }

  #createEphemeral(
    channel: string,
    user: string,
    content: Content,
    at: number,
    via: StoredEphemeral['via'],
    threadTs?: string,
  ): { channel: string; ts: string; ephemeral: true } {
    const ts = this.nextTs(at);
    const stored: StoredEphemeral = {
      channel,
      user,
      ts,
      via,
      postedAt: at,
      content: structuredClone(content),
      updates: [],
      deleted: false,
      missingText: isMissingText(content),
      ...(threadTs === undefined ? {} : { threadTs }),
    };
    this.#ephemerals.push(stored);
    return { channel, ts, ephemeral: true };
  }

  #replace(target: { channel: string; ts: string; ephemeral: boolean }, content: Content, at: number): boolean {
    if (target.ephemeral) {
      const eph = this.#ephemerals.find((e) => e.channel === target.channel && e.ts === target.ts && !e.deleted);
      if (eph === undefined) return false;
      eph.content = structuredClone(content);
      eph.missingText = isMissingText(content);
      eph.updates.push({ ...structuredClone(content), at, via: 'response_url' });
      return true;
    }
    const stored = this.#messages.get(key(target.channel, target.ts));
    if (stored === undefined || stored.deleted) return false;
    // A response_url replacement is a whole new message body; metadata is kept as Slack keeps it on edits.
    const next: Content = { ...content };
    if (next.metadata === undefined && stored.content.metadata !== undefined) next.metadata = stored.content.metadata;
    this.#applyRevision(stored, next, at, 'response_url');
    return true;
  }

  #delete(target: { channel: string; ts: string; ephemeral: boolean }): boolean {
    if (target.ephemeral) {
      const eph = this.#ephemerals.find((e) => e.channel === target.channel && e.ts === target.ts && !e.deleted);
      if (eph === undefined) return false;
      eph.deleted = true;
      return true;
    }
    const stored = this.#messages.get(key(target.channel, target.ts));
    if (stored === undefined || stored.deleted) return false;
    stored.deleted = true;
    return true;
  }

  #applyRevision(stored: StoredMessage, next: Content, at: number, via: MessageRevision['via']): void {
    stored.content = structuredClone(next);
    stored.missingText = isMissingText(next);
    stored.editedTs = this.nextTs(at);
    stored.updates.push({ ...structuredClone(next), at, via });
  }

  // ---- views ---------------------------------------------------------------------------------------------------

  /** The message as Slack's API shows it. */
  #messageJson(stored: StoredMessage, withMetadata: boolean): Record<string, unknown> {
    const { app } = this.#config;
    const json: Record<string, unknown> = {
      type: 'message',
      user: app.botUserId,
      bot_id: this.#config.botId,
      app_id: app.appId,
      team: app.teamId,
      text: stored.content.text ?? '',
      ts: stored.ts,
    };
    if (stored.content.blocks !== undefined) json.blocks = structuredClone(stored.content.blocks);
    if (stored.threadTs !== undefined) json.thread_ts = stored.threadTs;
    if (stored.replies.length > 0) {
      json.thread_ts = stored.ts;
      json.reply_count = stored.replies.length;
      json.latest_reply = stored.replies.at(-1);
    }
    if (stored.editedTs !== undefined) json.edited = { user: app.botUserId, ts: stored.editedTs };
    if (withMetadata && stored.content.metadata !== undefined) json.metadata = structuredClone(stored.content.metadata);
    return json;
  }

  #snapshot(stored: StoredMessage): PostedMessage {
    const replies = stored.replies
      .map((ts) => this.#messages.get(key(stored.channel, ts)))
      .filter((m): m is StoredMessage => m !== undefined && !m.deleted)
      .map((m) => this.#snapshot(m));
    const out: PostedMessage = {
      channel: stored.channel,
      ts: stored.ts,
      ...(stored.threadTs === undefined ? {} : { threadTs: stored.threadTs }),
      ...structuredClone(stored.content),
      user: this.#config.app.botUserId,
      botId: this.#config.botId,
      via: stored.via,
      postedAt: stored.postedAt,
      original: structuredClone(stored.original),
      updates: structuredClone(stored.updates),
      replies,
      deleted: stored.deleted,
      missingText: stored.missingText,
    };
    return out;
  }
}

function ephemeralSnapshot(e: StoredEphemeral): EphemeralMessage {
  return {
    channel: e.channel,
    user: e.user,
    ts: e.ts,
    ...(e.threadTs === undefined ? {} : { threadTs: e.threadTs }),
    ...structuredClone(e.content),
    via: e.via,
    postedAt: e.postedAt,
    updates: structuredClone(e.updates),
    deleted: e.deleted,
    missingText: e.missingText,
  };
}

/** A user's DM channel id with the bot. */
export function dmChannelId(userId: string): string {
  return `D${userId.replace(/^[UW]/, '')}`;
}

function key(channel: string, ts: string): string {
  return `${channel}/${ts}`;
}

function ok(fields: Record<string, unknown>): MethodOutcome {
  return { result: { ok: true, ...fields }, warnings: [] };
}

function fail(error: string, messages?: readonly string[]): MethodOutcome {
  const result: Record<string, unknown> = { ok: false, error };
  if (messages !== undefined && messages.length > 0) {
    result.errors = [...messages];
    result.response_metadata = { messages: messages.map((m) => `[ERROR] ${m}`) };
  }
  return { result, warnings: [] };
}

/** The text/blocks/metadata of a call or response body; JSON strings are parsed when the transport left them so. */
function contentOf(args: Args): Content {
  const content: Content = {};
  const text = str(args.text);
  if (text !== undefined) content.text = text;
  const blocks = parseJsonField(args.blocks);
  if (blocks !== undefined) content.blocks = blocks as unknown[];
  const metadata = parseJsonField(args.metadata);
  if (metadata !== undefined) content.metadata = metadata;
  return content;
}

/** Slack's refusal for this content, if any: `no_text`, `msg_too_long`, `invalid_blocks(_format)`, metadata. */
function checkContent(
  content: Content,
  hasAttachments: boolean,
): { error: string; messages: readonly string[] } | undefined {
  if ((content.text === undefined || content.text === '') && content.blocks === undefined && !hasAttachments) {
    return { error: 'no_text', messages: [] };
  }
  if (content.text !== undefined && content.text.length > MAX_TEXT) return { error: 'msg_too_long', messages: [] };
  if (content.blocks !== undefined) {
    const check = validateBlocks(content.blocks, 'message');
    if (check.error !== undefined) return { error: check.error, messages: check.messages };
  }
  if (content.metadata !== undefined && isRecord(content.metadata) && Object.keys(content.metadata).length > 0) {
    if (typeof content.metadata.event_type !== 'string' || !isRecord(content.metadata.event_payload)) {
      return { error: 'invalid_metadata_format', messages: [] };
    }
  }
  return undefined;
}

/** Blocks without a top-level text: Slack accepts it but has nothing for notifications and screen readers. */
function isMissingText(content: Content): boolean {
  return Array.isArray(content.blocks) && content.blocks.length > 0 && (content.text ?? '').trim() === '';
}

function parseJsonField(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A scalar argument as a string (form bodies give strings, JSON bodies may give numbers). */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}
