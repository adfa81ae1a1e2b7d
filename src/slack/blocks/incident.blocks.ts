import type { ActionsBlockElement, Button, KnownBlock } from '@slack/types';
import type { FixMode } from '../../config.ts';
import { parseRepositoryName } from '../../diagnosis/commands.ts';
import { stepLabel } from '../../fixes/steps.ts';
import type { FixStep, IncidentRecord, PlanRecord } from '../../incidents/model.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import { duration } from '../../shared/time.ts';
import { ACTIONS, buttonValue } from '../ids.ts';
import {
  commandsSection,
  evidenceSection,
  findingSection,
  idsContext,
  messageContext,
  nextStepsSection,
  otherFindingsSection,
  plain,
  subjectLine,
  unknownsContext,
} from './diagnosis.blocks.ts';
import { clip, esc, LIMITS, withinLimits } from './limits.ts';
import { preventionView } from './prevention.blocks.ts';

export interface IncidentView {
  readonly fixMode: FixMode;
  /** For relative times. */
  readonly now: Date;
}

const STATUS: Record<IncidentRecord['status'], { emoji: string; label: string }> = {
  open: { emoji: ':rotating_light:', label: 'ImagePullBackOff' },
  fixing: { emoji: ':hourglass_flowing_sand:', label: 'Fixing' },
  fixed: { emoji: ':white_check_mark:', label: 'Fixed' },
  resolved: { emoji: ':white_check_mark:', label: 'Resolved' },
  dismissed: { emoji: ':no_bell:', label: 'Dismissed' },
  failed: { emoji: ':x:', label: 'Fix failed' },
};

/** The incident message: one per root cause, updated in place as pods join, fixes run and pods recover. */
export function incidentMessage(incident: IncidentRecord, view: IncidentView): ChatMessage {
  const d = incident.diagnosis;
  // A gap the pull audit found and nothing fails on yet reads as a warning (prevention.blocks.ts).
  const pv = preventionView(incident, view.now);
  const status = pv?.status ?? STATUS[incident.status];
  const [primary, ...others] = d.findings;
  const blocks: (KnownBlock | undefined)[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${status.label}: ${plain(d.headline)}`, LIMITS.header) },
    },
    { type: 'section', text: { type: 'mrkdwn', text: pv?.subject ?? `${status.emoji} ${subjectLine(d)}` } },
    pv?.context ?? affectedContext(incident, view.now),
    primary
      ? findingSection(primary)
      : { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${esc(d.causeExplanation)}` } },
    evidenceSection(d.findings),
    planSection(incident.plan, incident),
    fixSection(incident, view.now),
    incident.status === 'open' && primary ? nextStepsSection(primary) : undefined,
    otherFindingsSection(others),
    commandsSection([...(primary?.commands ?? []), ...d.commands]),
    messageContext(d),
    unknownsContext(d),
    actions(incident, view),
    idsContext(d, `incident \`${incident.id}\``),
  ];
  const where = d.subject.workload
    ? `${d.subject.workload.namespace}/${d.subject.workload.name}`
    : `${d.subject.namespace ?? ''}/${d.subject.pod ?? ''}`;
  return {
    text: pv?.text ?? clip(`${status.label} in ${where}: ${plain(d.headline)}`, LIMITS.fallbackText),
    blocks: withinLimits(blocks.filter((b): b is KnownBlock => b !== undefined)),
  };
}

function affectedContext(incident: IncidentRecord, now: Date): KnownBlock {
  const pods = incident.affected.reduce((n, a) => n + a.podCount, 0);
  const names = incident.affected
    .slice(0, 8)
    .map(
      (a) =>
        `${a.workload ? `${a.workload.kind.toLowerCase()}/${a.workload.name}` : (a.pods[0] ?? '?')} (${a.podCount})`,
    );
  const more = incident.affected.length > 8 ? ` and ${incident.affected.length - 8} more` : '';
  const text =
    `*${pods}* pod(s) in *${incident.affected.length}* workload(s) · ${incident.alertCount} alert(s) · first seen ${ago(incident.createdAt, now)}` +
    (names.length > 0 ? `\nAffected: ${esc(names.join(', '))}${more}` : '');
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, LIMITS.text) }] };
}

/** The exact IAM change and restarts a person approves. */
function planSection(plan: PlanRecord | undefined, incident: IncidentRecord): KnownBlock | undefined {
  if (!plan || (incident.status !== 'open' && incident.status !== 'failed')) return undefined;
  const lines: string[] = [];
  if (plan.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    lines.push(
      `*The change:* add \`${esc(plan.grant.member)}\` to \`${plan.grant.role}\` on repository \`${esc(repo?.repository ?? plan.grant.repository)}\`` +
        ` (project \`${esc(repo?.project ?? '')}\`, ${esc(repo?.location ?? '')}) — this repository only; every other binding stays as it is.`,
    );
    lines.push(`\`\`\`  ${plan.grant.role}\n+   ${esc(plan.grant.member)}\`\`\``);
  }
  if (plan.restarts.length > 0) {
    const names = plan.restarts.map(
      (r) => `${r.workload.kind.toLowerCase()}/${r.workload.name} -n ${r.workload.namespace}`,
    );
    lines.push(
      `${plan.grant ? 'Then restart' : '*The change:* restart'} ${esc(names.slice(0, 10).join(', '))}${names.length > 10 ? ` and ${names.length - 10} more` : ''}${plan.grant ? ', once IAM confirms the node can pull' : ' (no IAM change)'}.`,
    );
  }
  if (lines.length === 0) return undefined;
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.text) } };
}

