import type { KnownBlock } from '@slack/types';
import type { ChatMessage } from '../../ports/chat.port.ts';
import type { UninvestigableSummary } from '../../ports/notifier.port.ts';
import { clip, esc, LIMITS, withinLimits } from './limits.ts';

/**
 * The one message per window about alerts the bot could not investigate because their cluster cannot be read
 * (docs/alerts.md, "Alerts that cannot be investigated"). Pure. Every name from an alert is escaped and shown in code
 * spans: an alert is input from whoever can publish to the topic.
 */

const REASON: Record<string, { readonly title: string; readonly check: string }> = {
  'not-found': {
    title: 'Cluster not found',
    check: 'GKE does not know these names: check the alert policy or log sink that sends them.',
  },
  'permission-denied': {
    title: 'Cluster not visible to the bot',
    check: "The bot's role may not read the project's clusters: `imagepull doctor --cluster P/L/NAME` says why.",
  },
  unauthenticated: {
    title: 'The bot could not authenticate to GKE',
    check: "The bot's credentials were refused: `imagepull doctor` checks them.",
  },
};

/** Clusters named per reason; the rest are counted (the message stays within a phone's first screen). */
const LISTED = 4;

export function uninvestigableMessage(s: UninvestigableSummary): ChatMessage {
  const clusters = s.reasons.reduce((n, r) => n + r.clusterCount, 0);
  const headline = `${s.total} alert${s.total === 1 ? '' : 's'} from ${clusters} cluster${clusters === 1 ? '' : 's'} could not be investigated`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`:grey_question: ${headline}`, LIMITS.header) } },
  ];
  for (const r of s.reasons) {
    const reason = REASON[r.code] ?? {
      title: `Cluster read failed (${r.code})`,
      check: '`imagepull doctor` checks the wiring.',
    };
    const named = r.clusters.slice(0, LISTED).map((c) => `\`${esc(c.cluster)}\``);
    const more = r.clusterCount - named.length;
    const lines = [
      `*${reason.title}* — ${r.alerts} alert${r.alerts === 1 ? '' : 's'}: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
      reason.check,
      r.permission
        ? `Missing: \`${esc(r.permission)}\``
        : `GKE said: \`${esc(clip(r.message.replaceAll('`', "'"), 160))}\``,
    ];
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.text) } });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `No incident is posted for a cluster the bot cannot read: this message counts them, a new one each hour. Since ${s.window.slice(11, 16)} UTC, last ${s.lastAt.slice(11, 19)} UTC.`,
      },
    ],
  });
  return { text: clip(headline, LIMITS.fallbackText), blocks: withinLimits(blocks) };
}
