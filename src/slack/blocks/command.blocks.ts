import type { KnownBlock } from '@slack/types';
import type { Investigation } from '../../usecases/investigate.ts';
import { USAGE } from '../command.ts';
import { diagnosisBlocks } from './diagnosis.blocks.ts';
import { esc, withinLimits } from './limits.ts';

/** The ephemeral answer to `/imagepull diagnose`: one diagnosis per failing container, or why there is none. */
export function investigationBlocks(inv: Investigation, sharedIn?: string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (sharedIn)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Posted to <#${sharedIn}> with the fix buttons.` }],
    });
  inv.diagnoses.forEach((d, i) => {
    if (i > 0) blocks.push({ type: 'divider' });
    blocks.push(...diagnosisBlocks(d));
  });
  if (inv.note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: esc(inv.note) } });
  if (blocks.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'Nothing found.' } });
  if (inv.diagnoses.some((d) => d.fixes.length > 0) && !sharedIn) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Add `--share` to post this in the channel with the fix buttons.' }],
    });
  }
  return withinLimits(blocks);
}

export function investigationText(inv: Investigation): string {
  if (inv.diagnoses.length === 0) return inv.note ?? 'Nothing found.';
  return inv.diagnoses.map((d) => d.headline.replaceAll('`', '')).join('; ');
}

export function usageBlocks(error?: string): KnownBlock[] {
  return [
    ...(error
      ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: `:warning: ${esc(error)}` } }]
      : []),
    { type: 'section', text: { type: 'mrkdwn', text: USAGE } },
  ];
}
