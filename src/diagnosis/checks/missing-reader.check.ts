import {
  DOC_LINKS,
  getCredentialsCommand,
  grantReaderCommand,
  projectRolesCommand,
  repositoryLink,
  repositoryPolicyCommand,
  restartCommand,
  troubleshootCommand,
} from '../commands.ts';
import type { Evidence, FixPlan } from '../diagnosis.ts';
import {
  deletedMemberGrants,
  hasUnconditionalPull,
  type IamPolicy,
  type MemberGrant,
  pullGrantsFor,
  serviceAccountMember,
} from '../iam-policy.ts';
import { identityOfPool } from '../identity.ts';
import { DOWNLOAD_PERMISSION, isMisleadingPullRole, READER_ROLE } from '../roles.ts';
import {
  accessMayBeTheCause,
  type Check,
  type CheckContext,
  CLEAR,
  isArtifactRegistry,
  SKIP,
  unknownFrom,
} from './check.ts';

/**
 * `node-sa-missing-reader` / `cross-project-reader-missing`: the node pool's service account holds no role with
 * `downloadArtifacts` on the repository or its project. Read from both allow policies (version 3) and confirmed by the
 * Policy Troubleshooter when it answers; either source alone can decide when the other could not be read.
 * Offers the least-privilege fix: `roles/artifactregistry.reader` on this one repository (+ restart).
 */
export const missingReaderCheck: Check = {
  id: 'node-sa-missing-reader',
  run(ctx) {
    const { facts, classification, image, identity, subject } = ctx;
    if (!isArtifactRegistry(image) || !accessMayBeTheCause(classification.cause)) return SKIP;
    const { repository, repositoryPolicy, projectPolicy, access } = facts;
    if (repository && !repository.ok && repository.error.code === 'not-found') return SKIP;
    if (!identity) return SKIP;
    if (!identity.ok) return unknownFrom('node-sa-missing-reader', identity);
    const email = identity.value.serviceAccount;
    const repoGrants = repositoryPolicy?.ok ? pullGrantsFor(repositoryPolicy.value, email) : undefined;
    const projectGrants = projectPolicy?.ok ? pullGrantsFor(projectPolicy.value, email) : undefined;
    const allGrants = [...(repoGrants ?? []), ...(projectGrants ?? [])];
    const verdict = access?.ok ? access.value : undefined;
    if (allGrants.some((g) => !g.condition)) return CLEAR;
    if (verdict?.allow === 'ALLOW_ACCESS_STATE_GRANTED') return CLEAR;
    const conditionalOnly = allGrants.length > 0;
    const decided =
      (repoGrants !== undefined && projectGrants !== undefined) ||
      verdict?.allow === 'ALLOW_ACCESS_STATE_NOT_GRANTED' ||
      conditionalOnly;
    if (!decided) return unknownFrom('node-sa-missing-reader', repositoryPolicy, projectPolicy, access);

    const ar = image.ar;
    const cluster = subject.cluster;
    const crossProject = cluster !== undefined && cluster.project !== ar.project;
    const member = serviceAccountMember(email);
    const evidence: Evidence[] = [
      {
        label: 'Node identity',
        value: `pool \`${identity.value.nodePool}\` runs as \`${email}\`${identity.value.isDefaultComputeAccount ? ' (Compute Engine default)' : ''}`,
        source: identity.source,
      },
      policyEvidence('Repository policy', repositoryPolicy, repoGrants, email),
      policyEvidence(`Project ${ar.project} policy`, projectPolicy, projectGrants, email),
    ];
    if (access) {
      evidence.push(
        access.ok
          ? {
              label: 'Policy Troubleshooter',
              value: `${access.value.overall} (${access.value.allow ?? 'no allow explanation'})`,
              source: access.source,
            }
          : { label: 'Policy Troubleshooter', value: `not available: ${access.error.message}`, source: access.source },
      );
    }
    for (const p of [repositoryPolicy, projectPolicy]) {
      if (!p?.ok) continue;
      for (const g of deletedMemberGrants(p.value, email)) {
        evidence.push({
          label: 'Stale binding',
          value: `\`${g.member}\` holds \`${g.role}\`: it belongs to a deleted account of the same name and grants nothing to the current one`,
          source: p.source,
        });
      }
    }
    if (projectPolicy?.ok) {
      const misleading = projectPolicy.value.bindings.filter(
        (b) => isMisleadingPullRole(b.role) && b.members.includes(member),
      );
      for (const b of misleading) {
        evidence.push({
          label: 'Role that does not help',
          value: `\`${b.role}\` on the project does not include \`${DOWNLOAD_PERMISSION}\``,
          source: projectPolicy.source,
        });
      }
    }
    evidence.push(...otherPoolsThatCanPull(ctx, email));

    // The bot applies the grant with getIamPolicy/setIamPolicy: if it cannot read the policy, it cannot apply it.
    const canApply = repositoryPolicy?.ok === true;
    const fixes: FixPlan[] = [];
    if (canApply) {
      fixes.push({
        kind: 'grant-repo-reader',
        repository: ar.resourceName,
        member,
        role: READER_ROLE,
        basedOnEtag: repositoryPolicy.value.etag,
      });
      if (cluster && subject.workload) fixes.push({ kind: 'restart-workload', cluster, workload: subject.workload });
    }
    const unknowns = [repositoryPolicy, projectPolicy, access].flatMap((f) =>
      f && !f.ok ? [{ check: 'node-sa-missing-reader', source: f.source, error: f.error }] : [],
    );

    const who = `\`${email}\``;
    const summary = [
      crossProject
        ? `The image lives in project \`${ar.project}\`, the cluster in \`${cluster?.project}\`. Nodes pull as ${who}, which holds no role with \`${DOWNLOAD_PERMISSION}\` on repository \`${ar.repository}\` or on project \`${ar.project}\`: cross-project pulls need an explicit grant in the repository's project.`
        : `Nodes of pool \`${identity.value.nodePool}\` pull as ${who}, which holds no role with \`${DOWNLOAD_PERMISSION}\` on repository \`${ar.repository}\` or on project \`${ar.project}\`, so Artifact Registry answers 403.`,
      conditionalOnly
        ? `Its only pull role is conditional (${allGrants.map(conditionText).join('; ')}), and the condition does not cover this pull.`
        : '',
      identity.value.isDefaultComputeAccount
        ? 'Organizations created since May 2024 no longer give the Compute Engine default service account the Editor role, so nothing lets it pull until a role is granted.'
        : '',
    ]
      .filter((s) => s !== '')
      .join(' ');

    const commands = [
      grantReaderCommand(ar, member),
      repositoryPolicyCommand(ar),
      projectRolesCommand(ar.project, email),
      troubleshootCommand(ar, email),
    ];
    if (cluster && subject.workload)
      commands.splice(
        1,
        0,
        getCredentialsCommand(cluster),
        restartCommand(subject.workload, facts.workload?.ok === true && facts.workload.value.paused),
      );

    return {
      status: 'found',
      fixes,
      unknowns,
      finding: {
        id: crossProject ? 'cross-project-reader-missing' : 'node-sa-missing-reader',
        title: crossProject
          ? `Node service account cannot read \`${ar.repository}\` in project \`${ar.project}\``
          : `Node service account lacks read access to repository \`${ar.repository}\``,
        summary,
        evidence,
        nextSteps: [
          `Grant \`${READER_ROLE}\` on repository \`${ar.repository}\` (only this repository) to ${who}, then restart the workload so new pods pull again.`,
          'IAM changes take about 2 minutes (sometimes 7 or more) to reach the registry; the bot waits for the Troubleshooter to confirm before restarting.',
          identity.value.isDefaultComputeAccount
            ? 'Longer term, run node pools as a dedicated service account with `roles/container.defaultNodeServiceAccount` plus reader on the repositories they need.'
            : `Grant reader on every repository this pool pulls from, not the whole project, to keep ${who} least-privileged.`,
        ],
        commands,
        links: [repositoryLink(ar), DOC_LINKS.gkePermissions, DOC_LINKS.nodeServiceAccounts],
      },
    };
  },
};

