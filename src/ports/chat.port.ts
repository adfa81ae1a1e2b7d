/**
 * Slack, as the use cases need it. Messages are already rendered (slack/blocks); the adapter only sends them,
 * retrying on 429/5xx.
 */
export interface ChatMessage {
  /** Notification / fallback text. */
  readonly text: string;
  readonly blocks: readonly object[];
}

export interface PostedRef {
  readonly channel: string;
  readonly ts: string;
}

/**
 * What the chat adapter throws: a stable `code` (Slack's own error string, e.g. `message_not_found`,
 * `channel_not_found`, `ratelimited`, or `request_failed` when no answer came) and whether a retry can help.
 */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly code: string;
  /** No retry fixes it: the bot is not in the channel, the token is revoked, the blocks are invalid… */
  readonly permanent: boolean;
  constructor(code: string, permanent: boolean, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.permanent = permanent;
  }
}

export interface ChatPort {
  post(channel: string, message: ChatMessage): Promise<PostedRef>;
  update(ref: PostedRef, message: ChatMessage): Promise<void>;
  /** Posts in the message's thread; resolves to the reply (so it can be edited). */
  reply(ref: PostedRef, message: ChatMessage): Promise<PostedRef>;
  /** Members of a Slack user group (`usergroups.users.list`). */
  usergroupMembers(usergroup: string): Promise<readonly string[]>;
  /** The message's permalink, or undefined when Slack does not give one. */
  permalink(ref: PostedRef): Promise<string | undefined>;
}

/** Who the bot token is (`auth.test`), with the scopes Slack says it has (`x-oauth-scopes`). */
export interface ChatIdentityInfo {
  readonly userId: string;
  /** The bot user's name, for `/invite @name`. */
  readonly user: string;
  readonly team: string;
  readonly scopes: readonly string[];
}

/** A channel as the bot sees it (`conversations.info`). */
export interface ChannelInfo {
  readonly id: string;
  readonly name: string;
  readonly isPrivate: boolean;
  readonly isMember: boolean;
}

/** The bot's own Slack wiring, for `imagepull doctor`; failures are `ChatError`s with Slack's code. */
export interface ChatIdentity {
  whoAmI(): Promise<ChatIdentityInfo>;
  channel(id: string): Promise<ChannelInfo>;
}
