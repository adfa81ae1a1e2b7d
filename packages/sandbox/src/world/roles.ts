/**
 * The simulator's own role → permission table. Not the full IAM catalogue: enough for what the fakes check
 * (Artifact Registry reads and IAM, Resource Manager, GKE, deny-policy reads), with every predefined role that
 * contains `artifactregistry.repositories.downloadArtifacts` (docs/diagnosis.md, "Roles that can pull") answering yes for it.
 */

const AR = 'artifactregistry';

const AR_READER = [
  `${AR}.attachments.get`,
  `${AR}.attachments.list`,
  `${AR}.dockerimages.get`,
  `${AR}.dockerimages.list`,
  `${AR}.files.download`,
  `${AR}.files.get`,
  `${AR}.files.list`,
  `${AR}.locations.get`,
  `${AR}.locations.list`,
  `${AR}.mavenartifacts.get`,
  `${AR}.mavenartifacts.list`,
  `${AR}.npmpackages.get`,
  `${AR}.npmpackages.list`,
  `${AR}.packages.get`,
  `${AR}.packages.list`,
  `${AR}.projectsettings.get`,
  `${AR}.pythonpackages.get`,
  `${AR}.pythonpackages.list`,
  `${AR}.repositories.downloadArtifacts`,
  `${AR}.repositories.exportArtifacts`,
  `${AR}.repositories.get`,
  `${AR}.repositories.list`,
  `${AR}.repositories.listEffectiveTags`,
  `${AR}.repositories.listTagBindings`,
  `${AR}.repositories.readViaVirtualRepository`,
  `${AR}.rules.get`,
  `${AR}.rules.list`,
  `${AR}.tags.get`,
  `${AR}.tags.list`,
  `${AR}.versions.get`,
  `${AR}.versions.list`,
];
const AR_WRITER = [
  ...AR_READER,
  `${AR}.repositories.uploadArtifacts`,
  `${AR}.tags.create`,
  `${AR}.tags.update`,
  `${AR}.attachments.create`,
  `${AR}.files.upload`,
];
const AR_REPO_ADMIN = [
  ...AR_WRITER,
  `${AR}.repositories.deleteArtifacts`,
  `${AR}.packages.delete`,
  `${AR}.packages.update`,
  `${AR}.tags.delete`,
  `${AR}.versions.delete`,
  `${AR}.versions.update`,
  `${AR}.files.delete`,
];
const AR_ADMIN = [
  ...AR_REPO_ADMIN,
  `${AR}.repositories.create`,
  `${AR}.repositories.delete`,
  `${AR}.repositories.update`,
  `${AR}.repositories.getIamPolicy`,
  `${AR}.repositories.setIamPolicy`,
  `${AR}.projectsettings.update`,
];

const PREDEFINED: Readonly<Record<string, readonly string[]>> = {
  'roles/artifactregistry.reader': AR_READER,
  'roles/artifactregistry.viewer': [...AR_READER, `${AR}.repositories.getIamPolicy`],
  'roles/artifactregistry.writer': AR_WRITER,
  'roles/artifactregistry.createOnPushWriter': [...AR_WRITER, `${AR}.repositories.createOnPush`],
  'roles/artifactregistry.repoAdmin': AR_REPO_ADMIN,
  'roles/artifactregistry.createOnPushRepoAdmin': [...AR_REPO_ADMIN, `${AR}.repositories.createOnPush`],
  'roles/artifactregistry.editor': [...AR_REPO_ADMIN, `${AR}.repositories.create`, `${AR}.repositories.update`],
  'roles/artifactregistry.admin': AR_ADMIN,
  'roles/artifactregistry.serviceAgent': [
    `${AR}.repositories.downloadArtifacts`,
    `${AR}.repositories.get`,
    `${AR}.repositories.readViaVirtualRepository`,
  ],
  'roles/browser': ['resourcemanager.projects.get', 'resourcemanager.projects.getIamPolicy'],
  'roles/container.defaultNodeServiceAccount': [
    'autoscaling.sites.writeMetrics',
    'logging.logEntries.create',
    'monitoring.metricDescriptors.create',
    'monitoring.metricDescriptors.list',
    'monitoring.timeSeries.create',
    'monitoring.timeSeries.list',
  ],
  'roles/container.nodeServiceAgent': ['logging.logEntries.create', 'monitoring.timeSeries.create'],
  'roles/container.viewer': [
    'container.clusters.get',
    'container.clusters.list',
    'container.pods.get',
    'container.pods.list',
  ],
  'roles/iam.securityReviewer': [
    `${AR}.repositories.getIamPolicy`,
    'resourcemanager.projects.getIamPolicy',
    'iam.denypolicies.get',
    'iam.denypolicies.list',
    'iam.roles.get',
    'iam.roles.list',
  ],
  'roles/iam.workloadIdentityUser': ['iam.serviceAccounts.getAccessToken', 'iam.serviceAccounts.getOpenIdToken'],
  'roles/logging.logWriter': ['logging.logEntries.create'],
  'roles/monitoring.metricWriter': ['monitoring.timeSeries.create'],
};

