import type { PodFacts } from '../diagnosis/facts.ts';
import type { AffectedWorkload } from './model.ts';

/**
 * How bad it is now, read from the cluster (not from the alerts seen): the pods of the affected workloads that fail
 * to pull, and how many of those workloads have at least one. Shown in the incident message; never persisted.
 */
export interface IncidentCounts {
  readonly failingPods: number;
  /** Every pod of the affected workloads (running or not). */
  readonly pods: number;
  readonly failingWorkloads: number;
  readonly workloads: number;
}

/** Kubelet waiting reasons that mean a pull failed. */
export const PULL_FAILURE_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'ImageInspectError',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

export function failsToPull(pod: PodFacts): boolean {
  return pod.containers.some((c) => c.waitingReason !== undefined && PULL_FAILURE_REASONS.has(c.waitingReason));
}

/**
 * Does the pod belong to the affected workload? By its controller owner, as `kubectl` shows it: a Deployment's pods
 * are owned by its ReplicaSets, named `NAME-<pod-template-hash>`; StatefulSet and DaemonSet pods by the workload
 * itself; a pod without a known controller by its own name.
 */
export function belongsTo(pod: PodFacts, a: AffectedWorkload): boolean {
  if (pod.namespace !== a.namespace) return false;
  const w = a.workload;
  if (!w) return a.pods.includes(pod.name);
  const owner = pod.owner;
  if (!owner) return false;
  if (w.kind === 'Deployment')
    return (
      owner.kind === 'ReplicaSet' &&
      owner.name.startsWith(`${w.name}-`) &&
      /^[a-z0-9]{5,10}$/.test(owner.name.slice(w.name.length + 1))
    );
  return owner.kind === w.kind && owner.name === w.name;
}

/**
 * Counts from the pods listed in the affected namespaces (pure). `pods` holds every pod of those namespaces (one
 * list per namespace, not one read per pod).
 */
export function countFailing(affected: readonly AffectedWorkload[], pods: readonly PodFacts[]): IncidentCounts {
  let failingPods = 0;
  let total = 0;
  let failingWorkloads = 0;
  for (const a of affected) {
    const mine = pods.filter((p) => belongsTo(p, a));
    const failing = mine.filter(failsToPull).length;
    failingPods += failing;
    total += mine.length;
    if (failing > 0) failingWorkloads++;
  }
  return { failingPods, pods: total, failingWorkloads, workloads: affected.length };
}