const STEP_EMOJI: Record<FixStep['state'], string> = {
  pending: ':white_circle:',
  running: ':hourglass_flowing_sand:',
  done: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
};

function fixSection(incident: IncidentRecord, now: Date): KnownBlock | undefined {
  const fix = incident.fix;
  if (!fix) return undefined;
  const end = fix.finishedAt ? new Date(fix.finishedAt) : now;
  const took = duration(new Date(fix.startedAt), end);
  const head =
    fix.outcome === 'succeeded'
      ? `*Fixed* — approved by <@${fix.approvedBy}>, took ${took}.`
      : fix.outcome === 'failed'
        ? `*Fix failed* — approved by <@${fix.approvedBy}> after ${took}.`
        : fix.outcome === 'dry-run'
          ? `*Dry run* requested by <@${fix.approvedBy}>: nothing was changed (FIX_MODE=dry-run).`
          : `*Fix in progress* — approved by <@${fix.approvedBy}>, ${took} so far.`;
  const steps = fix.steps.map(
    (s) => `${STEP_EMOJI[s.state]} ${esc(stepLabel(s.id))}${s.detail ? ` — ${esc(s.detail)}` : ''}`,
  );
  const undo = fix.undo
    ? `\n:leftwards_arrow_with_hook: Undone by <@${fix.undo.by}> (${fix.undo.outcome}${fix.undo.detail ? `: ${esc(fix.undo.detail)}` : ''}).`
    : '';
  const summary =
    fix.outcome === 'dry-run'
      ? `\nWould run:\n\`\`\`${esc((fix.wouldRun ?? []).join('\n'))}\`\`\``
      : fix.summary
        ? `\n${esc(fix.summary)}`
        : '';
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(`${head}\n${steps.join('\n')}${summary}${undo}`, LIMITS.text) },
  };
}

function actions(incident: IncidentRecord, view: IncidentView): KnownBlock | undefined {
  const elements: ActionsBlockElement[] = [];
  const plan = incident.plan;
  const canFix = view.fixMode !== 'off' && plan && (incident.status === 'open' || incident.status === 'failed');
  const dry = view.fixMode === 'dry-run' ? ' (dry run)' : '';
  if (canFix && plan.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    elements.push(
      button(`Grant & restart${dry}`, ACTIONS.grantRestart, buttonValue(incident.id, plan.id), 'primary', {
        title: 'Grant read access?',
        text: `Add ${plan.grant.member} as ${plan.grant.role} on repository ${repo?.repository ?? plan.grant.repository} (project ${repo?.project ?? '?'}), then restart ${plan.restarts.length} workload(s).${dry ? ' Dry run: nothing will change.' : ''}`,
        confirm: dry ? 'Dry run' : 'Grant & restart',
      }),
    );
  }
  if (canFix && plan.restarts.length > 0) {
    elements.push(
      button(
        `Restart only${dry}`,
        ACTIONS.restart,
        buttonValue(incident.id, plan.id),
        plan.grant ? undefined : 'primary',
        {
          title: 'Restart workloads?',
          text: `Roll ${plan.restarts
            .map((r) => `${r.workload.kind.toLowerCase()}/${r.workload.name}`)
            .slice(0, 5)
            .join(', ')} (kubectl rollout restart). No IAM change.`,
          confirm: dry ? 'Dry run' : 'Restart',
        },
      ),
    );
  }
  // Undo is offered for every grant the bot made and has not undone, whatever became of the run that made it.
  const undoable = (incident.grants ?? []).filter((g) => g.added && !g.undone);
  const first = undoable[0];
  if (first && incident.status !== 'fixing') {
    elements.push(
      button('Undo', ACTIONS.undo, buttonValue(incident.id), 'danger', {
        title: 'Undo the grant?',
        text:
          undoable.length === 1
            ? `Remove ${first.member} from ${first.role} on the repository. Only the member the bot added is removed; pods that already pulled keep running.`
            : `Remove the ${undoable.length} members the bot added (${first.member} and others). Only what the bot added is removed.`,
        confirm: 'Undo',
      }),
    );
  }
  if (incident.status !== 'fixing') elements.push(button('Re-check', ACTIONS.recheck, buttonValue(incident.id)));
  if (incident.status === 'open' || incident.status === 'failed')
    elements.push(button('Dismiss', ACTIONS.dismiss, buttonValue(incident.id)));
  if (elements.length === 0) return undefined;
  return { type: 'actions', block_id: `incident_${incident.id}`, elements };
}

function button(
  text: string,
  actionId: string,
  value: string,
  style?: 'primary' | 'danger',
  confirm?: { title: string; text: string; confirm: string },
): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: clip(text, LIMITS.buttonText) },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
    ...(confirm
      ? {
          confirm: {
            title: { type: 'plain_text', text: clip(confirm.title, 100) },
            text: { type: 'plain_text', text: clip(confirm.text, 300) },
            confirm: { type: 'plain_text', text: clip(confirm.confirm, 30) },
            deny: { type: 'plain_text', text: 'Cancel' },
            ...(style === 'danger' ? { style: 'danger' as const } : {}),
          },
        }
      : {}),
  };
}

function ago(iso: string, now: Date): string {
  return `${duration(new Date(iso), now)} ago`;
}
