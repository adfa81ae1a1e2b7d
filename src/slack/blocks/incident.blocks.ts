import type { KnownBlock } from '@slack/types';
import type { FixMode } from '../../config.ts';
import { parseRepositoryName } from '../../diagnosis/commands.ts';
import type { Diagnosis } from '../../diagnosis/diagnosis.ts';
import type { IncidentCounts } from '../../incidents/counts.ts';
import type { IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import { incidentActions } from './buttons.blocks.ts';
import { plain } from './diagnosis.blocks.ts';
import { approvalsSection, statusSection, when } from './fix-status.blocks.ts';
import { clip, esc, LIMITS, withinLimits } from './limits.ts';
import { preventionView } from './prevention.blocks.ts';

export interface IncidentView {
  readonly fixMode: FixMode;
  /** For the running time of a fix. */
  readonly now: Date;
  /** Failing pods and workloads read from the cluster for this render; absent when it could not be read. */
  readonly counts?: IncidentCounts;
  /** Permalink of the incident that superseded this one, when it has been posted. */
  readonly supersededBy?: string;
  /** `APPROVALS_REQUIRED`, and the configured approvers (user and user-group ids), for the two-person rule. */
  readonly approvalsRequired?: number;
  readonly approvers?: readonly string[];
}

const STATUS: Record<IncidentStatus, { readonly emoji: string; readonly label?: string }> = {
  open: { emoji: ':rotating_light:' },
  fixing: { emoji: ':hourglass_flowing_sand:', label: 'Fixing' },
  fixed: { emoji: ':white_check_mark:', label: 'Fixed' },
  resolved: { emoji: ':white_check_mark:', label: 'Resolved' },
  dismissed: { emoji: ':no_bell:', label: 'Dismissed' },
  failed: { emoji: ':x:', label: 'Fix failed' },
  undone: { emoji: ':leftwards_arrow_with_hook:', label: 'Undone' },
  superseded: { emoji: ':twisted_rightwards_arrows:', label: 'Superseded' },
};

/**
 * The top-level incident message, made for a phone (docs/incidents-and-fixes.md, "The message"): the verdict in the
 * header; one line of where and how bad (counts read from the cluster); what happened to it, if anything; the change
 * in one line with its IAM diff; the buttons. Everything else is one tap away in the thread (details.blocks.ts).
 * Its visible text stays well under 1,000 characters for every scenario (asserted by the tests).
 */
export function incidentMessage(incident: IncidentRecord, view: IncidentView): ChatMessage {
  const d = incident.diagnosis;
  // A gap the pull audit found and nothing fails on yet reads as a warning (prevention.blocks.ts).
  const pv = preventionView(incident, view.now);
  const status = pv?.status ?? STATUS[incident.status];
  const verdict = plain(d.headline);
  const blocks: (KnownBlock | undefined)[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`${status.emoji} ${status.label ? `${status.label}: ` : ''}${verdict}`, LIMITS.header),
        emoji: true,
      },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(pv?.subject ?? `${whereLine(incident)} — ${howBad(incident, view.counts)}`, 1000),
      },
    },
    pv?.context,
    statusSection(incident, view.now, view.supersededBy ? { supersededBy: view.supersededBy } : {}),
    approvalsSection(incident, view.approvalsRequired ?? 1, view.approvers ?? []),
    changeSection(incident),
    modeContext(incident, view.fixMode),
    incidentActions(incident, view.fixMode),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `:thread: Details in the thread: evidence, commands, Terraform · \`${esc(d.findings[0]?.id ?? d.cause)}\``,
        },
      ],
    },
  ];
  const where = d.subject.workload
    ? `${d.subject.workload.namespace}/${d.subject.workload.name}`
    : `${d.subject.namespace ?? ''}/${d.subject.pod ?? ''}`;
  return {
    text: pv?.text ?? clip(`${status.label ?? 'ImagePullBackOff'} in ${where}: ${verdict}`, LIMITS.fallbackText),
    blocks: withinLimits(blocks.filter((b): b is KnownBlock => b !== undefined)),
  };
}

