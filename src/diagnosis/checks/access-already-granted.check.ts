import { DOC_LINKS, getCredentialsCommand, restartCommand, troubleshootCommand } from '../commands.ts';
import type { Evidence, FixPlan } from '../diagnosis.ts';
import { hasUnconditionalPull } from '../iam-policy.ts';
import { scopesAllowPull } from '../identity.ts';
import { accessMayBeTheCause, type Check, isArtifactRegistry, SKIP } from './check.ts';

/**
 * `access-already-granted`: IAM says the node service account can pull, nothing else found blocks it, yet the pod
 * failed. Usually a recent grant still propagating (2–7 minutes) with pods stuck in back-off; otherwise something IAM
 * does not show (VPC-SC seen only as 403, Artifact Registry download rules). Offers a restart only.
 */
export const accessAlreadyGrantedCheck: Check = {
  id: 'access-already-granted',
  run({ facts, classification, image, identity, subject }) {
    if (!isArtifactRegistry(image) || !accessMayBeTheCause(classification.cause)) return SKIP;
    if (!identity?.ok) return SKIP;
    const { repository, tag, access, repositoryPolicy, projectPolicy } = facts;
    if (repository && !repository.ok) return SKIP;
    if (tag?.ok && !tag.value.exists) return SKIP;
    if (!scopesAllowPull(identity.value.oauthScopes)) return SKIP;
    if (access?.ok && access.value.deny === 'DENY_ACCESS_STATE_DENIED') return SKIP;
    const email = identity.value.serviceAccount;
    const evidence: Evidence[] = [];
    const troubleshooterSays = access?.ok && access.value.overall === 'CAN_ACCESS';
    if (troubleshooterSays)
      evidence.push({ label: 'Policy Troubleshooter', value: 'CAN_ACCESS', source: access.source });
    for (const [label, p] of [
      ['Repository policy', repositoryPolicy],
      ['Project policy', projectPolicy],
    ] as const) {
      if (p?.ok && hasUnconditionalPull(p.value, email)) {
        evidence.push({ label, value: `\`${email}\` holds a role with downloadArtifacts`, source: p.source });
      }
    }
    if (evidence.length === 0) return SKIP;
    if (access?.ok && access.value.overall === 'CANNOT_ACCESS') {
      // The policy holds the grant but the Troubleshooter does not see it yet: a grant still propagating.
      evidence.push({
        label: 'Policy Troubleshooter',
        value: 'still CANNOT_ACCESS: the grant has not propagated yet',
        source: access.source,
      });
    }
    const cluster = subject.cluster;
    const fixes: FixPlan[] =
      cluster && subject.workload ? [{ kind: 'restart-workload', cluster, workload: subject.workload }] : [];
    return {
      status: 'found',
      fixes,
      finding: {
        id: 'access-already-granted',
        title: 'The node service account can already pull: restart the pods',
        summary:
          `IAM says \`${email}\` may download from \`${image.ar.repository}\`, and the scopes, repository and tag are fine. ` +
          'If the role was granted in the last few minutes, the change is still propagating (usually about 2 minutes, sometimes 7 or more) ' +
          'and the failing pods are waiting out the kubelet back-off: a restart makes them pull again. If the grant is older, look for ' +
          'what IAM does not show: a VPC Service Controls perimeter answering 403, or Artifact Registry download rules.',
        evidence,
        nextSteps: [
          'Restart the workload (Restart only) once a few minutes have passed since the grant.',
          'If pulls still fail afterwards, check VPC-SC violations in the audit logs and the repository download rules.',
        ],
        commands: [
          ...(cluster && subject.workload
            ? [
                getCredentialsCommand(cluster),
                restartCommand(subject.workload, facts.workload?.ok === true && facts.workload.value.paused),
              ]
            : []),
          troubleshootCommand(image.ar, email),
        ],
        links: [DOC_LINKS.propagation, DOC_LINKS.vpcSc],
      },
    };
  },
};
