import { diffPolicies, type IamPolicy, type PolicyChange } from '../diagnosis/iam-policy.ts';
import type { RepositoryIam } from '../ports/gcp.port.ts';
import { ReadError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

/** Attempts of one read-modify-write before an `ABORTED` (stale etag) is reported. */
export const IAM_WRITE_ATTEMPTS = 5;

export interface PolicyWriteDeps {
  readonly iam: RepositoryIam;
  readonly logger: Logger;
  /** Forgets cached reads of the policy once the bot has written it. */
  readonly invalidate: (prefix: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
}

export type PolicyWrite =
  | { readonly changed: false; readonly before: IamPolicy }
  | { readonly changed: true; readonly before: IamPolicy; readonly after: IamPolicy };

/**
 * The one place the bot writes IAM (docs/incidents-and-fixes.md, "Writing IAM"): `getIamPolicy` (version 3) →
 * `change` → `setIamPolicy` with the etag that was read, so a concurrent writer's change is never overwritten; on
 * `ABORTED` (a stale etag) nothing changed: re-read and try again, a bounded number of times. Every write is logged
 * with its diff and the cached policy forgotten. `beforeWrite` runs before each write is sent (the grant records its
 * ledger entry there); `afterConflict` after each refused one.
 */
export async function writePolicy(
  deps: PolicyWriteDeps,
  repository: string,
  change: (p: IamPolicy) => PolicyChange,
  hooks: {
    readonly beforeWrite?: (before: IamPolicy) => Promise<void>;
    readonly afterConflict?: () => Promise<void>;
  } = {},
): Promise<PolicyWrite> {
  for (let attempt = 0; ; attempt++) {
    const before = await deps.iam.getPolicy(repository);
    const next = change(before);
    if (!next.changed) return { changed: false, before };
    await hooks.beforeWrite?.(before);
    try {
      const after = await deps.iam.setPolicy(repository, next.policy);
      const diff = diffPolicies(before, after);
      deps.logger.info(
        {
          repository,
          added: diff.added.length,
          removed: diff.removed.length,
          etagBefore: before.etag,
          etagAfter: after.etag,
        },
        'repository IAM policy written',
      );
      deps.invalidate(`repo-policy|${repository}`);
      return { changed: true, before, after };
    } catch (e) {
      if (!(e instanceof ReadError && e.code === 'conflict') || attempt >= IAM_WRITE_ATTEMPTS - 1) throw e;
      await hooks.afterConflict?.();
      deps.logger.info({ repository, attempt }, 'IAM policy changed concurrently; re-reading');
      await deps.sleep(200 * 2 ** attempt + Math.random() * 100);
    }
  }
}
