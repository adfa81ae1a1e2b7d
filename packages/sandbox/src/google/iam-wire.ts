/**
 * `google.iam.v1` GetIamPolicy / SetIamPolicy / TestIamPermissions semantics shared by the Artifact Registry and
 * Resource Manager fakes: requested policy versions, etag read-modify-write with ABORTED on a stale etag, and
 * conditions stored exactly as given.
 */
import * as grpc from '@grpc/grpc-js';
import { readPolicy, type WirePolicy, withcondRole, writePolicy } from '../world/iam.ts';
import type { Caller, IamBinding, IamCondition, IamPolicyState } from '../world/types.ts';
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

/** Bindings of `policy` with every member, unconditional ones keyed `role`, conditional ones by their v1 name. */
function grantsOf(bindings: readonly IamBinding[]): Set<string> {
  return new Set(
    bindings.flatMap((b) => b.members.map((m) => `${b.condition ? withcondRole(b.role, b.condition) : b.role} ${m}`)),
  );
}

/**
 * A version-1 write over a stored policy that has conditions (with its etag, so IAM checks compliance): every
 * `ROLE_withcond_HASH` binding stands for the stored conditional binding it names and keeps its condition. As
 * policy.proto requires version 3 for changing or removing a conditional binding, and for removing any binding
 * from a policy with conditions, those are refused; adding unconditional grants is allowed (gcloud's
 * `artifacts repositories add-iam-policy-binding` reads and writes at version 1).
 */
function resolveVersion1(state: IamPolicyState, bindings: IamBinding[]): IamBinding[] {
  const stored = new Map(state.bindings.flatMap((b) => (b.condition ? [[withcondRole(b.role, b.condition), b]] : [])));
  const resolved = bindings.map((b) => {
    if (!b.role.includes('_withcond_')) return b;
    const original = stored.get(b.role);
    if (!original) {
      throw invalidArgument(`Role (${b.role}) does not exist in the resource's hierarchy.`);
    }
    return { ...b, role: original.role, ...(original.condition ? { condition: original.condition } : {}) };
  });
  const before = grantsOf(state.bindings);
  const after = grantsOf(resolved);
  const conditionalChanged = [...stored.values()].some(
    (b) => !b.members.every((m) => after.has(`${withcondRole(b.role, b.condition as IamCondition)} ${m}`)),
  );
  const conditionalGrew = [...after].some((g) => g.includes('_withcond_') && !before.has(g));
  if (conditionalChanged || conditionalGrew) {
    throw invalidArgument(
      'Request contains an invalid argument: a conditional role binding can only be changed or removed with policy version 3.',
    );
  }
  if ([...before].some((g) => !after.has(g))) {
    throw invalidArgument(
      'Request contains an invalid argument: removing a role binding from a policy with conditional role bindings requires policy version 3.',
    );
  }
  return resolved;
}

/**
 * SetIamPolicy: with an etag, it must be the current one (else ABORTED, as IAM answers concurrent changes); with
 * none, the policy is overwritten blindly (documented IAM behaviour). A version-1 write with the etag of a policy
 * that has conditions is checked against it (see {@link resolveVersion1}). Each success changes the etag.
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
  const storedHasConditions = state.bindings.some((b) => b.condition);
  const checked = etag.length > 0 && policy.version < 3 && storedHasConditions;
  let bindings: IamBinding[] = [];
  for (const b of policy.bindings ?? []) {
    if (!b.role) throw invalidArgument('Request contains an invalid argument: a binding has no role.');
    if (b.role.includes('_withcond_') && !checked) {
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
  if (checked) bindings = resolveVersion1(state, bindings);
  writePolicy(state, resource, bindings, world.now());
  // Answered in the form it was written in: a version-1 writer reads its `_withcond_` names back.
  return readPolicy(state, policy.version >= 3 ? 3 : 1);
}

/** TestIamPermissions: the requested permissions the caller holds on the resource. */
export function testPermissions(
  world: World,
  req: TestIamPermissionsRequest,
  caller: Caller,
): { permissions: string[] } {
  return { permissions: (req.permissions ?? []).filter((p) => !world.denied(caller, p, req.resource)) };
}
