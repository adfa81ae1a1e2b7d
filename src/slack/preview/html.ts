import { EMOJI, type MrkdwnNode, parseMrkdwn } from './mrkdwn.ts';

/**
 * Block Kit and mrkdwn as HTML, laid out the way Slack draws them (pure). Every piece of text and every attribute
 * is escaped here, whatever its origin; links keep only http(s) and mailto targets.
 */

/** Escapes text for HTML content and attribute values. */
export function h(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function mrkdwnHtml(source: string): string {
  return nodesHtml(parseMrkdwn(source));
}

function nodesHtml(nodes: readonly MrkdwnNode[]): string {
  return nodes
    .map((n): string => {
      switch (n.kind) {
        case 'text':
          return h(n.text);
        case 'br':
          return '<br>';
        case 'bold':
          return `<b>${nodesHtml(n.children)}</b>`;
        case 'italic':
          return `<i>${nodesHtml(n.children)}</i>`;
        case 'strike':
          return `<s>${nodesHtml(n.children)}</s>`;
        case 'code':
          return `<code>${h(n.text)}</code>`;
        case 'pre':
          return `<pre>${h(n.text)}</pre>`;
        case 'link':
          return /^(https?:|mailto:)/i.test(n.url)
            ? `<a href="${h(n.url)}" rel="noopener noreferrer">${h(n.label)}</a>`
            : h(n.label);
        case 'mention':
          return `<span class="mention">${n.sigil === '#' ? '#' : '@'}${h(n.label)}</span>`;
        case 'emoji':
          return n.char ? `<span class="emoji" title=":${h(n.name)}:">${n.char}</span>` : h(`:${n.name}:`);
      }
      return '';
    })
    .join('');
}

interface TextObject {
  readonly type?: string;
  readonly text?: string;
}

interface Element {
  readonly type: string;
  readonly text?: TextObject | string;
  readonly style?: string;
  readonly action_id?: string;
  readonly url?: string;
  readonly alt_text?: string;
  readonly confirm?: { readonly title?: TextObject; readonly text?: TextObject };
}

interface Block {
  readonly type: string;
  readonly block_id?: string;
  readonly text?: TextObject;
  readonly fields?: readonly TextObject[];
  readonly accessory?: Element;
  readonly elements?: readonly Element[];
}

function textHtml(t: TextObject | string | undefined): string {
  if (t === undefined) return '';
  if (typeof t === 'string') return mrkdwnHtml(t);
  if (t.type === 'mrkdwn') return mrkdwnHtml(t.text ?? '');
  // plain_text: entities are literal in Slack's plain text, emoji shortcodes are drawn (`emoji: true`).
  return h(t.text ?? '').replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
}

function buttonHtml(e: Element): string {
  const style = e.style === 'primary' || e.style === 'danger' ? ` ${e.style}` : '';
  const confirm = e.confirm
    ? ` title="${h(`${plainOf(e.confirm.title)} — ${plainOf(e.confirm.text)}`)}" data-confirm="yes"`
    : '';
  return `<button type="button" class="btn${style}" data-action="${h(e.action_id ?? '')}"${confirm}>${textHtml(e.text)}</button>`;
}

function plainOf(t: TextObject | undefined): string {
  return t?.text ?? '';
}

/** One block, as Slack draws it. Unknown blocks show as their JSON (escaped), never silently dropped. */
export function blockHtml(raw: unknown): string {
  const b = raw as Block;
  switch (b.type) {
    case 'header':
      return `<div class="b-header">${textHtml(b.text)}</div>`;
    case 'section': {
      const text = b.text ? `<div class="mrkdwn">${textHtml(b.text)}</div>` : '';
      const fields = b.fields?.length
        ? `<div class="fields">${b.fields.map((f) => `<div class="mrkdwn">${textHtml(f)}</div>`).join('')}</div>`
        : '';
      const accessory = b.accessory?.type === 'button' ? `<div class="accessory">${buttonHtml(b.accessory)}</div>` : '';
      return `<div class="b-section"><div class="main">${text}${fields}</div>${accessory}</div>`;
    }
    case 'context':
      return `<div class="b-context">${(b.elements ?? [])
        .map((e) =>
          e.type === 'image'
            ? `<span class="ctx-img">${h(e.alt_text ?? '')}</span>`
            : `<span>${textHtml(e as TextObject)}</span>`,
        )
        .join(' ')}</div>`;
    case 'divider':
      return '<hr class="b-divider">';
    case 'actions':
      return `<div class="b-actions" data-block="actions">${(b.elements ?? [])
        .map((e) => (e.type === 'button' ? buttonHtml(e) : `<span class="unknown">${h(e.type)}</span>`))
        .join('')}</div>`;
    default:
      return `<pre class="unknown">${h(JSON.stringify(raw, null, 2))}</pre>`;
  }
}

/** A message's blocks, or its text when it has none (as Slack shows a text-only message). */
export function messageHtml(message: { readonly text: string; readonly blocks: readonly unknown[] }): string {
  if (message.blocks.length === 0)
    return `<div class="b-section"><div class="mrkdwn">${mrkdwnHtml(message.text)}</div></div>`;
  return message.blocks.map(blockHtml).join('\n');
}
