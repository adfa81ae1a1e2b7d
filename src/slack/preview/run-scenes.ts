import { parseRepositoryName } from '../../diagnosis/commands.ts';
import { commandsFor, stepsFor } from '../../fixes/index.ts';
import type { IncidentCounts } from '../../incidents/counts.ts';
import type { AuditRecord, FixRun, GrantRecord, IncidentRecord, PlanRecord } from '../../incidents/model.ts';
import { withPlan } from '../../incidents/plan.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import type { IncidentView } from '../blocks/incident.blocks.ts';
import { actionReplyMessage } from '../blocks/reply.blocks.ts';
import type { PreviewScene } from './scene.ts';

const MINUTE = 60_000;

/** What the run scenes share with the gallery: the open incident, its plan, and how to build a scene. */
export interface RunSceneContext {
  readonly base: IncidentRecord;
  readonly plan: PlanRecord;
  readonly approver: string;
  readonly pods: number;
  readonly now: Date;
  readonly at: (ms: number) => string;
  readonly failing: IncidentCounts;
  readonly healthy: IncidentCounts;
  readonly scene: (
    id: string,
    title: string,
    note: string,
    record: IncidentRecord,
    view: IncidentView,
    thread?: ChatMessage[],
    ephemeral?: ChatMessage[],
  ) => PreviewScene;
  readonly audit: (r: Omit<AuditRecord, 'incidentId' | 'at'>) => ChatMessage[];
  readonly view: (fixMode: IncidentView['fixMode'], counts: IncidentCounts) => IncidentView;
}

/**
 * The states of a plan's run (pure): after a dry run, fixing (live steps), fixed, failed, undone — written the way
 * the fix runner writes them (step ids from the fix registry, its summaries, the ledger of grants).
 */
