/**
 * The resource types the Kubernetes API fake serves, with what discovery says about each (kind, scope, verbs,
 * short names, categories, subresources) and how request paths map onto them. Discovery advertises exactly these
 * verbs, and the server answers 405 for any other, so `kubectl` sees the same capabilities it can use.
 */
import { BATCH_RESOURCE_TYPES } from './batch-resources.ts';

/** A subresource of a resource type, as discovery lists it (`pods/eviction`). */
export interface SubresourceInfo {
  readonly name: string;
  readonly kind: string;
  /** Set when the subresource's kind lives in another group/version than its parent (`policy/v1` Eviction). */
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

/** One served resource type. */
export interface ResourceInfo {
  /** Plural name, the path segment (`deployments`). */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly subresources?: readonly SubresourceInfo[];
}

const READ = ['get', 'list', 'watch'] as const;

/** Every served type, core group first, in the order discovery lists them. */
export const RESOURCE_TYPES: readonly ResourceInfo[] = [
  {
    resource: 'events',
    singular: 'event',
    kind: 'Event',
    group: '',
    version: 'v1',
    namespaced: true,
    verbs: READ,
    shortNames: ['ev'],
  },
  {
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    group: '',
    version: 'v1',
    namespaced: false,
    verbs: READ,
    shortNames: ['ns'],
  },
  {
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    group: '',
    version: 'v1',
    namespaced: false,
    verbs: [...READ, 'patch'],
    shortNames: ['no'],
  },
  {
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    verbs: [...READ, 'delete'],
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
    ],
  },
  {
    resource: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    group: '',
    version: 'v1',
    namespaced: true,
    verbs: ['create', ...READ],
  },
  {
    resource: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    group: '',
    version: 'v1',
    namespaced: true,
    verbs: READ,
    shortNames: ['sa'],
  },
  {
    resource: 'daemonsets',
    singular: 'daemonset',
    kind: 'DaemonSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    verbs: [...READ, 'patch'],
    shortNames: ['ds'],
    categories: ['all'],
  },
  {
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    verbs: [...READ, 'patch'],
    shortNames: ['deploy'],
    categories: ['all'],
  },
  {
    resource: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    verbs: READ,
    shortNames: ['rs'],
    categories: ['all'],
  },
  {
    resource: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    verbs: [...READ, 'patch'],
    shortNames: ['sts'],
    categories: ['all'],
  },
  {
    resource: 'selfsubjectaccessreviews',
    singular: 'selfsubjectaccessreview',
    kind: 'SelfSubjectAccessReview',
    group: 'authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    verbs: ['create'],
  },
  ...BATCH_RESOURCE_TYPES,
];

/** The API groups served under `/apis`, in discovery order, each with its one version. */
export const API_GROUPS: readonly string[] = [...new Set(RESOURCE_TYPES.map((r) => r.group).filter(Boolean))];

/** `apps/v1`, or `v1` for the core group. */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** What a request path addresses. */
export interface Route {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/**
 * Maps a request path onto a resource, namespace, name and subresource (core `/api/v1/…` and grouped
 * `/apis/G/V/…`); `undefined` for paths no served resource lives at.
 */
export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource, ...extra] = rest;
  const info = RESOURCE_TYPES.find((r) => r.resource === resource && r.group === group && r.version === version);
  if (!info || extra.length > 0) return undefined;
  if (namespace !== undefined && !info.namespaced) return undefined;
  if (name !== undefined && info.namespaced && namespace === undefined) return undefined;
  if (subresource !== undefined && !info.subresources?.some((s) => s.name === subresource)) return undefined;
  return {
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}
