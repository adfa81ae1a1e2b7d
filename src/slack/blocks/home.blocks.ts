import type { HomeView, KnownBlock } from '@slack/types';
import type { FixMode } from '../../config.ts';
import { ACTIONABLE, type IncidentRecord } from '../../incidents/model.ts';
import { byInstant } from '../../shared/time.ts';
import type { HealthCheck } from '../../usecases/permission-health.ts';
import { plain } from './diagnosis.blocks.ts';
import { clip, esc, mention, withinLimits } from './limits.ts';

export interface StatusModel {
  readonly incidents: readonly IncidentRecord[];
  readonly health: readonly HealthCheck[];
  readonly fixMode: FixMode;
}

function incidentLine(r: IncidentRecord): string {
  const link = r.posts?.find((p) => p.permalink)?.permalink;
  const title = esc(plain(r.diagnosis.headline));
  const pods = r.affected.reduce((n, a) => n + a.podCount, 0);
  const who = r.fix ? ` · ${r.fix.outcome ?? 'in progress'} (${mention(r.fix.approvedBy)})` : '';
  return `• ${link ? `<${link}|${title}>` : title} — ${r.status}, ${pods} pod(s) seen failing${who}`;
}

function section(title: string, lines: string[], empty: string): KnownBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(`*${title}*\n${lines.length > 0 ? lines.join('\n') : `_${empty}_`}`, 3000) },
  };
}

/** Open incidents, pending approvals, recent fixes and the bot's permission health. */
export function statusBlocks(m: StatusModel): KnownBlock[] {
  const open = m.incidents.filter((r) => r.status === 'fixing' || ACTIONABLE.includes(r.status));
  const pending = open.filter((r) => r.status !== 'fixing' && r.plan);
  const recent = m.incidents
    .filter((r) => r.fix && r.fix.outcome !== 'dry-run')
    .sort((a, b) => byInstant(b.fix?.startedAt, a.fix?.startedAt))
    .slice(0, 10);
  const health = m.health.map(
    (h) =>
      `${h.ok ? ':white_check_mark:' : ':x:'} ${esc(h.name)}${h.ok ? '' : ` — ${esc(h.detail)}${h.permission ? ` (needs \`${esc(h.permission)}\`)` : ''}`}`,
  );
  return withinLimits([
    { type: 'header', text: { type: 'plain_text', text: 'imagepull-bot' } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Fix mode: \`${m.fixMode}\` · ${open.length} open incident(s)` }],
    },
    section(
      'Open incidents',
      open.slice(0, 15).map((r) => incidentLine(r)),
      'no open image-pull incidents',
    ),
    section(
      'Waiting for approval',
      pending.slice(0, 10).map((r) => incidentLine(r)),
      'nothing waiting',
    ),
    section(
      'Recent fixes',
      recent.map((r) => incidentLine(r)),
      'no fixes yet',
    ),
    section('Permission health', health, 'not checked'),
  ]);
}

export function homeView(m: StatusModel): HomeView {
  return { type: 'home', blocks: statusBlocks(m) };
}
