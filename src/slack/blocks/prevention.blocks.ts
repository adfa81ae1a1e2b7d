import type { KnownBlock } from '@slack/types';
import type { IncidentRecord } from '../../incidents/model.ts';
import { gapSummary, reportSummary } from '../../prevention/report.ts';
import type { AuditRun } from '../../usecases/prevention.ts';
import { plain } from './diagnosis.blocks.ts';
import { clip, esc, LIMITS, withinLimits } from './limits.ts';

/**
 * The pull audit in Slack (docs/prevention.md): how an incident the audit opened reads while nothing fails yet, and
 * the answer to `/imagepull audit`. Pure.
 */

const TRIGGER: Record<NonNullable<IncidentRecord['prevention']>['trigger'], string> = {
  schedule: 'the periodic pull audit',
  command: '`/imagepull audit`',
  'iam-change': 'the re-audit after an IAM change',
};

/** The parts of the incident message that differ for a gap nothing fails on yet; undefined for any other incident. */
export interface PreventionView {
  readonly status?: { readonly emoji: string; readonly label: string };
  readonly subject: string;
  readonly context: KnownBlock;
  readonly text?: string;
}

export function preventionView(incident: IncidentRecord, now: Date): PreventionView | undefined {
  const p = incident.prevention;
  if (incident.origin !== 'audit' || incident.alertCount > 0 || !p) return undefined;
  const warning = incident.status === 'open';
  const found = `Found by ${TRIGGER[p.trigger]}${p.because ? ` (${p.because})` : ''} ${ago(p.auditedAt, now)}.`;
  const closed = p.closedAt
    ? `\n:white_check_mark: The gap closed: ${TRIGGER[p.trigger]} ${ago(p.closedAt, now)} saw every pool able to pull.`
    : '';
  const lines = [
    warning ? `${found} Nothing fails yet.` : found,
    `Images: ${some(
      p.images.map((i) => `\`${shortImage(i)}\``),
      3,
    )}`,
    `Workloads: ${some(p.workloads, 5)}`,
  ];
  return {
    ...(warning ? { status: { emoji: ':warning:', label: 'Pull risk' } } : {}),
    subject: `${esc(p.summary)}.`,
    context: {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(esc(lines.join('\n')) + closed, LIMITS.text) }],
    },
    ...(warning ? { text: clip(`Pull risk: ${plain(p.summary)}`, LIMITS.fallbackText) } : {}),
  };
}

/** `REPOSITORY/IMAGE:TAG` of an Artifact Registry image (the host and project are in the header and the thread). */
function shortImage(normalized: string): string {
  return normalized
    .replace(/^[a-z0-9-]+-docker\.pkg\.dev\/[^/]+\//, '')
    .replace(/^((?:[a-z]+\.)?gcr\.io)\/[^/]+\//, '$1/');
}

/** The first `n`, and how many more. */
function some(items: readonly string[], n: number): string {
  return `${items.slice(0, n).join(', ')}${items.length > n ? ` and ${items.length - n} more` : ''}`;
}

function ago(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (s < 90) return s < 5 ? 'just now' : `${s} s ago`;
  const m = Math.round(s / 60);
  return m < 90 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

/** The ephemeral answer to `/imagepull audit`: the summary, each root cause with a link to its incident message. */
export function auditRunBlocks(run: AuditRun): KnownBlock[] {
  const { report } = run;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `:mag: *Pull audit* — ${esc(reportSummary(report))}` } },
  ];
  report.gaps.slice(0, 15).forEach((gap, i) => {
    const incident = run.incidents[i];
    const permalink = incident?.posts?.find((p) => p.permalink)?.permalink;
    const link = permalink ? ` <${permalink}|Open the incident>` : '';
    const fix = gap.fix.grant
      ? `add \`${esc(gap.fix.grant.member)}\` to \`${gap.fix.grant.role}\` on \`${esc(gap.fix.grant.repository)}\``
      : esc(gap.fix.steps[0] ?? 'see the incident');
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `:warning: ${esc(gapSummary(gap))}.${link}\n*Why:* ${esc(gap.headline)}\n*Fix:* ${fix}`,
          LIMITS.text,
        ),
      },
    });
  });
  if (run.resolved > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `:white_check_mark: ${run.resolved} earlier gap(s) closed: their incidents are resolved.`,
        },
      ],
    });
  }
  if (report.notChecked.length > 0) {
    const lines = report.notChecked.slice(0, 10).map((n) => `• ${esc(n.what)} — ${esc(n.why)}`);
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(`*Not checked*\n${lines.join('\n')}`, LIMITS.text) }],
    });
  }
  return withinLimits(blocks);
}

export function auditRunText(run: AuditRun): string {
  return reportSummary(run.report);
}
