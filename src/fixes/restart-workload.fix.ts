import { restartCommand } from '../diagnosis/commands.ts';
import type { RestartWorkloadPlan } from '../diagnosis/diagnosis.ts';
import { errorMessage } from '../shared/errors.ts';
import { duration } from '../shared/time.ts';
import type { Fix, FixRunContext } from './fix.ts';
import { restartStepId } from './steps.ts';

/**
 * `restart-workload`: rolls every affected workload the way `kubectl rollout restart` does (the `restartedAt`
 * template annotation, a strategic-merge patch), refusing paused Deployments, then watches the pods of that restart
 * until they run or the rollout timeout passes. New pods are told apart by the annotation they carry. The
 * `restartedAt` is recorded before the first patch, so a run resumed after a crash verifies the same rollout.
 */
export const restartWorkloadFix: Fix = {
  kind: 'restart-workload',
  // Always part of a run: with nothing to restart, its verify step says so.
  appliesTo: () => true,
  steps: (plan) => [...plan.restarts.map((r) => restartStepId(r.workload)), 'verify'],
  commands: (plan) => plan.restarts.map((r) => restartCommand(r.workload).command),
  async apply(run) {
    const { plan } = run;
    if (plan.restarts.length === 0) {
      await run.step('verify', 'skipped', 'no workload to restart');
      return { ok: true, summary: 'IAM confirms the nodes can pull (nothing to restart)' };
    }
    // A resumed run verifies the rollout it started (same `restartedAt`) and does not restart a workload twice.
    const previous = run.previous;
    const restartedAt = previous?.restartedAt ? new Date(previous.restartedAt) : run.now();
    if (!previous?.restartedAt) await run.remember({ restartedAt: restartedAt.toISOString() });
    const restarted: RestartWorkloadPlan[] = [];
    const problems: string[] = [];
    for (const r of plan.restarts) {
      const id = restartStepId(r.workload);
      const name = `${r.workload.kind.toLowerCase()}/${r.workload.name}`;
      if (previous?.steps.find((st) => st.id === id)?.state === 'done') {
        restarted.push(r);
        continue;
      }
      await run.step(id, 'running');
      try {
        const api = await run.world.cluster(r.cluster);
        const w = await api.getWorkload(r.workload);
        if (w.paused) {
          problems.push(`${name} is paused (run kubectl rollout resume first)`);
          await run.step(id, 'skipped', 'paused: run `kubectl rollout resume` first');
          continue;
        }
        await api.restartWorkload(r.workload, restartedAt);
        restarted.push(r);
        await run.step(id, 'done', `restartedAt=${restartedAt.toISOString()}`);
      } catch (e) {
        problems.push(`${name}: ${errorMessage(e)}`);
        await run.step(id, 'failed', errorMessage(e));
      }
    }
    await run.audit({
      action: 'apply',
      result: `restarted ${restarted.length}/${plan.restarts.length}`,
      detail: {
        workloads: restarted.map((r) => `${r.workload.namespace}/${r.workload.kind}/${r.workload.name}`).join(','),
      },
    });
    await run.step('verify', 'running');
    const verified = await verify(run, restarted, restartedAt);
    await run.step('verify', verified.ok ? 'done' : 'failed', verified.detail);
    if (!verified.ok || problems.length > 0) return { ok: false, summary: [...problems, verified.detail].join('; ') };
    const took = duration(run.startedAt, run.now());
    return { ok: true, summary: `restarted ${restarted.length} workload(s); ${verified.detail} in ${took}` };
  },
};

/** New pods are those stamped with this restart's `restartedAt` (template annotations reach the pods). */
function verify(run: FixRunContext, restarted: readonly RestartWorkloadPlan[], restartedAt: Date) {
  if (restarted.length === 0) return Promise.resolve({ ok: false, detail: 'no workload was restarted' });
  return run.poll(
    run.timing.rolloutTimeoutMs,
    async (elapsed) => {
      let ready = 0;
      let want = 0;
      const failing: string[] = [];
      for (const r of restarted) {
        try {
          const api = await run.world.cluster(r.cluster);
          const w = await api.getWorkload(r.workload);
          const h = await run.world.workloadHealth(r.cluster, r.workload, restartedAt.toISOString());
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
    (detail) => run.step('verify', 'running', detail),
  );
}
