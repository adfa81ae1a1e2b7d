import type { RespondFn } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { Logger } from '../../shared/logger.ts';

/** Ephemeral answer through response_url; a failure to answer is logged, never thrown into Bolt. */
export async function tell(
  respond: RespondFn,
  logger: Logger,
  text: string,
  blocks?: KnownBlock[],
  replace = false,
): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', replace_original: replace, text, ...(blocks ? { blocks } : {}) });
  } catch (e) {
    logger.warn({ err: e }, 'could not answer through response_url');
  }
}