/** Other predefined roles that include `downloadArtifacts` (docs/diagnosis.md, "Roles that can pull"), given just that and `repositories.get`. */
const ALSO_DOWNLOAD = [
  'aiplatform.serviceAgent',
  'appengine.appAdmin',
  'appengine.deployer',
  'appengine.serviceAgent',
  'appengineflex.serviceAgent',
  'artifactregistry.containerRegistryMigrationAdmin',
  'assuredoss.admin',
  'assuredoss.reader',
  'assuredoss.user',
  'binaryauthorization.serviceAgent',
  'cloudbuild.builds.builder',
  'cloudbuild.serviceAgent',
  'cloudfunctions.admin',
  'cloudfunctions.developer',
  'cloudfunctions.serviceAgent',
  'composer.serviceAgent',
  'composer.worker',
  'containeranalysis.ServiceAgent',
  'containerscanning.ServiceAgent',
  'firebase.admin',
  'iam.devOps',
  'iam.securityAuditor',
  'ml.serviceAgent',
  'run.builder',
  'run.serviceAgent',
  'run.sourceDeveloper',
  'securitycenter.admin',
];

/** Permissions the basic Editor role lacks (changing IAM and a few project-level operations). */
function editorLacks(permission: string): boolean {
  return permission.endsWith('.setIamPolicy') || permission === 'resourcemanager.projects.delete';
}

/** Permissions the basic Viewer role has: reads, IAM reads, and downloading artifacts. */
function viewerHas(permission: string): boolean {
  const verb = permission.split('.').pop() ?? '';
  return (
    ['get', 'list', 'getIamPolicy', 'downloadArtifacts', 'download', 'readViaVirtualRepository'].includes(verb) &&
    !permission.startsWith('iam.serviceAccountKeys.')
  );
}

/**
 * Whether `role` contains `permission` (v1 name). `undefined` for a role the table does not know (a custom role
 * not defined in the world): the troubleshooter answers `ROLE_PERMISSION_UNKNOWN_INFO` for those.
 */
export function roleIncludes(
  role: string,
  permission: string,
  customRoles: ReadonlyMap<string, readonly string[]> = new Map(),
): boolean | undefined {
  if (role === 'roles/owner') return true;
  if (role === 'roles/editor') return !editorLacks(permission);
  if (role === 'roles/viewer') return viewerHas(permission);
  const custom = customRoles.get(role);
  if (custom) return custom.includes(permission);
  const predefined = PREDEFINED[role];
  if (predefined) return predefined.includes(permission);
  if (ALSO_DOWNLOAD.includes(role.replace(/^roles\//, ''))) {
    return permission === `${AR}.repositories.downloadArtifacts` || permission === `${AR}.repositories.get`;
  }
  return role.startsWith('roles/') ? false : undefined;
}

/** Services whose v2 permission prefix differs from the v1 prefix. */
const V2_SERVICE: Readonly<Record<string, string>> = { resourcemanager: 'cloudresourcemanager' };

/** `artifactregistry.repositories.downloadArtifacts` → `artifactregistry.googleapis.com/repositories.downloadArtifacts`. */
export function toV2Permission(permission: string): string {
  if (permission.includes('/')) return permission;
  const [service = '', ...rest] = permission.split('.');
  return `${V2_SERVICE[service] ?? service}.googleapis.com/${rest.join('.')}`;
}

/** The inverse of {@link toV2Permission}; v1 names pass through. */
export function toV1Permission(permission: string): string {
  const slash = permission.indexOf('/');
  if (slash < 0) return permission;
  const host = permission.slice(0, slash).replace(/\.googleapis\.com$/, '');
  const service = Object.entries(V2_SERVICE).find(([, v]) => v === host)?.[0] ?? host;
  return `${service}.${permission.slice(slash + 1)}`;
}
