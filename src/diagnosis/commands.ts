import type { Link, ShellCommand } from './diagnosis.ts';
import type { ClusterRef, WorkloadRef } from './facts.ts';
import { DOWNLOAD_PERMISSION, READER_ROLE } from './roles.ts';

/**
 * The equivalent `gcloud` / `kubectl` commands and console links for what the bot reads and changes, so a person can
 * check or do everything by hand. Pure string building.
 */

/** Quotes a shell word only when it needs it. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

export interface RepositoryName {
  readonly project: string;
  readonly location: string;
  readonly repository: string;
}

/** Splits `projects/P/locations/L/repositories/R`; undefined when it is not one. */
export function parseRepositoryName(resource: string): RepositoryName | undefined {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/repositories\/([^/]+)$/.exec(resource);
  return m ? { project: m[1]!, location: m[2]!, repository: m[3]! } : undefined;
}

export function repositoryResource(r: RepositoryName): string {
  return `projects/${r.project}/locations/${r.location}/repositories/${r.repository}`;
}

const w = shellWord;

export function grantReaderCommand(repo: RepositoryName, member: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'Grant read access on the repository (what the button does)',
    command:
      `gcloud artifacts repositories add-iam-policy-binding ${w(repo.repository)} --project=${w(repo.project)} ` +
      `--location=${w(repo.location)} --member=${w(member)} --role=${READER_ROLE}`,
  };
}

export function revokeReaderCommand(repo: RepositoryName, member: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'Remove the grant again (what Undo does)',
    command:
      `gcloud artifacts repositories remove-iam-policy-binding ${w(repo.repository)} --project=${w(repo.project)} ` +
      `--location=${w(repo.location)} --member=${w(member)} --role=${READER_ROLE}`,
  };
}

export function getCredentialsCommand(cluster: ClusterRef): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'Point kubectl at the cluster',
    command: `gcloud container clusters get-credentials ${w(cluster.name)} --location=${w(cluster.location)} --project=${w(cluster.project)}`,
  };
}

/**
 * `kubectl rollout restart` for the workload. kubectl refuses to restart a paused Deployment ("run rollout resume
 * first"), so for one the command resumes it first, and says that resuming also rolls out what changed while paused.
 */
export function restartCommand(workload: WorkloadRef, paused = false): ShellCommand {
  const ref = `${workload.kind.toLowerCase()}/${w(workload.name)} -n ${w(workload.namespace)}`;
  if (paused) {
    return {
      tool: 'kubectl',
      purpose:
        'Resume the paused rollout (kubectl refuses to restart a paused Deployment; resuming also rolls out any change made while it was paused), then restart it so new pods pull again',
      command: `kubectl rollout resume ${ref} && kubectl rollout restart ${ref}`,
    };
  }
  return {
    tool: 'kubectl',
    purpose: 'Restart the workload so new pods pull again',
    command: `kubectl rollout restart ${ref}`,
  };
}

export function describePodCommand(namespace: string, pod: string): ShellCommand {
  return {
    tool: 'kubectl',
    purpose: 'See the pull events',
    command: `kubectl describe pod ${w(pod)} -n ${w(namespace)}`,
  };
}

export function nodePoolCommand(cluster: ClusterRef, pool: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: "Show the node pool's service account and scopes",
    command:
      `gcloud container node-pools describe ${w(pool)} --cluster=${w(cluster.name)} --location=${w(cluster.location)} ` +
      `--project=${w(cluster.project)} --format='value(config.serviceAccount,config.oauthScopes)'`,
  };
}

export function repositoryPolicyCommand(repo: RepositoryName): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: "Show the repository's IAM policy",
    command: `gcloud artifacts repositories get-iam-policy ${w(repo.repository)} --project=${w(repo.project)} --location=${w(repo.location)}`,
  };
}

export function projectRolesCommand(project: string, email: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'List the roles the service account holds on the project',
    command:
      `gcloud projects get-iam-policy ${w(project)} --flatten='bindings[].members' ` +
      `--filter=${w(`bindings.members:serviceAccount:${email}`)} --format='table(bindings.role,bindings.condition.title)'`,
  };
}

export function troubleshootCommand(repo: RepositoryName, email: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'Ask the IAM Policy Troubleshooter whether the node can pull',
    command:
      `gcloud policy-intelligence troubleshoot-policy iam //artifactregistry.googleapis.com/${repositoryResource(repo)} ` +
      `--principal-email=${w(email)} --permission=${DOWNLOAD_PERMISSION}`,
  };
}