export function runScenes(c: RunSceneContext): PreviewScene[] {
  const { base, plan, approver, pods, now, at, failing, healthy, scene, audit, view } = c;
  const scenes: PreviewScene[] = [];
  const action = plan.grant ? ('grant-restart' as const) : ('restart' as const);
  const approve = audit({
    action: 'approve',
    user: approver,
    planId: plan.id,
    result: 'accepted',
    detail: { action },
  });
  const wouldRun = commandsFor(plan, action);
  const dry: IncidentRecord = {
    ...base,
    fix: {
      planId: plan.id,
      action: 'dry-run',
      approvedBy: approver,
      startedAt: at(-MINUTE),
      finishedAt: at(-MINUTE),
      outcome: 'dry-run',
      steps: stepsFor(plan, action).map((s) => ({ ...s, state: 'skipped', detail: 'dry run' })),
      wouldRun,
      summary: 'Nothing was changed (FIX_MODE=dry-run).',
    },
  };
  scenes.push(
    scene(
      'dry-run',
      'After a dry run',
      'Dry run pressed: nothing changed; what would run is in the thread.',
      dry,
      view('dry-run', failing),
      audit({
        action: 'dry-run',
        user: approver,
        planId: plan.id,
        result: 'nothing-changed',
        summary: wouldRun.join('\n'),
      }),
      [
        actionReplyMessage({
          ok: true,
          code: 'dry-run',
          text: 'Dry run: the message now shows exactly what would change. Nothing was changed (FIX_MODE=dry-run).',
        }),
      ],
    ),
  );

  const run = (steps: FixRun['steps'], extra: Partial<FixRun> = {}): FixRun => ({
    runId: 'preview-run',
    planId: plan.id,
    action,
    approvedBy: approver,
    startedAt: at(-2 * MINUTE),
    heartbeatAt: at(-2000),
    steps,
    ...extra,
  });
  const ids = stepsFor(plan, action).map((s) => s.id);
  const member = plan.grant?.member ?? '';
  const granted = plan.grant ? `granted \`${plan.grant.role}\` to \`${member}\`` : '';
  const grant: GrantRecord[] = plan.grant
    ? [
        {
          repository: plan.grant.repository,
          member,
          role: plan.grant.role,
          added: true,
          runId: 'preview-run',
          etagBefore: 'BwYAAAAAAAE=',
          etagAfter: 'BwYAAAAAAAM=',
          by: approver,
          at: at(-110_000),
        },
      ]
    : [];
  const live = ids.map((id, i) => {
    const running = plan.grant ? 'propagate' : ids[1];
    const j = ids.indexOf(running ?? 'verify');
    if (i < j) return { id, state: 'done' as const, ...(id === 'grant' ? { detail: `added ${member}` } : {}) };
    if (i === j)
      return {
        id,
        state: 'running' as const,
        detail:
          id === 'propagate' ? 'waiting for IAM to propagate (1m 35s, Troubleshooter says CANNOT_ACCESS)' : 'rolling',
      };
    return { id, state: 'pending' as const };
  });
  scenes.push(
    scene(
      'fixing',
      'Fixing — live steps',
      'Approved: each step shows as it happens; no buttons while it runs.',
      { ...base, status: 'fixing', fix: run(live), grants: plan.grant ? grant.map((g) => ({ ...g })) : [] },
      view('approve', failing),
      approve,
      [
        actionReplyMessage({
          ok: true,
          code: 'accepted',
          text: 'Approved. Progress is shown in the incident message.',
        }),
      ],
    ),
  );
  const ready = `${pods}/${pods} new pod(s) ready`;
  const fixedSummary = [granted, `restarted ${plan.restarts.length} workload(s); ${ready} in 14s`]
    .filter(Boolean)
    .join('; ');
  const fixedRun = run(
    ids.map((id) => ({ id, state: 'done' as const })),
    { finishedAt: at(-10_000), outcome: 'succeeded', summary: `${fixedSummary}.` },
  );
  const finish = audit({
    action: 'finish',
    user: approver,
    planId: plan.id,
    result: 'succeeded',
    summary: `${fixedSummary}.`,
    detail: { action },
  });
  const fixed: IncidentRecord = { ...base, status: 'fixed', fix: fixedRun, grants: grant };
  scenes.push(
    scene('fixed', 'Fixed', 'Verified: the new pods run. Undo stays offered.', fixed, view('approve', healthy), [
      ...approve,
      ...finish,
    ]),
  );

  const failedSummary = plan.grant
    ? 'Granted, but IAM did not confirm access within 15m (waiting for IAM to propagate (15m, Troubleshooter says CANNOT_ACCESS)): press Restart only in a few minutes, or Undo.'
    : `deployment rollout: 0/${pods} new pod(s) ready after 10m (ImagePullBackOff)`;
  const failedAt = plan.grant ? 'propagate' : 'verify';
  const failedSteps = ids.map((id, i) => {
    const j = ids.indexOf(failedAt);
    if (i < j) return { id, state: 'done' as const };
    if (i > j) return { id, state: 'pending' as const };
    const detail = plan.grant
      ? 'waiting for IAM to propagate (15m, Troubleshooter says CANNOT_ACCESS)'
      : `0/${pods} new pod(s) ready after 10m`;
    return { id, state: 'failed' as const, detail };
  });
  scenes.push(
    scene(
      'failed',
      'Fix failed',
      'What happened and what to do now; the plan and its buttons come back.',
      {
        ...base,
        status: 'failed',
        fix: run(failedSteps, { finishedAt: at(-10_000), outcome: 'failed', summary: failedSummary }),
        grants: grant,
      },
      view('approve', failing),
      [
        ...approve,
        ...audit({
          action: 'finish',
          user: approver,
          planId: plan.id,
          result: 'failed',
          summary: failedSummary,
          detail: { action },
        }),
      ],
    ),
  );

  if (plan.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    const removed = `removed ${member} from ${plan.grant.role}`;
    const undone: IncidentRecord = withPlan(
      {
        ...fixed,
        status: 'undone',
        fix: { ...fixedRun, undo: { by: approver, at: at(-5000), outcome: 'succeeded', detail: removed } },
        grants: grant.map((g) => ({
          ...g,
          undone: { by: approver, at: at(-5000), etagBefore: 'BwYAAAAAAAM=', etagAfter: 'BwYAAAAAAAQ=' },
        })),
      },
      { now, ttlMs: 24 * 60 * MINUTE, renew: true },
    );
    scenes.push(
      scene(
        'undone',
        'Undone',
        `Undo removed the member from ${repo?.repository ?? 'the repository'}: the header says so and the grant is offered again.`,
        undone,
        view('approve', healthy),
        [
          ...approve,
          ...finish,
          ...audit({ action: 'undo', user: approver, planId: plan.id, result: 'succeeded', summary: removed }),
        ],
      ),
    );
  }
  return scenes;
}
