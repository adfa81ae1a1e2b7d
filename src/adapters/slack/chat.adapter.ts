import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { ChatMessage, ChatPort, PostedRef } from '../../ports/chat.port.ts';

/**
 * ChatPort over Slack's Web API (the Bolt app's WebClient, which already retries 429 with Retry-After and 5xx).
 * Only sends what the renderers built.
 */
export class SlackChatAdapter implements ChatPort {
  readonly #client: WebClient;

  constructor(client: WebClient) {
    this.#client = client;
  }

  async post(channel: string, message: ChatMessage): Promise<PostedRef> {
    const r = await this.#client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks as KnownBlock[],
      unfurl_links: false,
    });
    if (!r.ts || !r.channel) throw new Error(`chat.postMessage returned no ts (${r.error ?? 'unknown error'})`);
    return { channel: r.channel, ts: r.ts };
  }

  async update(ref: PostedRef, message: ChatMessage): Promise<void> {
    await this.#client.chat.update({
      channel: ref.channel,
      ts: ref.ts,
      text: message.text,
      blocks: message.blocks as KnownBlock[],
    });
  }

  async reply(ref: PostedRef, message: ChatMessage): Promise<void> {
    await this.#client.chat.postMessage({
      channel: ref.channel,
      thread_ts: ref.ts,
      text: message.text,
      ...(message.blocks.length > 0 ? { blocks: message.blocks as KnownBlock[] } : {}),
      unfurl_links: false,
    });
  }

  async ephemeral(channel: string, user: string, message: ChatMessage): Promise<void> {
    await this.#client.chat.postEphemeral({
      channel,
      user,
      text: message.text,
      ...(message.blocks.length > 0 ? { blocks: message.blocks as KnownBlock[] } : {}),
    });
  }

  async usergroupMembers(usergroup: string): Promise<readonly string[]> {
    const r = await this.#client.usergroups.users.list({ usergroup });
    return r.users ?? [];
  }

  async publishHome(user: string, view: object): Promise<void> {
    await this.#client.views.publish({
      user_id: user,
      view: view as Parameters<WebClient['views']['publish']>[0]['view'],
    });
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
