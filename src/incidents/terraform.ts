import { parseRepositoryName } from '../diagnosis/commands.ts';
import type { GrantRepoReaderPlan } from '../diagnosis/diagnosis.ts';

/**
 * The plan's grant as Terraform (pure), for teams whose IAM lives in code: the bot's change would otherwise be
 * reverted by their next `apply` if they manage the role's members authoritatively.
 */
export interface TerraformGrant {
  /** An HCL `google_artifact_registry_repository_iam_member` block for exactly this grant. */
  readonly hcl: string;
  /** Why `_iam_member`, not `_iam_binding` or `_iam_policy` (one paragraph, channel-neutral, `code` spans). */
  readonly why: string;
}

export function terraformFor(grant: GrantRepoReaderPlan): TerraformGrant | undefined {
  const repo = parseRepositoryName(grant.repository);
  if (!repo) return undefined;
  const who = grant.member.replace(/^[a-zA-Z]+:/, '').split('@')[0] ?? 'member';
  const name = identifier(`${repo.repository}_reader_${who}`);
  const hcl = [
    `resource "google_artifact_registry_repository_iam_member" "${name}" {`,
    `  project    = ${quote(repo.project)}`,
    `  location   = ${quote(repo.location)}`,
    `  repository = ${quote(repo.repository)}`,
    `  role       = ${quote(grant.role)}`,
    `  member     = ${quote(grant.member)}`,
    '}',
  ].join('\n');
  const why =
    '`_iam_member` adds this one member and leaves everyone else on the policy alone, as the bot does; applying it ' +
    'after the bot granted access finds the member there and changes nothing. Not `_iam_binding`: it is ' +
    `authoritative for \`${grant.role}\` on the repository and removes every member of that role it does not list. ` +
    'Not `_iam_policy`: it replaces the whole policy. If your code already manages this role with either, add the ' +
    'member there instead — otherwise the next `terraform apply` reverts the grant.';
  return { hcl, why };
}

/** A Terraform resource name: letters, digits, `_`; never starting with a digit. */
function identifier(s: string): string {
  const id = s.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `r_${id}`;
}

/** An HCL string literal: quotes, backslashes and `${`/`%{` template sequences escaped. */
function quote(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('${', '$${').replaceAll('%{', '%%{')}"`;
}
