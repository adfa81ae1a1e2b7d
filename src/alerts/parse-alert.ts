/**
 * Normalizes whatever Google delivered to one `Alert` (DESIGN §2): Cloud Monitoring notifications (schema
 * `1.2`, `test`), LogEntries exported by a logging sink, and either of them inside a Pub/Sub push envelope.
 *
 * Pure and total: no I/O, never throws. Anything unreadable becomes `{ kind: 'ignored', reason }`, so the
 * consumer can ack it, log the reason and count it instead of crashing or redelivering it forever.
 */
import { classifyMessage } from '../diagnosis/classify.ts';
import type { Alert } from './alert.ts';

/** Bodies above this size are refused before `JSON.parse` (DESIGN §2: "a huge body"). */
export const MAX_ALERT_BYTES = 1024 * 1024;

type Json = Record<string, unknown>;

/** Event reasons the kubelet uses for image pulls (kubernetes pkg/kubelet/events/event.go). */
const IMAGE_EVENT_REASONS = new Set(['Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed']);

// kubelet image_manager.go / kuberuntime: the `Failed` events that are about pulling an image.
const IMAGE_FAILED_MESSAGE =
  /Failed to pull image|Failed to inspect image|Failed to apply default image tag|\bErrImagePull\b|\bImagePullBackOff\b|\bInvalidImageName\b|\bErrImageNeverPull\b|\bImageInspectError\b/;
// kubelet "Back-off pulling image %q" (the image BackOff) vs "Back-off restarting failed container" (CrashLoop).
const IMAGE_BACKOFF_MESSAGE = /Back-off pulling image/;
const CRASHLOOP_BACKOFF_MESSAGE = /Back-off restarting failed container/;
// core/v1 ObjectReference.fieldPath for containers: "spec.containers{NAME}" / "spec.initContainers{NAME}".
const FIELD_PATH = /^spec\.(containers|initContainers|ephemeralContainers)\{([^}]+)\}$/;
// Monitoring log-match summary (research/gcp-facts.md §1.4):
// "Log match condition with labels {k=v, …} fired for <Resource> with {…}."
const SUMMARY_LABELS = /with labels \{/;

function ignored(reason: string): Alert {
  return { kind: 'ignored', reason };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function obj(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

/** Drops `undefined` members so the result has only the keys that carry a value. */
function compact(alert: { [K in keyof Alert]: Alert[K] | undefined }): Alert {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(alert)) {
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as Alert;
}

function utf8Length(text: string): number {
  // Cheap bound first: UTF-8 never takes fewer bytes than UTF-16 code units, nor more than three per unit.
  if (text.length > MAX_ALERT_BYTES) return text.length;
  if (text.length * 3 <= MAX_ALERT_BYTES) return text.length;
  return new TextEncoder().encode(text).length;
}

function decodeBase64(data: string): Uint8Array | undefined {
  const cleaned = data.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cleaned) || cleaned.length % 4 === 1) return undefined;
  try {
    const binary = atob(cleaned);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** Bytes or text → parsed JSON, refusing empty and oversized bodies before parsing. */
function decodeBody(input: string | Uint8Array, what: string): Decoded {
  let text: string;
  if (typeof input === 'string') {
    const size = utf8Length(input);
    if (size > MAX_ALERT_BYTES) return { ok: false, reason: `${what} too large (${size} bytes > ${MAX_ALERT_BYTES})` };
    text = input;
  } else {
    if (input.byteLength > MAX_ALERT_BYTES) {
      return { ok: false, reason: `${what} too large (${input.byteLength} bytes > ${MAX_ALERT_BYTES})` };
    }
    text = new TextDecoder('utf-8').decode(input);
  }
  if (text.trim() === '') return { ok: false, reason: `${what} is empty` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `${what} is not JSON: ${detail.slice(0, 200)}` };
  }
}

/** Epoch seconds (number or numeric string) or an RFC 3339 string → RFC 3339, or undefined. */
function toRfc3339(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return new Date(value * 1000).toISOString();
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
      const seconds = Number(trimmed);
      return seconds > 0 ? new Date(seconds * 1000).toISOString() : undefined;
    }
    if (trimmed !== '' && !Number.isNaN(Date.parse(trimmed))) return trimmed;
  }
  return undefined;
}

interface ContainerRef {
  readonly container: string;
  readonly initContainer: boolean;
}

