import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import {
  type ChannelInfo,
  ChatError,
  type ChatIdentity,
  type ChatIdentityInfo,
  type ChatMessage,
  type ChatPort,
  type PostedRef,
} from '../../ports/chat.port.ts';

/** Slack errors that no retry fixes (https://api.slack.com/methods/chat.postMessage#errors). */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'invalid_blocks',
  'msg_too_long',
  'restricted_action',
  'message_not_found',
  'cant_update_message',
]);

/** Any WebClient failure as a `ChatError` with Slack's own error code. */
function coded(e: unknown, method: string): ChatError {
  const data = (e as { data?: { error?: unknown } }).data;
  const code = typeof data?.error === 'string' ? data.error : 'request_failed';
  return new ChatError(code, PERMANENT.has(code), `${method}: ${code}`, { cause: e });
}

async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw coded(e, method);
  }
}

/**
 * ChatPort over Slack's Web API (the Bolt app's WebClient, which already retries 429 with Retry-After and 5xx).
 * Only sends what the renderers built; every failure is a `ChatError` with Slack's error code.
 */
export class SlackChatAdapter implements ChatPort, ChatIdentity {
  readonly #client: WebClient;

  constructor(client: WebClient) {
    this.#client = client;
  }

  async post(channel: string, message: ChatMessage): Promise<PostedRef> {
    const r = await call('chat.postMessage', () =>
      this.#client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as KnownBlock[],
        unfurl_links: false,
      }),
    );
    if (!r.ts || !r.channel) throw new ChatError(r.error ?? 'request_failed', false, 'chat.postMessage returned no ts');
    return { channel: r.channel, ts: r.ts };
  }

  async update(ref: PostedRef, message: ChatMessage): Promise<void> {
    await call('chat.update', () =>
      this.#client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks as KnownBlock[],
      }),
    );
  }

  async reply(ref: PostedRef, message: ChatMessage): Promise<PostedRef> {
    const r = await call('chat.postMessage', () =>
      this.#client.chat.postMessage({
        channel: ref.channel,
        thread_ts: ref.ts,
        text: message.text,
        ...(message.blocks.length > 0 ? { blocks: message.blocks as KnownBlock[] } : {}),
        unfurl_links: false,
      }),
    );
    if (!r.ts) throw new ChatError(r.error ?? 'request_failed', false, 'chat.postMessage returned no ts');
    return { channel: r.channel ?? ref.channel, ts: r.ts };
  }

  async usergroupMembers(usergroup: string): Promise<readonly string[]> {
    const r = await call('usergroups.users.list', () => this.#client.usergroups.users.list({ usergroup }));
    return r.users ?? [];
  }

  async whoAmI(): Promise<ChatIdentityInfo> {
    const r = await call('auth.test', () => this.#client.auth.test());
    return {
      userId: r.user_id ?? '',
      user: r.user ?? '',
      team: r.team ?? '',
      // The WebClient puts the `x-oauth-scopes` header here.
      scopes: r.response_metadata?.scopes ?? [],
    };
  }

  async channel(id: string): Promise<ChannelInfo> {
    const r = await call('conversations.info', () => this.#client.conversations.info({ channel: id }));
    const c = r.channel;
    return {
      id: c?.id ?? id,
      name: c?.name ?? id,
      isPrivate: c?.is_private === true,
      isMember: c?.is_member === true,
    };
  }

  async permalink(ref: PostedRef): Promise<string | undefined> {
    try {
      const r = await this.#client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
      return r.permalink;
    } catch {
      return undefined;
    }
  }
}
