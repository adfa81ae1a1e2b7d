import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { grantReaderCommand, parseRepositoryName, restartCommand, revokeReaderCommand } from '../diagnosis/commands.ts';
import type { RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import { diffPolicies, type IamPolicy, withMemberAdded, withMemberRemoved } from '../diagnosis/iam-policy.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import {
  authorize,
  type Decision,
  fixingIsStale,
  fixModeAllows,
  grantStillNeeded,
  inScope,
  planCurrent,
  staleRunMs,
} from '../fixes/guards.ts';
import type { ChatPort } from '../ports/chat.port.ts';
import type { GoogleCloud } from '../ports/gcp.port.ts';
import type {
  AuditRecord,
  FixRun,
  FixStep,
  GrantRecord,
  IncidentRecord,
  PlanRecord,
  StateStore,
} from '../ports/store.port.ts';
import { errorMessage, ReadError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { duration } from '../shared/time.ts';
import type { ClusterAccess } from './cluster-access.ts';
import type { IncidentService } from './incidents.ts';
import type { DiagnosisTarget, Investigator } from './investigate.ts';

export interface FixServiceDeps {
  readonly config: Pick<
    Config,
    'approvers' | 'fourEyes' | 'fixMode' | 'allowedProjects' | 'allowedNamespaces' | 'timing'
  >;
  readonly incidents: IncidentService;
  readonly investigator: Investigator;
  readonly google: GoogleCloud;
  readonly access: ClusterAccess;
  readonly store: StateStore;
  readonly chat: ChatPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

/** What the person who clicked is told (ephemeral). */
export interface FixReply {
  readonly ok: boolean;
  readonly text: string;
}

type Action = 'grant-restart' | 'restart';

const READER = 'roles/artifactregistry.reader';
const INTERRUPTED = 'interrupted: the bot is shutting down';

/**
 * Plan → approve → apply → verify → undo (DESIGN §4). Every decision is checked before anything changes, every
 * change is the smallest one (one member on one repository, one annotation per workload), every step is shown in the
 * message as it happens, audited, and reversible. Whatever happens to a run, its lock is released, its incident
 * leaves `fixing`, and any grant it made is recorded for Undo.
 */
export class FixService {
  readonly #d: FixServiceDeps;
  readonly #now: () => Date;
  readonly #owner = randomUUID();
  readonly #groupCache = new Map<string, { members: readonly string[]; until: number }>();
  readonly #runs = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;

  constructor(deps: FixServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_fix_decisions_total', 'Fix decisions and outcomes');
  }

  /** A run that has not beaten for this long belongs to a replica that is gone (and its lock lapses with it). */
  get #staleMs(): number {
    return staleRunMs(this.#d.config.timing.pollIntervalMs, this.#d.config.timing.factTimeoutMs);
  }

  /** Refuses new runs, cuts waits short (runs end as interrupted, and say so), and waits for every run to end. */
  async close(): Promise<void> {
    this.#stopping.abort();
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  /**
   * A click on Grant & restart / Restart only. Returns at once with what the clicker should be told; the fix itself
   * runs in `done` (awaited by tests, left running by listeners; it never rejects).
   */
  async approve(
    incidentId: string,
    planId: string | undefined,
    action: Action,
    user: string,
  ): Promise<FixReply & { done: Promise<void> }> {
    // Registered at once, so close() waits for an approval that is still being checked.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.#runs.add(gate);
    try {
      return await this.#approve(incidentId, planId, action, user);
    } finally {
      open();
      this.#runs.delete(gate);
    }
  }

  async #approve(
    incidentId: string,
    planId: string | undefined,
    action: Action,
    user: string,
  ): Promise<FixReply & { done: Promise<void> }> {
    const idle = Promise.resolve();
    if (this.#stopping.signal.aborted)
      return { ok: false, text: 'The bot is restarting: nothing was changed. Try again in a minute.', done: idle };
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) {
      return {
        ok: false,
        text: 'This incident is no longer known to the bot (it may have restarted with in-memory state). Run `/imagepull diagnose` again.',
        done: idle,
      };
    }
    const refusal = await this.#check(incident, planId, action, user);
    if (refusal) return { ...refusal, done: idle };
    const plan = incident.plan as PlanRecord;

    if (this.#d.config.fixMode === 'dry-run') {
      await this.#dryRun(incident, plan, action, user);
      return {
        ok: true,
        text: 'Dry run: the message now shows exactly what would change. Nothing was changed (FIX_MODE=dry-run).',
        done: idle,
      };
    }
    const lock = `fix:${incident.id}`;
    // One token per attempt: a double click on the same replica must not re-enter the lock.
    const token = `${this.#owner}:${randomUUID()}`;
    if (!(await this.#d.store.acquireLock(lock, token, this.#staleMs))) {
      return { ok: false, text: 'A fix for this incident is already running.', done: idle };
    }
    let started: IncidentRecord | undefined;
    try {
      const now = this.#now();
      started = await this.#d.incidents.update(
        incident.id,
        // Re-checked inside the store transaction: another click may have started (or finished) a run meanwhile.
        (cur) =>
          planCurrent(cur, plan.id, now, this.#staleMs).ok
            ? {
                ...cur,
                status: 'fixing',
                fix: {
                  runId: token,
                  planId: plan.id,
                  action,
                  approvedBy: user,
                  startedAt: now.toISOString(),
                  steps: stepsFor(plan, action),
                },
              }
            : undefined,
        { now: true },
      );
    } finally {
      if (started?.fix?.runId !== token) await this.#d.store.releaseLock(lock, token);
    }
    if (started?.fix?.runId !== token || started.status !== 'fixing') {
      return { ok: false, text: 'A fix for this incident is already running.', done: idle };
    }
    await this.#audit(incident.id, 'approve', user, plan.id, 'accepted', { action });
    await this.#d.incidents.reply(incident.id, {
      text: `:hourglass_flowing_sand: <@${user}> approved: ${action === 'grant-restart' ? 'Grant & restart' : 'Restart only'} (plan \`${plan.id}\`).`,
      blocks: [],
    });
    this.#count({ decision: 'approved', action });
    const run = started;
    const done: Promise<void> = this.#run(run, plan, action, user, { lock, token })
      .catch((e: unknown) => this.#d.logger.error({ err: e, incident: incident.id }, 'fix run crashed'))
      .finally(async () => {
        await this.#d.store.releaseLock(lock, token).catch(() => undefined);
        this.#runs.delete(done);
      });
    this.#runs.add(done);
    return { ok: true, text: 'Approved. Progress is shown in the incident message.', done };
  }

  /** Removes exactly the members the bot added for this incident, with the same etag-guarded read-modify-write. */
  async undo(incidentId: string, user: string): Promise<FixReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return { ok: false, text: 'This incident is no longer known to the bot.' };
    const open = (incident.grants ?? []).filter((g) => g.added && !g.undone);
    if (open.length === 0) {
      const kept = (incident.grants ?? []).some((g) => !g.added);
      return {
        ok: false,
        text: kept
          ? 'The bot did not add this member (it was already there), so it will not remove it.'
          : 'There is nothing to undo for this incident.',
      };
    }
    const who = await this.#authorize(user, incident);
    if (!who.ok) {
      await this.#refused(incident, user, who.reason, 'undo');
      return { ok: false, text: `Not undone: ${who.reason}.` };
    }
    if (incident.status === 'fixing' && !fixingIsStale(incident, this.#now(), this.#staleMs)) {
      return { ok: false, text: 'A fix is running for this incident: Undo once it has finished.' };
    }
    const results: string[] = [];
    let failed = false;
    for (const grant of open) {
      try {
        const r = await this.#writePolicy(grant.repository, (p) => withMemberRemoved(p, grant.role, grant.member));
        const undone = {
          by: user,
          at: this.#now().toISOString(),
          etagBefore: r.before.etag,
          ...(r.after ? { etagAfter: r.after.etag } : {}),
        };
        await this.#d.incidents.update(
          incident.id,
          (cur) => ({ ...cur, grants: (cur.grants ?? []).map((g) => (sameGrant(g, grant) ? { ...g, undone } : g)) }),
          { now: true },
        );
        const detail = r.changed ? `removed ${grant.member} from ${grant.role}` : 'the member was no longer there';
        results.push(detail);
        await this.#audit(incident.id, 'undo', user, incident.fix?.planId, 'succeeded', {
          repository: grant.repository,
          member: grant.member,
          detail,
          etagBefore: r.before.etag,
          etagAfter: r.after?.etag ?? r.before.etag,
        });
      } catch (e) {
        failed = true;
        const repo = parseRepositoryName(grant.repository);
        results.push(
          `${errorMessage(e)}${repo ? ` (by hand: \`${revokeReaderCommand(repo, grant.member).command}\`)` : ''}`,
        );
        await this.#audit(incident.id, 'undo', user, incident.fix?.planId, 'failed', {
          repository: grant.repository,
          member: grant.member,
          detail: errorMessage(e),
        });
      }
    }
    const summary = results.join('; ');
    await this.#d.incidents.update(
      incident.id,
      (cur) =>
        cur.fix
          ? {
              ...cur,
              fix: {
                ...cur.fix,
                undo: {
                  by: user,
                  at: this.#now().toISOString(),
                  outcome: failed ? 'failed' : 'succeeded',
                  detail: summary,
                },
              },
            }
          : cur,
      { now: true },
    );
    await this.#d.incidents.reply(incident.id, {
      text: `:leftwards_arrow_with_hook: Undo by <@${user}>: ${failed ? 'failed' : 'succeeded'} (${summary}).`,
      blocks: [],
    });
    return failed ? { ok: false, text: `Undo failed: ${summary}.` } : { ok: true, text: `Undone: ${summary}.` };
  }

  /** Dismissing is a decision about an incident: approvers only. New alerts are still counted. */
  async dismiss(incidentId: string, user: string): Promise<FixReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return { ok: false, text: 'This incident is no longer known to the bot.' };
    const who = await this.#authorize(user, incident);
    if (!who.ok) {
      await this.#refused(incident, user, who.reason, 'dismiss');
      return { ok: false, text: `Not dismissed: ${who.reason}.` };
    }
    const r = await this.#d.incidents.update(
      incidentId,
      (cur) =>
        cur.status === 'open' || cur.status === 'failed'
          ? { ...cur, status: 'dismissed', dismissedBy: user }
          : undefined,
      { now: true },
    );
    await this.#audit(incidentId, 'dismiss', user, undefined, r?.status ?? 'unknown');
    if (r?.status !== 'dismissed') return { ok: false, text: `Not dismissed: the incident is ${r?.status}.` };
    await this.#d.incidents.reply(incidentId, { text: `:no_bell: Dismissed by <@${user}>.`, blocks: [] });
    return { ok: true, text: 'Dismissed. New alerts for this root cause are still counted.' };
  }

  /** Re-reads the world (no cache) and refreshes the diagnosis and the plan. Anyone may look again. */
  async recheck(incidentId: string, user: string): Promise<FixReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return { ok: false, text: 'This incident is no longer known to the bot.' };
    const inv = await this.#d.investigator.investigate(targetOf(incident), { fresh: true });
    const fresh = inv.diagnoses.find((d) => d.key === incident.key) ?? inv.diagnoses[0];
    await this.#audit(
      incidentId,
      'recheck',
      user,
      incident.plan?.id,
      fresh ? fresh.key : (inv.note ?? 'nothing failing'),
    );
    if (!fresh) {
      await this.#d.incidents.sweep((r) => r.id === incidentId);
      return { ok: true, text: inv.note ?? 'Nothing is failing to pull any more.' };
    }
    if (fresh.key !== incident.key) {
      return {
        ok: true,
        text: `The failure now has another root cause: ${fresh.headline}. A separate incident will track it.`,
      };
    }
    await this.#d.incidents.replaceDiagnosis(incidentId, fresh);
    return { ok: true, text: `Re-checked: ${fresh.headline}.` };
  }

  async #check(
    incident: IncidentRecord,
    planId: string | undefined,
    action: Action,
    user: string,
  ): Promise<FixReply | undefined> {
    const decisions: Decision[] = [
      await this.#authorize(user, incident),
      fixModeAllows(this.#d.config.fixMode),
      planCurrent(incident, planId, this.#now(), this.#staleMs),
    ];
    const plan = incident.plan;
    if (plan) {
      decisions.push(
        inScope(plan, this.#d.config.allowedProjects, this.#d.config.allowedNamespaces, action === 'grant-restart'),
      );
      if (action === 'grant-restart' && !plan.grant)
        decisions.push({ ok: false, reason: 'this plan has no grant: use Restart only' });
      if (action === 'restart' && plan.restarts.length === 0)
        decisions.push({ ok: false, reason: 'there is no workload to restart' });
    }
    const refused = decisions.find((d): d is { ok: false; reason: string } => !d.ok);
    if (!refused) return undefined;
    await this.#refused(incident, user, refused.reason, action);
    return { ok: false, text: `Not applied: ${refused.reason}.` };
  }

  async #refused(incident: IncidentRecord, user: string, reason: string, action: string): Promise<void> {
    this.#count({ decision: 'refused', action });
    await this.#audit(incident.id, 'refuse', user, incident.plan?.id, reason, { action });
    await this.#d.incidents.reply(incident.id, {
      text: `:no_entry: ${action} by <@${user}> refused: ${reason}.`,
      blocks: [],
    });
  }

  async #authorize(user: string, incident: IncidentRecord): Promise<Decision> {
    const users = new Set(this.#d.config.approvers.filter((a) => !a.startsWith('S')));
    const groups = this.#d.config.approvers.filter((a) => a.startsWith('S'));
    const members = new Set<string>();
    for (const g of groups) {
      try {
        for (const m of await this.#groupMembers(g)) members.add(m);
      } catch (e) {
        this.#d.logger.warn({ usergroup: g, err: e }, 'could not read approver group');
      }
    }
    return authorize(user, { users, groupMembers: members, fourEyes: this.#d.config.fourEyes }, incident);
  }

  async #groupMembers(group: string): Promise<readonly string[]> {
    const hit = this.#groupCache.get(group);
    if (hit && hit.until > Date.now()) return hit.members;
    const members = await this.#d.chat.usergroupMembers(group);
    this.#groupCache.set(group, { members, until: Date.now() + 5 * 60_000 });
    return members;
  }

  async #dryRun(incident: IncidentRecord, plan: PlanRecord, action: Action, user: string): Promise<void> {
    const lines: string[] = [];
    if (action === 'grant-restart' && plan.grant) {
      const repo = parseRepositoryName(plan.grant.repository);
      if (repo) lines.push(grantReaderCommand(repo, plan.grant.member).command);
    }
    for (const r of plan.restarts) lines.push(restartCommand(r.workload).command);
    const steps: FixStep[] = stepsFor(plan, action).map((s) => ({ ...s, state: 'skipped', detail: 'dry run' }));
    const at = this.#now().toISOString();
    await this.#d.incidents.update(
      incident.id,
      (cur) => ({
        ...cur,
        fix: {
          planId: plan.id,
          action: 'dry-run',
          approvedBy: user,
          startedAt: at,
          finishedAt: at,
          outcome: 'dry-run',
          steps,
          summary: `Would run:\n${lines.join('\n')}`,
        },
      }),
      { now: true },
    );
    await this.#d.incidents.reply(incident.id, {
      text: `Dry run for <@${user}> — would run:\n\`\`\`${lines.join('\n')}\`\`\``,
      blocks: [],
    });
    await this.#audit(incident.id, 'dry-run', user, plan.id, 'nothing changed', { action });
  }

  async #run(
    incident: IncidentRecord,
    plan: PlanRecord,
    action: Action,
    user: string,
    held: { lock: string; token: string },
  ): Promise<void> {
    const started = this.#now();
    const runId = held.token;
    let lastBeat = Date.now();
    // Every step writes the incident: it carries the heartbeat (and renews the lock) so a live run is never taken
    // for a dead one, and it only ever touches this run's own state.
    const heartbeat = async (steps?: (s: readonly FixStep[]) => FixStep[]) => {
      lastBeat = Date.now();
      await this.#d.store.acquireLock(held.lock, held.token, this.#staleMs).catch(() => undefined);
      await this.#d.incidents.update(incident.id, (cur) =>
        cur.fix?.runId === runId
          ? {
              ...cur,
              fix: {
                ...cur.fix,
                heartbeatAt: this.#now().toISOString(),
                ...(steps ? { steps: steps(cur.fix.steps) } : {}),
              },
            }
          : undefined,
      );
    };
    const beat = async () => {
      if (Date.now() - lastBeat >= 15_000) await heartbeat();
    };
    const step = async (name: string, state: FixStep['state'], detail?: string) => {
      if (this.#stopping.signal.aborted && state === 'running') throw new Error(INTERRUPTED);
      await heartbeat((steps) => setStep(steps, name, state, detail));
    };
    let finished = false;
    const finish = async (outcome: 'succeeded' | 'failed', summary: string) => {
      finished = true;
      await this.#d.incidents.update(
        incident.id,
        (cur) =>
          cur.fix?.runId === runId
            ? {
                ...cur,
                status: outcome === 'succeeded' ? 'fixed' : 'failed',
                fix: { ...(cur.fix as FixRun), outcome, summary, finishedAt: this.#now().toISOString() },
              }
            : undefined,
        { now: true },
      );
      this.#count({ decision: outcome, action });
      await this.#audit(incident.id, outcome === 'succeeded' ? 'verify' : 'apply', user, plan.id, outcome, { summary });
      await this.#d.incidents.reply(incident.id, {
        text: `${outcome === 'succeeded' ? ':white_check_mark:' : ':x:'} Fix approved by <@${user}> ${outcome}: ${summary}`,
        blocks: [],
      });
    };

    try {
      // 1. Re-read the world: the plan must still be what the failure needs.
      await step(STEP.recheck, 'running');
      const inv = await this.#d.investigator.investigate(targetOf(incident), { fresh: true });
      const fresh = inv.diagnoses.find((d) => d.key === incident.key) ?? inv.diagnoses[0];
      if (!fresh && plan.restarts.length > 0) {
        await step(STEP.recheck, 'done', inv.note ?? 'nothing is failing any more');
        await finish('failed', `Nothing changed: ${inv.note ?? 'no pod is failing to pull any more'}.`);
        return;
      }
      if (fresh && action === 'grant-restart') {
        const still = grantStillNeeded(plan, fresh);
        if (!still.ok) {
          await step(STEP.recheck, 'failed', still.reason);
          await finish('failed', `Nothing changed: ${still.reason}.`);
          return;
        }
      }
      await step(STEP.recheck, 'done', fresh?.headline ?? 'plan still applies');

      // 2. The grant: read-modify-write with the etag, never touching another binding; recorded before anything
      //    else can fail, so Undo always knows about it.
      let granted: GrantRecord | undefined;
      if (action === 'grant-restart' && plan.grant) {
        await step(STEP.grant, 'running');
        const g = plan.grant;
        granted = await this.#grant(incident.id, runId, g.repository, g.member, g.role, user);
        await this.#audit(incident.id, 'apply', user, plan.id, granted.added ? 'granted' : 'already present', {
          repository: g.repository,
          member: g.member,
          role: g.role,
          etagBefore: granted.etagBefore,
          etagAfter: granted.etagAfter ?? granted.etagBefore,
        });
        await step(STEP.grant, 'done', granted.added ? `added ${g.member}` : 'the member was already there');

        // 3. Wait until IAM says the node can pull (propagation: typically 2–7 minutes).
        const sa = g.member.replace(/^serviceAccount:/, '');
        const ok = await this.#waitForAccess(sa, g.repository, (detail) => step(STEP.propagate, 'running', detail));
        if (!ok.ok) {
          await step(STEP.propagate, 'failed', ok.detail);
          await finish(
            'failed',
            `Granted, but IAM did not confirm access within ${duration(new Date(0), new Date(this.#d.config.timing.propagationTimeoutMs))} (${ok.detail}): press Restart only in a few minutes, or Undo.`,
          );
          return;
        }
        await step(STEP.propagate, 'done', ok.detail);
      }

      // 4. Restart, like `kubectl rollout restart`, refusing paused Deployments.
      const restartedAt = this.#now();
      const restarted: RestartWorkloadPlan[] = [];
      const problems: string[] = [];
      for (const r of plan.restarts) {
        const name = restartStep(r);
        await step(name, 'running');
        try {
          const api = await this.#d.access.api(r.cluster);
          const w = await api.getWorkload(r.workload);
          if (w.paused) {
            problems.push(
              `${r.workload.kind.toLowerCase()}/${r.workload.name} is paused (run kubectl rollout resume first)`,
            );
            await step(name, 'skipped', 'paused: run `kubectl rollout resume` first');
            continue;
          }
          await api.restartWorkload(r.workload, restartedAt);
          restarted.push(r);
          await step(name, 'done', `restartedAt=${restartedAt.toISOString()}`);
        } catch (e) {
          problems.push(`${r.workload.kind.toLowerCase()}/${r.workload.name}: ${errorMessage(e)}`);
          await step(name, 'failed', errorMessage(e));
        }
      }
      if (plan.restarts.length > 0) {
        await this.#audit(
          incident.id,
          'apply',
          user,
          plan.id,
          `restarted ${restarted.length}/${plan.restarts.length}`,
          {
            workloads: restarted.map((r) => `${r.workload.namespace}/${r.workload.kind}/${r.workload.name}`).join(','),
          },
        );
      }

      // 5. Verify: the new pods run.
      const what = granted ? `${granted.added ? 'granted' : 'kept'} \`${READER}\` to \`${granted.member}\`` : '';
      if (plan.restarts.length === 0) {
        await step(STEP.verify, 'skipped', 'no workload to restart');
        await finish('succeeded', `${what}; IAM confirms the nodes can pull (nothing to restart).`);
        return;
      }
      await step(STEP.verify, 'running');
      const verified = await this.#verify(
        restarted,
        restartedAt,
        (detail) => step(STEP.verify, 'running', detail),
        beat,
      );
      await step(STEP.verify, verified.ok ? 'done' : 'failed', verified.detail);
      const took = duration(started, this.#now());
      if (verified.ok && problems.length === 0) {
        await finish(
          'succeeded',
          `${what ? `${what}; ` : ''}restarted ${restarted.length} workload(s); ${verified.detail} in ${took}.`,
        );
      } else {
        await finish('failed', [...problems, verified.detail].join('; '));
      }
    } catch (e) {
      this.#d.logger.error({ incident: incident.id, err: e }, 'fix failed');
      if (!finished) await finish('failed', `Stopped: ${errorMessage(e)}`);
    }
  }

  /**
   * Adds the member with an etag-guarded read-modify-write, recording the grant in the incident's ledger BEFORE the
   * write (as pending) and settling it after: a crash, a lost answer or a failed store write cannot leave a member
   * the bot added without a record for Undo. A member someone else put there is recorded as not added.
   */
  async #grant(
    incidentId: string,
    runId: string,
    repository: string,
    member: string,
    role: string,
    user: string,
  ): Promise<GrantRecord> {
    const iam = this.#d.google.repositoryIam;
    const at = this.#now().toISOString();
    for (let attempt = 0; ; attempt++) {
      const before = await iam.getPolicy(repository);
      const next = withMemberAdded(before, role, member);
      const base = { repository, member, role, etagBefore: before.etag, by: user, at };
      if (!next.changed) {
        const kept: GrantRecord = { ...base, added: false };
        await this.#ledger(incidentId, runId, kept);
        return kept;
      }
      const pending: GrantRecord = { ...base, added: true, pending: true };
      await this.#ledger(incidentId, runId, pending); // if this fails, nothing was written: nothing to undo
      try {
        const after = await this.#setPolicy(repository, before, next.policy);
        const done: GrantRecord = { ...base, added: true, etagAfter: after.etag };
        await this.#ledger(incidentId, runId, done).catch((e: unknown) =>
          // The pending record stays: Undo still removes the member.
          this.#d.logger.error({ incident: incidentId, err: e }, 'grant written; its record stays pending'),
        );
        return done;
      } catch (e) {
        if (e instanceof ReadError && e.code === 'conflict' && attempt < 4) {
          // ABORTED: the write was refused and nothing changed. Forget the pending record, re-read, try again.
          await this.#ledger(incidentId, runId, pending, 'remove');
          this.#d.logger.info({ repository, attempt }, 'IAM policy changed concurrently; re-reading');
          await this.#sleep(200 * 2 ** attempt + Math.random() * 100);
          continue;
        }
        // The write may or may not have been applied (timeout, UNAVAILABLE…): look before reporting.
        const now = await iam.getPolicy(repository).catch(() => undefined);
        const present = now?.bindings.some((b) => b.role === role && !b.condition && b.members.includes(member));
        if (now && present && now.etag !== before.etag) {
          await this.#ledger(incidentId, runId, { ...base, added: true, etagAfter: now.etag }).catch(() => undefined);
          this.#d.logger.warn(
            { incident: incidentId, repository, err: e },
            'setIamPolicy failed but the member is now on the policy: recorded as added',
          );
        } else if (now && !present) {
          await this.#ledger(incidentId, runId, pending, 'remove').catch(() => undefined);
        }
        // Otherwise the record stays pending: Undo removes the member if it is there.
        throw e;
      }
    }
  }

  /** Writes (or removes) one grant in the incident's ledger, keyed by when it was made. */
  async #ledger(incidentId: string, runId: string, grant: GrantRecord, op: 'put' | 'remove' = 'put'): Promise<void> {
    await this.#d.incidents.update(incidentId, (cur) => {
      const others = (cur.grants ?? []).filter((g) => !sameGrant(g, grant));
      const grants = op === 'put' ? [...others, grant] : others;
      const fix =
        cur.fix?.runId === runId && op === 'put' && !grant.pending
          ? {
              ...cur.fix,
              grant: {
                repository: grant.repository,
                member: grant.member,
                role: grant.role,
                added: grant.added,
                etagBefore: grant.etagBefore,
                ...(grant.etagAfter ? { etagAfter: grant.etagAfter } : {}),
              },
            }
          : cur.fix;
      return { ...cur, grants, ...(fix ? { fix } : {}) };
    });
  }

  /** The one place the bot writes IAM: setIamPolicy with the etag read, logged with its diff; the cache forgets it. */
  async #setPolicy(repository: string, before: IamPolicy, policy: IamPolicy): Promise<IamPolicy> {
    const after = await this.#d.google.repositoryIam.setPolicy(repository, policy);
    const diff = diffPolicies(before, after);
    this.#d.logger.info(
      {
        repository,
        added: diff.added.length,
        removed: diff.removed.length,
        etagBefore: before.etag,
        etagAfter: after.etag,
      },
      'repository IAM policy written',
    );
    this.#d.investigator.reader.invalidate(`repo-policy|${repository}`);
    return after;
  }

  /** getIamPolicy v3 → change → setIamPolicy with the etag; on ABORTED, re-read and retry (engineering.md §2.6). */
  async #writePolicy(repository: string, change: (p: IamPolicy) => { policy: IamPolicy; changed: boolean }) {
    const iam = this.#d.google.repositoryIam;
    for (let attempt = 0; ; attempt++) {
      const before = await iam.getPolicy(repository);
      const next = change(before);
      if (!next.changed) return { before, changed: false as const };
      try {
        const after = await this.#setPolicy(repository, before, next.policy);
        return { before, after, changed: true as const };
      } catch (e) {
        if (!(e instanceof ReadError && e.code === 'conflict') || attempt >= 4) throw e;
        this.#d.logger.info({ repository, attempt }, 'IAM policy changed concurrently; re-reading');
        await this.#sleep(200 * 2 ** attempt + Math.random() * 100);
      }
    }
  }

  /** Polls until `probe` says done, or the timeout passes; every wait ends early on shutdown. */
  async #poll(
    timeoutMs: number,
    probe: (elapsed: string) => Promise<{ done: boolean; detail: string }>,
    progress: (detail: string) => Promise<unknown>,
  ): Promise<{ ok: boolean; detail: string }> {
    const start = Date.now();
    for (;;) {
      const elapsed = duration(new Date(start), new Date());
      const r = await probe(elapsed);
      if (r.done) return { ok: true, detail: r.detail };
      const waited = Date.now() - start;
      if (waited >= timeoutMs) return { ok: false, detail: r.detail };
      await progress(r.detail);
      await this.#sleep(Math.min(this.#d.config.timing.pollIntervalMs, timeoutMs - waited));
    }
  }

  #waitForAccess(email: string, repository: string, progress: (d: string) => Promise<unknown>) {
    const resource = `//artifactregistry.googleapis.com/${repository}`;
    return this.#poll(
      this.#d.config.timing.propagationTimeoutMs,
      async (elapsed) => {
        try {
          const v = await this.#d.google.access.troubleshoot(email, resource, DOWNLOAD_PERMISSION);
          return v.overall === 'CAN_ACCESS'
            ? { done: true, detail: `Policy Troubleshooter: CAN_ACCESS after ${elapsed}` }
            : { done: false, detail: `waiting for IAM to propagate (${elapsed}, Troubleshooter says ${v.overall})` };
        } catch (e) {
          return {
            done: false,
            detail: `waiting for IAM to propagate (${elapsed}; Troubleshooter: ${errorMessage(e)})`,
          };
        }
      },
      progress,
    );
  }

  /** New pods are those stamped with this restart's `restartedAt` (template annotations reach the pods). */
  #verify(
    restarted: readonly RestartWorkloadPlan[],
    restartedAt: Date,
    progress: (d: string) => Promise<unknown>,
    beat: () => Promise<void>,
  ) {
    if (restarted.length === 0) return Promise.resolve({ ok: false, detail: 'no workload was restarted' });
    return this.#poll(
      this.#d.config.timing.rolloutTimeoutMs,
      async (elapsed) => {
        let ready = 0;
        let want = 0;
        const failing: string[] = [];
        for (const r of restarted) {
          await beat();
          try {
            const api = await this.#d.access.api(r.cluster);
            const w = await api.getWorkload(r.workload);
            const h = await this.#d.access.workloadHealth(r.cluster, r.workload, restartedAt.toISOString());
            want += w.desiredReplicas;
            ready += Math.min(h.ready, w.desiredReplicas);
            for (const f of h.failing)
              failing.push(`${f.pod}: ${f.reason}${f.message ? ` (${f.message.slice(0, 200)})` : ''}`);
          } catch (e) {
            failing.push(`${r.workload.name}: ${errorMessage(e)}`);
          }
        }
        const detail = `${ready}/${want} new pod(s) ready`;
        if (ready >= want && failing.length === 0) return { done: true, detail };
        return {
          done: false,
          detail: `${detail} after ${elapsed}${failing.length > 0 ? `; still failing: ${failing.slice(0, 3).join('; ')}` : ''}`,
        };
      },
      progress,
    );
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.#stopping.signal });
    } catch {
      throw new Error(INTERRUPTED);
    }
  }

  async #audit(
    incidentId: string,
    action: AuditRecord['action'],
    user: string,
    planId: string | undefined,
    result: string,
    detail?: Record<string, string | number | boolean>,
  ): Promise<void> {
    const record: AuditRecord = {
      at: this.#now().toISOString(),
      incidentId,
      action,
      user,
      ...(planId ? { planId } : {}),
      result,
      ...(detail ? { detail } : {}),
    };
    this.#d.logger.info({ audit: record }, `audit: ${action} ${result}`);
    try {
      await this.#d.store.appendAudit(record);
    } catch (e) {
      this.#d.logger.error({ err: e, audit: record }, 'could not store audit record');
    }
  }
}

const STEP = {
  recheck: 'Re-read IAM and the cluster',
  grant: 'Grant reader on the repository',
  propagate: 'Wait for IAM to propagate',
  verify: 'Verify the new pods run',
} as const;

function restartStep(r: RestartWorkloadPlan): string {
  return `Restart ${r.workload.kind.toLowerCase()}/${r.workload.name} -n ${r.workload.namespace}`;
}

function stepsFor(plan: PlanRecord, action: Action): FixStep[] {
  const names: string[] = [STEP.recheck];
  if (action === 'grant-restart' && plan.grant) names.push(STEP.grant, STEP.propagate);
  names.push(...plan.restarts.map(restartStep), STEP.verify);
  return names.map((name) => ({ name, state: 'pending' }));
}

function setStep(steps: readonly FixStep[], name: string, state: FixStep['state'], detail?: string): FixStep[] {
  return steps.map((s) => (s.name === name ? { name, state, ...(detail ? { detail } : {}) } : s));
}

function sameGrant(a: GrantRecord, b: GrantRecord): boolean {
  return a.repository === b.repository && a.member === b.member && a.role === b.role && a.at === b.at;
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