function parseFieldPath(value: string | undefined): ContainerRef | undefined {
  if (value === undefined) return undefined;
  const m = FIELD_PATH.exec(value.trim());
  if (!m?.[2]) return undefined;
  return { container: m[2], initContainer: m[1] === 'initContainers' };
}

/** A container given either as a name or as a fieldPath (`spec.containers{x}`). */
function parseContainer(value: string | undefined): ContainerRef | undefined {
  if (value === undefined) return undefined;
  return (
    parseFieldPath(value) ??
    (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) ? { container: value, initContainer: false } : undefined)
  );
}

/** True when a templated value was left unresolved by Monitoring (`${log.extracted_label.message}`). */
function unresolved(value: string): boolean {
  return /\$\{[^}]*\}/.test(value);
}

const KEY_ALIASES: Readonly<Record<string, string>> = {
  message: 'message',
  msg: 'message',
  kubelet_message: 'message',
  event_message: 'message',
  error: 'message',
  pod: 'pod',
  pod_name: 'pod',
  container: 'container',
  container_name: 'container',
  fieldpath: 'container',
  field_path: 'container',
  namespace: 'namespace',
  namespace_name: 'namespace',
  image: 'image',
  cluster: 'cluster',
  cluster_name: 'cluster',
  location: 'location',
  project: 'project',
  project_id: 'project',
};

/** Canonical field names for the keys a policy author may use in documentation or label extractors. */
function canonicalKey(key: string): string | undefined {
  return KEY_ALIASES[
    key
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_')
  ];
}

/**
 * `key: value` lines from `documentation.content` (markdown allowed: `- **message**: …`). Keys the bot does not
 * know and values left as `${…}` placeholders are skipped.
 */
export function parseDocumentationFields(content: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of content.split(/\r?\n/)) {
    const m = /^\s*(?:[-*]\s+)?(?:\*\*|__)?([A-Za-z][\w .-]{0,40}?)(?:\*\*|__)?\s*[:=]\s?(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const key = canonicalKey(m[1]);
    const value = m[2].trim().replace(/^`(.*)`$/, '$1');
    if (!key || value === '' || unresolved(value) || fields[key] !== undefined) continue;
    fields[key] = value;
  }
  return fields;
}

const OPENERS: Readonly<Record<string, string>> = { '{': '}', '[': ']', '(': ')' };
const CLOSERS = new Set(['}', ']', ')']);

/**
 * Walks `text` from `start`, outside quotes (when `quotes`), tracking bracket nesting; `visit` sees each such
 * character with the depth after it and may stop the walk. `unbalanced`: a closer that does not match, or an open
 * quote or bracket at the end.
 */
function walkBrackets(
  text: string,
  start: number,
  quotes: boolean,
  visit: (i: number, ch: string, depth: number) => boolean,
): 'stopped' | 'balanced' | 'unbalanced' {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (quotes && (ch === '"' || ch === "'")) {
      quote = ch;
      continue;
    }
    const close = OPENERS[ch];
    if (close) stack.push(close);
    else if (CLOSERS.has(ch) && stack.pop() !== ch) return 'unbalanced';
    if (visit(i, ch, stack.length)) return 'stopped';
  }
  return quote !== undefined || stack.length > 0 ? 'unbalanced' : 'balanced';
}

/** Index of the brace that closes the `{` at `start`; -1 when the text is unbalanced. */
function matchingBrace(text: string, start: number, quotes: boolean): number {
  let found = -1;
  const r = walkBrackets(text, start, quotes, (i, ch, depth) => {
    if (CLOSERS.has(ch) && depth === 0) found = i;
    return found >= 0;
  });
  return r === 'stopped' ? found : -1;
}

function keyAt(body: string, cut: number): string {
  return /^\s*([A-Za-z_][\w.-]*)=/.exec(body.slice(cut + 1))?.[1] ?? '';
}

/**
 * Monitoring prints label keys in sorted order (`{action=…,service=…}`, `{cluster_name=…, location=…, …}`).
 * A free-text value such as a kubelet message can itself contain `, word=`. Among the candidate cuts we keep
 * the chain of strictly increasing keys that holds the most keys the bot knows (`message`, `pod`, …), then the
 * most keys, then the earliest cuts: `message=… 403, retries=3, pod=…` keeps `pod` and leaves `retries=3`
 * inside the message. Limit: a spurious key that sorts after the last real label still splits the value.
 */