export function listTagsCommand(host: string, repo: RepositoryName, packageName: string): ShellCommand {
  // gcr.io domains carry no repository segment in image paths (gcr.io/PROJECT/IMAGE).
  const path = host.endsWith('gcr.io')
    ? `${host}/${repo.project}/${packageName}`
    : `${host}/${repo.project}/${repo.repository}/${packageName}`;
  return {
    tool: 'gcloud',
    purpose: 'List the tags that exist',
    command: `gcloud artifacts docker tags list ${w(path)}`,
  };
}

export function listRepositoriesCommand(project: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'List the repositories that exist, in every location',
    command: `gcloud artifacts repositories list --project=${w(project)}`,
  };
}

export function newNodePoolCommand(cluster: ClusterRef, pool: string, serviceAccount: string): ShellCommand {
  return {
    tool: 'gcloud',
    purpose: 'Create a replacement node pool with the cloud-platform scope (scopes cannot change on a pool)',
    command:
      `gcloud container node-pools create ${w(`${pool}-v2`)} --cluster=${w(cluster.name)} --location=${w(cluster.location)} ` +
      `--project=${w(cluster.project)} --service-account=${w(serviceAccount)} --scopes=cloud-platform`,
  };
}

export function cordonPoolCommand(pool: string): ShellCommand {
  return {
    tool: 'kubectl',
    purpose: 'Move workloads off the old pool once the new one is ready',
    command: `kubectl cordon -l cloud.google.com/gke-nodepool=${w(pool)} && kubectl drain -l cloud.google.com/gke-nodepool=${w(pool)} --ignore-daemonsets --delete-emptydir-data`,
  };
}

const CONSOLE = 'https://console.cloud.google.com';

export function repositoryLink(repo: RepositoryName): Link {
  return {
    label: 'Repository in the console',
    url: `${CONSOLE}/artifacts/docker/${repo.project}/${repo.location}/${repo.repository}?project=${repo.project}`,
  };
}

export function workloadLink(cluster: ClusterRef, workload: WorkloadRef): Link {
  return {
    label: `${workload.kind} in the console`,
    url: `${CONSOLE}/kubernetes/${workload.kind.toLowerCase()}/${cluster.location}/${cluster.name}/${workload.namespace}/${workload.name}/overview?project=${cluster.project}`,
  };
}

export function podLink(cluster: ClusterRef, namespace: string, pod: string): Link {
  return {
    label: 'Pod in the console',
    url: `${CONSOLE}/kubernetes/pod/${cluster.location}/${cluster.name}/${namespace}/${pod}/details?project=${cluster.project}`,
  };
}

export function nodePoolLink(cluster: ClusterRef, pool: string): Link {
  return {
    label: 'Node pool in the console',
    url: `${CONSOLE}/kubernetes/nodepool/${cluster.location}/${cluster.name}/${pool}?project=${cluster.project}`,
  };
}

export function troubleshooterLink(project: string): Link {
  return { label: 'IAM Policy Troubleshooter', url: `${CONSOLE}/iam-admin/troubleshooter?project=${project}` };
}

export const DOC_LINKS = {
  gkePermissions: {
    label: 'Artifact Registry: permissions for GKE',
    url: 'https://cloud.google.com/artifact-registry/docs/integrate-gke#permissions',
  },
  imagePulls: {
    label: 'GKE: troubleshoot image pulls',
    url: 'https://cloud.google.com/kubernetes-engine/docs/troubleshooting/image-pulls',
  },
  propagation: {
    label: 'IAM access change propagation',
    url: 'https://cloud.google.com/iam/docs/access-change-propagation',
  },
  vpcSc: {
    label: 'VPC Service Controls troubleshooting',
    url: 'https://cloud.google.com/vpc-service-controls/docs/troubleshooting',
  },
  deny: { label: 'IAM deny policies', url: 'https://cloud.google.com/iam/docs/deny-overview' },
  scopes: {
    label: 'Access scopes and service accounts',
    url: 'https://cloud.google.com/compute/docs/access/service-accounts#accesscopesiam',
  },
  nodeServiceAccounts: {
    label: 'GKE node service accounts',
    url: 'https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts',
  },
  remoteRepos: {
    label: 'Artifact Registry remote repositories (Docker Hub cache)',
    url: 'https://cloud.google.com/artifact-registry/docs/repositories/remote-repo',
  },
  gcrTransition: {
    label: 'gcr.io repositories on Artifact Registry',
    url: 'https://cloud.google.com/artifact-registry/docs/transition/gcr-repositories',
  },
  privateAccess: {
    label: 'Private Google Access',
    url: 'https://cloud.google.com/vpc/docs/configure-private-google-access',
  },
} as const satisfies Record<string, Link>;
