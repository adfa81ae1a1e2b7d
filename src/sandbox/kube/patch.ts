/**
 * The three PATCH flavours the API server accepts for built-in types: strategic merge (maps merge, `null` deletes,
 * lists with a merge key merge by it, `$patch` directives), JSON merge patch (RFC 7386) and JSON patch (RFC 6902).
 */
import { kubeError } from './status.ts';

/** A JSON value, as patches and stored objects are manipulated. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Patch merge keys of the core types' lists, by field name (k8s.io/api `patchMergeKey` tags). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  resourceClaims: 'name',
  topologySpreadConstraints: 'topologyKey',
};

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge patch as the API server applies it to built-in types. */
export function strategicMerge(target: Json | undefined, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, field);
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $retainKeys, $setElementOrder/…, $deleteFromPrimitiveList/… are ordering hints here
    if (v === null) delete out[k];
    else {
      const merged = strategicMerge(out[k], v, k);
      if (merged === null) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], field: string): Json[] {
  const key = MERGE_KEYS[field];
  if (!key || !patch.every(isObject)) return structuredClone(patch);
  const out = structuredClone(target);
  for (const item of patch as JsonObject[]) {
    const index = out.findIndex((t) => isObject(t) && t[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = strategicMerge(out[index], item, field);
    } else {
      out.push(strategicMerge(undefined, item, field));
    }
  }
  return out;
}

/** One RFC 6902 operation. */
interface JsonPatchOp {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw kubeError(422, `invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(doc: Json, parts: string[], path: string): { parent: JsonObject | Json[]; last: string } {
  let node: Json = doc;
  for (const part of parts.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw kubeError(
        422,
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
    }
    node = next;
  }
  if (node === null || typeof node !== 'object') throw kubeError(422, `doc is missing path: "${path}"`);
  return { parent: node, last: parts.at(-1) ?? '' };
}

/** RFC 6902 JSON patch (add, remove, replace, test). */
export function jsonPatch(target: Json, ops: readonly JsonPatchOp[]): Json {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = pointer(op.path);
    if (parts.length === 0) throw kubeError(422, 'patching the whole document is not supported');
    const { parent, last } = parentOf(doc, parts, op.path);
    const value = structuredClone(op.value ?? null);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(i, 0, value);
      else if (op.op === 'remove') parent.splice(i, 1);
      else if (op.op === 'replace') parent[i] = value;
      else if (op.op === 'test') {
        if (JSON.stringify(parent[i]) !== JSON.stringify(value))
          throw kubeError(422, `testing value ${op.path} failed`);
      } else throw kubeError(422, `unsupported JSON patch operation "${op.op}"`);
    } else {
      if (op.op === 'add' || op.op === 'replace') {
        if (op.op === 'replace' && !(last in parent))
          throw kubeError(422, `replace operation does not apply: doc is missing key: ${op.path}`);
        parent[last] = value;
      } else if (op.op === 'remove') {
        if (!(last in parent))
          throw kubeError(422, `remove operation does not apply: doc is missing path: "${op.path}"`);
        delete parent[last];
      } else if (op.op === 'test') {
        if (JSON.stringify(parent[last]) !== JSON.stringify(value))
          throw kubeError(422, `testing value ${op.path} failed`);
      } else throw kubeError(422, `unsupported JSON patch operation "${op.op}"`);
    }
  }
  return doc;
}
