import type { Config } from '../../config.ts';
import { parseRepositoryName } from '../../diagnosis/commands.ts';
import type { ProjectDirectory, RepositoryIam } from '../../ports/gcp.port.ts';
import { errorMessage, ReadError } from '../../shared/errors.ts';
import { BOT_ROLE_ID, FIRESTORE_PERMISSIONS, missingPermissions, neededPermissions } from '../bot-permissions.ts';
import type { DoctorItem } from './item.ts';

/** The gcloud command that grants the bot its custom role (deploy/gcp/bot-role.yaml) in a project. */
export function roleGrant(project: string, sa: string): string {
  return `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${sa} --role=projects/${project}/roles/${BOT_ROLE_ID} --condition=None`;
}

/**
 * A project's item: the bot holds there every Google permission its role needs for FIX_MODE (testIamPermissions),
 * the fix being the grant, or the role update when only some are missing.
 */
export async function projectCheck(
  project: string,
  config: Config,
  projects: ProjectDirectory,
  sa: string,
): Promise<DoctorItem> {
  const title = `Google permissions in project ${project}`;
  const needed = neededPermissions(config.fixMode);
  let missing: readonly string[];
  try {
    missing = await missingPermissions((p) => projects.testPermissions(project, p), needed);
  } catch (e) {
    const code = e instanceof ReadError ? e.code : 'failed';
    return {
      id: 'gcp.project',
      status: 'fail',
      title,
      subject: project,
      detail: errorMessage(e),
      fix:
        code === 'permission-denied' || code === 'not-found'
          ? [
              `the project does not exist or the bot cannot see it: ${roleGrant(project, sa)}`,
              `(the role comes from deploy/gcp/bot-role.yaml: gcloud iam roles create ${BOT_ROLE_ID} --project=${project} --file=deploy/gcp/bot-role.yaml, or run deploy/gcp/setup.sh)`,
            ]
          : [`Resource Manager did not answer (${code}): run imagepull doctor again`],
    };
  }
  if (missing.length === 0) {
    return {
      id: 'gcp.project',
      status: 'pass',
      title,
      subject: project,
      detail: `the ${needed.length} permissions of role ${BOT_ROLE_ID}${config.fixMode === 'approve' ? '' : ' (setIamPolicy not needed: FIX_MODE is not approve)'}`,
    };
  }
  const none = missing.length === needed.length;
  return {
    id: 'gcp.project',
    status: 'fail',
    title,
    subject: project,
    detail: `the bot lacks ${missing.join(', ')}`,
    fix: none
      ? [
          `grant the bot its role there: ${roleGrant(project, sa)}`,
          `(if the role does not exist there: gcloud iam roles create ${BOT_ROLE_ID} --project=${project} --file=deploy/gcp/bot-role.yaml)`,
        ]
      : [
          `gcloud iam roles update ${BOT_ROLE_ID} --project=${project} --add-permissions=${missing.join(',')}`,
          '(deploy/gcp/setup.sh sets the role to deploy/gcp/bot-role.yaml too)',
        ],
  };
}

/** A repository's item (`--repository`): the bot holds the repository permissions of its role there. */
export async function repositoryCheck(
  repo: string,
  config: Config,
  iam: RepositoryIam,
  sa: string,
): Promise<DoctorItem> {
  const title = `Google permissions on repository ${repo}`;
  const name = parseRepositoryName(repo);
  if (!name) {
    return {
      id: 'gcp.repository',
      status: 'fail',
      title,
      subject: repo,
      detail: 'not a repository name',
      fix: ['give --repository projects/PROJECT/LOCATION/repositories/NAME'],
    };
  }
  const { project, location, repository } = name;
  const needed = neededPermissions(config.fixMode, 'repository');
  const grant = `gcloud artifacts repositories add-iam-policy-binding ${repository} --location=${location} --project=${project} --member=serviceAccount:${sa} --role=projects/${project}/roles/${BOT_ROLE_ID}`;
  try {
    const missing = await missingPermissions((p) => iam.testPermissions(repo, p), needed);
    return missing.length === 0
      ? { id: 'gcp.repository', status: 'pass', title, subject: repo, detail: needed.join(', ') }
      : {
          id: 'gcp.repository',
          status: 'fail',
          title,
          subject: repo,
          detail: `the bot lacks ${missing.join(', ')}`,
          fix: [`grant the role on the repository (or on project ${project}): ${grant}`],
        };
  } catch (e) {
    return {
      id: 'gcp.repository',
      status: 'fail',
      title,
      subject: repo,
      detail: errorMessage(e),
      fix: [`the repository does not exist or the bot cannot see it: ${grant}`],
    };
  }
}

/** The Firestore item (STATE_STORE=firestore): the bot holds roles/datastore.user's permissions in FIRESTORE_PROJECT. */
export async function firestoreCheck(project: string, projects: ProjectDirectory, sa: string): Promise<DoctorItem> {
  const title = `Firestore state in project ${project}`;
  const grant = `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${sa} --role=roles/datastore.user --condition=None`;
  try {
    const missing = await missingPermissions((p) => projects.testPermissions(project, p), FIRESTORE_PERMISSIONS);
    return missing.length === 0
      ? { id: 'firestore', status: 'pass', title, subject: project, detail: 'roles/datastore.user permissions' }
      : {
          id: 'firestore',
          status: 'fail',
          title,
          subject: project,
          detail: `the bot lacks ${missing.join(', ')}`,
          fix: [grant],
        };
  } catch (e) {
    return { id: 'firestore', status: 'fail', title, subject: project, detail: errorMessage(e), fix: [grant] };
  }
}
