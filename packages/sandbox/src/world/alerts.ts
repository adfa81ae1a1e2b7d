/**
 * What Google would publish to the bot's Pub/Sub topic about the world's failing pods: GKE event LogEntries from a
 * logging sink (shape of fixtures/alerts/logentry-*.json) and Cloud Monitoring log-based alert notifications
 * (shape of fixtures/alerts/monitoring-incident-imagepull*.json, version 1.2). Plain JSON objects, not base64.
 */
import { createHash } from 'node:crypto';
import type { KubeEvent, Pod } from './kube-types.ts';
import type { Cluster } from './types.ts';
import { failingContainers, iso } from './workloads.ts';
import type { World } from './world.ts';

/** Which log entries to export, and how many per failing container. */
export interface LogEntryOptions {
  /** Entries per failing container (successive updates of the same Event, `count` rising). Default 1. */
  readonly perPod?: number;
  /** Only these pods (by name). Default: every pod currently failing to pull. */
  readonly pods?: readonly string[];
  /** Also export the `BackOff` events (Normal, severity INFO), `perPod` each. Default false. */
  readonly includeBackOff?: boolean;
}

type Json = Record<string, unknown>;

/** A pod of the world together with its cluster. */
export interface PodLocation {
  readonly cluster: Cluster;
  readonly pod: Pod;
}

/** Every pod in every cluster, cluster by cluster, in API order. */
export function allPods(world: World): PodLocation[] {
  return [...world.clusters.values()].flatMap((cluster) =>
    cluster.kube.list<Pod>('Pod').map((pod) => ({ cluster, pod })),
  );
}

/** The first pod named `name` in any cluster. */
export function findPod(world: World, name: string): PodLocation | undefined {
  return allPods(world).find((p) => p.pod.metadata.name === name);
}

function fieldPathOf(container: string, init: boolean): string {
  return init ? `spec.initContainers{${container}}` : `spec.containers{${container}}`;
}

/** The pod's events about one container with a given reason, most recent first. */
function containerEvents(cluster: Cluster, pod: Pod, fieldPath: string, reason: string): KubeEvent[] {
  return cluster.kube
    .eventsFor(pod.metadata.uid)
    .filter((e) => e.involvedObject.fieldPath === fieldPath && e.reason === reason)
    .sort((a, b) => b.lastTimestamp.localeCompare(a.lastTimestamp));
}

/** The Warning `Failed` event that carries the cause (`Failed to pull image "…": …`) for a container. */
export function causeEvent(cluster: Cluster, pod: Pod, fieldPath: string): KubeEvent | undefined {
  return containerEvents(cluster, pod, fieldPath, 'Failed').find((e) => e.message.startsWith('Failed to pull image "'));
}

function insertId(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').replace(/[-_]/g, '').slice(0, 14).toLowerCase();
}

function logEntry(cluster: Cluster, event: KubeEvent, count: number, at: number, id: string): Json {
  const payload = { ...structuredClone(event), count, lastTimestamp: iso(at) } as unknown as Json;
  const warning = event.type === 'Warning';
  return {
    insertId: id,
    jsonPayload: payload,
    resource: {
      type: 'k8s_pod',
      labels: {
        cluster_name: cluster.name,
        location: cluster.location,
        namespace_name: event.involvedObject.namespace,
        pod_name: event.involvedObject.name,
        project_id: cluster.projectId,
      },
    },
    timestamp: iso(at),
    severity: warning ? 'WARNING' : 'INFO',
    logName: `projects/${cluster.projectId}/logs/events`,
    receiveTimestamp: new Date(Math.floor(at / 1000) * 1000 + 1118).toISOString().replace('Z', '734215Z'),
  };
}

/** Successive exports of one Event: `n` entries whose `count` and `lastTimestamp` rise to the event's current values. */
function exportsOf(cluster: Cluster, event: KubeEvent, n: number): Json[] {
  const first = Date.parse(event.firstTimestamp);
  const last = Date.parse(event.lastTimestamp);
  return Array.from({ length: n }, (_, i) => {
    const count = Math.max(1, event.count - (n - 1 - i));
    const at = n === 1 ? last : first + Math.round(((last - first) * i) / (n - 1));
    return logEntry(cluster, event, count, at, insertId(`${event.metadata.uid}/${i}/${n}`));
  });
}

/**
 * GKE event LogEntries a logging sink would export right now for the failing pods: the Warning `Failed` event
 * with the pull error for each failing container (and optionally its `BackOff` event). Insert ids are distinct
 * and stable: calling twice yields the same entries, as a Pub/Sub redelivery would.
 */
