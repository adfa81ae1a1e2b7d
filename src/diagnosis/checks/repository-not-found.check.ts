import { DOC_LINKS, listRepositoriesCommand, repositoryResource } from '../commands.ts';
import type { Evidence } from '../diagnosis.ts';
import { accessMayBeTheCause, type Check, CLEAR, isArtifactRegistry, SKIP, unknownFrom } from './check.ts';

/**
 * `repository-not-found`: the repository the image names does not exist at that location — the "(or it may not
 * exist)" half of Artifact Registry's 403, or a wrong regional host. Lists where a repository of that name does exist.
 */
export const repositoryNotFoundCheck: Check = {
  id: 'repository-not-found',
  run({ facts, classification, image }) {
    if (!isArtifactRegistry(image)) return SKIP;
    if (!accessMayBeTheCause(classification.cause) && classification.cause !== 'not-found') return SKIP;
    const { repository, similarRepositories } = facts;
    if (!repository) return SKIP;
    if (repository.ok) return CLEAR;
    if (repository.error.code !== 'not-found') return unknownFrom('repository-not-found', repository);
    const ar = image.ar;
    const elsewhere = similarRepositories?.ok ? similarRepositories.value : [];
    const sameId = elsewhere.filter((r) => r.name.endsWith(`/repositories/${ar.repository}`));
    const evidence: Evidence[] = [
      { label: 'Repository', value: `${ar.resourceName} does not exist`, source: repository.source },
    ];
    const nextSteps: string[] = [];
    let title = `Repository \`${ar.repository}\` does not exist in \`${ar.location}\``;
    if (sameId.length > 0) {
      const locations = sameId.map((r) => locationOf(r.name)).filter((l): l is string => l !== undefined);
      title = `Wrong registry host: \`${ar.repository}\` lives in ${locations.map((l) => `\`${l}\``).join(', ')}, not \`${ar.location}\``;
      evidence.push({
        label: 'Same repository elsewhere',
        value: sameId.map((r) => r.name).join(', '),
        ...(similarRepositories ? { source: similarRepositories.source } : {}),
      });
      const first = locations[0];
      if (first) {
        nextSteps.push(
          `Change the image to \`${first}-docker.pkg.dev/${ar.project}/${ar.repository}/${ar.packageName}${image.digest ? `@${image.digest}` : `:${image.tag ?? 'latest'}`}\` in the workload spec and redeploy.`,
        );
      }
    } else if (similarRepositories?.ok) {
      evidence.push({
        label: `Repositories in ${ar.project}`,
        value: elsewhere.length > 0 ? elsewhere.map((r) => r.name).join(', ') : 'none',
        source: similarRepositories.source,
      });
      nextSteps.push('Check the image reference for a typo in the project or repository name.');
      nextSteps.push(
        `If the repository should exist, create it (\`gcloud artifacts repositories create ${ar.repository} --repository-format=docker --location=${ar.location} --project=${ar.project}\`) and push the image.`,
      );
    } else if (similarRepositories && !similarRepositories.ok) {
      evidence.push({
        label: 'Other repositories',
        value: `could not list: ${similarRepositories.error.message}`,
        source: similarRepositories.source,
      });
    }
    if (image.kind === 'gcr') {
      nextSteps.push(
        `\`${ar.host}\` is served by Artifact Registry from repository \`${ar.repository}\` in \`${ar.location}\`; create it with the gcr.io transition tooling if the project never moved.`,
      );
    }
    return {
      status: 'found',
      finding: {
        id: 'repository-not-found',
        title,
        summary:
          `The image points at \`${repositoryResource(ar)}\`, which Artifact Registry does not have. ` +
          'A missing repository also shows as 403 Forbidden to the nodes, so no IAM grant can fix this.',
        evidence,
        nextSteps,
        commands: [listRepositoriesCommand(ar.project)],
        links: image.kind === 'gcr' ? [DOC_LINKS.gcrTransition] : [DOC_LINKS.imagePulls],
      },
    };
  },
};

function locationOf(name: string): string | undefined {
  return /\/locations\/([^/]+)\//.exec(name)?.[1];
}
