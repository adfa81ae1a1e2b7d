import { ChatError, type ChatPort, type PostedRef } from '../ports/chat.port.ts';
import type { UninvestigableNotifier, UninvestigableSummary } from '../ports/notifier.port.ts';
import type { Logger } from '../shared/logger.ts';
import { uninvestigableMessage } from './blocks/uninvestigable.blocks.ts';

/**
 * The message about alerts that cannot be investigated, in the incident channel: posted once per window, then edited
 * (usecases/uninvestigable.ts decides when); posted again if someone deleted it.
 */
export class SlackUninvestigableNotices implements UninvestigableNotifier {
  readonly #chat: ChatPort;
  readonly #channel: string;
  readonly #logger: Logger;
  #posted: { window: string; ref: PostedRef } | undefined;

  constructor(chat: ChatPort, channel: string, logger: Logger) {
    this.#chat = chat;
    this.#channel = channel;
    this.#logger = logger;
  }

  async show(summary: UninvestigableSummary): Promise<void> {
    const message = uninvestigableMessage(summary);
    const posted = this.#posted;
    if (posted?.window === summary.window) {
      try {
        await this.#chat.update(posted.ref, message);
        return;
      } catch (e) {
        if (!(e instanceof ChatError && e.code === 'message_not_found')) throw e;
        this.#logger.info({ ts: posted.ref.ts }, 'the cannot-investigate message was deleted: posting it again');
      }
    }
    const ref = await this.#chat.post(this.#channel, message);
    this.#posted = { window: summary.window, ref };
  }
}
