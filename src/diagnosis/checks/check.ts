import type { Classification } from '../cause.ts';
import type { DiagnosisSubject, Finding, FindingId, FixPlan, PullIdentity, Unknown } from '../diagnosis.ts';
import type { Fact, Facts } from '../facts.ts';
import type { ImageRef } from '../image-ref.ts';

/** Everything a check may look at. Built once per diagnosis; checks never do I/O. */
export interface CheckContext {
  readonly facts: Facts;
  readonly classification: Classification;
  readonly image?: ImageRef;
  readonly subject: DiagnosisSubject;
  /** The node pool and service account that pull the image, resolved from cluster, node and project number. */
  readonly identity?: Fact<PullIdentity>;
}

/**
 * - `found`: the finding holds, with the fixes it allows;
 * - `clear`: the check looked and the problem is not there;
 * - `skip`: the check does not apply to this failure (other registry, other cause);
 * - `unknown`: a read it needs failed: the diagnosis shows it (and names a missing permission as `cannot-verify`).
 */
export type CheckResult =
  | {
      readonly status: 'found';
      readonly finding: Finding;
      readonly fixes?: readonly FixPlan[];
      /** Reads that failed although the finding still holds (shown, and named in `cannot-verify`). */
      readonly unknowns?: readonly Unknown[];
    }
  | { readonly status: 'clear' }
  | { readonly status: 'skip' }
  | { readonly status: 'unknown'; readonly missing: readonly Unknown[] };

/** One concern, facts in, result out (the k8sgpt analyzer shape without its I/O). */
export interface Check {
  readonly id: FindingId;
  run(ctx: CheckContext): CheckResult;
}

export const CLEAR: CheckResult = { status: 'clear' };
export const SKIP: CheckResult = { status: 'skip' };

export function unknownFrom(check: string, ...facts: (Fact<unknown> | undefined)[]): CheckResult {
  const missing: Unknown[] = [];
  for (const f of facts) if (f && !f.ok) missing.push({ check, source: f.source, error: f.error });
  return { status: 'unknown', missing };
}

/** True for images served by Artifact Registry (its own hosts or the gcr.io domains). */
export function isArtifactRegistry(
  image: ImageRef | undefined,
): image is ImageRef & { ar: NonNullable<ImageRef['ar']> } {
  return image?.ar !== undefined && (image.kind === 'artifact-registry' || image.kind === 'gcr');
}

/** Message causes for which access (IAM, scopes, deny, VPC-SC) can be the reason. */
export function accessMayBeTheCause(cause: Classification['cause']): boolean {
  return (
    cause === 'permission-denied' ||
    cause === 'unauthenticated' ||
    cause === 'not-found-or-unauthorized' ||
    cause === 'no-detail' ||
    cause === 'unknown'
  );
}
