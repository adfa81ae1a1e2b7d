import { accessAlreadyGrantedCheck } from './access-already-granted.check.ts';
import type { Check } from './check.ts';
import { denyPolicyCheck } from './deny-policy.check.ts';
import { imageNotFoundCheck } from './image-not-found.check.ts';
import { missingReaderCheck } from './missing-reader.check.ts';
import { nodeScopesCheck } from './node-scopes.check.ts';
import { nonGcpRegistryCheck } from './non-gcp-registry.check.ts';
import { repositoryNotFoundCheck } from './repository-not-found.check.ts';
import { vpcScCheck } from './vpc-sc.check.ts';
import { workloadIdentityCheck } from './workload-identity.check.ts';

/**
 * The registry of checks, in priority order: when several findings hold, the first is the root cause the incident is
 * keyed and titled on (a perimeter or deny policy explains a 403 before a missing binding does; a missing repository
 * makes IAM moot).
 */
export const CHECKS: readonly Check[] = [
  vpcScCheck,
  denyPolicyCheck,
  repositoryNotFoundCheck,
  nodeScopesCheck,
  missingReaderCheck,
  workloadIdentityCheck,
  imageNotFoundCheck,
  accessAlreadyGrantedCheck,
  nonGcpRegistryCheck,
];

export type { Check, CheckContext, CheckResult } from './check.ts';
