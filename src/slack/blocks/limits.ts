import type { Button, KnownBlock } from '@slack/types';

/**
 * Slack's Block Kit limits, enforced in one place (STYLE.md): 3,000 characters a text, 150 a header, 50 blocks a
 * message, 75 a button label, 2,000 a button value.
 */
export const LIMITS = {
  text: 3000,
  header: 150,
  blocks: 50,
  buttonText: 75,
  buttonValue: 2000,
  fallbackText: 4000,
} as const;

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Clips every text field and the block count. A message that would exceed 50 blocks keeps the first 49 + a note. */
export function withinLimits(blocks: KnownBlock[]): KnownBlock[] {
  const fixed = blocks.map(clipBlock);
  if (fixed.length <= LIMITS.blocks) return fixed;
  return [
    ...fixed.slice(0, LIMITS.blocks - 1),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `_${fixed.length - LIMITS.blocks + 1} more section(s) omitted._` }],
    },
  ];
}

function clipBlock(block: KnownBlock): KnownBlock {
  switch (block.type) {
    case 'header':
      return { ...block, text: { ...block.text, text: clip(block.text.text, LIMITS.header) } };
    case 'section':
      return {
        ...block,
        ...(block.text ? { text: { ...block.text, text: clip(block.text.text, LIMITS.text) } } : {}),
        ...(block.fields ? { fields: block.fields.slice(0, 10).map((f) => ({ ...f, text: clip(f.text, 2000) })) } : {}),
      };
    case 'context':
      return {
        ...block,
        elements: block.elements
          .slice(0, 10)
          .map((e) => ('text' in e && typeof e.text === 'string' ? { ...e, text: clip(e.text, LIMITS.text) } : e)),
      };
    case 'actions':
      return {
        ...block,
        elements: block.elements.map((e) =>
          e.type === 'button'
            ? ({
                ...e,
                text: { ...e.text, text: clip(e.text.text, LIMITS.buttonText) },
                ...(e.value ? { value: clip(e.value, LIMITS.buttonValue) } : {}),
              } as Button)
            : e,
        ),
      };
    default:
      return block;
  }
}

/** Escapes text for mrkdwn (Slack's three control characters). */
export function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A mention of a Slack user id; anything else (a forged or garbled id from a request) as escaped text, never a
 * mention, so no input can ping someone it names.
 */
export function mention(user: string): string {
  return /^[UW][A-Z0-9]{2,20}$/.test(user) ? `<@${user}>` : `\`${esc(user)}\``;
}
