/**
 * `google.iam.v1` GetIamPolicy / SetIamPolicy / TestIamPermissions semantics shared by the Artifact Registry and
 * Resource Manager fakes: requested policy versions, etag read-modify-write with ABORTED on a stale etag, and
 * conditions stored exactly as given.
 */
import * as grpc from '@grpc/grpc-js';
import { readPolicy, type WirePolicy, writePolicy } from '../world/iam.ts';
import type { IamBinding, IamCondition, IamPolicyState } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { GrpcError, invalidArgument } from './grpc.ts';

/** `google.iam.v1.GetIamPolicyRequest` as proto-loader decodes it. */
export interface GetIamPolicyRequest {
  resource: string;
  options: { requestedPolicyVersion: number } | null;
}

interface WireExpr {
  expression: string;
  title: string;
  description: string;
  location: string;
}

/** `google.iam.v1.SetIamPolicyRequest` as proto-loader decodes it. */
export interface SetIamPolicyRequest {
  resource: string;
  policy: {
    version: number;
    bindings: { role: string; members: string[]; condition: WireExpr | null }[];
    etag: Buffer;
  } | null;
}

/** `google.iam.v1.TestIamPermissionsRequest` as proto-loader decodes it. */
export interface TestIamPermissionsRequest {
  resource: string;
  permissions: string[];
}

/** GetIamPolicy: honours `options.requestedPolicyVersion` (0, 1 or 3). */
export function getPolicy(state: IamPolicyState, req: GetIamPolicyRequest): WirePolicy {
  const requested = req.options?.requestedPolicyVersion ?? 0;
  if (![0, 1, 3].includes(requested)) {
    throw invalidArgument(`Invalid requested_policy_version: ${requested}. Valid values are 0, 1 and 3.`);
  }
  return readPolicy(state, requested);
}

const MEMBER =
  /^(user|serviceAccount|group|domain|principal|principalSet|deleted:[a-zA-Z]+):.+|^allUsers$|^allAuthenticatedUsers$/;

function toCondition(e: WireExpr | null): IamCondition | undefined {
  if (!e || (!e.expression && !e.title)) return undefined;
  return {
    title: e.title,
    expression: e.expression,
    ...(e.description ? { description: e.description } : {}),
    ...(e.location ? { location: e.location } : {}),
  };
}

/**
 * SetIamPolicy: with an etag, it must be the current one (else ABORTED, as IAM answers concurrent changes); with
 * none, the policy is overwritten blindly (documented IAM behaviour). Each success changes the etag.
 */
export function setPolicy(world: World, state: IamPolicyState, resource: string, req: SetIamPolicyRequest): WirePolicy {
  const policy = req.policy;
  if (!policy) throw invalidArgument('Request contains an invalid argument: policy is required.');
  const etag = Buffer.from(policy.etag ?? []);
  if (etag.length > 0 && !etag.equals(state.etag)) {
    throw new GrpcError(
      grpc.status.ABORTED,
      'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
    );
  }
  const bindings: IamBinding[] = [];
  for (const b of policy.bindings ?? []) {
    if (!b.role) throw invalidArgument('Request contains an invalid argument: a binding has no role.');
    if (b.role.includes('_withcond_')) {
      throw invalidArgument(
        `Role (${b.role}) does not exist in the resource's hierarchy; conditional bindings must be sent with policy version 3.`,
      );
    }
    for (const m of b.members ?? []) {
      if (!MEMBER.test(m)) throw invalidArgument(`Invalid member: ${m}`);
    }
    const condition = toCondition(b.condition);
    if (condition && policy.version < 3) {
      throw invalidArgument(
        'Request contains an invalid argument: conditional role bindings require policy version 3.',
      );
    }
    if ((b.members ?? []).length === 0) continue;
    bindings.push({ role: b.role, members: [...new Set(b.members)], ...(condition ? { condition } : {}) });
  }
  writePolicy(state, resource, bindings, world.now());
  return readPolicy(state, 3);
}

/** TestIamPermissions: the requested permissions the caller (the bot) holds on the resource. */
export function testPermissions(world: World, req: TestIamPermissionsRequest): { permissions: string[] } {
  return { permissions: (req.permissions ?? []).filter((p) => !world.botDenied(p, req.resource)) };
}
