import type { ChatMessage } from '../../ports/chat.port.ts';
import { h, messageHtml } from './html.ts';
import type { PreviewScene } from './scene.ts';
import { PREVIEW_CSS } from './style.ts';

export interface PreviewPageOptions {
  readonly title: string;
  /** One line under the title (scenario, when it was made). */
  readonly subtitle?: string;
  /** The channel the messages are shown in. */
  readonly channel?: string;
  /** Messages a run really posted (the demo), shown first as their own scene. */
  readonly extra?: readonly PreviewScene[];
}

/**
 * A self-contained HTML page (pure: no script, no font, no image from anywhere) laying out every scene the way Slack
 * draws it — header, sections, fields, context, dividers, buttons; thread replies under the message; the replies
 * only the clicking person sees; App Home as its tab. `imagepull preview`, `npm run demo` and the screenshot test
 * use it. Stable hooks: `#scene-ID`, `[data-scene]`, `[data-role=top|reply|ephemeral|home]`, `[data-block=actions]`.
 */
export function previewPage(scenes: readonly PreviewScene[], options: PreviewPageOptions): string {
  const channel = options.channel ?? 'incidents';
  const all = [...(options.extra ?? []), ...scenes];
  const body = all.map((s) => sceneHtml(s, channel)).join('\n');
  const toc = all.map((s) => `<li><a href="#scene-${h(s.id)}">${h(s.title)}</a></li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${h(options.title)}</title>
<style>${PREVIEW_CSS}</style>
</head>
<body>
<header class="channel-bar"><span class="hash">#</span><span class="name">${h(channel)}</span><span class="sub">${h(options.title)}</span></header>
<main>
${body}
<nav class="toc"><h2>Every state</h2>${options.subtitle ? `<p>${h(options.subtitle)}</p>` : ''}<ol>${toc}</ol></nav>
</main>
<footer class="composer"><span>Message #${h(channel)}</span></footer>
</body>
</html>
`;
}

const TIME = '2:45 AM';

function botMessage(m: ChatMessage, role: 'top' | 'reply' | 'ephemeral', extra = ''): string {
  return `<div class="message ${role}" data-role="${role}">
<div class="avatar" aria-hidden="true">IP</div>
<div class="body"><div class="meta"><b>imagepull-bot</b><span class="app">APP</span><time>${TIME}</time></div>
<div class="blocks">${messageHtml(m)}</div>${extra}</div>
</div>`;
}

function sceneHtml(s: PreviewScene, channel: string): string {
  const parts: string[] = [`<div class="scene-title"><h2>${h(s.title)}</h2><p>${h(s.note)}</p></div>`];
  if (s.top) {
    const replies = s.thread.length;
    const link = replies > 0 ? `<div class="thread-link">${replies} ${replies === 1 ? 'reply' : 'replies'}</div>` : '';
    parts.push(botMessage(s.top, 'top', link));
  }
  // Slack shows a private reply in the channel, under the message; the thread opens on its own.
  for (const e of s.ephemeral)
    parts.push(
      `<div class="ephemeral-wrap"><div class="only-you">Only visible to you</div>${botMessage(e, 'ephemeral')}</div>`,
    );
  if (s.thread.length > 0) {
    parts.push(
      `<div class="thread"><div class="thread-head">Thread <span>#${h(channel)}</span></div>${s.thread
        .map((m) => botMessage(m, 'reply'))
        .join('\n')}</div>`,
    );
  }
  if (s.home)
    parts.push(
      `<div class="home" data-role="home"><div class="home-tabs"><b>Home</b><span>Messages</span><span>About</span></div><div class="blocks">${messageHtml(s.home)}</div></div>`,
    );
  return `<section class="scene" id="scene-${h(s.id)}" data-scene="${h(s.id)}">${parts.join('\n')}</section>`;
}
