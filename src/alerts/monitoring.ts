import { imageNamedIn } from '../diagnosis/message-text.ts';
import type { Alert } from './alert.ts';
import { compact, ignored, type Json, MAX_TEXT_CHARS, obj, parseContainer, str, text, toRfc3339 } from './fields.ts';
import { canonicalLabels, parseDocumentationFields, parseSummaryLabels } from './labels.ts';

/**
 * Cloud Monitoring notifications (schema `1.2`, and `test`), log-based policies especially (docs/alerts.md,
 * "Monitoring"): the pod from the incident's resource labels, the kubelet message from the documentation or the
 * summary labels. Metric incidents and non-pod resources are ignored with a reason.
 */

function parseState(value: unknown): 'open' | 'closed' | undefined {
  const state = str(value)?.toLowerCase();
  return state === 'open' || state === 'closed' ? state : undefined;
}

const METRIC_CONDITIONS = [
  'conditionThreshold',
  'conditionAbsent',
  'conditionMonitoringQueryLanguage',
  'conditionPrometheusQueryLanguage',
  'conditionSql',
] as const;

export function parseMonitoring(root: Json): Alert {
  const version = str(root.version);
  const incident = obj(root.incident);
  if (version?.toLowerCase() === 'test') {
    return compact({ kind: 'test', incidentId: str(incident?.incident_id), url: str(incident?.url) });
  }
  if (!incident) return ignored('monitoring notification without an incident object');
  const incidentId = str(incident.incident_id);
  const state = parseState(incident.state);
  if (!state) return ignored(`monitoring incident ${incidentId ?? '?'} has no open/closed state`);

  const condition = obj(incident.condition);
  if (condition && !obj(condition.conditionMatchedLog)) {
    const kind = METRIC_CONDITIONS.find((k) => obj(condition[k]) !== undefined);
    if (kind) return ignored(`metric incident (${kind}), not a log-match condition`);
  }
  const metricType = str(obj(incident.metric)?.type);
  if (!condition?.conditionMatchedLog && metricType) {
    return ignored(`metric incident (${metricType}), not a log-match condition`);
  }

  const resource = obj(incident.resource);
  const resourceType = str(resource?.type);
  if (resourceType !== 'k8s_pod' && resourceType !== 'k8s_container') {
    return ignored(`incident resource type ${resourceType ?? '(none)'} is not a Kubernetes pod or container`);
  }
  const labels = obj(resource?.labels) ?? {};

  const documentation = incident.documentation;
  // Documentation and summary carry labels besides the message: read a few times the message's cap of them.
  const docText = text(
    typeof documentation === 'string' ? documentation : obj(documentation)?.content,
    4 * MAX_TEXT_CHARS,
  );
  const docFields = docText ? parseDocumentationFields(docText) : {};
  const summary = text(incident.summary, 4 * MAX_TEXT_CHARS);
  const summaryFields = summary ? canonicalLabels(parseSummaryLabels(summary)) : {};
  const field = (name: string): string | undefined => docFields[name] ?? summaryFields[name];

  const containerRef = parseContainer(str(labels.container_name)) ?? parseContainer(field('container'));
  const message = text(field('message'));
  const image = field('image') ?? (message ? imageNamedIn(message) : undefined);

  return compact({
    kind: 'monitoring-incident',
    state,
    project: str(labels.project_id) ?? field('project'),
    location: str(labels.location) ?? field('location'),
    cluster: str(labels.cluster_name) ?? field('cluster'),
    namespace: str(labels.namespace_name) ?? field('namespace'),
    pod: str(labels.pod_name) ?? field('pod'),
    container: containerRef?.container,
    initContainer: containerRef?.initContainer ? true : undefined,
    message,
    image,
    dedupeKey: incidentId ? `incident:${incidentId}:${state}` : undefined,
    incidentId,
    url: str(incident.url),
    observedAt: toRfc3339(incident.started_at),
  });
}
