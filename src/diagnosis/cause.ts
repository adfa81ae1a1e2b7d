/**
 * Message causes: what the kubelet/runtime text alone says went wrong (docs/diagnosis.md, "Causes").
 *
 * These ids are a public contract: the CLI prints them, tests and dashboards key on them.
 * Never rename one; add new ids at the end.
 */
export const CAUSES = [
  'permission-denied',
  'unauthenticated',
  'not-found',
  'not-found-or-unauthorized',
  'vpc-sc-denied',
  'rate-limited',
  'network',
  'tls',
  'platform-mismatch',
  'invalid-reference',
  'pull-secret-missing',
  'never-pull',
  'registry-unavailable',
  'no-detail',
  'unknown',
  'unsupported-manifest',
] as const;

export type Cause = (typeof CAUSES)[number];

/** Refinement of `network`: which part of the path to the registry failed. */
export const NETWORK_SUB_KINDS = ['dns', 'timeout', 'refused', 'restricted-vip'] as const;
export type NetworkSubKind = (typeof NETWORK_SUB_KINDS)[number];

/** The result of reading one kubelet/runtime message, before any fact is gathered. */
export interface Classification {
  readonly cause: Cause;
  /** Only for `network`. */
  readonly subKind?: NetworkSubKind;
  /** The image reference the message names (`Failed to pull image "X"`, `Back-off pulling image "X"`, …), verbatim. */
  readonly image?: string;
  /** An Artifact Registry repository named in the message (`denied on resource "projects/P/locations/L/repositories/R"`). */
  readonly repositoryHint?: string;
  /** The part of the message that decided the cause, for evidence. */
  readonly matched?: string;
}
