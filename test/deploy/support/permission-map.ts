/**
 * What each call the Google sandbox can log needs from IAM, written from the APIs' references: the RPC it stands
 * for and the permissions the caller must hold. A call the sandbox logs that is missing here fails the permissions
 * test, so a new adapter call cannot slip past the custom role.
 */
export const GCP_CALL_PERMISSIONS: Readonly<
  Record<string, { readonly rpc: string; readonly permissions: readonly string[] }>
> = {
  'container.GetCluster': {
    rpc: 'google.container.v1.ClusterManager/GetCluster',
    permissions: ['container.clusters.get'],
  },
  'container.ListClusters': {
    rpc: 'google.container.v1.ClusterManager/ListClusters',
    permissions: ['container.clusters.list'],
  },
  'resourcemanager.GetProject': {
    rpc: 'google.cloud.resourcemanager.v3.Projects/GetProject',
    permissions: ['resourcemanager.projects.get'],
  },
  'resourcemanager.GetIamPolicy': {
    rpc: 'google.cloud.resourcemanager.v3.Projects/GetIamPolicy',
    permissions: ['resourcemanager.projects.getIamPolicy'],
  },
  // testIamPermissions needs no permission of its own (the IAM reference: "no permissions required"); it answers which
  // of the asked permissions the caller holds (imagepull doctor, App Home's permission health).
  'resourcemanager.TestIamPermissions': {
    rpc: 'google.cloud.resourcemanager.v3.Projects/TestIamPermissions',
    permissions: [],
  },
  'artifactregistry.TestIamPermissions': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/TestIamPermissions',
    permissions: [],
  },
  'artifactregistry.GetRepository': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/GetRepository',
    permissions: ['artifactregistry.repositories.get'],
  },
  'artifactregistry.ListRepositories': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/ListRepositories',
    permissions: ['artifactregistry.repositories.list'],
  },
  'locations.ListLocations': {
    // Artifact Registry's Locations mixin, served on artifactregistry.googleapis.com.
    rpc: 'google.cloud.location.Locations/ListLocations',
    permissions: ['artifactregistry.locations.list'],
  },
  'artifactregistry.GetTag': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/GetTag',
    permissions: ['artifactregistry.tags.get'],
  },
  'artifactregistry.GetDockerImage': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/GetDockerImage',
    permissions: ['artifactregistry.dockerimages.get'],
  },
  'artifactregistry.ListDockerImages': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/ListDockerImages',
    permissions: ['artifactregistry.dockerimages.list'],
  },
  'artifactregistry.GetIamPolicy': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/GetIamPolicy',
    permissions: ['artifactregistry.repositories.getIamPolicy'],
  },
  'artifactregistry.SetIamPolicy': {
    rpc: 'google.devtools.artifactregistry.v1.ArtifactRegistry/SetIamPolicy',
    permissions: ['artifactregistry.repositories.setIamPolicy'],
  },
  'troubleshooter.troubleshoot': {
    // POST /v3/iam:troubleshoot has no permission of its own: it evaluates the policies with the caller's rights,
    // so the caller needs to read each allow policy on the path (the repository's and the project's), the custom
    // roles they bind, and the deny policies attached there. Folder and organization policies need getIamPolicy
    // there too, which a project-level custom role cannot hold (deploy/README.md says what to grant instead).
    rpc: 'google.cloud.policytroubleshooter.iam.v3.PolicyTroubleshooter/TroubleshootIamPolicy',
    permissions: [
      'artifactregistry.repositories.getIamPolicy',
      'resourcemanager.projects.getIamPolicy',
      'iam.roles.get',
      'iam.denypolicies.get',
      'iam.denypolicies.list',
    ],
  },
};

/** One Kubernetes RBAC permission. */
export interface RbacTriple {
  /** API group, `''` for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
}

/**
 * The (group, resource, verb) the API server authorizes for a request, as its request-info resolver does: the
 * path names the group and resource, the HTTP method and whether a name is present give the verb.
 */
export function rbacOf(method: string, pathname: string): RbacTriple | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1]) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
    group = parts[1];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  if (!resource) return undefined;
  const full = sub ? `${resource}/${sub}` : resource;
  const named = name !== undefined;
  const verb =
    {
      GET: named ? 'get' : 'list',
      HEAD: named ? 'get' : 'list',
      POST: 'create',
      PUT: 'update',
      PATCH: 'patch',
      DELETE: named ? 'delete' : 'deletecollection',
    }[method] ?? method.toLowerCase();
  return { group, resource: full, verb };
}

/**
 * What Kubernetes grants every authenticated user through the default `system:basic-user` ClusterRole (bound to
 * `system:authenticated`): asking what one may do. A ClusterRole needs no rule for these.
 */
export const BASIC_USER_RBAC: readonly RbacTriple[] = [
  { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verb: 'create' },
  { group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews', verb: 'create' },
];

/** `group/resource verb`, for sets and messages. */
export function tripleKey(t: RbacTriple): string {
  return `${t.group || 'core'}/${t.resource} ${t.verb}`;
}
