import { cordonPoolCommand, DOC_LINKS, newNodePoolCommand, nodePoolCommand, nodePoolLink } from '../commands.ts';
import { scopesAllowPull } from '../identity.ts';
import { accessMayBeTheCause, type Check, CLEAR, isArtifactRegistry, SKIP, unknownFrom } from './check.ts';

/**
 * `node-scopes-insufficient`: the node pool has neither `cloud-platform` nor a `devstorage` scope, so its tokens cannot
 * read Artifact Registry whatever IAM says. Scopes cannot be changed on an existing pool: no button, say how.
 */
export const nodeScopesCheck: Check = {
  id: 'node-scopes-insufficient',
  run({ classification, image, identity, subject }) {
    if (!isArtifactRegistry(image) || !accessMayBeTheCause(classification.cause)) return SKIP;
    if (!identity) return SKIP;
    if (!identity.ok) return unknownFrom('node-scopes-insufficient', identity);
    const { nodePool, oauthScopes, serviceAccount } = identity.value;
    if (scopesAllowPull(oauthScopes)) return CLEAR;
    const cluster = subject.cluster;
    return {
      status: 'found',
      finding: {
        id: 'node-scopes-insufficient',
        title: `Node pool \`${nodePool}\` lacks the OAuth scope to read Artifact Registry`,
        summary:
          `The nodes of \`${nodePool}\` get access tokens limited to their OAuth scopes, and none of them ` +
          '(`cloud-platform`, `devstorage.read_only`) covers Artifact Registry. Pulls fail with 401/403 even when the ' +
          'service account has the right role. Scopes are fixed when a pool is created, so the fix is a new node pool.',
        evidence: [
          { label: 'Node pool', value: nodePool, source: identity.source },
          {
            label: 'OAuth scopes',
            value: oauthScopes.length > 0 ? oauthScopes.join(', ') : '(none)',
            source: identity.source,
          },
        ],
        nextSteps: [
          `Create a replacement pool with \`--scopes=cloud-platform\` (and \`--service-account=${serviceAccount}\`), then move the workloads to it and delete \`${nodePool}\`.`,
          'Control access with IAM roles on the service account rather than with scopes.',
        ],
        commands: cluster
          ? [
              nodePoolCommand(cluster, nodePool),
              newNodePoolCommand(cluster, nodePool, serviceAccount),
              cordonPoolCommand(nodePool),
            ]
          : [],
        links: cluster ? [nodePoolLink(cluster, nodePool), DOC_LINKS.scopes] : [DOC_LINKS.scopes],
      },
    };
  },
};