function dropSpuriousCuts(body: string, cuts: readonly number[]): number[] {
  if (cuts.length === 0 || cuts.length > 2000) return [...cuts];
  const first = /^\s*([A-Za-z_][\w.-]*)=/.exec(body)?.[1] ?? '';
  const keys = cuts.map((cut) => keyAt(body, cut));
  const KNOWN = 1000;
  // best[i]: the best chain that starts at the first label and ends with cut i.
  const best = keys.map((key) => ({ weight: key > first ? (canonicalKey(key) ? KNOWN : 1) : -1, count: 1, prev: -1 }));
  for (let i = 0; i < keys.length; i++) {
    const here = best[i];
    const key = keys[i] as string;
    if (!here || here.weight < 0) continue;
    const own = canonicalKey(key) ? KNOWN : 1;
    for (let j = 0; j < i; j++) {
      const before = best[j];
      if (!before || before.weight < 0 || !((keys[j] as string) < key)) continue;
      const weight = before.weight + own;
      const count = before.count + 1;
      if (weight > here.weight || (weight === here.weight && count > here.count)) {
        here.weight = weight;
        here.count = count;
        here.prev = j;
      }
    }
  }
  let end = -1;
  best.forEach((b, i) => {
    const top = best[end];
    if (b.weight >= 0 && (!top || b.weight > top.weight || (b.weight === top.weight && b.count > top.count))) end = i;
  });
  const kept: number[] = [];
  for (let i = end; i >= 0; i = best[i]?.prev ?? -1) kept.unshift(cuts[i] as number);
  return kept;
}

/** Splits `k=v, k2=v2` at top-level commas that start a new `key=`, keeping commas inside values. */
function splitLabels(body: string, quotes: boolean): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const cuts: number[] = [];
  const r = walkBrackets(body, 0, quotes, (i, ch, depth) => {
    if (ch === ',' && depth === 0 && /^\s*[A-Za-z_][\w.-]*=/.test(body.slice(i + 1))) cuts.push(i);
    return false;
  });
  if (r !== 'balanced') return undefined;
  const kept = dropSpuriousCuts(body, cuts);
  let from = 0;
  for (const cut of [...kept, body.length]) {
    const pair = body.slice(from, cut);
    from = cut + 1;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key !== '' && out[key] === undefined) out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/**
 * The labels of a log-match summary: `Log match condition with labels {k=v, …} fired for …`.
 *
 * Values may contain commas, `=`, brackets and braces (`impactedLocations=['europe-central2', 'europe-west1']`,
 * a kubelet message with `code = Unknown desc = …, …`): a comma only separates labels when it is outside any
 * bracket or quote and is followed by `key=`. Unbalanced quotes or brackets in a value fall back to a
 * bracket-only, then a plain scan, and finally to the text up to the last `} fired for`.
 */
export function parseSummaryLabels(summary: string): Record<string, string> {
  const m = SUMMARY_LABELS.exec(summary);
  if (!m) return {};
  const open = m.index + m[0].length - 1;
  for (const quotes of [true, false]) {
    const close = matchingBrace(summary, open, quotes);
    if (close < 0) continue;
    const labels = splitLabels(summary.slice(open + 1, close), quotes);
    if (labels) return labels;
  }
  const end = summary.lastIndexOf('} fired for');
  const body = summary.slice(open + 1, end > open ? end : summary.length);
  const out: Record<string, string> = {};
  const pairs = body.split(/,\s*(?=[A-Za-z_][\w.-]*=)/);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Canonical fields from summary labels (unknown keys and `${…}` values dropped). */
function canonicalLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const canonical = canonicalKey(key);
    if (!canonical || value === '' || unresolved(value) || out[canonical] !== undefined) continue;
    out[canonical] = value;
  }
  return out;
}

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

function parseMonitoring(root: Json): Alert {
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
  const docText = typeof documentation === 'string' ? documentation : str(obj(documentation)?.content);
  const docFields = docText ? parseDocumentationFields(docText) : {};
  const summary = str(incident.summary);
  const summaryFields = summary ? canonicalLabels(parseSummaryLabels(summary)) : {};
  const field = (name: string): string | undefined => docFields[name] ?? summaryFields[name];

  const containerRef = parseContainer(str(labels.container_name)) ?? parseContainer(field('container'));
  const message = field('message');
  const image = field('image') ?? (message ? classifyMessage(message).image : undefined);

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

function parseLogEntry(entry: Json): Alert {
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
  const message = str(payload.message);
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
    message,
    image: message ? classifyMessage(message).image : undefined,
    reason,
    dedupeKey: insertId ? `log:${insertId}` : undefined,
    observedAt: toRfc3339(entry.timestamp) ?? toRfc3339(payload.lastTimestamp) ?? toRfc3339(entry.receiveTimestamp),
  });
}