export function logEntries(world: World, opts: LogEntryOptions = {}): Json[] {
  const n = Math.max(1, opts.perPod ?? 1);
  const wanted = opts.pods ? new Set(opts.pods) : undefined;
  const out: Json[] = [];
  for (const { cluster, pod } of allPods(world)) {
    if (wanted && !wanted.has(pod.metadata.name)) continue;
    for (const c of failingContainers(pod)) {
      const fieldPath = fieldPathOf(c.name, c.init);
      const cause = causeEvent(cluster, pod, fieldPath);
      if (cause) out.push(...exportsOf(cluster, cause, n));
      if (opts.includeBackOff) {
        const backOff = containerEvents(cluster, pod, fieldPath, 'BackOff')[0];
        if (backOff) out.push(...exportsOf(cluster, backOff, n));
      }
    }
  }
  return out;
}

/**
 * The cause event an incident about `podName` is built from: the pod's current failure, else its last one. Works
 * for a pod that a rollout has since deleted (its events outlive it, as in Kubernetes), so a `closed` notification
 * can follow a fix.
 */
function incidentCause(world: World, podName: string): { cluster: Cluster; cause: KubeEvent } {
  const found = findPod(world, podName);
  if (found) {
    const { cluster, pod } = found;
    const failing = failingContainers(pod)[0];
    const candidates = failing
      ? [fieldPathOf(failing.name, failing.init)]
      : [
          ...(pod.spec.initContainers ?? []).map((c) => `spec.initContainers{${c.name}}`),
          ...pod.spec.containers.map((c) => `spec.containers{${c.name}}`),
        ];
    for (const f of candidates) {
      const cause = causeEvent(cluster, pod, f);
      if (cause) return { cluster, cause };
    }
    throw new Error(`pod ${podName} has no image-pull failure to alert on`);
  }
  for (const cluster of world.clusters.values()) {
    const cause = cluster.kube
      .list<KubeEvent>('Event')
      .filter(
        (e) =>
          e.involvedObject.name === podName && e.reason === 'Failed' && e.message.startsWith('Failed to pull image "'),
      )
      .sort((a, b) => b.lastTimestamp.localeCompare(a.lastTimestamp))[0];
    if (cause) return { cluster, cause };
  }
  throw new Error(`no pod named ${podName} in the sandbox`);
}

/**
 * A Cloud Monitoring notification (version 1.2) from a log-based alert policy on the `Failed` events, for `podName`.
 * Its label extractors template pod, container field path and message into `documentation.content`, as the README
 * tells users to configure. `closed` is the resolve notification of the same incident (same `incident_id`).
 */
export function monitoringIncident(world: World, podName: string, state: 'open' | 'closed' = 'open'): Json {
  const { cluster, cause } = incidentCause(world, podName);
  const fieldPath = cause.involvedObject.fieldPath ?? '';
  const podUid = cause.involvedObject.uid;
  const namespace = cause.involvedObject.namespace ?? 'default';
  const project = world.project(cluster.projectId);
  const incidentId = `0.${createHash('sha256').update(`${cluster.resourceName}/${podUid}`).digest('hex').slice(0, 12)}`;
  const labels = {
    cluster_name: cluster.name,
    location: cluster.location,
    namespace_name: namespace,
    pod_name: podName,
    project_id: cluster.projectId,
  };
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const startedAt = Math.floor(Date.parse(cause.firstTimestamp) / 1000);
  return {
    incident: {
      condition: {
        conditionMatchedLog: {
          filter:
            'log_id("events")\nresource.type="k8s_pod"\njsonPayload.reason="Failed"\njsonPayload.message=~"^Failed to pull image"',
          resourceContainers: [`projects/${cluster.projectId}`],
        },
        displayName: 'Image pull failed',
        name: `projects/${cluster.projectId}/alertPolicies/8412637519248150231/conditions/8412637519248151770`,
      },
      condition_name: 'Image pull failed',
      documentation: {
        content: `pod: ${podName}\ncontainer: ${fieldPath}\nmessage: ${cause.message}`,
        mime_type: 'text/markdown',
        subject: `[${state === 'open' ? 'ALERT' : 'RESOLVED'} - Error] GKE ImagePullBackOff`,
      },
      ended_at: state === 'open' ? null : Math.floor(world.now() / 1000),
      incident_id: incidentId,
      metadata: { system_labels: {}, user_labels: {} },
      metric: { displayName: '', labels: {}, type: '' },
      policy_name: 'GKE ImagePullBackOff',
      policy_user_labels: { team: 'payments' },
      resource: { labels, type: 'k8s_pod' },
      resource_id: '',
      resource_name: `Kubernetes Pod labels {${labelText}}`,
      resource_type_display_name: 'Kubernetes Pod',
      scoping_project_id: cluster.projectId,
      scoping_project_number: Number(project?.number ?? 0),
      severity: 'Error',
      started_at: startedAt,
      state,
      summary: `Log match condition fired for Kubernetes Pod with {${labelText}}.`,
      url: `https://console.cloud.google.com/monitoring/alerting/alerts/${incidentId}?channelType=cloud-pubsub&project=${cluster.projectId}`,
    },
    version: '1.2',
  };
}