function policyEvidence(
  label: string,
  policy: CheckContext['facts']['repositoryPolicy'],
  grants: MemberGrant[] | undefined,
  email: string,
): Evidence {
  if (!policy) return { label, value: 'not read' };
  if (!policy.ok) return { label, value: `could not read: ${policy.error.message}`, source: policy.source };
  const value =
    grants && grants.length > 0
      ? `only conditional pull roles for \`${email}\`: ${grants.map((g) => `${g.role} [${conditionText(g)}]`).join(', ')}`
      : `${policy.value.bindings.length} binding(s), none lets \`${email}\` pull`;
  return { label, value, source: policy.source };
}

function conditionText(g: MemberGrant): string {
  return g.condition
    ? g.condition.title
      ? `${g.condition.title}: ${g.condition.expression}`
      : g.condition.expression
    : 'unconditional';
}

/** Pools of the same cluster whose service account can pull: a hint that the pod landed on the wrong pool. */
function otherPoolsThatCanPull(ctx: CheckContext, email: string): Evidence[] {
  const { cluster, clusterProjectNumber, repositoryPolicy, projectPolicy } = ctx.facts;
  if (!cluster?.ok) return [];
  const policies: IamPolicy[] = [repositoryPolicy, projectPolicy].flatMap((p) => (p?.ok ? [p.value] : []));
  const out: Evidence[] = [];
  for (const pool of cluster.value.nodePools) {
    const id = identityOfPool(pool, cluster, clusterProjectNumber);
    if (!id.ok || id.value.serviceAccount === email) continue;
    if (policies.some((p) => hasUnconditionalPull(p, id.value.serviceAccount))) {
      out.push({
        label: 'Another pool can pull',
        value: `pool \`${pool.name}\` runs as \`${id.value.serviceAccount}\`, which can read this repository; this pod was scheduled elsewhere`,
        source: cluster.source,
      });
    }
  }
  return out;
}
