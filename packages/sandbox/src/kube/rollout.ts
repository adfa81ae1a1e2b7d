/**
 * The deployment controller's replica arithmetic, as pure functions: how many replicas the new and the old
 * ReplicaSets get for a RollingUpdate (maxSurge / maxUnavailable, unhealthy old replicas cleaned up first, then
 * healthy ones scaled down only as far as availability allows) or a Recreate. With a missing IAM grant this is what
 * makes a real rollout stop at "1 out of 3 new replicas have been updated" instead of replacing every pod at once.
 */
import type { Deployment, ReplicaSet } from '../world/kube-types.ts';
import { controllerRef, iso, revisionHash } from '../world/workloads.ts';
import type { World } from '../world/world.ts';

/**
 * The ReplicaSet the deployment controller creates for a Deployment's current template: named by the template
 * hash, labelled with it, the next revision number, no replicas yet (the rollout arithmetic scales it).
 */
export function newReplicaSet(world: World, d: Deployment, existing: readonly ReplicaSet[], now: number): ReplicaSet {
  const hash = revisionHash(d.spec.template);
  const revision =
    Math.max(0, ...existing.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))) +
    1;
  const template = structuredClone(d.spec.template);
  template.metadata.labels = { ...(template.metadata.labels ?? {}), 'pod-template-hash': hash };
  const { surge } = fenceposts(d.spec.strategy as Strategy | undefined, d.spec.replicas);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace ?? 'default',
      uid: world.rng.uuid(),
      generation: 1,
      creationTimestamp: iso(now),
      labels: { ...template.metadata.labels },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas),
        'deployment.kubernetes.io/max-replicas': String(d.spec.replicas + surge),
        'deployment.kubernetes.io/revision': String(revision),
      },
      ownerReferences: [controllerRef(d)],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { ...(d.spec.selector.matchLabels ?? {}), 'pod-template-hash': hash } },
      template,
    },
    status: { replicas: 0 },
  };
}

/** One ReplicaSet as the arithmetic sees it: desired replicas and how many of its pods are available. */
export interface ReplicaCounts {
  readonly replicas: number;
  readonly available: number;
}

/** A Deployment's `spec.strategy`. */
export interface Strategy {
  readonly type?: string;
  readonly rollingUpdate?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string };
}

/** An int-or-percent against `total`: percentages round up for maxSurge and down for maxUnavailable. */
export function resolveIntOrPercent(
  value: number | string | undefined,
  fallback: string,
  total: number,
  up: boolean,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return up ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable for `want` replicas; both zero is resolved to one unavailable, as the controller does. */
export function fenceposts(strategy: Strategy | undefined, want: number): { surge: number; unavailable: number } {
  const surge = resolveIntOrPercent(strategy?.rollingUpdate?.maxSurge, '25%', want, true);
  let unavailable = resolveIntOrPercent(strategy?.rollingUpdate?.maxUnavailable, '25%', want, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/**
 * The replica counts the controller converges to from the current state, one sync at a time until nothing changes:
 * scale the new ReplicaSet up within `want + maxSurge`; scale old ones down, unhealthy replicas first, keeping at
 * least `want - maxUnavailable` available. `old` is oldest first; the result lists old counts in the same order.
 * With Recreate, old ReplicaSets go to 0 first and the new one is scaled up only once `oldPodsGone`.
 */
export function rolloutReplicas(
  want: number,
  strategy: Strategy | undefined,
  current: ReplicaCounts,
  old: readonly ReplicaCounts[],
  oldPodsGone: boolean,
): { current: number; old: number[] } {
  if (strategy?.type === 'Recreate') {
    return {
      current: oldPodsGone ? want : old.some((o) => o.replicas > 0) ? current.replicas : want,
      old: old.map(() => 0),
    };
  }
  const { surge, unavailable } = fenceposts(strategy, want);
  let next = current.replicas;
  const olds = old.map((o) => o.replicas);
  const available = (i: number) => Math.min(old[i]?.available ?? 0, olds[i] ?? 0);
  for (let round = 0; round < 4 * (want + olds.length + 1); round++) {
    let changed = false;
    const total = next + olds.reduce((a, b) => a + b, 0);
    if (next > want) {
      next = want;
      changed = true;
    } else if (next < want) {
      const up = Math.min(want + surge - total, want - next);
      if (up > 0) {
        next += up;
        changed = true;
      }
    }
    const all = next + olds.reduce((a, b) => a + b, 0);
    const minAvailable = want - unavailable;
    const newUnavailable = next - Math.min(current.available, next);
    let budget = all - minAvailable - newUnavailable;
    if (budget <= 0) {
      if (!changed) break;
      continue;
    }
    // Unhealthy old replicas go first: removing them costs no availability.
    for (let i = 0; i < olds.length && budget > 0; i++) {
      const unhealthy = (olds[i] ?? 0) - available(i);
      const down = Math.min(budget, unhealthy);
      if (down > 0) {
        olds[i] = (olds[i] ?? 0) - down;
        budget -= down;
        changed = true;
      }
    }
    const availableNow = Math.min(current.available, next) + olds.reduce((sum, _, i) => sum + available(i), 0);
    let healthyDown = availableNow - minAvailable;
    for (let i = 0; i < olds.length && healthyDown > 0; i++) {
      const down = Math.min(olds[i] ?? 0, healthyDown);
      if (down > 0) {
        olds[i] = (olds[i] ?? 0) - down;
        healthyDown -= down;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { current: next, old: olds };
}
