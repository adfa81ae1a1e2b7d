import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { grantReaderCommand, parseRepositoryName, restartCommand, revokeReaderCommand } from '../diagnosis/commands.ts';
import type { Diagnosis, RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import { diffPolicies, type IamPolicy, withMemberAdded, withMemberRemoved } from '../diagnosis/iam-policy.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import { authorize, type Decision, fixModeAllows, grantStillNeeded, inScope, planCurrent } from '../fixes/guards.ts';
import type { ChatPort } from '../ports/chat.port.ts';
import type { GoogleCloud } from '../ports/gcp.port.ts';
import type { AuditRecord, FixRun, FixStep, IncidentRecord, PlanRecord, StateStore } from '../ports/store.port.ts';
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
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the person who clicked is told (ephemeral). */
export interface FixReply {
  readonly ok: boolean;
  readonly text: string;
}

type Action = 'grant-restart' | 'restart';

const READER = 'roles/artifactregistry.reader';

/**
 * Plan → approve → apply → verify → undo (DESIGN §4). Every decision is checked before anything changes, every
 * change is the smallest one (one member on one repository, one annotation per workload), every step is shown in the
 * message as it happens, audited, and reversible.
 */
export class FixService {
  readonly #d: FixServiceDeps;
  readonly #now: () => Date;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #owner = randomUUID();
  readonly #groupCache = new Map<string, { members: readonly string[]; until: number }>();
  readonly #runs = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;

  constructor(deps: FixServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    // Every wait is cut short on shutdown: the run then ends as "interrupted" instead of holding SIGTERM up.
    this.#sleep = async (ms) => {
      if (this.#stopping.signal.aborted) throw new Error('interrupted: the bot is shutting down');
      await Promise.race([
        sleep(ms),
        new Promise((_, reject) =>
          this.#stopping.signal.addEventListener(
            'abort',
            () => reject(new Error('interrupted: the bot is shutting down')),
            { once: true },
          ),
        ),
      ]);
    };
    this.#count = deps.metrics.counter('imagepull_fix_decisions_total', 'Fix decisions and outcomes');
  }

  /** Stops waiting loops (runs end as interrupted, with the message saying so) and waits for every run to end. */
  async close(): Promise<void> {
    this.#stopping.abort();
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  /**
   * A click on Grant & restart / Restart only. Returns at once with what the clicker should be told; the fix itself
   * runs in `done` (awaited by tests, left running by listeners).
   */
  async approve(
    incidentId: string,
    planId: string | undefined,
    action: Action,
    user: string,
  ): Promise<FixReply & { done: Promise<void> }> {
    const idle = Promise.resolve();
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident)
      return {
        ok: false,
        text: 'This incident is no longer known to the bot (it may have restarted with in-memory state). Run `/imagepull diagnose` again.',
        done: idle,
      };
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
    const ttl = this.#d.config.timing.propagationTimeoutMs + this.#d.config.timing.rolloutTimeoutMs + 120_000;
    if (!(await this.#d.store.acquireLock(lock, token, ttl))) {
      return { ok: false, text: 'A fix for this incident is already running.', done: idle };
    }
    const started = await this.#d.incidents.update(
      incident.id,
      // Re-checked inside the store transaction: another click may have started (or finished) a run meanwhile.
      (cur) =>
        (cur.status !== 'open' && cur.status !== 'failed') || cur.plan?.id !== plan.id
          ? undefined
          : {
              ...cur,
              status: 'fixing',
              fix: {
                runId: token,
                planId: plan.id,
                action,
                approvedBy: user,
                startedAt: this.#now().toISOString(),
                steps: stepsFor(plan, action),
              },
            },
      { now: true },
    );
    if (started?.fix?.runId !== token || started.status !== 'fixing') {
      await this.#d.store.releaseLock(lock, token);
      return { ok: false, text: 'A fix for this incident is already running.', done: idle };
    }
    await this.#audit(incident.id, 'approve', user, plan.id, 'accepted', { action });
    this.#count({ decision: 'approved', action });
    const done: Promise<void> = this.#run(started, plan, action, user)
      .finally(() => this.#d.store.releaseLock(lock, token))
      .finally(() => this.#runs.delete(done));
    this.#runs.add(done);
    return { ok: true, text: `Approved. Progress is shown in the incident message.`, done };
  }

  /** Removes exactly the member the bot added, with the same etag-guarded read-modify-write. */
  async undo(incidentId: string, user: string): Promise<FixReply> {
    const incident = await this.#d.incidents.get(incidentId);
    const grant = incident?.fix?.grant;
    if (!incident || !grant) return { ok: false, text: 'There is nothing to undo for this incident.' };
    const who = await this.#authorize(user, incident);
    if (!who.ok) {
      await this.#refused(incident, user, who.reason, 'undo');
      return { ok: false, text: `Not undone: ${who.reason}.` };
    }
    if (incident.fix?.undo?.outcome === 'succeeded') return { ok: false, text: 'This grant was already undone.' };
    if (!grant.added)
      return { ok: false, text: 'The bot did not add this member (it was already there), so it will not remove it.' };
    let outcome: 'succeeded' | 'failed' = 'succeeded';
    let detail = '';
    try {
      const r = await this.#writePolicy(grant.repository, (p) => withMemberRemoved(p, grant.role, grant.member));
      detail = r.changed ? `removed ${grant.member} from ${grant.role}` : 'the member was no longer there';
      this.#d.investigator.reader.invalidate(`repo-policy|${grant.repository}`);
    } catch (e) {
      outcome = 'failed';
      detail = errorMessage(e);
    }
    await this.#d.incidents.update(
      incident.id,
      (cur) =>
        cur.fix
          ? { ...cur, fix: { ...cur.fix, undo: { by: user, at: this.#now().toISOString(), outcome, detail } } }
          : undefined,
      { now: true },
    );
    await this.#audit(incident.id, 'undo', user, incident.fix?.planId, outcome, {
      repository: grant.repository,
      member: grant.member,
      detail,
    });
    await this.#d.incidents.reply(incident.id, {
      text: `:leftwards_arrow_with_hook: Undo by <@${user}>: ${outcome} (${detail}).`,
      blocks: [],
    });
    const repo = parseRepositoryName(grant.repository);
    const by = repo ? ` By hand: \`${revokeReaderCommand(repo, grant.member).command}\`` : '';
    return outcome === 'succeeded'
      ? { ok: true, text: `Undone: ${detail}.` }
      : { ok: false, text: `Undo failed: ${detail}.${by}` };
  }

  async dismiss(incidentId: string, user: string): Promise<FixReply> {
    const r = await this.#d.incidents.update(
      incidentId,
      (cur) =>
        cur.status === 'open' || cur.status === 'failed'
          ? { ...cur, status: 'dismissed', dismissedBy: user }
          : undefined,
      { now: true },
    );
    if (!r) return { ok: false, text: 'This incident is no longer known to the bot.' };
    await this.#audit(incidentId, 'dismiss', user, undefined, r.status);
    return {
      ok: r.status === 'dismissed',
      text:
        r.status === 'dismissed'
          ? 'Dismissed. New alerts for this root cause are still counted.'
          : `Not dismissed: the incident is ${r.status}.`,
    };
  }

  /** Re-reads the world (no cache) and refreshes the diagnosis and the plan. */
  async recheck(incidentId: string, user: string): Promise<FixReply> {
    const incident = await this.#d.incidents.get(incidentId);
    if (!incident) return { ok: false, text: 'This incident is no longer known to the bot.' };
    const inv = await this.#d.investigator.investigate(targetOf(incident), { fresh: true });
    const fresh = pick(inv.diagnoses, incident.key);
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
      planCurrent(incident, planId, this.#now()),
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
    this.#d.logger.warn({ audit: { incident: incident.id, user, action, result: 'refused', reason } }, 'fix refused');
    await this.#audit(incident.id, 'refuse', user, incident.plan?.id, reason, { action });
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
    await this.#d.incidents.update(
      incident.id,
      (cur) => ({
        ...cur,
        fix: {
          planId: plan.id,
          action: 'dry-run',
          approvedBy: user,
          startedAt: this.#now().toISOString(),
          finishedAt: this.#now().toISOString(),
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

  async #run(incident: IncidentRecord, plan: PlanRecord, action: Action, user: string): Promise<void> {
    const started = this.#now();
    const step = (name: string, state: FixStep['state'], detail?: string) =>
      this.#d.incidents.update(incident.id, (cur) =>
        cur.fix ? { ...cur, fix: { ...cur.fix, steps: setStep(cur.fix.steps, name, state, detail) } } : undefined,
      );
    const finish = async (outcome: 'succeeded' | 'failed', summary: string, extra?: Partial<FixRun>) => {
      await this.#d.incidents.update(
        incident.id,
        (cur) =>
          cur.fix
            ? {
                ...cur,
                status: outcome === 'succeeded' ? 'fixed' : 'failed',
                fix: { ...cur.fix, ...extra, outcome, summary, finishedAt: this.#now().toISOString() },
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
      const fresh = pick(inv.diagnoses, incident.key);
      if (!fresh) {
        await step(STEP.recheck, 'done', inv.note ?? 'nothing is failing any more');
        await finish('failed', `Nothing changed: ${inv.note ?? 'no pod is failing to pull any more'}.`);
        return;
      }
      if (action === 'grant-restart') {
        const still = grantStillNeeded(plan, fresh);
        if (!still.ok) {
          await step(STEP.recheck, 'failed', still.reason);
          await finish('failed', `Nothing changed: ${still.reason}.`);
          return;
        }
      }
      await step(STEP.recheck, 'done', fresh.headline);

      // 2. The grant: read-modify-write with the etag, never touching another binding.
      let grantInfo: FixRun['grant'];
      if (action === 'grant-restart' && plan.grant) {
        await step(STEP.grant, 'running');
        const g = plan.grant;
        const r = await this.#writePolicy(g.repository, (p) => withMemberAdded(p, g.role, g.member));
        grantInfo = {
          repository: g.repository,
          member: g.member,
          role: g.role,
          added: r.changed,
          etagBefore: r.before.etag,
          ...(r.after ? { etagAfter: r.after.etag } : {}),
        };
        this.#d.investigator.reader.invalidate(`repo-policy|${g.repository}`);
        await this.#d.incidents.update(incident.id, (cur) =>
          cur.fix ? { ...cur, fix: { ...cur.fix, grant: grantInfo } } : undefined,
        );
        await this.#audit(incident.id, 'apply', user, plan.id, r.changed ? 'granted' : 'already present', {
          repository: g.repository,
          member: g.member,
          role: g.role,
          etagBefore: r.before.etag,
          etagAfter: r.after?.etag ?? r.before.etag,
        });
        await step(STEP.grant, 'done', r.changed ? `added ${g.member}` : 'the member was already there');

        // 3. Wait until IAM says the node can pull (propagation: typically 2–7 minutes).
        const sa = g.member.replace(/^serviceAccount:/, '');
        const ok = await this.#waitForAccess(sa, g.repository, (detail) => step(STEP.propagate, 'running', detail));
        if (!ok.ok) {
          await step(STEP.propagate, 'failed', ok.detail);
          await finish(
            'failed',
            `Granted, but IAM did not confirm access within ${duration(new Date(0), new Date(this.#d.config.timing.propagationTimeoutMs))}: press Restart only in a few minutes.`,
            { grant: grantInfo },
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
      await this.#audit(incident.id, 'apply', user, plan.id, `restarted ${restarted.length}/${plan.restarts.length}`, {
        workloads: restarted.map((r) => `${r.workload.namespace}/${r.workload.kind}/${r.workload.name}`).join(','),
      });

      // 5. Verify: the new pods run.
      await step(STEP.verify, 'running');
      const verified = await this.#verify(restarted, restartedAt, (detail) => step(STEP.verify, 'running', detail));
      await step(STEP.verify, verified.ok ? 'done' : 'failed', verified.detail);
      const took = duration(started, this.#now());
      if (verified.ok && problems.length === 0) {
        const what = grantInfo
          ? `${grantInfo.added ? 'granted' : 'kept'} \`${READER}\` to \`${grantInfo.member}\`; `
          : '';
        await finish(
          'succeeded',
          `${what}restarted ${restarted.length} workload(s); ${verified.detail} in ${took}.`,
          grantInfo ? { grant: grantInfo } : {},
        );
      } else {
        await finish('failed', [...problems, verified.detail].join('; '), grantInfo ? { grant: grantInfo } : {});
      }
    } catch (e) {
      this.#d.logger.error({ incident: incident.id, err: e }, 'fix failed');
      await finish('failed', `Stopped: ${errorMessage(e)}`);
    }
  }

  /** getIamPolicy v3 → change → setIamPolicy with the etag; on ABORTED, re-read and retry (engineering.md §2.6). */
  async #writePolicy(repository: string, change: (p: IamPolicy) => { policy: IamPolicy; changed: boolean }) {
    const iam = this.#d.google.repositoryIam;
    for (let attempt = 0; ; attempt++) {
      const before = await iam.getPolicy(repository);
      const next = change(before);
      if (!next.changed) return { before, changed: false as const };
      try {
        const after = await iam.setPolicy(repository, next.policy);
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
        return { before, after, changed: true as const };
      } catch (e) {
        if (!(e instanceof ReadError && e.code === 'conflict') || attempt >= 4) throw e;
        this.#d.logger.info({ repository, attempt }, 'IAM policy changed concurrently; re-reading');
        await this.#sleep(200 * 2 ** attempt + Math.random() * 100);
      }
    }
  }

  async #waitForAccess(
    email: string,
    repository: string,
    progress: (d: string) => Promise<unknown>,
  ): Promise<{ ok: boolean; detail: string }> {
    const { propagationTimeoutMs, pollIntervalMs } = this.#d.config.timing;
    const start = Date.now();
    const resource = `//artifactregistry.googleapis.com/${repository}`;
    let last = '';
    for (;;) {
      try {
        const v = await this.#d.google.access.troubleshoot(email, resource, DOWNLOAD_PERMISSION);
        last = v.overall;
        if (v.overall === 'CAN_ACCESS')
          return {
            ok: true,
            detail: `Policy Troubleshooter: CAN_ACCESS after ${duration(new Date(start), new Date())}`,
          };
      } catch (e) {
        last = errorMessage(e);
      }
      const waited = Date.now() - start;
      if (waited >= propagationTimeoutMs)
        return { ok: false, detail: `still ${last} after ${duration(new Date(start), new Date())}` };
      await progress(
        `waiting for IAM to propagate (${duration(new Date(start), new Date())}, Troubleshooter says ${last})`,
      );
      await this.#sleep(Math.min(pollIntervalMs, propagationTimeoutMs - waited));
    }
  }

  async #verify(
    restarted: readonly RestartWorkloadPlan[],
    since: Date,
    progress: (d: string) => Promise<unknown>,
  ): Promise<{ ok: boolean; detail: string }> {
    if (restarted.length === 0) return { ok: false, detail: 'no workload was restarted' };
    const { rolloutTimeoutMs, pollIntervalMs } = this.#d.config.timing;
    const start = Date.now();
    let detail = '';
    for (;;) {
      let ready = 0;
      let want = 0;
      const failing: string[] = [];
      for (const r of restarted) {
        try {
          const api = await this.#d.access.api(r.cluster);
          const w = await api.getWorkload(r.workload);
          const h = await this.#d.access.workloadHealth(r.cluster, r.workload, since);
          want += w.desiredReplicas;
          ready += Math.min(h.ready, w.desiredReplicas);
          for (const f of h.failing)
            failing.push(`${f.pod}: ${f.reason}${f.message ? ` (${f.message.slice(0, 200)})` : ''}`);
        } catch (e) {
          failing.push(`${r.workload.name}: ${errorMessage(e)}`);
        }
      }
      detail = `${ready}/${want} new pod(s) ready`;
      if (ready >= want && failing.length === 0) return { ok: true, detail };
      const waited = Date.now() - start;
      if (waited >= rolloutTimeoutMs) {
        return {
          ok: false,
          detail: `${detail} after ${duration(new Date(start), new Date())}${failing.length > 0 ? `; still failing: ${failing.slice(0, 3).join('; ')}` : ''}`,
        };
      }
      await progress(`${detail}${failing.length > 0 ? `, ${failing.length} failing` : ''}`);
      await this.#sleep(Math.min(pollIntervalMs, rolloutTimeoutMs - waited));
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

/** Where to look again for an incident: its workload if known (pods get replaced), else its pod. */
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

function pick(diagnoses: readonly Diagnosis[], key: string): Diagnosis | undefined {
  return diagnoses.find((d) => d.key === key) ?? diagnoses[0];
}
