import type { AuditRecord } from '../../incidents/model.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import { clip, esc, LIMITS, mention } from './limits.ts';

const FIX_ACTION_LABEL: Record<string, string> = { 'grant-restart': 'Grant & restart', restart: 'Restart only' };

/**
 * The thread reply an audit record becomes, if any (pure): approvals, refusals, dry runs, the end of a run, Undo and
 * Dismiss are the incident's visible audit trail; single changes (`apply`) and re-checks stay in the logs and store.
 */
export function threadReply(r: AuditRecord): ChatMessage | undefined {
  const who = mention(r.user);
  const action = String(r.detail?.action ?? '');
  const text = ((): string | undefined => {
    switch (r.action) {
      case 'approve':
        if (r.result === 'awaiting-approval')
          return `:raised_hand: ${who} approved ${FIX_ACTION_LABEL[action] ?? esc(action)} (${esc(r.summary ?? '')}): nothing changes until another approver presses it.`;
        return `:hourglass_flowing_sand: ${who} approved: ${FIX_ACTION_LABEL[action] ?? esc(action)} (plan \`${esc(r.planId ?? '')}\`).`;
      case 'refuse':
        return `:no_entry: ${esc(action)} by ${who} refused: ${esc(r.summary ?? r.result)}.`;
      case 'dry-run':
        return `Dry run for ${who} — would run:\n\`\`\`${esc(r.summary ?? '')}\`\`\``;
      case 'finish':
        return `${r.result === 'succeeded' ? ':white_check_mark:' : ':x:'} Fix approved by ${who} ${esc(r.result)}: ${esc(r.summary ?? '')}`;
      case 'undo':
        return `:leftwards_arrow_with_hook: Undo by ${who}: ${esc(r.result)} (${esc(r.summary ?? '')}).`;
      case 'dismiss':
        return `:no_bell: Dismissed by ${who}.`;
      default:
        return undefined;
    }
  })();
  return text === undefined ? undefined : { text: clip(text, LIMITS.text), blocks: [] };
}
