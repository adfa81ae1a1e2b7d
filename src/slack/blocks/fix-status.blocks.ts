import type { KnownBlock } from '@slack/types';
import { stepLabel } from '../../fixes/steps.ts';
import type { FixRun, FixStep, IncidentRecord } from '../../incidents/model.ts';
import { duration } from '../../shared/time.ts';
import { clip, esc, LIMITS, mention } from './limits.ts';

/**
 * What happened to the incident, in a few lines of the top-level message (pure): the live steps of a running fix;
 * what a finished one did; what a failed one did and what to do now; Undo; dismissal; resolution; a root cause that
 * replaced this one. Undefined when nothing has happened yet.
 */
export function statusSection(
  incident: IncidentRecord,
  now: Date,
  links: { readonly supersededBy?: string } = {},
): KnownBlock | undefined {
  const fix = incident.fix;
  const text = ((): string | undefined => {
    switch (incident.status) {
      case 'fixing':
        return fix ? fixing(fix, now) : undefined;
      case 'fixed':
        return fix ? `${fixed(fix)}${undoLine(fix)}` : undefined;
      case 'failed':
        return fix ? `${failed(incident, fix)}${undoLine(fix)}` : undefined;
      case 'undone':
        return undone(incident);
      case 'resolved':
        return `*Resolved* ${when(incident.resolvedAt ?? incident.updatedAt)} — every affected pod runs again.${fix ? undoLine(fix) : ''}`;
      case 'dismissed':
        return `*Dismissed* by ${mention(incident.dismissedBy ?? '?')} — nothing was changed. New alerts for this root cause are still counted.`;
      case 'superseded': {
        const next = incident.supersededBy;
        const name = esc(next?.headline.replaceAll('`', '') ?? 'another root cause');
        const link = links.supersededBy ? `<${links.supersededBy}|${name}>` : `*${name}*`;
        return `*Superseded* — a Re-check found another root cause: ${link}. Its own incident tracks it; this one is closed.`;
      }
      case 'open':
        return fix?.outcome === 'dry-run'
          ? `:mag: *Dry run* by ${mention(fix.approvedBy)}: nothing was changed. What would run is in the thread.`
          : undefined;
    }
    return undefined;
  })();
  return text ? { type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.text) } } : undefined;
}

/** Who approved a run: one person, or every approver under the two-person rule. */
export function approvedBy(fix: FixRun): string {
  const who = fix.approvers && fix.approvers.length > 1 ? fix.approvers : [fix.approvedBy];
  return who.map((u) => mention(u)).join(' and ');
}

/**
 * Under the two-person rule: who has approved the current plan, and who may still (pure). Undefined when nobody has,
 * or one approval is enough.
 */
export function approvalsSection(
  incident: IncidentRecord,
  required: number,
  approvers: readonly string[],
): KnownBlock | undefined {
  const plan = incident.plan;
  if (required < 2 || !plan || incident.status === 'fixing') return undefined;
  const given = (incident.approvals ?? []).filter((a) => a.planId === plan.id);
  if (given.length === 0) return undefined;
  const lines = (['grant-restart', 'restart'] as const).flatMap((action) => {
    const users = [...new Set(given.filter((a) => a.action === action).map((a) => a.user))];
    if (users.length === 0) return [];
    const label = action === 'grant-restart' ? 'Grant & restart' : 'Restart only';
    const others = approvers
      .filter((a) => !users.includes(a))
      .map((a) => (a.startsWith('S') ? `<!subteam^${a}>` : mention(a)));
    const still = others.length > 0 ? `; may still approve: ${others.join(', ')}` : '';
    return [
      `:raised_hand: *${label}* approved by ${users.map(mention).join(', ')} (${users.length} of ${required}): nothing changes until ${required - users.length} more approver(s) press it${still}.`,
    ];
  });
  return lines.length > 0
    ? { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.text) } }
    : undefined;
}

const STEP_EMOJI: Record<FixStep['state'], string> = {
  pending: ':white_circle:',
  running: ':hourglass_flowing_sand:',
  done: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
};

