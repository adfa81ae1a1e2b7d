/**
 * Slack's mrkdwn, parsed the way Slack draws it (pure): code blocks, inline code, `<…>` tokens (links, mentions,
 * dates, specials), *bold*, _italic_, ~strike~, `:emoji:` and line breaks. Used to draw the preview page and to count
 * the text a person sees. Entities (`&lt;` `&gt;` `&amp;`) are decoded into text nodes; nothing here is HTML yet.
 */

export type MrkdwnNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'br' }
  | { readonly kind: 'bold' | 'italic' | 'strike'; readonly children: readonly MrkdwnNode[] }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'pre'; readonly text: string }
  | { readonly kind: 'link'; readonly url: string; readonly label: string }
  | { readonly kind: 'mention'; readonly sigil: '@' | '#' | '!'; readonly label: string }
  | { readonly kind: 'emoji'; readonly name: string; readonly char?: string };

/** The emoji the bot's messages use, as characters. Others are drawn as their `:name:`. */
export const EMOJI: Readonly<Record<string, string>> = {
  rotating_light: '🚨',
  white_check_mark: '✅',
  x: '❌',
  hourglass_flowing_sand: '⏳',
  leftwards_arrow_with_hook: '↩️',
  no_bell: '🔕',
  no_entry: '⛔',
  grey_question: '❔',
  fast_forward: '⏩',
  white_circle: '⚪',
  warning: '⚠️',
  mag: '🔍',
  thread: '🧵',
  arrows_counterclockwise: '🔄',
  twisted_rightwards_arrows: '🔀',
  lock: '🔒',
  point_down: '👇',
  construction: '🚧',
  pushpin: '📌',
};

/** Decodes the three entities Slack requires in mrkdwn and plain text. */
export function decodeEntities(s: string): string {
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** Parses mrkdwn into nodes. Never throws: anything it does not recognise is text. */
export function parseMrkdwn(source: string): MrkdwnNode[] {
  const out: MrkdwnNode[] = [];
  // Code blocks first: nothing inside them is formatted.
  const parts = source.split('```');
  parts.forEach((part, i) => {
    const isCode = i % 2 === 1 && i < parts.length - 1;
    if (isCode) out.push({ kind: 'pre', text: decodeEntities(part.replace(/^\n/, '').replace(/\n$/, '')) });
    else out.push(...inline(i % 2 === 1 ? `\`\`\`${part}` : part));
  });
  return out;
}

interface Match {
  readonly index: number;
  readonly length: number;
  readonly node: MrkdwnNode;
}

const PATTERNS: readonly { readonly re: RegExp; readonly make: (m: RegExpExecArray) => Match }[] = [
  {
    re: /`([^`\n]+)`/g,
    make: (m) => ({ index: m.index, length: m[0].length, node: { kind: 'code', text: decodeEntities(m[1] ?? '') } }),
  },
  { re: /<([^<>\n]+)>/g, make: (m) => ({ index: m.index, length: m[0].length, node: token(m[1] ?? '') }) },
  ...(
    [
      ['*', 'bold'],
      ['_', 'italic'],
      ['~', 'strike'],
    ] as const
  ).map(([mark, kind]) => {
    const q = mark === '*' ? '\\*' : mark;
    // Slack formats a span only at word edges: `*a*` bolds, `a*b*c` does not; no line break inside.
    const re = new RegExp(`(^|[^\\w${q}])${q}([^${q}\\s](?:[^${q}\\n]*[^${q}\\s])?)${q}(?=$|[^\\w${q}])`, 'g');
    return {
      re,
      make: (m: RegExpExecArray): Match => {
        const lead = m[1]?.length ?? 0;
        return {
          index: m.index + lead,
          length: m[0].length - lead,
          node: { kind, children: inline(m[2] ?? '') },
        };
      },
    };
  }),
  {
    re: /:([a-z0-9][a-z0-9_+-]*):/g,
    make: (m) => {
      const name = m[1] ?? '';
      const char = EMOJI[name];
      return { index: m.index, length: m[0].length, node: { kind: 'emoji', name, ...(char ? { char } : {}) } };
    },
  },
];

function inline(s: string): MrkdwnNode[] {
  const out: MrkdwnNode[] = [];
  let rest = s;
  for (;;) {
    let best: Match | undefined;
    for (const p of PATTERNS) {
      p.re.lastIndex = 0;
      const m = p.re.exec(rest);
      if (!m) continue;
      const candidate = p.make(m);
      if (!best || candidate.index < best.index) best = candidate;
    }
    if (!best) break;
    text(out, rest.slice(0, best.index));
    out.push(best.node);
    rest = rest.slice(best.index + best.length);
  }
  text(out, rest);
  return out;
}

function text(out: MrkdwnNode[], s: string): void {
  s.split('\n').forEach((line, i) => {
    if (i > 0) out.push({ kind: 'br' });
    if (line !== '') out.push({ kind: 'text', text: decodeEntities(line) });
  });
}

/** `<…>`: a user, channel or group mention, a special (`!here`), a date, or a link. */
function token(inner: string): MrkdwnNode {
  const [target = '', label] = splitLabel(inner);
  if (target.startsWith('@')) return { kind: 'mention', sigil: '@', label: label ?? target.slice(1) };
  if (target.startsWith('#')) return { kind: 'mention', sigil: '#', label: label ?? target.slice(1) };
  if (target.startsWith('!date^')) return { kind: 'text', text: decodeEntities(label ?? target) };
  if (target.startsWith('!subteam^')) return { kind: 'mention', sigil: '@', label: label ?? target.slice(9) };
  if (target.startsWith('!')) return { kind: 'mention', sigil: '@', label: target.slice(1) };
  return { kind: 'link', url: decodeEntities(target), label: decodeEntities(label ?? target) };
}

function splitLabel(inner: string): [string, string | undefined] {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), inner.slice(bar + 1)];
}

/** The text a person reads, without markup: what the message budget counts. */
export function plainText(nodes: readonly MrkdwnNode[]): string {
  return nodes
    .map((n): string => {
      switch (n.kind) {
        case 'text':
        case 'code':
          return n.text;
        case 'pre':
          return `\n${n.text}\n`;
        case 'br':
          return '\n';
        case 'bold':
        case 'italic':
        case 'strike':
          return plainText(n.children);
        case 'link':
          return n.label;
        case 'mention':
          return `${n.sigil === '#' ? '#' : '@'}${n.label}`;
        case 'emoji':
          return n.char ?? `:${n.name}:`;
      }
      return '';
    })
    .join('');
}
