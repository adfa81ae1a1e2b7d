/**
 * Label and field selectors as the API server evaluates them for list requests
 * (`labelSelector=app=checkout,tier!=db`, `fieldSelector=involvedObject.name=x,involvedObject.kind=Pod`).
 */
import { kubeError } from './status.ts';

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Splits on commas that are not inside parentheses (`env in (a,b),app=x`). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

// Set-based requirement: `key in (a,b)` / `key notin (a,b)` (Kubernetes label selector grammar).
const SET_REQ = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/;
// Equality requirement: `key=value`, `key==value`, `key!=value`.
const EQ_REQ = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/;
// Existence requirement: `key` or `!key`.
const EXISTS_REQ = /^(!?)([\w./-]+)$/;

/** Compiles a label selector; throws a 400 for malformed ones. */
export function labelSelector(text: string | null): Requirement {
  if (!text) return () => true;
  const reqs: Requirement[] = splitTopLevel(text).map((part) => {
    const set = SET_REQ.exec(part);
    if (set?.[1] && set[2]) {
      const key = set[1];
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      return set[2] === 'in'
        ? (l) => l[key] !== undefined && values.includes(l[key] ?? '')
        : (l) => l[key] === undefined || !values.includes(l[key] ?? '');
    }
    const eq = EQ_REQ.exec(part);
    if (eq?.[1] && eq[2]) {
      const key = eq[1];
      const value = eq[3] ?? '';
      return eq[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    const exists = EXISTS_REQ.exec(part);
    if (exists?.[2]) {
      const key = exists[2];
      return exists[1] ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
    }
    throw kubeError(400, `unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (labels) => reqs.every((r) => r(labels));
}

/** Boolean fields an absent value counts as `false` for (the API server compares their Go zero value). */
const BOOLEAN_FIELDS = new Set(['spec.unschedulable', 'spec.hostNetwork']);

function fieldValue(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return '';
    node = (node as Record<string, unknown>)[part];
  }
  if (node === undefined || node === null) return BOOLEAN_FIELDS.has(path) ? 'false' : '';
  return String(node);
}

// One field requirement: `path=value`, `path==value` or `path!=value`.
const FIELD_REQ = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/;

/**
 * The field labels the API server supports per kind beyond `metadata.name` and `metadata.namespace` (its
 * per-type field label conversion functions); a label maps to its path when the two differ (`source` is
 * `source.component`).
 */
export const FIELD_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Pod: {
    'spec.nodeName': 'spec.nodeName',
    'spec.restartPolicy': 'spec.restartPolicy',
    'spec.schedulerName': 'spec.schedulerName',
    'spec.serviceAccountName': 'spec.serviceAccountName',
    'spec.hostNetwork': 'spec.hostNetwork',
    'status.phase': 'status.phase',
    'status.podIP': 'status.podIP',
    'status.nominatedNodeName': 'status.nominatedNodeName',
  },
  Event: {
    'involvedObject.kind': 'involvedObject.kind',
    'involvedObject.namespace': 'involvedObject.namespace',
    'involvedObject.name': 'involvedObject.name',
    'involvedObject.uid': 'involvedObject.uid',
    'involvedObject.apiVersion': 'involvedObject.apiVersion',
    'involvedObject.resourceVersion': 'involvedObject.resourceVersion',
    'involvedObject.fieldPath': 'involvedObject.fieldPath',
    reason: 'reason',
    reportingComponent: 'reportingComponent',
    source: 'source.component',
    type: 'type',
  },
  Node: { 'spec.unschedulable': 'spec.unschedulable' },
  Namespace: { 'status.phase': 'status.phase' },
  Secret: { type: 'type' },
  ReplicaSet: { 'status.replicas': 'status.replicas' },
};

/**
 * Compiles a field selector (dotted paths into the object); throws a 400 for malformed ones and, when `kind` is
 * given, for labels the API server does not support on that kind (`field label not supported: …`).
 */
export function fieldSelector(text: string | null, kind?: string): (obj: unknown) => boolean {
  if (!text) return () => true;
  const reqs = text.split(',').map((part) => {
    const m = FIELD_REQ.exec(part.trim());
    if (!m?.[1] || !m[2]) throw kubeError(400, `invalid field selector: '${part}'`);
    let path = m[1];
    if (kind !== undefined && path !== 'metadata.name' && path !== 'metadata.namespace') {
      const mapped = FIELD_LABELS[kind]?.[path];
      if (mapped === undefined) throw kubeError(400, `field label not supported: ${path}`);
      path = mapped;
    }
    const value = m[3] ?? '';
    return m[2] === '!='
      ? (o: unknown) => fieldValue(o, path) !== value
      : (o: unknown) => fieldValue(o, path) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}
