/**
 * The Policy Troubleshooter v3 verdict (`POST /v3/iam:troubleshoot`), computed from the world: allow bindings on
 * the resource and its project, deny policies on the project, propagation delay, and what the caller (the bot, or
 * the operator, who may read everything) may read. Response shape from googleapis `google/cloud/policytroubleshooter/iam/v3/troubleshooter.proto`, in proto3
 * JSON (camelCase, enum names as strings); as Google's Policy Troubleshooter v3 reference documents them.
 */
import {
  type AllowState,
  allowChain,
  type DenyState,
  denyPrincipalMatches,
  evaluateBinding,
  evaluateDenyRule,
  newPolicyState,
  permissionPatternMatches,
  projectOf,
  readPolicy,
} from './iam.ts';
import { toV1Permission, toV2Permission } from './roles.ts';
import type { Caller, DenyPolicy, DenyRule } from './types.ts';
import type { World } from './world.ts';

/** The access tuple of a troubleshoot request. */
export interface AccessTuple {
  principal: string;
  fullResourceName: string;
  permission: string;
}

type JsonObject = Record<string, unknown>;

const ALLOW_ENUM: Record<AllowState | 'UNKNOWN_INFO', string> = {
  GRANTED: 'ALLOW_ACCESS_STATE_GRANTED',
  NOT_GRANTED: 'ALLOW_ACCESS_STATE_NOT_GRANTED',
  CONDITIONAL: 'ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL',
  UNKNOWN_INFO: 'ALLOW_ACCESS_STATE_UNKNOWN_INFO',
};
const DENY_ENUM: Record<DenyState | 'UNKNOWN_INFO', string> = {
  DENIED: 'DENY_ACCESS_STATE_DENIED',
  NOT_DENIED: 'DENY_ACCESS_STATE_NOT_DENIED',
  CONDITIONAL: 'DENY_ACCESS_STATE_UNKNOWN_CONDITIONAL',
  UNKNOWN_INFO: 'DENY_ACCESS_STATE_UNKNOWN_INFO',
};
const HIGH = 'HEURISTIC_RELEVANCE_HIGH';
const NORMAL = 'HEURISTIC_RELEVANCE_NORMAL';

/** A request the troubleshooter refuses (HTTP 400 INVALID_ARGUMENT). */
export class TroubleshootError extends Error {
  readonly status = 400;
}

/** The principal as an email: `serviceAccount:` / `user:` prefixes are tolerated and dropped. */
function principalEmail(principal: string): string {
  return principal.replace(/^(serviceAccount|user):/, '');
}

/** Which permission lets the caller read a holder's allow policy. */
function readPermission(kind: 'repository' | 'project'): string {
  return kind === 'repository' ? 'artifactregistry.repositories.getIamPolicy' : 'resourcemanager.projects.getIamPolicy';
}

/**
 * Troubleshoots `tuple` for `caller` (the bot by default). Policies the caller cannot read count as
 * `UNKNOWN_INFO` (no policy content), the way the real service answers a caller without `getIamPolicy` on the
 * resource.
 */
