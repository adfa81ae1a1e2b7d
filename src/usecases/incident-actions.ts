import type { Config } from '../config.ts';
import { parseRepositoryName, revokeReaderCommand } from '../diagnosis/commands.ts';
import { revokeGrant } from '../fixes/grant-repo-reader.fix.ts';
import {
  type Decision,
  fixingIsStale,
  fixModeAllows,
  inScope,
  planAllows,
  planCurrent,
  type RefusalCode,
  refuse,
} from '../fixes/guards.ts';
import { sameGrant } from '../fixes/run-execution.ts';
import type { FixRunner } from '../fixes/runner.ts';
import { ACTIONABLE, type FixAction, type IncidentRecord } from '../incidents/model.ts';
import type { RepositoryIam } from '../ports/gcp.port.ts';
import { errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { Approvers } from './approvers.ts';
import type { AuditTrail } from './audit.ts';
import type { IncidentService } from './incidents.ts';
import type { DiagnosisTarget, Investigation } from './investigate.ts';

export interface IncidentActionsDeps {
  readonly config: Pick<Config, 'fixMode' | 'allowedProjects' | 'allowedNamespaces'> &
    Partial<Pick<Config, 'approvalsRequired'>>;
  readonly incidents: IncidentService;
  readonly runner: FixRunner;
  readonly approvers: Approvers;
  readonly audit: AuditTrail;
  readonly investigate: (target: DiagnosisTarget) => Promise<Investigation>;
  readonly repositoryIam: RepositoryIam;
  readonly invalidate: (prefix: string) => void;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

/**
 * What the person who pressed a button is told, privately: a stable `code` (`accepted`, `succeeded`, a refusal
 * code…) and one line of text (channel-neutral, `code` spans only). `done` is the fix run, for callers that wait.
 */
export interface ActionReply {
  readonly ok: boolean;
  readonly code: string;
  readonly text: string;
  readonly done?: Promise<void>;
}

/**
 * The buttons of an incident (docs/incidents-and-fixes.md): Grant & restart and Restart only (checked here, run by
 * the fix runner), Undo, Dismiss and Re-check. Every refusal is checked before anything changes, audited with its
 * code, and answered privately.
 */
export class IncidentActions {
  readonly #d: IncidentActionsDeps;
  readonly #now: () => Date;
  readonly #count: (labels?: Record<string, string>, by?: number) => void;

  constructor(deps: IncidentActionsDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_fix_decisions_total', 'Button decisions by action and result', [
      'action',
      'result',
    ]);
  }

  /** Grant & restart / Restart only. Returns at once; the fix runs in `done` (it never rejects). */
  approve(incidentId: string, planId: string | undefined, action: FixAction, user: string): Promise<ActionReply> {
    // Tracked at once, so a shutdown waits for an approval that is still being checked.
    return this.#d.runner.track(this.#approve(incidentId, planId, action, user));
  }

  async #approve(
    incidentId: string,
    planId: string | undefined,
    action: FixAction,
    user: string,
  ): Promise<ActionReply> {
    if (this.#d.runner.stopping)
      return this.#said(action, 'shutting-down', 'The bot is restarting: nothing was changed. Try again in a minute.');
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return this.#unknown(action);
    const decisions: Decision[] = [
      await this.#d.approvers.decide(user, incident),
      fixModeAllows(this.#d.config.fixMode),
      planCurrent(incident, planId, this.#now(), this.#d.runner.staleMs),
    ];
    const plan = incident.plan;
    if (plan) {
      const { allowedProjects, allowedNamespaces } = this.#d.config;
      decisions.push(inScope(plan, allowedProjects, allowedNamespaces, action === 'grant-restart'));
      decisions.push(planAllows(plan, action));
    }
    const refused = decisions.find((d): d is Decision & { ok: false } => !d.ok);
    if (refused || !plan) {
      const r = refused ?? refuse('no-plan', 'there is no fix to apply for this incident any more');
      return this.#refused(incident, user, action, r, 'Not applied');
    }
    let approvers: readonly string[] = [user];
    const required = this.#d.config.approvalsRequired ?? 1;
    if (required > 1 && this.#d.config.fixMode === 'approve') {
      const counted = await this.#countApproval(incident.id, plan.id, action, user);
      if (counted.already) {
        return this.#said(
          action,
          'already-approved',
          `You have approved already: ${required - counted.users.length} more approver(s) must press before anything changes.`,
        );
      }
      if (counted.users.length < required) {
        await this.#d.audit.record({
          incidentId: incident.id,
          action: 'approve',
          user,
          planId: plan.id,
          result: 'awaiting-approval',
          summary: `${counted.users.length} of ${required} approvals`,
          detail: { action, approvals: counted.users.length, required },
        });
        this.#count({ action, result: 'awaiting-approval' });
        return {
          ok: true,
          code: 'awaiting-approval',
          text: `Approval recorded (${counted.users.length} of ${required}). Nothing changes until another approver presses the same button.`,
        };
      }
      approvers = counted.users;
    }
    const started = await this.#d.runner.start(incident, plan, action, user, approvers);
    if (!started.ok) return this.#refused(incident, user, action, started, 'Not applied');
    this.#count({ action, result: started.dryRun ? 'dry-run' : 'accepted' });
    return started.dryRun
      ? {
          ok: true,
          code: 'dry-run',
          text: 'Dry run: the message now shows exactly what would change. Nothing was changed (FIX_MODE=dry-run).',
        }
      : {
          ok: true,
          code: 'accepted',
          text: 'Approved. Progress is shown in the incident message.',
          done: started.done,
        };
  }

  /** Removes exactly the members the bot added for this incident, with the same etag-guarded write as the grant. */
  async undo(incidentId: string, user: string): Promise<ActionReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return this.#unknown('undo');
    const open = (incident.grants ?? []).filter((g) => g.added && !g.undone);
    if (open.length === 0) {
      const kept = (incident.grants ?? []).some((g) => !g.added);
      return kept
        ? this.#said(
            'undo',
            'not-added-by-bot',
            'The bot did not add this member (it was already there), so it will not remove it.',
          )
        : this.#said('undo', 'nothing-to-undo', 'There is nothing to undo for this incident.');
    }
    const who = await this.#d.approvers.decide(user, incident);
    if (!who.ok) return this.#refused(incident, user, 'undo', who, 'Not undone');
    if (incident.status === 'fixing' && !fixingIsStale(incident, this.#now(), this.#d.runner.staleMs))
      return this.#said('undo', 'fix-running', 'A fix is running for this incident: Undo once it has finished.');
    const results: string[] = [];
    const etags: string[] = [];
    let failed = false;
    const deps = {
      iam: this.#d.repositoryIam,
      logger: this.#d.logger,
      invalidate: this.#d.invalidate,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    for (const grant of open) {
      try {
        const r = await revokeGrant(deps, grant);
        const undone = {
          by: user,
          at: this.#now().toISOString(),
          etagBefore: r.before.etag,
          ...(r.changed ? { etagAfter: r.after.etag } : {}),
        };
        await this.#d.incidents.update(
          incident.id,
          (cur) => ({ ...cur, grants: (cur.grants ?? []).map((g) => (sameGrant(g, grant) ? { ...g, undone } : g)) }),
          { now: true },
        );
        results.push(r.changed ? `removed ${grant.member} from ${grant.role}` : 'the member was no longer there');
        etags.push(`${r.before.etag}→${r.changed ? r.after.etag : r.before.etag}`);
      } catch (e) {
        failed = true;
        const repo = parseRepositoryName(grant.repository);
        const byHand = repo ? ` (by hand: \`${revokeReaderCommand(repo, grant.member).command}\`)` : '';
        results.push(`${errorMessage(e)}${byHand}`);
        this.#d.logger.warn({ incident: incident.id, repository: grant.repository, err: e }, 'undo failed');
      }
    }
    const summary = results.join('; ');
    const outcome = failed ? 'failed' : 'succeeded';
    // Every member removed: the incident is `undone` and offers the grant again; a failure keeps its state.
    await this.#d.incidents.markUndone(incident.id, {
      by: user,
      at: this.#now().toISOString(),
      outcome,
      detail: summary,
    });
    await this.#d.audit.record({
      incidentId: incident.id,
      action: 'undo',
      user,
      ...(incident.fix?.planId ? { planId: incident.fix.planId } : {}),
      result: outcome,
      summary,
      detail: { grants: open.map((g) => `${g.repository} ${g.member}`).join(', '), etags: etags.join(', ') },
    });
    this.#count({ action: 'undo', result: outcome });
    return failed
      ? { ok: false, code: 'failed', text: `Undo failed: ${summary}.` }
      : { ok: true, code: 'succeeded', text: `Undone: ${summary}.` };
  }

  /** Dismissing is a decision about an incident: approvers only. New alerts are still counted. */
  async dismiss(incidentId: string, user: string): Promise<ActionReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return this.#unknown('dismiss');
    const who = await this.#d.approvers.decide(user, incident);
    if (!who.ok) return this.#refused(incident, user, 'dismiss', who, 'Not dismissed');
    const r = await this.#d.incidents.update(
      incidentId,
      (cur) => (ACTIONABLE.includes(cur.status) ? { ...cur, status: 'dismissed', dismissedBy: user } : undefined),
      { now: true },
    );
    if (r?.status !== 'dismissed') {
      const closed = refuse('incident-closed', `the incident is ${r?.status ?? 'gone'}`);
      return this.#refused(incident, user, 'dismiss', closed, 'Not dismissed');
    }
    await this.#d.audit.record({ incidentId, action: 'dismiss', user, result: 'dismissed' });
    return { ok: true, code: 'dismissed', text: 'Dismissed. New alerts for this root cause are still counted.' };
  }

  /** Re-reads the world (no cache) and refreshes the diagnosis and the plan. Anyone may look again. */
  async recheck(incidentId: string, user: string): Promise<ActionReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return this.#unknown('recheck');
    const inv = await this.#d.investigate(targetOf(incident));
    const fresh = inv.diagnoses.find((d) => d.key === incident.key) ?? inv.diagnoses[0];
    const result = !fresh ? 'nothing-failing' : fresh.key === incident.key ? 'same-cause' : 'other-cause';
    await this.#d.audit.record({
      incidentId,
      action: 'recheck',
      user,
      ...(incident.plan ? { planId: incident.plan.id } : {}),
      result,
      summary: fresh ? fresh.headline : (inv.note ?? 'nothing failing'),
      ...(fresh && fresh.key !== incident.key ? { detail: { key: fresh.key } } : {}),
    });
    if (!fresh) {
      await this.#d.incidents.sweep((r) => r.id === incidentId);
      return { ok: true, code: result, text: inv.note ?? 'Nothing is failing to pull any more.' };
    }
    if (fresh.key !== incident.key) {
      const marked = await this.#d.incidents.supersede(incident, fresh);
      return {
        ok: true,
        code: result,
        text:
          marked?.status === 'superseded'
            ? `The failure now has another root cause: ${fresh.headline}. Its own incident tracks it; this one is marked superseded.`
            : `The failure now has another root cause: ${fresh.headline}. Its own incident tracks it.`,
      };
    }
    await this.#d.incidents.replaceDiagnosis(incidentId, fresh);
    return { ok: true, code: result, text: `Re-checked: ${fresh.headline}.` };
  }

  /**
   * Records `user`'s approval of `planId` for `action` (two-person rule): approvals of another plan are dropped,
   * and only those for the same action count. Returns the distinct approvers so far, and whether `user` had approved already.
   */
  async #countApproval(
    incidentId: string,
    planId: string,
    action: FixAction,
    user: string,
  ): Promise<{ users: readonly string[]; already: boolean }> {
    let already = false;
    const r = await this.#d.incidents.update(
      incidentId,
      (cur) => {
        const current = (cur.approvals ?? []).filter((a) => a.planId === planId);
        already = current.some((a) => a.user === user && a.action === action);
        if (already) return undefined;
        return { ...cur, approvals: [...current, { user, at: this.#now().toISOString(), planId, action }] };
      },
      { now: true },
    );
    const users = (r?.approvals ?? []).filter((a) => a.planId === planId && a.action === action).map((a) => a.user);
    return { users: [...new Set(users)], already };
  }

  async #refused(
    incident: IncidentRecord,
    user: string,
    action: string,
    refusal: { code: RefusalCode; reason: string },
    verb: string,
  ): Promise<ActionReply> {
    this.#count({ action, result: refusal.code });
    await this.#d.audit.record({
      incidentId: incident.id,
      action: 'refuse',
      user,
      ...(incident.plan ? { planId: incident.plan.id } : {}),
      result: refusal.code,
      summary: refusal.reason,
      detail: { action },
    });
    return { ok: false, code: refusal.code, text: `${verb}: ${refusal.reason}.` };
  }

  #said(action: string, code: RefusalCode, text: string): ActionReply {
    this.#count({ action, result: code });
    return { ok: false, code, text };
  }

  #unknown(action: string): ActionReply {
    return this.#said(
      action,
      'incident-unknown',
      'This incident is no longer known to the bot (it may have restarted with in-memory state). Run `/imagepull diagnose` again.',
    );
  }
}

/** Where to look again for an incident: its workload if known (pods get replaced), else its pod or image. */
export function targetOf(incident: IncidentRecord): DiagnosisTarget {
  const s = incident.diagnosis.subject;
  const cluster = s.cluster ?? incident.affected[0]?.cluster;
  if (!cluster) throw new Error(`incident ${incident.id} has no cluster`);
  if (s.workload) return { cluster, workload: s.workload };
  return {
    cluster,
    ...(s.namespace ? { namespace: s.namespace } : {}),
    ...(s.pod ? { pod: s.pod } : {}),
    ...(s.container ? { container: s.container } : {}),
    ...(s.image ? { image: s.image } : {}),
  };
}
