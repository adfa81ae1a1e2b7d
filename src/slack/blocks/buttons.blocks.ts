import type { ActionsBlockElement, Button, KnownBlock } from '@slack/types';
import type { FixMode } from '../../config.ts';
import { parseRepositoryName } from '../../diagnosis/commands.ts';
import { ACTIONABLE, type IncidentRecord } from '../../incidents/model.ts';
import { ACTIONS, buttonValue } from '../ids.ts';
import { clip, LIMITS } from './limits.ts';

/**
 * The incident's buttons (pure): Grant & restart and Restart only while the plan may be approved (open, failed,
 * undone) and fixes are on; Undo while a grant of the bot's stands; Re-check except during a run; Dismiss while it is
 * actionable. Every button that changes something asks for confirmation, saying exactly what it will do.
 */
export function incidentActions(incident: IncidentRecord, fixMode: FixMode): KnownBlock | undefined {
  const elements: ActionsBlockElement[] = [];
  const plan = incident.plan;
  const actionable = ACTIONABLE.includes(incident.status);
  const canFix = fixMode !== 'off' && plan !== undefined && actionable;
  const dry = fixMode === 'dry-run' ? ' (dry run)' : '';
  if (canFix && plan.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    const n = plan.restarts.length;
    const label = n > 0 ? 'Grant & restart' : incident.status === 'undone' ? 'Grant again' : 'Grant';
    const then = n > 0 ? `, then restart ${n} workload(s)` : '. Nothing is restarted: the pods that pulled still run';
    elements.push(
      button(`${label}${dry}`, ACTIONS.grantRestart, buttonValue(incident.id, plan.id), 'primary', {
        title: incident.status === 'undone' ? 'Grant read access again?' : 'Grant read access?',
        text: `Add ${plan.grant.member} as ${plan.grant.role} on repository ${repo?.repository ?? plan.grant.repository} (project ${repo?.project ?? '?'})${then}.${dry ? ' Dry run: nothing will change.' : ''}`,
        confirm: dry ? 'Dry run' : label,
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
            .join(
              ', ',
            )}${plan.restarts.length > 5 ? ` and ${plan.restarts.length - 5} more` : ''} (kubectl rollout restart). No IAM change.${dry ? ' Dry run: nothing will change.' : ''}`,
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
  if (actionable)
    elements.push(
      button('Dismiss', ACTIONS.dismiss, buttonValue(incident.id), undefined, {
        title: 'Dismiss this incident?',
        text: 'Nothing is changed in the cluster or IAM. The message stays as the record; new alerts for this root cause are still counted.',
        confirm: 'Dismiss',
      }),
    );
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
