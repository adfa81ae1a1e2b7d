import { DOC_LINKS, listTagsCommand } from '../commands.ts';
import { type Check, CLEAR, isArtifactRegistry, SKIP, unknownFrom } from './check.ts';

/** `image-not-found`: the repository exists, the tag or digest the pod asks for does not. Shows the recent tags. */
export const imageNotFoundCheck: Check = {
  id: 'image-not-found',
  run({ facts, classification, image }) {
    if (!isArtifactRegistry(image)) return SKIP;
    const { repository, tag } = facts;
    if (!repository?.ok || !tag) return SKIP;
    if (!tag.ok) {
      // Only worth reporting as unknown when the message itself says "not found".
      return classification.cause === 'not-found' ? unknownFrom('image-not-found', tag) : SKIP;
    }
    if (tag.value.exists) return CLEAR;
    const ar = image.ar;
    const wanted = image.digest ?? image.tag ?? 'latest';
    const recent = tag.value.recentTags.slice(0, 8);
    const title = tag.value.packageExists
      ? `Tag \`${wanted}\` does not exist for \`${ar.packageName}\``
      : `Image \`${ar.packageName}\` does not exist in repository \`${ar.repository}\``;
    return {
      status: 'found',
      finding: {
        id: 'image-not-found',
        title,
        summary: tag.value.packageExists
          ? `Repository \`${ar.resourceName}\` has the image \`${ar.packageName}\` but not \`${wanted}\`: it was never pushed, was deleted by a cleanup policy, or the deployment names the wrong tag.`
          : `Repository \`${ar.resourceName}\` exists but holds no image called \`${ar.packageName}\`.`,
        evidence: [
          { label: 'Requested', value: image.normalized, source: tag.source },
          {
            label: 'Recent tags',
            value:
              recent.length > 0
                ? recent.map((t) => (t.updated ? `${t.tag} (${t.updated})` : t.tag)).join(', ')
                : 'none',
            source: tag.source,
          },
        ],
        nextSteps: [
          'Push the missing tag, or point the workload at one that exists and redeploy.',
          'If tags disappear, check the repository cleanup policies.',
        ],
        commands: [listTagsCommand(ar.host, ar, ar.packageName)],
        links: [DOC_LINKS.imagePulls],
      },
    };
  },
};
