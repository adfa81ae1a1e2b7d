/**
 * IAM as the simulator models it: allow policies with etags and version-3 conditional bindings, deny policies,
 * propagation delay, and one access evaluation shared by the Policy Troubleshooter fake and the kubelet simulator
 * (so the two never disagree about the world).
 */
import { createHash } from 'node:crypto';
import { roleIncludes, toV2Permission } from './roles.ts';
import type { DenyPolicy, DenyRule, IamBinding, IamCondition, IamPolicyState, Project } from './types.ts';
import type { World } from './world.ts';

/** The key under which a grant's time is recorded in {@link IamPolicyState.grantedAt}. */
export function grantKey(role: string, member: string, condition?: IamCondition): string {
  return `${role}\u0000${member}\u0000${condition?.title ?? ''}`;
}

/** IAM etags are 8 opaque bytes (shown base64 as `BwY…`); a new value for every write. */
export function makeEtag(resource: string, writes: number): Buffer {
  const tail = createHash('sha256').update(`${resource}#${writes}`).digest().subarray(0, 6);
  return Buffer.concat([Buffer.from([0x07, 0x06]), tail]);
}

/** A fresh policy holding `bindings`, all of them old (effective at once). */
export function newPolicyState(resource: string, bindings: IamBinding[]): IamPolicyState {
  return { bindings: structuredClone(bindings), etag: makeEtag(resource, 0), writes: 0, grantedAt: new Map() };
}

/** A policy in the `google.iam.v1.Policy` wire shape (proto-loader object). */
export interface WirePolicy {
  version: number;
  bindings: { role: string; members: string[]; condition: IamCondition | null }[];
  etag: Buffer;
  auditConfigs: never[];
}

/** How a version-1 read names a conditional binding's role: `ROLE_withcond_HASH`, the hash naming the condition. */
export function withcondRole(role: string, condition: IamCondition): string {
  return `${role}_withcond_${createHash('sha1').update(JSON.stringify(condition)).digest('hex').slice(0, 20)}`;
}

/**
 * The policy as `getIamPolicy` returns it for `requestedVersion`. A policy with conditions read at version < 3
 * comes back as version 1 with each conditional binding's role suffixed `_withcond_…` and its condition dropped,
 * exactly the compatibility behaviour IAM documents (options.proto).
 */
export function readPolicy(state: IamPolicyState, requestedVersion: number): WirePolicy {
  const conditional = state.bindings.some((b) => b.condition);
  const v3 = requestedVersion >= 3;
  return {
    version: conditional && v3 ? 3 : 1,
    bindings: state.bindings
      .filter((b) => b.members.length > 0)
      .map((b) => {
        if (!b.condition) return { role: b.role, members: [...b.members], condition: null };
        if (v3) return { role: b.role, members: [...b.members], condition: { ...b.condition } };
        return { role: withcondRole(b.role, b.condition), members: [...b.members], condition: null };
      }),
    etag: Buffer.from(state.etag),
    auditConfigs: [],
  };
}

/** Replaces the bindings (a successful `setIamPolicy`): new grants are timestamped `now`; the etag changes. */
export function writePolicy(state: IamPolicyState, resource: string, bindings: IamBinding[], now: number): void {
  const before = new Set(state.bindings.flatMap((b) => b.members.map((m) => grantKey(b.role, m, b.condition))));
  const after = new Set<string>();
  for (const b of bindings) {
    for (const m of b.members) {
      const k = grantKey(b.role, m, b.condition);
      after.add(k);
      if (!before.has(k)) state.grantedAt.set(k, now);
    }
  }
  for (const k of [...state.grantedAt.keys()]) if (!after.has(k)) state.grantedAt.delete(k);
  state.bindings = structuredClone(bindings);
  state.writes += 1;
  state.etag = makeEtag(resource, state.writes);
}

/** Adds `member` to the unconditional binding of `role` (creating it). Returns false when already there. */
export function addMember(state: IamPolicyState, resource: string, role: string, member: string, now: number): boolean {
  const bindings = structuredClone(state.bindings);
  let binding = bindings.find((b) => b.role === role && !b.condition);
  if (binding?.members.includes(member)) return false;
  if (!binding) {
    binding = { role, members: [] };
    bindings.push(binding);
  }
  binding.members.push(member);
  writePolicy(state, resource, bindings, now);
  return true;
}

/** Removes `member` from the unconditional binding of `role`. Returns false when it was not there. */
export function removeMember(
  state: IamPolicyState,
  resource: string,
  role: string,
  member: string,
  now: number,
): boolean {
  const bindings = structuredClone(state.bindings);
  const binding = bindings.find((b) => b.role === role && !b.condition);
  if (!binding?.members.includes(member)) return false;
  binding.members = binding.members.filter((m) => m !== member);
  writePolicy(
    state,
    resource,
    bindings.filter((b) => b.members.length > 0),
    now,
  );
  return true;
}

