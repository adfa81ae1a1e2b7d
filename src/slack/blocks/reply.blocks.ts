import type { KnownBlock } from '@slack/types';
import type { ChatMessage } from '../../ports/chat.port.ts';
import { clip, esc, LIMITS } from './limits.ts';

/**
 * The private answer to the person who pressed a button (pure): what happened in one line, with the stable code
 * for a refusal. `text` is channel-neutral (`code` spans only) and escaped here.
 */
export function actionReplyMessage(reply: {
  readonly ok: boolean;
  readonly code: string;
  readonly text: string;
}): ChatMessage {
  const emoji = reply.ok ? (reply.code === 'dry-run' ? ':mag:' : ':white_check_mark:') : ':no_entry:';
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${emoji} ${esc(reply.text)}`, LIMITS.text) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: reply.ok
            ? 'Only you can see this.'
            : reply.code === 'failed'
              ? 'Only you can see this · what happened is in the thread'
              : `Only you can see this · refused: \`${esc(reply.code)}\`${/nothing was changed/i.test(reply.text) ? '' : ' · nothing was changed'}`,
        },
      ],
    },
  ];
  return { text: clip(reply.text, LIMITS.fallbackText), blocks };
}
