import type { Alert } from './alert.ts';

/** Small readers of untrusted JSON shared by the payload parsers (docs/alerts.md). Pure; never throw. */

export type Json = Record<string, unknown>;

/**
 * What is read of a free-text field (a kubelet message, a documentation or summary text): registry errors are short,
 * and every parser then runs in time linear in a bounded input (test/unit/alerts/bounded-work.test.ts).
 */
export const MAX_TEXT_CHARS = 16 * 1024;

/** A free-text field, trimmed and cut to `max` characters. */
export function text(value: unknown, max = MAX_TEXT_CHARS): string | undefined {
  const v = str(value);
  return v !== undefined && v.length > max ? v.slice(0, max) : v;
}

export function ignored(reason: string): Alert {
  return { kind: 'ignored', reason };
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function obj(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

/** Drops `undefined` members so the result has only the keys that carry a value. */
export function compact(alert: { [K in keyof Alert]: Alert[K] | undefined }): Alert {
  const out: Record<string, unknown> = {};
  for (const key in alert) {
    const value = alert[key as keyof Alert];
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as Alert;
}

/** Epoch seconds (number or numeric string) or an RFC 3339 string → RFC 3339, or undefined. */
export function toRfc3339(value: unknown): string | undefined {
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

// core/v1 ObjectReference.fieldPath for containers: "spec.containers{NAME}" / "spec.initContainers{NAME}".
const FIELD_PATH = /^spec\.(containers|initContainers|ephemeralContainers)\{([^}]+)\}$/;
export interface ContainerRef {
  readonly container: string;
  readonly initContainer: boolean;
}

export function parseFieldPath(value: string | undefined): ContainerRef | undefined {
  if (value === undefined) return undefined;
  const m = FIELD_PATH.exec(value.trim());
  if (!m?.[2]) return undefined;
  return { container: m[2], initContainer: m[1] === 'initContainers' };
}

/** A container given either as a name or as a fieldPath (`spec.containers{x}`). */
export function parseContainer(value: string | undefined): ContainerRef | undefined {
  if (value === undefined) return undefined;
  return (
    parseFieldPath(value) ??
    (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) ? { container: value, initContainer: false } : undefined)
  );
}

/** True when a templated value was left unresolved by Monitoring (`${log.extracted_label.message}`). */
export function unresolved(value: string): boolean {
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
export function canonicalKey(key: string): string | undefined {
  return KEY_ALIASES[
    key
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_')
  ];
}