/** How a binding member relates to the principal being checked (`MembershipMatchingState` without the prefix). */
export type Membership = 'MATCHED' | 'NOT_MATCHED' | 'UNKNOWN_UNSUPPORTED';

/**
 * Does `member` include the principal `email`? Service accounts match `serviceAccount:EMAIL`, people `user:EMAIL`;
 * `allUsers` and `allAuthenticatedUsers` match everyone. Groups and domains are not modelled: never matched.
 */
export function memberIncludes(member: string, email: string): Membership {
  const lower = email.toLowerCase();
  if (member === 'allUsers' || member === 'allAuthenticatedUsers') return 'MATCHED';
  if (member.startsWith('serviceAccount:') || member.startsWith('user:')) {
    return member.slice(member.indexOf(':') + 1).toLowerCase() === lower ? 'MATCHED' : 'NOT_MATCHED';
  }
  if (member.startsWith('principal://') || member.startsWith('principalSet://')) return 'UNKNOWN_UNSUPPORTED';
  return 'NOT_MATCHED';
}

/** True when the grant exists long enough to be enforced (the world's propagation delay). */
export function grantEffective(world: World, state: IamPolicyState, binding: IamBinding, member: string): boolean {
  const at = state.grantedAt.get(grantKey(binding.role, member, binding.condition));
  return at === undefined || world.now() - at >= world.propagationDelayMs;
}

/** A resource whose allow policy counts for an access check, with its full resource name. */
export interface PolicyHolder {
  /** `//artifactregistry.googleapis.com/projects/…` or `//cloudresourcemanager.googleapis.com/projects/P`. */
  readonly fullResourceName: string;
  /** `projects/P/locations/L/repositories/R` or `projects/P`. */
  readonly resourceName: string;
  readonly kind: 'repository' | 'project';
  /** Undefined when the resource does not exist. */
  readonly iam?: IamPolicyState;
}

const AR_PREFIX = '//artifactregistry.googleapis.com/';
const CRM_PREFIX = '//cloudresourcemanager.googleapis.com/';

/** `projects/P/locations/L/repositories/R[/…]` → its repository resource name and project id. */
export function splitRepositoryName(name: string): { repository: string; projectId: string } | undefined {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/repositories\/([^/]+)/.exec(name);
  if (!m) return undefined;
  return { repository: m[0], projectId: m[1] ?? '' };
}

/**
 * The allow policies that apply to a resource, nearest first: a repository then its project (organization and
 * folder policies are not modelled). Accepts full (`//service/…`) or relative resource names.
 */
