import * as k8s from '@kubernetes/client-node';
import type { K8sObject } from './render.ts';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** GKE's own resource kinds, validated with @kubernetes-models/gke's schemas (from the CRDs). */
const GKE_GROUPS = new Set(['cloud.google.com', 'networking.gke.io']);

/**
 * Validates one object against its Kubernetes OpenAPI schema (kubernetes-models, or @kubernetes-models/gke for
 * GKE's CRDs) and, for built-in kinds, also rejects fields the API does not define — what `kubectl apply
 * --validate=strict` would refuse, checked with the official client's model metadata. Returns the problems found.
 */
export async function schemaProblems(obj: K8sObject): Promise<string[]> {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const gke = GKE_GROUPS.has(group ?? '');
  const module = gke
    ? `@kubernetes-models/gke/${group}/${version}`
    : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  let Model: ModelClass | undefined;
  try {
    Model = ((await import(module)) as Record<string, ModelClass>)[obj.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(...String((e as Error).message).split('\n'));
  }
  if (!gke) problems.push(...unknownFields(obj, typeName(group ?? '', version ?? '', obj.kind)));
  return problems;
}

/** The client-node model name of a built-in kind: `V1Deployment`, `V1PodDisruptionBudget`, `V1ClusterRole`. */
function typeName(_group: string, version: string, kind: string): string {
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

function attributes(type: string): readonly Attribute[] | undefined {
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>)[type];
  return cls?.getAttributeTypeMap?.();
}

/** Fields of `value` that the model `type` (and the models it nests) does not define, as JSON paths. */
export function unknownFields(value: unknown, type: string, path = '$'): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1]) {
    return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1] as string, `${path}[${i}]`)) : [];
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1]) {
    return value && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1] as string, `${path}.${k}`))
      : [];
  }
  const attrs = attributes(type);
  if (!attrs || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const a = attrs.find((x) => x.baseName === k);
    if (!a) out.push(`${path}.${k}: unknown field (not in ${type})`);
    else out.push(...unknownFields(v, a.type, `${path}.${k}`));
  }
  return out;
}
