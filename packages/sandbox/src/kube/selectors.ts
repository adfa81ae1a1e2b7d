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

function fieldValue(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return '';
    node = (node as Record<string, unknown>)[part];
  }
  return node === undefined || node === null ? '' : String(node);
}

// One field requirement: `path=value`, `path==value` or `path!=value`.
const FIELD_REQ = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/;

/** Compiles a field selector (dotted paths into the object); throws a 400 for malformed ones. */
export function fieldSelector(text: string | null): (obj: unknown) => boolean {
  if (!text) return () => true;
  const reqs = text.split(',').map((part) => {
    const m = FIELD_REQ.exec(part.trim());
    if (!m?.[1] || !m[2]) throw kubeError(400, `invalid field selector: '${part}'`);
    const path = m[1];
    const value = m[3] ?? '';
    return m[2] === '!='
      ? (o: unknown) => fieldValue(o, path) !== value
      : (o: unknown) => fieldValue(o, path) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}