/** Workload, namespace, cluster and project in one line. */
export function whereLine(incident: IncidentRecord): string {
  const d = incident.diagnosis;
  const first = incident.affected[0];
  const workload = first?.workload ?? d.subject.workload;
  const what = workload
    ? `*${workload.kind.toLowerCase()}/${esc(workload.name)}*`
    : first?.pods[0] || d.subject.pod
      ? `pod *${esc(first?.pods[0] ?? d.subject.pod ?? '')}*`
      : d.subject.image
        ? `image \`${esc(d.subject.image)}\``
        : '*the cluster*';
  const more = incident.affected.length > 1 ? ` and ${incident.affected.length - 1} more` : '';
  const namespaces = [...new Set(incident.affected.map((a) => a.namespace))];
  if (namespaces.length === 0 && d.subject.namespace) namespaces.push(d.subject.namespace);
  const ns =
    namespaces.length > 0
      ? ` in ${namespaces
          .slice(0, 3)
          .map((n) => `\`${esc(n)}\``)
          .join(', ')}${namespaces.length > 3 ? ` +${namespaces.length - 3}` : ''}`
      : '';
  const cluster = first?.cluster ?? d.subject.cluster;
  const clusters = new Set(
    incident.affected.map((a) => `${a.cluster.project}/${a.cluster.location}/${a.cluster.name}`),
  );
  const at = cluster
    ? ` · cluster \`${esc(cluster.name)}\` (${esc(cluster.location)})${clusters.size > 1 ? ` +${clusters.size - 1}` : ''} · project \`${esc(cluster.project)}\``
    : '';
  return `${what}${more}${ns}${at}`;
}

/** How bad: from the cluster when it could be read, else what the alerts showed (and it says so). */
function howBad(incident: IncidentRecord, counts: IncidentCounts | undefined): string {
  const since = `since ${when(incident.createdAt)}`;
  if (incident.affected.length === 0) return `a pre-flight check, no pod seen failing · ${since}`;
  if (counts) {
    const some = counts.failingWorkloads > 0 && counts.failingWorkloads < counts.workloads;
    const workloads = some
      ? `${counts.failingWorkloads} of ${plural(counts.workloads, 'workload')}`
      : plural(counts.workloads, 'workload');
    return `*${counts.failingPods} of ${plural(counts.pods, 'pod')} failing* in ${workloads} · ${since}`;
  }
  const seen = incident.affected.reduce((n, a) => n + a.podCount, 0);
  return `*${plural(seen, 'pod')} seen failing* in ${plural(incident.affected.length, 'workload')} (the cluster could not be read just now) · ${since}`;
}

/** The change in one line plus its IAM diff — while it can still be approved; or the first next step when there is no fix. */
function changeSection(incident: IncidentRecord): KnownBlock | undefined {
  if (!['open', 'failed', 'undone'].includes(incident.status)) return undefined;
  const plan = incident.plan;
  const lines: string[] = [];
  const restarts = plan?.restarts.map((r) => `${r.workload.kind.toLowerCase()}/${r.workload.name}`) ?? [];
  const restartText =
    restarts.length > 0
      ? `${esc(restarts.slice(0, 2).join(', '))}${restarts.length > 2 ? ` and ${restarts.length - 2} more` : ''}`
      : '';
  const standing = (incident.grants ?? []).some((g) => g.added && !g.undone && g.member === plan?.grant?.member);
  if (plan?.grant && standing && restartText) {
    lines.push(`*Still to do:* restart ${restartText} (access is granted already; Undo removes it).`);
  } else if (plan?.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    lines.push(
      `*The change* — this repository only${restartText ? `, then restart ${restartText}` : ''}:`,
      `\`\`\`repository ${esc(repo?.repository ?? plan.grant.repository)} (${esc(repo?.project ?? '')}, ${esc(repo?.location ?? '')})\n  ${plan.grant.role}\n+   ${esc(plan.grant.member)}\`\`\``,
    );
  } else if (plan && restartText) {
    lines.push(`*The change:* restart ${restartText} (no IAM change).`);
  } else {
    const step = firstStep(incident.diagnosis);
    if (step) lines.push(`*What to do:* ${esc(clip(step, 300))}`);
  }
  if (lines.length === 0) return undefined;
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.text) } };
}

function firstStep(d: Diagnosis): string | undefined {
  return d.findings[0]?.nextSteps[0] ?? d.causeExplanation;
}

function modeContext(incident: IncidentRecord, fixMode: FixMode): KnownBlock | undefined {
  if (!incident.plan || !['open', 'failed', 'undone'].includes(incident.status) || fixMode === 'approve')
    return undefined;
  // After a dry run the status line already says nothing changed.
  if (fixMode === 'dry-run' && incident.fix?.outcome === 'dry-run') return undefined;
  const text =
    fixMode === 'dry-run'
      ? '`FIX_MODE=dry-run`: the buttons show what would change, and change nothing.'
      : '`FIX_MODE=off`: no fix buttons here. The commands to do it by hand are in the thread.';
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
