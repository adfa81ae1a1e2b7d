import { roleCanPull } from './roles.ts';

/** An IAM Condition (CEL), as in `google.type.Expr`. */
export interface IamCondition {
  readonly title?: string;
  readonly description?: string;
  readonly expression: string;
}

export interface IamBinding {
  readonly role: string;
  readonly members: readonly string[];
  readonly condition?: IamCondition;
}

/** An allow policy as read with `requestedPolicyVersion: 3`. `etag` is base64, exactly as the API returned it. */
export interface IamPolicy {
  readonly version: number;
  readonly etag: string;
  readonly bindings: readonly IamBinding[];
}

/** One role a member holds through one binding. */
export interface MemberGrant {
  readonly role: string;
  readonly member: string;
  readonly condition?: IamCondition;
}

/** The IAM member string for a service account email. */
export function serviceAccountMember(email: string): `serviceAccount:${string}` {
  return `serviceAccount:${email}`;
}

/**
 * Roles a service account holds in a policy that can pull images: direct `serviceAccount:` membership or the
 * public principals. Conditional bindings are returned with their condition: whether they apply is not knowable here.
 */
export function pullGrantsFor(policy: IamPolicy, email: string): MemberGrant[] {
  const direct = serviceAccountMember(email).toLowerCase();
  const grants: MemberGrant[] = [];
  for (const binding of policy.bindings) {
    if (!roleCanPull(binding.role)) continue;
    for (const member of binding.members) {
      const m = member.toLowerCase();
      if (m === direct || m === 'allusers' || m === 'allauthenticatedusers') {
        grants.push({ role: binding.role, member, ...(binding.condition ? { condition: binding.condition } : {}) });
      }
    }
  }
  return grants;
}

/**
 * Bindings that name a deleted incarnation of the account (`deleted:serviceAccount:EMAIL?uid=N`): they grant nothing
 * to a re-created account of the same email, a classic reason a "granted" node SA still cannot pull.
 */
export function deletedMemberGrants(policy: IamPolicy, email: string): MemberGrant[] {
  const prefix = `deleted:serviceAccount:${email}?uid=`.toLowerCase();
  return policy.bindings.flatMap((b) =>
    b.members.filter((m) => m.toLowerCase().startsWith(prefix)).map((member) => ({ role: b.role, member })),
  );
}

export interface PolicyChange {
  readonly policy: IamPolicy;
  readonly changed: boolean;
}

/**
 * Adds `member` to the unconditional binding for `role`, creating that binding if needed. Every other binding, member
 * and condition is kept as read; conditional bindings for the same role are never touched. The etag is kept, so the
 * write fails (ABORTED) if anyone changed the policy since it was read.
 */
export function withMemberAdded(policy: IamPolicy, role: string, member: string): PolicyChange {
  const target = policy.bindings.find((b) => b.role === role && !b.condition);
  if (target?.members.includes(member)) return { policy, changed: false };
  const bindings = target
    ? policy.bindings.map((b) => (b === target ? { ...b, members: [...b.members, member] } : b))
    : [...policy.bindings, { role, members: [member] }];
  return { policy: { ...policy, version: effectiveVersion(policy), bindings }, changed: true };
}

/**
 * Removes `member` from the unconditional binding for `role` (dropping the binding if it becomes empty). Used by Undo,
 * which removes exactly what the bot added and nothing else.
 */
export function withMemberRemoved(policy: IamPolicy, role: string, member: string): PolicyChange {
  const target = policy.bindings.find((b) => b.role === role && !b.condition && b.members.includes(member));
  if (!target) return { policy, changed: false };
  const members = target.members.filter((m) => m !== member);
  const bindings =
    members.length === 0
      ? policy.bindings.filter((b) => b !== target)
      : policy.bindings.map((b) => (b === target ? { ...b, members } : b));
  return { policy: { ...policy, version: effectiveVersion(policy), bindings }, changed: true };
}

/** Version 3 whenever any binding is conditional (writing version 1 would drop conditions). */
function effectiveVersion(policy: IamPolicy): number {
  return policy.bindings.some((b) => b.condition) ? 3 : Math.max(policy.version, 1);
}

export interface BindingDiff {
  readonly added: readonly MemberGrant[];
  readonly removed: readonly MemberGrant[];
}

/** Member-level difference between two policies, conditions included in the identity of a binding. */
export function diffPolicies(before: IamPolicy, after: IamPolicy): BindingDiff {
  const key = (g: MemberGrant) => `${g.role}\u0000${g.member}\u0000${g.condition?.expression ?? ''}`;
  const flatten = (p: IamPolicy): MemberGrant[] =>
    p.bindings.flatMap((b) =>
      b.members.map((member) => ({ role: b.role, member, ...(b.condition ? { condition: b.condition } : {}) })),
    );
  const a = flatten(before);
  const b = flatten(after);
  const aKeys = new Set(a.map(key));
  const bKeys = new Set(b.map(key));
  return { added: b.filter((g) => !aKeys.has(key(g))), removed: a.filter((g) => !bKeys.has(key(g))) };
}

/** True when the policy already lets the account pull through an unconditional reader-or-better binding. */
export function hasUnconditionalPull(policy: IamPolicy, email: string): boolean {
  return pullGrantsFor(policy, email).some((g) => !g.condition);
}
