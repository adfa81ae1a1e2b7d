import { EMOJI } from '../slack/preview/mrkdwn.ts';

/** Prints a Slack message (Block Kit JSON) as terminal text, for the demo. */
interface TextObj {
  text?: string;
}
interface AnyBlock {
  type: string;
  text?: TextObj;
  fields?: TextObj[];
  elements?: { type: string; text?: TextObj | string; style?: string }[];
}

export function slackMessageText(blocks: readonly unknown[] | undefined, fallback = ''): string {
  if (!blocks || blocks.length === 0) return mrkdwn(fallback);
  const out: string[] = [];
  for (const raw of blocks as AnyBlock[]) {
    switch (raw.type) {
      case 'header':
        out.push(`\x1b[1m${mrkdwn(raw.text?.text ?? '')}\x1b[0m`);
        break;
      case 'section':
        if (raw.text?.text) out.push(mrkdwn(raw.text.text));
        for (const f of raw.fields ?? []) out.push(mrkdwn(f.text ?? ''));
        break;
      case 'context':
        out.push(
          `\x1b[2m${(raw.elements ?? []).map((e) => mrkdwn(typeof e.text === 'string' ? e.text : (e.text?.text ?? ''))).join(' ')}\x1b[0m`,
        );
        break;
      case 'actions':
        out.push(
          (raw.elements ?? [])
            .map((e) => `[ ${typeof e.text === 'string' ? e.text : (e.text?.text ?? '')} ]`)
            .join('  '),
        );
        break;
      case 'divider':
        out.push('─'.repeat(40));
        break;
      default:
        break;
    }
  }
  return out.join('\n');
}

function mrkdwn(s: string): string {
  return s
    .replace(/:([a-z_]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(
      /```([\s\S]*?)```/g,
      (_m, code: string) =>
        `\n${code
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}\n`,
    )
    .replace(/`([^`\n]+)`/g, '\x1b[36m$1\x1b[0m')
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<@(\w+)>/g, '@$1')
    .replace(/\*([^*\n]+)\*/g, '\x1b[1m$1\x1b[0m')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
