import { DOC_LINKS } from '../commands.ts';
import { hasUnconditionalPull, type IamPolicy, pullGrantsFor } from '../iam-policy.ts';
import { accessMayBeTheCause, type Check, CLEAR, isArtifactRegistry, SKIP } from './check.ts';

/**
 * `workload-identity-misconception`: reader was granted to the Google service account the workload impersonates
 * (Workload Identity), not to the node's. The kubelet pulls images with the node's credentials; the pod's identity
 * plays no part in image pulls (docs/diagnosis.md, "Who pulls").
 */
export const workloadIdentityCheck: Check = {
  id: 'workload-identity-misconception',
  run({ facts, classification, image, identity }) {
    if (!isArtifactRegistry(image) || !accessMayBeTheCause(classification.cause)) return SKIP;
    const ksa = facts.kubernetesServiceAccount;
    if (!ksa?.ok || !ksa.value.gcpServiceAccount || !identity?.ok) return SKIP;
    const gsa = ksa.value.gcpServiceAccount;
    const node = identity.value.serviceAccount;
    if (gsa === node) return SKIP;
    const policies: { name: string; policy: IamPolicy; source: string }[] = [];
    if (facts.repositoryPolicy?.ok)
      policies.push({
        name: 'repository',
        policy: facts.repositoryPolicy.value,
        source: facts.repositoryPolicy.source,
      });
    if (facts.projectPolicy?.ok)
      policies.push({
        name: `project ${image.ar.project}`,
        policy: facts.projectPolicy.value,
        source: facts.projectPolicy.source,
      });
    const nodeCanPull =
      policies.some((p) => hasUnconditionalPull(p.policy, node)) ||
      (facts.access?.ok === true && facts.access.value.overall === 'CAN_ACCESS');
    if (nodeCanPull) return CLEAR;
    const gsaGrants = policies.flatMap((p) =>
      pullGrantsFor(p.policy, gsa).map((g) => ({ ...g, where: p.name, source: p.source })),
    );
    if (gsaGrants.length === 0) return CLEAR;
    return {
      status: 'found',
      finding: {
        id: 'workload-identity-misconception',
        title: "Read access was granted to the workload's identity, but nodes pull images",
        summary:
          `Kubernetes service account \`${ksa.value.name}\` impersonates \`${gsa}\` through Workload Identity, and that ` +
          `account can read the repository. Image pulls do not use it: the kubelet pulls with the node's service ` +
          `account \`${node}\`, which cannot. Grant reader to the node service account instead; the workload's grant can stay for what the app itself reads.`,
        evidence: [
          { label: 'Kubernetes service account', value: `${ksa.value.name} → ${gsa}`, source: ksa.source },
          ...gsaGrants.map((g) => ({
            label: `Grant on ${g.where}`,
            value: `${g.role} for ${g.member}`,
            source: g.source,
          })),
          { label: 'Node identity', value: node, source: identity.source },
        ],
        nextSteps: [`Grant \`roles/artifactregistry.reader\` on the repository to \`${node}\` (the button does this).`],
        commands: [],
        links: [DOC_LINKS.gkePermissions],
      },
    };
  },
};