export function troubleshoot(world: World, tuple: AccessTuple, caller: Caller = 'bot'): JsonObject {
  if (!tuple.principal || !tuple.fullResourceName || !tuple.permission) {
    throw new TroubleshootError(
      'Request contains an invalid argument: accessTuple.principal, fullResourceName and permission are required.',
    );
  }
  const chain = allowChain(world, tuple.fullResourceName);
  if (!chain) throw new TroubleshootError(`Invalid full resource name: ${tuple.fullResourceName}`);
  const email = principalEmail(tuple.principal);
  const permission = toV1Permission(tuple.permission);
  const permissionFqdn = toV2Permission(permission);

  const allowStates: (AllowState | 'UNKNOWN_INFO')[] = [];
  const explainedPolicies = chain.map((holder) => {
    if (world.denied(caller, readPermission(holder.kind), holder.resourceName)) {
      allowStates.push('UNKNOWN_INFO');
      return { allowAccessState: ALLOW_ENUM.UNKNOWN_INFO };
    }
    // A resource that does not exist has no bindings of its own; its ancestors still count.
    const iam = holder.iam ?? newPolicyState(holder.resourceName, []);
    const verdicts = iam.bindings.map((b) => evaluateBinding(world, iam, b, email, permission));
    const state: AllowState = verdicts.some((v) => v.verdict === 'GRANTED')
      ? 'GRANTED'
      : verdicts.some((v) => v.verdict === 'CONDITIONAL')
        ? 'CONDITIONAL'
        : 'NOT_GRANTED';
    allowStates.push(state);
    return {
      allowAccessState: ALLOW_ENUM[state],
      fullResourceName: holder.fullResourceName,
      bindingExplanations: verdicts.map((v) => ({
        allowAccessState: ALLOW_ENUM[v.verdict],
        role: v.binding.role,
        rolePermission:
          v.rolePermission === undefined
            ? 'ROLE_PERMISSION_UNKNOWN_INFO'
            : v.rolePermission
              ? 'ROLE_PERMISSION_INCLUDED'
              : 'ROLE_PERMISSION_NOT_INCLUDED',
        rolePermissionRelevance: v.matched ? HIGH : NORMAL,
        combinedMembership: {
          membership: v.matched ? 'MEMBERSHIP_MATCHED' : 'MEMBERSHIP_NOT_MATCHED',
          relevance: v.rolePermission ? HIGH : NORMAL,
        },
        memberships: Object.fromEntries(
          Object.entries(v.memberships).map(([m, state]) => [
            m,
            { membership: `MEMBERSHIP_${state}`, relevance: state === 'MATCHED' ? HIGH : NORMAL },
          ]),
        ),
        relevance: v.rolePermission ? HIGH : NORMAL,
        ...(v.binding.condition
          ? { condition: v.binding.condition, conditionExplanation: { value: null, errors: [], evaluationStates: [] } }
          : {}),
      })),
      relevance: state === 'NOT_GRANTED' ? NORMAL : HIGH,
      policy: jsonPolicy(readPolicy(iam, 3)),
    };
  });
  const allow: AllowState | 'UNKNOWN_INFO' = allowStates.includes('GRANTED')
    ? 'GRANTED'
    : allowStates.includes('CONDITIONAL')
      ? 'CONDITIONAL'
      : allowStates.includes('UNKNOWN_INFO')
        ? 'UNKNOWN_INFO'
        : 'NOT_GRANTED';

  const denyExplanation = explainDeny(world, tuple.fullResourceName, email, permission, caller);
  const deny = denyExplanation.state;
  let overall: string;
  if (deny === 'DENIED') overall = 'CANNOT_ACCESS';
  else if (allow === 'GRANTED' && deny === 'NOT_DENIED') overall = 'CAN_ACCESS';
  else if (allow === 'NOT_GRANTED') overall = 'CANNOT_ACCESS';
  else if (allow === 'UNKNOWN_INFO' || deny === 'UNKNOWN_INFO') overall = 'UNKNOWN_INFO';
  else overall = 'UNKNOWN_CONDITIONAL';

  return {
    overallAccessState: overall,
    accessTuple: {
      principal: tuple.principal,
      fullResourceName: tuple.fullResourceName,
      permission: tuple.permission,
      permissionFqdn,
      conditionContext: { effectiveTags: [] },
    },
    allowPolicyExplanation: {
      allowAccessState: ALLOW_ENUM[allow],
      explainedPolicies,
      relevance: deny === 'DENIED' ? NORMAL : HIGH,
    },
    denyPolicyExplanation: {
      denyAccessState: DENY_ENUM[deny],
      explainedResources: denyExplanation.resources,
      relevance: deny === 'DENIED' ? HIGH : NORMAL,
      permissionDeniable: true,
    },
  };
}

function explainDeny(
  world: World,
  resource: string,
  email: string,
  permission: string,
  caller: Caller,
): { state: DenyState | 'UNKNOWN_INFO'; resources: JsonObject[] } {
  const project = projectOf(world, resource);
  if (!project) return { state: 'NOT_DENIED', resources: [] };
  const attachment = `//cloudresourcemanager.googleapis.com/projects/${project.projectId}`;
  if (world.denied(caller, 'iam.denypolicies.list', `projects/${project.projectId}`)) {
    return { state: 'UNKNOWN_INFO', resources: [{ denyAccessState: DENY_ENUM.UNKNOWN_INFO }] };
  }
  const policies = project.denyPolicies.map((p) => {
    const rules = p.rules.map((r) => explainRule(r.denyRule, email, permission));
    const state = strongestDeny(rules.map((r) => r.state));
    return {
      state,
      json: {
        denyAccessState: DENY_ENUM[state],
        policy: jsonDenyPolicy(p),
        ruleExplanations: rules.map((r) => r.json),
        relevance: state === 'NOT_DENIED' ? NORMAL : HIGH,
      },
    };
  });
  const state = strongestDeny(policies.map((p) => p.state));
  return {
    state,
    resources: [
      {
        denyAccessState: DENY_ENUM[state],
        fullResourceName: attachment,
        explainedPolicies: policies.map((p) => p.json),
        relevance: state === 'NOT_DENIED' ? NORMAL : HIGH,
      },
    ],
  };
}

