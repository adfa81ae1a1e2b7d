import type { Classification } from '../diagnosis/cause.ts';
import { classifyMessage } from '../diagnosis/classify.ts';
import type { ClusterRef, ContainerFacts, PodEventFacts, PodFacts } from '../diagnosis/facts.ts';
import { type ImageRef, parseImageRef } from '../diagnosis/image-ref.ts';
import { PULL_FAILURE_REASONS } from './cluster-access.ts';

/** Which containers of a pod fail to pull, and which message says why (pure helpers of the investigation). */

/** What the alert or the person said about the target: its container and kubelet message. */
interface Hint {
  readonly container?: string;
  readonly message?: string;
}

export function parsed(raw: string | undefined): ImageRef | undefined {
  if (!raw) return undefined;
  const r = parseImageRef(raw);
  return r.ok ? r.ref : undefined;
}

export function clusterKey(c: ClusterRef): string {
  return `${c.project}/${c.location}/${c.name}`;
}

export function hinted(target: Hint): Classification {
  return target.message ? classifyMessage(target.message) : { cause: 'no-detail' };
}

export function messageOf(target: Hint): { message?: string } {
  return target.message ? { message: target.message } : {};
}

/** Containers failing to pull; when none is, the one the alert named (it may be between retries). */
export function failingContainers(pod: PodFacts, target: Hint): ContainerFacts[] {
  const failing = pod.containers.filter(
    (c) => c.waitingReason !== undefined && PULL_FAILURE_REASONS.has(c.waitingReason),
  );
  const wanted = target.container ? failing.filter((c) => c.name === target.container) : failing;
  if (wanted.length > 0) return wanted;
  if (target.container && target.message) {
    const named = pod.containers.find((c) => c.name === target.container);
    if (named && !named.running) return [named];
  }
  return target.container ? [] : failing;
}

/**
 * The message that says why a container's pull failed: the alert's own (when it has detail and names this
 * container), else the newest `Failed to pull image` event for the container, else the kubelet's waiting message.
 */
export function messageFor(c: ContainerFacts, target: Hint, events: readonly PodEventFacts[]): string | undefined {
  const alert = target.message;
  if (alert && (!target.container || target.container === c.name)) {
    const cls = classifyMessage(alert);
    if (cls.cause !== 'no-detail' && (!cls.image || sameImage(cls.image, c.image))) return alert;
  }
  const pulls = events.filter(
    (e) =>
      (e.container === undefined || e.container === c.name) &&
      e.type === 'Warning' &&
      (e.message.startsWith('Failed to pull image') ||
        e.reason === 'ErrImageNeverPull' ||
        e.reason === 'InspectFailed') &&
      (!e.message.includes('"') || e.message.includes(c.image)),
  );
  const latest = pulls[pulls.length - 1];
  if (latest) return latest.message;
  return c.waitingMessage ?? alert;
}

function sameImage(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseImageRef(a);
  const pb = parseImageRef(b);
  return pa.ok && pb.ok && pa.ref.normalized === pb.ref.normalized;
}
