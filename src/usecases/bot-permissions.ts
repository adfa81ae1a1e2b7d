import type { FixMode } from '../config.ts';

/**
 * What the bot itself must be granted, in one place for `imagepull doctor` (usecases/doctor.ts) and App Home's
 * permission health (usecases/permission-health.ts). test/unit/usecases/bot-permissions.test.ts keeps these lists
 * equal to what the deployment grants: deploy/gcp/bot-role.yaml, deploy/rbac/clusterrole.yaml and manifest.yml.
 */

/** One Kubernetes RBAC permission, as SelfSubjectAccessReview resource attributes (`group` '' is the core group). */
export interface RbacRule {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

/** Kubernetes RBAC the bot needs in every cluster it serves (README "The bot's own permissions"; deploy/rbac). */
export const BOT_RBAC: readonly RbacRule[] = [
  { verb: 'get', group: '', resource: 'pods' },
  { verb: 'list', group: '', resource: 'pods' },
  { verb: 'list', group: '', resource: 'events' },
  { verb: 'get', group: '', resource: 'nodes' },
  { verb: 'get', group: '', resource: 'serviceaccounts' },
  { verb: 'list', group: '', resource: 'serviceaccounts' },
  { verb: 'get', group: 'apps', resource: 'replicasets' },
  ...(['deployments', 'statefulsets', 'daemonsets'] as const).flatMap((resource) => [
    { verb: 'get', group: 'apps', resource },
    { verb: 'patch', group: 'apps', resource },
  ]),
  // The pull audit (docs/prevention.md) lists every workload's pod template and the nodes.
  { verb: 'list', group: '', resource: 'nodes' },
  ...(['deployments', 'statefulsets', 'daemonsets'] as const).map((resource) => ({
    verb: 'list',
    group: 'apps',
    resource,
  })),
  ...(['jobs', 'cronjobs'] as const).map((resource) => ({ verb: 'list', group: 'batch', resource })),
];

/** `verb group/resource`, the way people read an RBAC permission (`patch apps/deployments`, `get pods`). */
export function rbacLabel(r: RbacRule): string {
  return `${r.verb} ${r.group ? `${r.group}/` : ''}${r.resource}`;
}

/** The ClusterRole rule that grants `rules` of one API group, as a line of deploy/rbac/clusterrole.yaml. */
export function clusterRoleRule(rules: readonly RbacRule[]): string {
  const group = rules[0]?.group ?? '';
  const resources = [...new Set(rules.map((r) => r.resource))];
  const verbs = [...new Set(rules.map((r) => r.verb))];
  return `- { apiGroups: [${group === '' ? '""' : group}], resources: [${resources.join(', ')}], verbs: [${verbs.join(', ')}] }`;
}

/** A Google permission of the bot's custom role, and whether only fixes (`FIX_MODE=approve`) need it. */
export interface GooglePermission {
  readonly permission: string;
  readonly fixOnly?: boolean;
  /** Checked on a repository too (the role may be granted on repositories rather than the project). */
  readonly repository?: boolean;
}

/** The custom role `imagepullBot` (deploy/gcp/bot-role.yaml), granted in every project whose clusters and repositories the bot serves. */
export const BOT_ROLE_PERMISSIONS: readonly GooglePermission[] = [
  { permission: 'artifactregistry.dockerimages.get', repository: true },
  { permission: 'artifactregistry.dockerimages.list', repository: true },
  { permission: 'artifactregistry.locations.list' },
  { permission: 'artifactregistry.repositories.get', repository: true },
  { permission: 'artifactregistry.repositories.getIamPolicy', repository: true },
  { permission: 'artifactregistry.repositories.list' },
  { permission: 'artifactregistry.repositories.setIamPolicy', fixOnly: true, repository: true },
  { permission: 'artifactregistry.tags.get', repository: true },
  { permission: 'container.clusters.get' },
  { permission: 'container.clusters.list' },
  { permission: 'iam.denypolicies.get' },
  { permission: 'iam.denypolicies.list' },
  { permission: 'iam.roles.get' },
  { permission: 'resourcemanager.projects.get' },
  { permission: 'resourcemanager.projects.getIamPolicy' },
];

/** The custom role's id (deploy/gcp/setup.sh `--role-id`, default). */
export const BOT_ROLE_ID = 'imagepullBot';

/** The role's permissions this fix mode needs, on a project or (`on: 'repository'`) on a repository. */
export function neededPermissions(fixMode: FixMode, on: 'project' | 'repository' = 'project'): string[] {
  return BOT_ROLE_PERMISSIONS.filter(
    (p) => (fixMode === 'approve' || !p.fixOnly) && (on === 'project' || p.repository),
  ).map((p) => p.permission);
}

/**
 * On the alert subscription: `consume` to pull (roles/pubsub.subscriber), and `get`, which the consumer's readiness
 * check reads the subscription with (transport/pubsub-consumer.ts; roles/pubsub.viewer, not in subscriber).
 */
export const SUBSCRIPTION_PERMISSIONS = ['pubsub.subscriptions.consume', 'pubsub.subscriptions.get'] as const;

/** What the Firestore store reads and writes (roles/datastore.user), on FIRESTORE_PROJECT with STATE_STORE=firestore. */
export const FIRESTORE_PERMISSIONS = [
  'datastore.entities.create',
  'datastore.entities.delete',
  'datastore.entities.get',
  'datastore.entities.list',
  'datastore.entities.update',
] as const;

/** The bot token scopes manifest.yml asks for (`oauth_config.scopes.bot`), and what each is for. */
export const BOT_SLACK_SCOPES: Readonly<Record<string, string>> = {
  'chat:write': 'post and update incident messages and their replies',
  commands: '/imagepull',
  'usergroups:read': 'resolve approver user groups (APPROVERS=S…)',
  'channels:read': 'check the bot is in a public incident or owner channel (imagepull doctor)',
  'groups:read': 'check the bot is in a private incident or owner channel (imagepull doctor)',
};

/** Which of `needed` a testIamPermissions call (`test`) says the bot lacks, in `needed`'s order. */
export async function missingPermissions(
  test: (permissions: readonly string[]) => Promise<readonly string[]>,
  needed: readonly string[],
): Promise<string[]> {
  const granted = new Set(await test(needed));
  return needed.filter((p) => !granted.has(p));
}