function fixing(fix: FixRun, now: Date): string {
  const steps = fix.steps.map(
    (s) => `${STEP_EMOJI[s.state]} ${esc(stepLabel(s.id))}${s.detail ? ` — ${esc(clip(s.detail, 90))}` : ''}`,
  );
  return `*Fixing* — approved by ${approvedBy(fix)}, ${duration(new Date(fix.startedAt), now)} so far.\n${steps.join('\n')}`;
}

function fixed(fix: FixRun): string {
  const took = duration(new Date(fix.startedAt), new Date(fix.finishedAt ?? fix.startedAt));
  return `*Fixed* — approved by ${approvedBy(fix)}, took ${took}: ${esc(clip(fix.summary ?? 'done.', 400))}`;
}

function failed(incident: IncidentRecord, fix: FixRun): string {
  const took = duration(new Date(fix.startedAt), new Date(fix.finishedAt ?? fix.startedAt));
  // The steps that went wrong, with what they said (the others are in the thread's audit trail).
  const wrong = fix.steps
    .filter((s) => (s.state === 'failed' || s.state === 'skipped') && !(s.detail && fix.summary?.includes(s.detail)))
    .slice(0, 3)
    .map((s) => `${STEP_EMOJI[s.state]} ${esc(stepLabel(s.id))}${s.detail ? ` — ${esc(clip(s.detail, 120))}` : ''}`);
  return [
    `*Fix failed* after ${took} (approved by ${approvedBy(fix)}).`,
    ...wrong,
    `*What happened:* ${esc(clip(happened(fix.summary), 400))}`,
    `*What to do:* ${whatToDo(incident, fix)}`,
  ].join('\n');
}

/** The summary without its closing advice (the next line says what to do). */
function happened(summary: string | undefined): string {
  const s = (summary ?? '').replace(/[:;,]\s*(?:press|run|check|try)\b[\s\S]*$/i, '').trim();
  return s === '' ? (summary ?? 'the run stopped.') : /[.!?]$/.test(s) ? s : `${s}.`;
}

/** The next move after a failed run, from the step that failed and whether access stands granted (pure). */
export function whatToDo(incident: IncidentRecord, fix: FixRun): string {
  const granted = (incident.grants ?? []).some((g) => g.added && !g.undone);
  const failedStep = fix.steps.find((s) => s.state === 'failed')?.id;
  if (/^Interrupted/.test(fix.summary ?? '')) return 'press Re-check, then approve again if it still fails.';
  if (failedStep === 'recheck') return 'nothing was changed. Press Re-check to see what fails now.';
  if (failedStep === 'grant')
    return 'IAM was not changed. Check the bot may set the repository’s IAM policy (`artifactregistry.repositories.setIamPolicy`), or make the change by hand (commands in the thread).';
  if (failedStep === 'propagate')
    return 'access is granted but IAM has not confirmed it yet: press Restart only in a few minutes, or Undo.';
  if (failedStep?.startsWith('restart:'))
    return `the restart did not go through${granted ? ' (access stays granted; Undo removes it)' : ''}: check the workload with \`kubectl rollout status\`, then press Restart only.`;
  if (failedStep === 'verify')
    return `the new pods still do not run${granted ? ' (access stays granted; Undo removes it)' : ''}: press Re-check for the current diagnosis.`;
  return granted
    ? 'access stays granted (Undo removes it): press Re-check to see what still fails.'
    : 'nothing was changed. Press Re-check, then approve again if it still fails.';
}

function undone(incident: IncidentRecord): string {
  const last = (incident.grants ?? []).filter((g) => g.added && g.undone).at(-1);
  const who = last?.undone?.by ?? incident.fix?.undo?.by ?? '?';
  return `*Undone* by ${mention(who)} — the bot’s grant is removed. Pods that already pulled keep running; new pods will fail to pull. Grant again below, or Dismiss.`;
}

function undoLine(fix: FixRun): string {
  if (!fix.undo || fix.undo.outcome === 'succeeded') return '';
  return `\n:warning: *Undo failed* (${mention(fix.undo.by)}): ${esc(clip(fix.undo.detail ?? 'see the thread', 300))}`;
}

/** A Slack date token: each reader sees it in their own time zone; the fallback is UTC. */
export function when(iso: string): string {
  const d = new Date(iso);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const fallback = `${month} ${d.getUTCDate()} ${d.toISOString().slice(11, 16)} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}
