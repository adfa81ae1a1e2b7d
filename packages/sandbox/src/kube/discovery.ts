/**
 * Discovery as a GKE API server answers it: `/version`, the legacy documents (`/api` APIVersions, `/apis`
 * APIGroupList, `/apis/G` APIGroup, `/api/v1` and `/apis/G/V` APIResourceList) and the aggregated form
 * (`apidiscovery.k8s.io` v2 and v2beta1 APIGroupDiscoveryList at `/api` and `/apis`) that kubectl ≥1.26 asks for
 * first, falling back to the legacy documents when a server does not offer it. Everything is derived from
 * {@link RESOURCE_TYPES}, so discovery lists exactly what the fake serves.
 */
import { createHash } from 'node:crypto';
import { API_GROUPS, groupVersion, RESOURCE_TYPES, type ResourceInfo } from './resources.ts';

/** The `/version` document of a cluster running `masterVersion` (`1.31.6-gke.1020000`). */
export function versionInfo(masterVersion: string): object {
  const [major = '1', minor = '0'] = masterVersion.split(/[.-]/);
  return {
    major,
    minor,
    gitVersion: `v${masterVersion}`,
    gitCommit: createHash('sha1').update(masterVersion).digest('hex'),
    gitTreeState: 'clean',
    buildDate: '2025-02-19T09:14:02Z',
    goVersion: 'go1.22.12 X:boringcrypto',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** `GET /api` (legacy): the core group's versions. */
export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string): object {
  const gv = { groupVersion: groupVersion(name, 'v1'), version: 'v1' };
  return { name, versions: [gv], preferredVersion: gv };
}

/** `GET /apis` (legacy): every named group. */
export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS.map(groupDoc) };
}

/** `GET /apis/G` (legacy), or undefined for a group the fake does not serve. */
export function apiGroup(name: string): object | undefined {
  return API_GROUPS.includes(name) ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name) } : undefined;
}

function sortedVerbs(verbs: readonly string[]): string[] {
  return [...verbs].sort();
}

function typesOf(group: string, version: string): ResourceInfo[] {
  return RESOURCE_TYPES.filter((r) => r.group === group && r.version === version).sort((a, b) =>
    a.resource.localeCompare(b.resource),
  );
}

/** `GET /api/v1` or `/apis/G/V` (legacy): the resources of one group version, subresources as `pods/eviction`. */
export function apiResourceList(group: string, version: string): object | undefined {
  const types = typesOf(group, version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((r) => [
    {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: sortedVerbs(r.verbs),
      ...(r.shortNames ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories ? { categories: [...r.categories] } : {}),
    },
    ...(r.subresources ?? []).map((s) => ({
      name: `${r.resource}/${s.name}`,
      singularName: r.singular,
      namespaced: r.namespaced,
      ...(s.group !== undefined ? { group: s.group } : {}),
      ...(s.version !== undefined ? { version: s.version } : {}),
      kind: s.kind,
      verbs: sortedVerbs(s.verbs),
    })),
  ]);
  return {
    kind: 'APIResourceList',
    ...(group ? { apiVersion: 'v1' } : {}),
    groupVersion: groupVersion(group, version),
    resources,
  };
}

function discoveryResource(r: ResourceInfo): object {
  return {
    resource: r.resource,
    responseKind: { group: '', version: '', kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: sortedVerbs(r.verbs),
    ...(r.shortNames ? { shortNames: [...r.shortNames] } : {}),
    ...(r.categories ? { categories: [...r.categories] } : {}),
    ...(r.subresources
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? '', version: s.version ?? '', kind: s.kind },
            verbs: sortedVerbs(s.verbs),
          })),
        }
      : {}),
  };
}

/**
 * The aggregated discovery document (`apidiscovery.k8s.io/<version>` APIGroupDiscoveryList) of `/api` (the core
 * group) or `/apis` (every named group).
 */
export function aggregatedDiscovery(root: 'api' | 'apis', version: string): object {
  const groups = root === 'api' ? [''] : API_GROUPS;
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { ...(g ? { name: g } : {}), creationTimestamp: null },
      versions: [{ version: 'v1', resources: typesOf(g, 'v1').map(discoveryResource) }],
    })),
  };
}

/** The strong ETag the API server puts on aggregated discovery, so clients can revalidate with If-None-Match. */
export function discoveryEtag(doc: object): string {
  return `"${createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase()}"`;
}
