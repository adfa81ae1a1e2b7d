/**
 * Which IAM roles let a principal pull from Artifact Registry.
 *
 * Source: the IAM roles data (iann0036/iam-dataset, role files dated 2026-05, mirroring the IAM roles API; docs/diagnosis.md, "Roles that can pull"): every
 * predefined role that contains `artifactregistry.repositories.downloadArtifacts`. Custom roles are not listed here;
 * the Policy Troubleshooter verdict covers them.
 */
export const DOWNLOAD_PERMISSION = 'artifactregistry.repositories.downloadArtifacts';

/** The role the bot grants: the least privilege that can pull. */
export const READER_ROLE = 'roles/artifactregistry.reader';

const PULL_ROLES: ReadonlySet<string> = new Set(
  [
    'aiplatform.agentSandboxServiceAgent',
    'aiplatform.customCodeServiceAgent',
    'aiplatform.serviceAgent',
    'appengine.appAdmin',
    'appengine.deployer',
    'appengine.serviceAgent',
    'appengineflex.serviceAgent',
    'artifactregistry.admin',
    'artifactregistry.containerRegistryMigrationAdmin',
    'artifactregistry.createOnPushRepoAdmin',
    'artifactregistry.createOnPushWriter',
    'artifactregistry.editor',
    'artifactregistry.reader',
    'artifactregistry.repoAdmin',
    'artifactregistry.serviceAgent',
    'artifactregistry.viewer',
    'artifactregistry.writer',
    'assuredoss.admin',
    'assuredoss.projectAdmin',
    'assuredoss.reader',
    'assuredoss.user',
    'binaryauthorization.serviceAgent',
    'cloudbuild.builds.builder',
    'cloudbuild.serviceAgent',
    'cloudfunctions.admin',
    'cloudfunctions.developer',
    'cloudfunctions.editor',
    'cloudfunctions.serviceAgent',
    'compliancescanning.ServiceAgent',
    'composer.serviceAgent',
    'composer.worker',
    'configdelivery.serviceAgent',
    'containeranalysis.ServiceAgent',
    'containerscanning.ServiceAgent',
    'editor',
    'firebase.admin',
    'firebase.developAdmin',
    'firebaseapphosting.computeRunner',
    'firebaseapphosting.serviceAgent',
    'gkemulticloud.controlPlaneMachineServiceAgent',
    'gkemulticloud.nodePoolMachineServiceAgent',
    'iam.dataScientist',
    'iam.devOps',
    'iam.securityAuditor',
    'iam.supportUser',
    'ml.serviceAgent',
    'networkactions.serviceAgent',
    'ondemandscanning.serviceAgent',
    'owner',
    'run.builder',
    'run.serviceAgent',
    'run.sourceDeveloper',
    'saasservicemgmt.serviceAgent',
    'securitycenter.admin',
    'securitycenter.adminEditor',
    'securitycenter.adminViewer',
    'serverless.serviceAgent',
    'viewer',
    'visualinspection.serviceAgent',
  ].map((r) => `roles/${r}`),
);

/** True when the predefined role includes `artifactregistry.repositories.downloadArtifacts`. */
export function roleCanPull(role: string): boolean {
  return PULL_ROLES.has(role);
}

/**
 * Roles that only look like they should help and do not: people grant them believing they cover image pulls
 * (docs/diagnosis.md, "Roles that can pull": the GKE node roles carry logging/monitoring only; Storage
 * roles stopped mattering when gcr.io moved to Artifact Registry).
 */
export function isMisleadingPullRole(role: string): boolean {
  return (
    role === 'roles/container.defaultNodeServiceAccount' ||
    role === 'roles/container.nodeServiceAgent' ||
    role === 'roles/storage.objectViewer' ||
    role === 'roles/browser'
  );
}