export function allowChain(world: World, resource: string): PolicyHolder[] | undefined {
  const relative = resource.replace(/^\/\/[^/]+\//, '');
  const repo = splitRepositoryName(relative);
  const projectId = repo?.projectId ?? /^projects\/([^/]+)$/.exec(relative)?.[1];
  if (!projectId) return undefined;
  const project = world.project(projectId);
  const projectHolder: PolicyHolder = {
    fullResourceName: `${CRM_PREFIX}projects/${project?.projectId ?? projectId}`,
    resourceName: `projects/${project?.projectId ?? projectId}`,
    kind: 'project',
    iam: project?.iam,
  };
  if (!repo) return [projectHolder];
  return [
    {
      fullResourceName: `${AR_PREFIX}${repo.repository}`,
      resourceName: repo.repository,
      kind: 'repository',
      iam: world.repository(repo.repository)?.iam,
    },
    projectHolder,
  ];
}

/** What one binding does for (principal, permission). */
export interface BindingVerdict {
  readonly binding: IamBinding;
  /** `undefined` when the role is unknown to the simulator (an undefined custom role). */
  readonly rolePermission: boolean | undefined;
  readonly memberships: Record<string, Membership>;
  /** The principal is in the binding and the grant has propagated. */
  readonly matched: boolean;
  readonly verdict: 'GRANTED' | 'NOT_GRANTED' | 'CONDITIONAL';
}

/** Evaluates one binding; a conditional binding that would grant is `CONDITIONAL` (no request context is modelled). */
export function evaluateBinding(
  world: World,
  state: IamPolicyState,
  binding: IamBinding,
  email: string,
  permission: string,
): BindingVerdict {
  const rolePermission = roleIncludes(binding.role, permission, world.customRoles);
  const memberships: Record<string, Membership> = {};
  let matched = false;
  for (const m of binding.members) {
    let membership = memberIncludes(m, email);
    if (membership === 'MATCHED' && !grantEffective(world, state, binding, m)) membership = 'NOT_MATCHED';
    memberships[m] = membership;
    if (membership === 'MATCHED') matched = true;
  }
  const grants = matched && rolePermission === true;
  const verdict = !grants ? 'NOT_GRANTED' : binding.condition ? 'CONDITIONAL' : 'GRANTED';
  return { binding, rolePermission, memberships, matched, verdict };
}

/** The verdict of allow policies for one access (conditional = would grant if its condition held). */
export type AllowState = 'GRANTED' | 'NOT_GRANTED' | 'CONDITIONAL';
/** The verdict of deny policies for one access. */
export type DenyState = 'DENIED' | 'NOT_DENIED' | 'CONDITIONAL';

/** Folds binding verdicts: any grant wins, then any conditional grant. */
export function combineAllow(verdicts: readonly AllowState[]): AllowState {
  if (verdicts.includes('GRANTED')) return 'GRANTED';
  if (verdicts.includes('CONDITIONAL')) return 'CONDITIONAL';
  return 'NOT_GRANTED';
}

/** The allow verdict of one policy. */
export function evaluatePolicy(world: World, state: IamPolicyState, email: string, permission: string): AllowState {
  return combineAllow(state.bindings.map((b) => evaluateBinding(world, state, b, email, permission).verdict));
}

/** Does a deny-policy principal pattern cover the service account or user `email`? */
export function denyPrincipalMatches(pattern: string, email: string): boolean {
  if (pattern === 'principalSet://goog/public:all') return true;
  const lower = email.toLowerCase();
  // Deny-policy principal identifiers (Google's IAM v2 deny-policy documentation).
  const sa = /^principal:\/\/iam\.googleapis\.com\/projects\/-\/serviceAccounts\/(.+)$/.exec(pattern);
  if (sa?.[1]) return sa[1].toLowerCase() === lower;
  const user = /^principal:\/\/goog\/subject\/(.+)$/.exec(pattern);
  if (user?.[1]) return user[1].toLowerCase() === lower;
  return false;
}

/** Does a v2 permission pattern (`svc.googleapis.com/res.verb`, `svc.googleapis.com/res.*`, `svc.googleapis.com/*`) match? */
export function permissionPatternMatches(pattern: string, permission: string): boolean {
  const v2 = toV2Permission(permission);
  if (pattern === v2) return true;
  if (pattern.endsWith('*')) return v2.startsWith(pattern.slice(0, -1));
  return false;
}

/** The verdict of one deny rule for (principal, permission). */
export function evaluateDenyRule(rule: DenyRule, email: string, permission: string): DenyState {
  const permissionDenied =
    rule.deniedPermissions.some((p) => permissionPatternMatches(p, permission)) &&
    !(rule.exceptionPermissions ?? []).some((p) => permissionPatternMatches(p, permission));
  const principalDenied =
    rule.deniedPrincipals.some((p) => denyPrincipalMatches(p, email)) &&
    !(rule.exceptionPrincipals ?? []).some((p) => denyPrincipalMatches(p, email));
  if (!permissionDenied || !principalDenied) return 'NOT_DENIED';
  return rule.denialCondition ? 'CONDITIONAL' : 'DENIED';
}

/** The deny verdict of a whole policy. */
export function evaluateDenyPolicy(policy: DenyPolicy, email: string, permission: string): DenyState {
  const states = policy.rules.map((r) => evaluateDenyRule(r.denyRule, email, permission));
  if (states.includes('DENIED')) return 'DENIED';
  if (states.includes('CONDITIONAL')) return 'CONDITIONAL';
  return 'NOT_DENIED';
}

/** The project whose deny policies govern a resource. */
export function projectOf(world: World, resource: string): Project | undefined {
  const chain = allowChain(world, resource);
  const holder = chain?.find((h) => h.kind === 'project');
  return holder ? world.project(holder.resourceName) : undefined;
}

/** The effective access of a principal, as enforcement (the registry) sees it right now. */
export interface EffectiveAccess {
  readonly allowed: boolean;
  readonly allow: AllowState;
  readonly deny: DenyState;
  readonly denyingPolicy?: DenyPolicy;
}

/**
 * Whether `email` may use `permission` on `resource` right now: some allow binding on the resource or its project
 * grants it (propagated, unconditional — conditions are never satisfied for enforcement here), and no deny rule
 * denies it.
 */
export function effectiveAccess(world: World, email: string, resource: string, permission: string): EffectiveAccess {
  const chain = allowChain(world, resource) ?? [];
  const allow = combineAllow(
    chain.map((h) => (h.iam ? evaluatePolicy(world, h.iam, email, permission) : 'NOT_GRANTED')),
  );
  const project = projectOf(world, resource);
  let deny: DenyState = 'NOT_DENIED';
  let denyingPolicy: DenyPolicy | undefined;
  for (const policy of project?.denyPolicies ?? []) {
    const state = evaluateDenyPolicy(policy, email, permission);
    if (state === 'DENIED') {
      deny = 'DENIED';
      denyingPolicy = policy;
      break;
    }
    if (state === 'CONDITIONAL') deny = 'CONDITIONAL';
  }
  return { allowed: allow === 'GRANTED' && deny !== 'DENIED', allow, deny, denyingPolicy };
}
