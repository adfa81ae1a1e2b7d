/**
 * Normalizes whatever Google delivered to one `Alert` (docs/alerts.md): Cloud Monitoring notifications (schema
 * `1.2`, `test`), LogEntries exported by a logging sink, and either of them inside a Pub/Sub push envelope.
 *
 * Pure and total: no I/O, never throws. Anything unreadable becomes `{ kind: 'ignored', reason }`, so the
 * consumer can ack it, log the reason and count it instead of crashing or redelivering it forever.
 */
import type { Alert } from './alert.ts';
import { isAuditLogEntry, parseAuditLogEntry } from './audit-log.ts';
import { ignored, isObject, obj, str } from './fields.ts';
import { parseLogEntry } from './log-entry.ts';
import { parseMonitoring } from './monitoring.ts';
import { invalidName } from './names.ts';

/** Bodies above this size are refused before `JSON.parse` (docs/alerts.md, "Garbage"). */
export const MAX_ALERT_BYTES = 1024 * 1024;

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

const UTF8 = new TextDecoder('utf-8');

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
    text = UTF8.decode(input);
  }
  if (!/\S/.test(text)) return { ok: false, reason: `${what} is empty` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `${what} is not JSON: ${detail.slice(0, 200)}` };
  }
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
  if ('incident' in value || 'version' in value) return checked(parseMonitoring(value));
  if (isAuditLogEntry(value)) return checked(parseAuditLogEntry(value)); // SetIamPolicy: re-audit (alerts/audit-log.ts)
  if ('jsonPayload' in value || 'logName' in value || 'insertId' in value) return checked(parseLogEntry(value));
  if ('textPayload' in value || 'protoPayload' in value)
    return ignored('log entry without a Kubernetes event jsonPayload');
  return ignored('unrecognized payload: neither a Monitoring notification nor a LogEntry');
}

/** An alert whose names no real cluster could carry is ignored, with the reason (alerts/names.ts). */
function checked(alert: Alert): Alert {
  if (alert.kind === 'ignored' || alert.kind === 'test') return alert;
  const invalid = invalidName(alert);
  return invalid ? ignored(`alert refused: ${invalid}`) : alert;
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

/** The `imagepull parse-alert --json` object (README, "The CLI"). Absent keys are omitted. */
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
  /** An `iam-change` alert's change: the resource, who, and the binding deltas. */
  readonly iamChange?: Alert['iamChange'];
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
    'iamChange',
  ] as const;
  const out: Record<string, unknown> = { kind: alert.kind };
  for (const key of keys) {
    const value = alert[key];
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as AlertJson;
}
