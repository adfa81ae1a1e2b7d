import { DOC_LINKS, troubleshootCommand, troubleshooterLink } from '../commands.ts';
import { DOWNLOAD_PERMISSION } from '../roles.ts';
import { accessMayBeTheCause, type Check, CLEAR, isArtifactRegistry, SKIP, unknownFrom } from './check.ts';

/**
 * `deny-policy`: an IAM deny policy blocks `downloadArtifacts` for the node service account. Deny beats allow, so
 * the grant is never offered; the policy is named so the right team can be asked.
 */
export const denyPolicyCheck: Check = {
  id: 'deny-policy',
  run({ facts, classification, image, identity }) {
    if (!isArtifactRegistry(image) || !accessMayBeTheCause(classification.cause)) return SKIP;
    const { access, repository } = facts;
    if (repository && !repository.ok && repository.error.code === 'not-found') return SKIP;
    if (!access) return SKIP;
    if (!access.ok) return unknownFrom('deny-policy', access);
    if (access.value.deny !== 'DENY_ACCESS_STATE_DENIED') return CLEAR;
    const email = identity?.ok ? identity.value.serviceAccount : 'the node service account';
    const policies = access.value.denyPolicies;
    return {
      status: 'found',
      finding: {
        id: 'deny-policy',
        title: 'An IAM deny policy blocks image pulls for the node service account',
        summary:
          `A deny policy denies \`${DOWNLOAD_PERMISSION}\` to \`${email}\`. Deny policies win over any allow binding, ` +
          'so adding a role changes nothing; the deny policy or its exceptions must change, usually by the security team that owns it.',
        evidence: [
          {
            label: 'Policy Troubleshooter',
            value: `${access.value.overall}, ${access.value.deny}`,
            source: access.source,
          },
          ...policies.map((p) => ({
            label: 'Deny policy',
            value: p.attachmentPoint ? `${p.policy} (attached to ${p.attachmentPoint})` : p.policy,
            source: access.source,
          })),
        ],
        nextSteps: [
          'Escalate to the owner of the deny policy: ask for an exception principal for the node service account, or a narrower denial.',
          `Inspect it with \`gcloud iam policies get POLICY_ID --attachment-point=ATTACHMENT_POINT --kind=denypolicies\`.`,
        ],
        commands:
          isArtifactRegistry(image) && identity?.ok
            ? [troubleshootCommand(image.ar, identity.value.serviceAccount)]
            : [],
        links: [DOC_LINKS.deny, troubleshooterLink(image.ar.project)],
      },
    };
  },
};
