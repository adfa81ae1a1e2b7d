import { decodeEntities, EMOJI, parseMrkdwn, plainText } from './mrkdwn.ts';

/**
 * The top-level incident message's budget, in visible characters, for every state of every scenario: well under the
 * 1,000 that a phone shows on its first screen with the buttons (docs/incidents-and-fixes.md, "The message").
 */
export const TOP_LEVEL_BUDGET = 850;

/**
 * What a person sees of a message without tapping anything, as plain text (pure): header, section text and fields,
 * context, button labels, in order; markup removed, entities decoded, emoji one character each. Confirm dialogs,
 * block ids and button values are not shown, so they are not counted. The message budget is measured on this.
 */
export function visibleText(blocks: readonly unknown[]): string {
  const lines: string[] = [];
  for (const raw of blocks) {
    const b = raw as Block;
    switch (b.type) {
      case 'header':
        lines.push(textOf(b.text));
        break;
      case 'section':
        if (b.text) lines.push(textOf(b.text));
        for (const f of b.fields ?? []) lines.push(textOf(f));
        if (b.accessory?.type === 'button' && b.accessory.text) lines.push(textOf(b.accessory.text));
        break;
      case 'context':
        lines.push((b.elements ?? []).map((e) => (e.type === 'image' ? '' : textOf(e))).join(' '));
        break;
      case 'actions':
        lines.push((b.elements ?? []).map((e) => (e.text ? textOf(e.text) : '')).join(' '));
        break;
      default:
        break;
    }
  }
  return lines
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

interface TextObject {
  readonly type?: string;
  readonly text?: string;
}

interface Block {
  readonly type: string;
  readonly text?: TextObject;
  readonly fields?: readonly TextObject[];
  readonly accessory?: { readonly type: string; readonly text?: TextObject };
  readonly elements?: readonly (TextObject & { readonly text?: string | TextObject })[];
}

function textOf(t: TextObject | string | undefined): string {
  if (t === undefined) return '';
  if (typeof t === 'string') return t;
  const s = t.text ?? '';
  return t.type === 'mrkdwn'
    ? plainText(parseMrkdwn(s))
    : decodeEntities(s.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m));
}
