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

export interface ChatPort {
  post(channel: string, message: ChatMessage): Promise<PostedRef>;
  update(ref: PostedRef, message: ChatMessage): Promise<void>;
  reply(ref: PostedRef, message: ChatMessage): Promise<void>;
  ephemeral(channel: string, user: string, message: ChatMessage): Promise<void>;
  /** Members of a Slack user group (`usergroups.users.list`). */
  usergroupMembers(usergroup: string): Promise<readonly string[]>;
  publishHome(user: string, view: object): Promise<void>;
  permalink(ref: PostedRef): Promise<string | undefined>;
}