function dispatch(value: unknown, depth: number): Alert {
  if (!isObject(value)) {
    return ignored(
      `payload is ${Array.isArray(value) ? 'a JSON array' : `JSON ${value === null ? 'null' : typeof value}`}, not an object`,
    );
  }
  const message = obj(value.message);
  if (
    message &&
    (typeof message.data === 'string' || message.data === null || message.data === undefined) &&
    depth === 0
  ) {
    // Pub/Sub push envelope {"message":{"data":base64,"attributes":…,"messageId":…},"subscription":…}.
    const data = str(message.data);
    if (data === undefined) return ignored('Pub/Sub push envelope without message.data');
    if (data.length > Math.ceil((MAX_ALERT_BYTES * 4) / 3) + 4) {
      return ignored(`Pub/Sub message data too large (${data.length} base64 characters)`);
    }
    const bytes = decodeBase64(data);
    if (!bytes) return ignored('Pub/Sub push envelope message.data is not base64');
    const inner = decodeBody(bytes, 'Pub/Sub message data');
    return inner.ok ? dispatch(inner.value, depth + 1) : ignored(inner.reason);
  }
  if (value.data instanceof Uint8Array && depth === 0) {
    // A pulled Pub/Sub message object ({data: Buffer, attributes}).
    const inner = decodeBody(value.data, 'Pub/Sub message data');
    return inner.ok ? dispatch(inner.value, depth + 1) : ignored(inner.reason);
  }
  if ('incident' in value || 'version' in value) return parseMonitoring(value);
  if ('jsonPayload' in value || 'logName' in value || 'insertId' in value) return parseLogEntry(value);
  if ('textPayload' in value || 'protoPayload' in value)
    return ignored('log entry without a Kubernetes event jsonPayload');
  return ignored('unrecognized payload: neither a Monitoring notification nor a LogEntry');
}

/**
 * Normalizes one Pub/Sub payload to an `Alert`.
 *
 * `input` is the message body (bytes or text of JSON) or an already-parsed object; `attributes` are the Pub/Sub
 * attributes (accepted for symmetry with the consumer; Google sets none the parser needs).
 * Guarantees: never throws; bodies over 1 MiB are refused before parsing; unreadable, empty, non-JSON,
 * wrongly shaped, metric, non-pod and non-image events become `{ kind: 'ignored', reason }`; monitoring
 * incidents carry `dedupeKey` `incident:<id>:<state>`, log entries `log:<insertId>`.
 */
export function parseAlert(input: string | Uint8Array | unknown, attributes?: Record<string, string>): Alert {
  void attributes;
  try {
    if (input === undefined || input === null) return ignored('empty payload');
    if (typeof input === 'string' || input instanceof Uint8Array) {
      const decoded = decodeBody(input, 'body');
      return decoded.ok ? dispatch(decoded.value, 0) : ignored(decoded.reason);
    }
    if (input instanceof ArrayBuffer) {
      const decoded = decodeBody(new Uint8Array(input), 'body');
      return decoded.ok ? dispatch(decoded.value, 0) : ignored(decoded.reason);
    }
    return dispatch(input, 0);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return ignored(`payload could not be read: ${detail.slice(0, 200)}`);
  }
}

/** The `imagepull parse-alert --json` object (DESIGN §8). Absent keys are omitted. */
export interface AlertJson {
  readonly kind: Alert['kind'];
  readonly state?: 'open' | 'closed';
  readonly project?: string;
  readonly location?: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  readonly message?: string;
  readonly image?: string;
  readonly reason?: string;
}

/** Projects an `Alert` onto the CLI's `parse-alert --json` shape, in the documented key order. */
export function alertJson(alert: Alert): AlertJson {
  const keys = [
    'state',
    'project',
    'location',
    'cluster',
    'namespace',
    'pod',
    'container',
    'message',
    'image',
    'reason',
  ] as const;
  const out: Record<string, unknown> = { kind: alert.kind };
  for (const key of keys) {
    const value = alert[key];
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as AlertJson;
}