/** A policy denies if any of its rules does; a resource, if any of its policies does (conditional in between). */
function strongestDeny(states: readonly DenyState[]): DenyState {
  return states.includes('DENIED') ? 'DENIED' : states.includes('CONDITIONAL') ? 'CONDITIONAL' : 'NOT_DENIED';
}

function explainRule(rule: DenyRule, email: string, permission: string): { state: DenyState; json: JsonObject } {
  const state = evaluateDenyRule(rule, email, permission);
  const permissionMap = (patterns: readonly string[]) =>
    Object.fromEntries(
      patterns.map((p) => [
        p,
        {
          permissionMatchingState: permissionPatternMatches(p, permission)
            ? 'PERMISSION_PATTERN_MATCHED'
            : 'PERMISSION_PATTERN_NOT_MATCHED',
          relevance: permissionPatternMatches(p, permission) ? HIGH : NORMAL,
        },
      ]),
    );
  const principalMap = (patterns: readonly string[]) =>
    Object.fromEntries(
      patterns.map((p) => [
        p,
        {
          membership: denyPrincipalMatches(p, email) ? 'MEMBERSHIP_MATCHED' : 'MEMBERSHIP_NOT_MATCHED',
          relevance: denyPrincipalMatches(p, email) ? HIGH : NORMAL,
        },
      ]),
    );
  const combinedPermission = (patterns: readonly string[]) => {
    const hit = patterns.some((p) => permissionPatternMatches(p, permission));
    return {
      permissionMatchingState: hit ? 'PERMISSION_PATTERN_MATCHED' : 'PERMISSION_PATTERN_NOT_MATCHED',
      relevance: hit ? HIGH : NORMAL,
    };
  };
  const combinedPrincipal = (patterns: readonly string[]) => {
    const hit = patterns.some((p) => denyPrincipalMatches(p, email));
    return { membership: hit ? 'MEMBERSHIP_MATCHED' : 'MEMBERSHIP_NOT_MATCHED', relevance: hit ? HIGH : NORMAL };
  };
  return {
    state,
    json: {
      denyAccessState: DENY_ENUM[state],
      combinedDeniedPermission: combinedPermission(rule.deniedPermissions),
      deniedPermissions: permissionMap(rule.deniedPermissions),
      combinedExceptionPermission: combinedPermission(rule.exceptionPermissions ?? []),
      exceptionPermissions: permissionMap(rule.exceptionPermissions ?? []),
      combinedDeniedPrincipal: combinedPrincipal(rule.deniedPrincipals),
      deniedPrincipals: principalMap(rule.deniedPrincipals),
      combinedExceptionPrincipal: combinedPrincipal(rule.exceptionPrincipals ?? []),
      exceptionPrincipals: principalMap(rule.exceptionPrincipals ?? []),
      relevance: state === 'NOT_DENIED' ? NORMAL : HIGH,
      ...(rule.denialCondition ? { condition: rule.denialCondition } : {}),
    },
  };
}

/** A `google.iam.v1.Policy` in proto3 JSON (etag as base64). */
function jsonPolicy(p: ReturnType<typeof readPolicy>): JsonObject {
  return {
    version: p.version,
    bindings: p.bindings.map((b) => ({
      role: b.role,
      members: b.members,
      ...(b.condition ? { condition: b.condition } : {}),
    })),
    etag: p.etag.toString('base64'),
  };
}

/** A `google.iam.v2.Policy` (deny policy) in proto3 JSON. */
export function jsonDenyPolicy(p: DenyPolicy): JsonObject {
  return {
    name: p.name,
    uid: p.uid,
    kind: 'DenyPolicy',
    displayName: p.displayName,
    etag: p.etag,
    createTime: new Date(p.createTime).toISOString(),
    updateTime: new Date(p.createTime).toISOString(),
    rules: p.rules.map((r) => ({ ...(r.description ? { description: r.description } : {}), denyRule: r.denyRule })),
  };
}
