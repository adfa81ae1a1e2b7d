import { imageNamedIn } from '../diagnosis/message-text.ts';
import type { Alert } from './alert.ts';
import { compact, ignored, type Json, obj, parseContainer, parseFieldPath, str, text, toRfc3339 } from './fields.ts';
import { nodeNameHint } from './names.ts';

/**
 * LogEntries exported by a logging sink (docs/alerts.md, "Log entries"): a core/v1 Event about a Pod whose reason and
 * message say it is about pulling an image. `BackOff` carries no cause: the investigation looks up the events.
 */

/** Event reasons the kubelet uses for image pulls (kubernetes pkg/kubelet/events/event.go). */
const IMAGE_EVENT_REASONS = new Set(['Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed']);

// kubelet image_manager.go / kuberuntime: the `Failed` events that are about pulling an image.
const IMAGE_FAILED_MESSAGE =
  /Failed to pull image|Failed to inspect image|Failed to apply default image tag|\bErrImagePull\b|\bImagePullBackOff\b|\bInvalidImageName\b|\bErrImageNeverPull\b|\bImageInspectError\b/;
// kubelet "Back-off pulling image %q" (the image BackOff) vs "Back-off restarting failed container" (CrashLoop).
const IMAGE_BACKOFF_MESSAGE = /Back-off pulling image/;
const CRASHLOOP_BACKOFF_MESSAGE = /Back-off restarting failed container/;
export function parseLogEntry(entry: Json): Alert {
  const logName = str(entry.logName) ?? '';
  const payload = obj(entry.jsonPayload);
  if (!/\/logs\/events$/.test(logName) && !(logName === '' && str(payload?.kind) === 'Event')) {
    return ignored(`log entry ${logName || '(no logName)'} is not a Kubernetes event`);
  }
  if (!payload) return ignored('event log entry without a jsonPayload');
  const involved = obj(payload.involvedObject);
  const resource = obj(entry.resource);
  const resourceType = str(resource?.type);
  const involvedKind = str(involved?.kind);
  if (involvedKind !== undefined ? involvedKind !== 'Pod' : resourceType !== 'k8s_pod') {
    return ignored(`event is about ${involvedKind ?? resourceType ?? 'an unknown object'}, not a Pod`);
  }

  const reason = str(payload.reason);
  const message = text(payload.message);
  if (!reason || !IMAGE_EVENT_REASONS.has(reason)) {
    return ignored(`event reason ${reason ?? '(none)'} is not an image-pull reason`);
  }
  if (reason === 'BackOff') {
    if (message && CRASHLOOP_BACKOFF_MESSAGE.test(message)) {
      return ignored('BackOff restarting a failed container (CrashLoopBackOff), not an image pull');
    }
    if (!message || !IMAGE_BACKOFF_MESSAGE.test(message))
      return ignored('BackOff event that is not about pulling an image');
  }
  if (reason === 'Failed' && (!message || !IMAGE_FAILED_MESSAGE.test(message))) {
    return ignored('Failed event that is not about pulling an image');
  }

  const labels = obj(resource?.labels) ?? {};
  const containerRef = parseFieldPath(str(involved?.fieldPath)) ?? parseContainer(str(labels.container_name));
  const insertId = str(entry.insertId);
  return compact({
    kind: 'log-entry',
    state: 'open',
    project: str(labels.project_id),
    location: str(labels.location),
    cluster: str(labels.cluster_name),
    namespace: str(involved?.namespace) ?? str(labels.namespace_name) ?? str(obj(payload.metadata)?.namespace),
    pod: str(involved?.name) ?? str(labels.pod_name),
    container: containerRef?.container,
    initContainer: containerRef?.initContainer ? true : undefined,
    node: nodeNameHint(str(obj(payload.source)?.host)) ?? nodeNameHint(str(payload.reportingInstance)),
    message,
    image: message ? imageNamedIn(message) : undefined,
    reason,
    dedupeKey: insertId ? `log:${insertId}` : undefined,
    observedAt: toRfc3339(entry.timestamp) ?? toRfc3339(payload.lastTimestamp) ?? toRfc3339(entry.receiveTimestamp),
  });
}
