import { DOC_LINKS } from '../commands.ts';
import { type Check, isArtifactRegistry, SKIP } from './check.ts';

/**
 * `vpc-sc`: a VPC Service Controls perimeter refused the pull. No IAM grant fixes it, so none is offered
 * (docs/diagnosis.md, "Findings": never offer the grant for a VPC-SC denial).
 */
export const vpcScCheck: Check = {
  id: 'vpc-sc',
  run({ classification, image }) {
    if (classification.cause !== 'vpc-sc-denied') return SKIP;
    const project = isArtifactRegistry(image) ? image.ar.project : undefined;
    return {
      status: 'found',
      finding: {
        id: 'vpc-sc',
        title: 'A VPC Service Controls perimeter blocks the pull',
        summary:
          `Artifact Registry refused the request because of an organization policy ("Request is prohibited by ` +
          `organization's policy"): the nodes' network or project is outside the service perimeter that protects ` +
          `${project ? `project \`${project}\`` : 'the registry'}. IAM is not the problem, so granting a role will not help.`,
        evidence: [{ label: 'Kubelet message', value: classification.matched ?? 'VPC Service Controls denial' }],
        nextSteps: [
          'Find the violation in Logs Explorer with the `vpcServiceControlsUniqueIdentifier` from the message.',
          'Ask the perimeter owner to add the cluster project to the perimeter, or an ingress rule for the node service account and `artifactregistry.googleapis.com`.',
          'If nodes use Private Google Access, route `*.pkg.dev` to `restricted.googleapis.com` (199.36.153.4/30).',
        ],
        commands: [],
        links: [DOC_LINKS.vpcSc],
      },
    };
  },
};
