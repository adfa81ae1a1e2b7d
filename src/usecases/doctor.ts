import type { Config } from '../config.ts';
import type { ClusterRef } from '../diagnosis/facts.ts';
import { ChatError, type ChatIdentity, type ChatIdentityInfo } from '../ports/chat.port.ts';
import type { ClusterApi } from '../ports/cluster.port.ts';
import type { GkeReader, ProjectDirectory, RepositoryIam } from '../ports/gcp.port.ts';
import type { SubscriptionReader } from '../ports/pubsub.port.ts';
import { errorMessage, ReadError } from '../shared/errors.ts';
import {
  BOT_RBAC,
  BOT_ROLE_ID,
  BOT_SLACK_SCOPES,
  clusterRoleRule,
  FIRESTORE_PERMISSIONS,
  neededPermissions,
  type RbacRule,
  rbacLabel,
  SUBSCRIPTION_PERMISSIONS,
} from './bot-permissions.ts';

/**
 * `imagepull doctor` (docs/operations.md): is a real deployment wired up? Each item is checked against the live
 * services the configuration names (Slack, Pub/Sub, GKE and each cluster's API, IAM) and, when it fails, carries
 * the exact fix: the gcloud command, the scope, the ClusterRole rule, the variable. A check that cannot run is a
 * failed item with its reason, never a crash, and one failing check never stops the others.
 */

/** Stable ids of the items (what `--json` consumers and tests key on). */
export type DoctorItemId =
  | 'config'
  | 'slack.token'
  | 'slack.scopes'
  | 'slack.channel'
  | 'pubsub.subscription'
  | 'pubsub.permissions'
  | 'cluster.reach'
  | 'cluster.rbac'
  | 'gcp.project'
  | 'gcp.repository'
  | 'firestore';

export type DoctorStatus = 'pass' | 'fail' | 'skip';

export interface DoctorItem {
  readonly id: DoctorItemId;
  readonly status: DoctorStatus;
  /** What was checked, for people ("Slack token valid"). */
  readonly title: string;
  /** What was found. */
  readonly detail?: string;
  /** The channel, cluster, project, repository or subscription the item is about. */
  readonly subject?: string;
  /** When it failed: what to do, one step a line (commands verbatim). */
  readonly fix?: readonly string[];
}

export interface DoctorReport {
  /** True when no item failed (skipped items do not count). */
  readonly ok: boolean;
  readonly items: readonly DoctorItem[];
}

export interface DoctorDeps {
  readonly chat: ChatIdentity;
  readonly gke: GkeReader;
  readonly projects: ProjectDirectory;
  readonly repositories: RepositoryIam;
  /** The Kubernetes API of a cluster, reached the way the bot reaches it (GKE endpoint and CA, Google token). */
  readonly cluster: (ref: ClusterRef) => Promise<ClusterApi>;
  /** Absent when no PUBSUB_SUBSCRIPTION is configured. */
  readonly subscriptions?: SubscriptionReader;
  /** The bot's Google service account, for the grant commands; a placeholder is printed when unknown. */
  readonly serviceAccount?: string;
}

export interface DoctorOptions {
  /** More projects whose repositories the bot serves (beyond the clusters', AUDIT_CLUSTERS' and ALLOWED_PROJECTS'). */
  readonly projects?: readonly string[];
  /** Repositories (`projects/P/locations/L/repositories/R`) to check the role's repository permissions on. */
  readonly repositories?: readonly string[];
}

/** At most this many clusters are checked (the ones of AUDIT_CLUSTERS projects included). */
const MAX_CLUSTERS = 20;
const SA_PLACEHOLDER = 'SERVICE_ACCOUNT_EMAIL';
const READ_ENV = 'README "Configuration" and .env.example list every variable';

/** The report when the configuration does not load: the problems are the fixes (each names its variable). */
export function configReport(problems: readonly string[]): DoctorReport {
  return report([
    {
      id: 'config',
      status: 'fail',
      title: 'Configuration valid',
      detail: `${problems.length} problem(s); nothing else was checked`,
      fix: [...problems, READ_ENV],
    },
  ]);
}

/** Runs every check for a loaded configuration. */
export async function runDoctor(config: Config, deps: DoctorDeps, options: DoctorOptions = {}): Promise<DoctorReport> {
  const sa = deps.serviceAccount ?? SA_PLACEHOLDER;
  const items: DoctorItem[] = [
    {
      id: 'config',
      status: 'pass',
      title: 'Configuration valid',
      detail: [
        `${config.slack.mode === 'socket' ? 'Socket Mode' : 'HTTP mode'}`,
        `FIX_MODE=${config.fixMode}`,
        `STATE_STORE=${config.stateStore}`,
        config.pubsubSubscription ? 'alert intake: pull' : 'alert intake: off',
      ].join(', '),
    },
  ];
  items.push(...(await slackChecks(config, deps.chat)));
  items.push(...(await subscriptionChecks(config, deps.subscriptions, sa)));
  const { clusters, listing } = await clustersOf(config, deps.gke, sa);
  items.push(...listing);
  if (clusters.length === 0 && listing.length === 0) {
    items.push({
      id: 'cluster.reach',
      status: 'skip',
      title: 'Clusters reachable',
      detail: 'no cluster configured',
      fix: ['set DEFAULT_CLUSTER=PROJECT/LOCATION/CLUSTER (or AUDIT_CLUSTERS) to check one'],
    });
  }
  for (const c of clusters) items.push(...(await clusterChecks(c, deps.cluster, sa)));
  const projects = unique([
    ...clusters.map((c) => c.project),
    ...config.auditScope.projects,
    ...config.allowedProjects,
    ...(options.projects ?? []),
  ]);
  for (const p of projects) items.push(await projectCheck(p, config, deps.projects, sa));
  for (const r of options.repositories ?? []) items.push(await repositoryCheck(r, config, deps.repositories, sa));
  if (config.stateStore === 'firestore' && config.firestoreProject) {
    items.push(await firestoreCheck(config.firestoreProject, deps.projects, sa));
  }
  return report(items);
}

function report(items: DoctorItem[]): DoctorReport {
  return { ok: items.every((i) => i.status !== 'fail'), items };
}

// ---- Slack -----------------------------------------------------------------------------------------------------

const REINSTALL = 'then reinstall the app to the workspace (Slack app settings → OAuth & Permissions → Reinstall)';

async function slackChecks(config: Config, chat: ChatIdentity): Promise<DoctorItem[]> {
  let me: ChatIdentityInfo;
  try {
    me = await chat.whoAmI();
  } catch (e) {
    const code = e instanceof ChatError ? e.code : 'request_failed';
    const unreachable = code === 'request_failed' || code === 'fatal_error';
    return [
      {
        id: 'slack.token',
        status: 'fail',
        title: 'Slack token valid',
        detail: `auth.test: ${code}`,
        fix: unreachable
          ? [`Slack did not answer at SLACK_API_URL (${config.slack.apiUrl}): let the bot reach it (egress, proxy)`]
          : [
              'set SLACK_BOT_TOKEN to the app’s Bot User OAuth Token (xoxb-…, Slack app settings → OAuth & Permissions)',
              'if the app was uninstalled or the token revoked, reinstall the app and use the new token',
            ],
      },
    ];
  }
  const items: DoctorItem[] = [
    {
      id: 'slack.token',
      status: 'pass',
      title: 'Slack token valid',
      detail: `bot @${me.user} (${me.userId}) in ${me.team}`,
    },
  ];
  const missing = Object.keys(BOT_SLACK_SCOPES).filter((s) => !me.scopes.includes(s));
  items.push(
    missing.length === 0
      ? { id: 'slack.scopes', status: 'pass', title: 'Slack scopes', detail: me.scopes.join(', ') }
      : {
          id: 'slack.scopes',
          status: 'fail',
          title: 'Slack scopes',
          detail: `missing ${missing.join(', ')} (the token has ${me.scopes.join(', ') || 'none'})`,
          fix: [
            'add under oauth_config.scopes.bot in the app’s manifest (Slack app settings → App Manifest; as in manifest.yml):',
            ...missing.map((s) => `  - ${s} # ${BOT_SLACK_SCOPES[s]}`),
            REINSTALL,
          ],
        },
  );
  const channels: { id: string; variable: string }[] = [{ id: config.incidentChannel, variable: 'INCIDENT_CHANNEL' }];
  for (const [namespace, id] of Object.entries(config.ownerChannels)) {
    if (!channels.some((c) => c.id === id)) channels.push({ id, variable: `OWNER_CHANNELS (${namespace})` });
  }
  for (const c of channels) items.push(await channelCheck(c.id, c.variable, me, chat));
  return items;
}

async function channelCheck(
  id: string,
  variable: string,
  me: ChatIdentityInfo,
  chat: ChatIdentity,
): Promise<DoctorItem> {
  const title = `Bot is in the channel of ${variable}`;
  const invite = `/invite @${me.user}`;
  try {
    const c = await chat.channel(id);
    return c.isMember
      ? { id: 'slack.channel', status: 'pass', title, subject: id, detail: `#${c.name} (${id})` }
      : {
          id: 'slack.channel',
          status: 'fail',
          title,
          subject: id,
          detail: `the bot is not a member of #${c.name} (${id}): its posts there fail with not_in_channel`,
          fix: [`in #${c.name}: ${invite}`],
        };
  } catch (e) {
    const code = e instanceof ChatError ? e.code : 'request_failed';
    const fix =
      code === 'channel_not_found'
        ? [
            `${variable} must be the id of a channel the bot can see (channel details → About → Channel ID)`,
            `a private channel exists for the bot only once invited: ${invite} there`,
          ]
        : code === 'missing_scope'
          ? [
              'conversations.info needs channels:read (groups:read for a private channel): add it under oauth_config.scopes.bot (manifest.yml)',
              REINSTALL,
            ]
          : [`conversations.info failed (${code}): run imagepull doctor again`];
    return {
      id: 'slack.channel',
      status: 'fail',
      title,
      subject: id,
      detail: `conversations.info ${id}: ${code}`,
      fix,
    };
  }
}

// ---- Pub/Sub ---------------------------------------------------------------------------------------------------

async function subscriptionChecks(
  config: Config,
  subs: SubscriptionReader | undefined,
  sa: string,
): Promise<DoctorItem[]> {
  const name = config.pubsubSubscription;
  if (!name || !subs) {
    return [
      {
        id: 'pubsub.subscription',
        status: 'skip',
        title: 'Pub/Sub subscription exists',
        detail: `PUBSUB_SUBSCRIPTION is not set: alert intake by pull is off${config.pubsubPush ? ' (push intake is on)' : ''}; /imagepull still works`,
      },
    ];
  }
  const [, project = 'PROJECT', , id = 'SUBSCRIPTION'] = name.split('/');
  const grant = (role: string) =>
    `gcloud pubsub subscriptions add-iam-policy-binding ${id} --project=${project} --role=${role} --member=serviceAccount:${sa}`;
  const items: DoctorItem[] = [];
  let getRefused = false;
  try {
    const topic = await subs.topicOf(name);
    items.push({
      id: 'pubsub.subscription',
      status: 'pass',
      title: 'Pub/Sub subscription exists',
      subject: name,
      detail: `${name} (topic ${topic})`,
    });
  } catch (e) {
    const code = e instanceof ReadError ? e.code : 'failed';
    getRefused = code === 'permission-denied';
    items.push({
      id: 'pubsub.subscription',
      status: 'fail',
      title: 'Pub/Sub subscription exists',
      subject: name,
      detail: errorMessage(e),
      fix:
        code === 'not-found'
          ? [
              `create it (deploy/gcp/setup.sh does): gcloud pubsub subscriptions create ${id} --project=${project} --topic=gke-image-pull --ack-deadline=30 --dead-letter-topic=gke-image-pull-dead --max-delivery-attempts=10 --expiration-period=never`,
              `or set PUBSUB_SUBSCRIPTION to an existing one (gcloud pubsub subscriptions list --project=${project})`,
            ]
          : code === 'permission-denied'
            ? [`the readiness check (/readyz) reads the subscription: ${grant('roles/pubsub.viewer')}`]
            : [
                `Pub/Sub did not answer (${code}): let the bot reach pubsub.googleapis.com, then run imagepull doctor again`,
              ],
    });
  }
  try {
    const granted = await subs.testPermissions(name, SUBSCRIPTION_PERMISSIONS);
    if (granted === undefined) {
      items.push({
        id: 'pubsub.permissions',
        status: 'skip',
        title: 'Pub/Sub subscription can be pulled',
        subject: name,
        detail: 'the Pub/Sub emulator has no IAM: pubsub.subscriptions.consume not checked',
      });
    } else {
      // A `get` already refused above is reported there, with its fix.
      const missing = SUBSCRIPTION_PERMISSIONS.filter(
        (p) => !granted.includes(p) && !(getRefused && p === 'pubsub.subscriptions.get'),
      );
      items.push(
        missing.length === 0
          ? {
              id: 'pubsub.permissions',
              status: 'pass',
              title: 'Pub/Sub subscription can be pulled',
              subject: name,
              detail: SUBSCRIPTION_PERMISSIONS.join(', '),
            }
          : {
              id: 'pubsub.permissions',
              status: 'fail',
              title: 'Pub/Sub subscription can be pulled',
              subject: name,
              detail: `the bot lacks ${missing.join(', ')} on ${name}`,
              fix: [
                ...(missing.includes('pubsub.subscriptions.consume') ? [grant('roles/pubsub.subscriber')] : []),
                ...(missing.includes('pubsub.subscriptions.get')
                  ? [`the readiness check (/readyz) reads the subscription: ${grant('roles/pubsub.viewer')}`]
                  : []),
              ],
            },
      );
    }
  } catch (e) {
    items.push({
      id: 'pubsub.permissions',
      status: 'fail',
      title: 'Pub/Sub subscription can be pulled',
      subject: name,
      detail: errorMessage(e),
      fix: [
        'Pub/Sub did not answer testIamPermissions: let the bot reach pubsub.googleapis.com, then run imagepull doctor again',
      ],
    });
  }
  return items;
}

// ---- Clusters --------------------------------------------------------------------------------------------------

const keyOf = (c: ClusterRef) => `${c.project}/${c.location}/${c.name}`;

/** DEFAULT_CLUSTER, AUDIT_CLUSTERS' clusters, and every cluster of AUDIT_CLUSTERS' projects. */
async function clustersOf(
  config: Config,
  gke: GkeReader,
  sa: string,
): Promise<{ clusters: ClusterRef[]; listing: DoctorItem[] }> {
  const byKey = new Map<string, ClusterRef>();
  const add = (c: ClusterRef) => byKey.set(keyOf(c), { project: c.project, location: c.location, name: c.name });
  if (config.defaultCluster) add(config.defaultCluster);
  for (const c of config.auditScope.clusters) add(c);
  const listing: DoctorItem[] = [];
  for (const project of config.auditScope.projects) {
    try {
      for (const c of await gke.listClusters(project)) add(c);
    } catch (e) {
      listing.push({
        id: 'cluster.reach',
        status: 'fail',
        title: 'Clusters of a project listed',
        subject: project,
        detail: errorMessage(e),
        fix: [`AUDIT_CLUSTERS names project ${project}: ${roleGrant(project, sa)}`],
      });
    }
  }
  return { clusters: [...byKey.values()].slice(0, MAX_CLUSTERS), listing };
}

async function clusterChecks(
  c: ClusterRef,
  connect: (ref: ClusterRef) => Promise<ClusterApi>,
  sa: string,
): Promise<DoctorItem[]> {
  const subject = keyOf(c);
  const title = `Cluster ${subject} reachable`;
  const credentials = `gcloud container clusters get-credentials ${c.name} --location=${c.location} --project=${c.project}`;
  let api: ClusterApi;
  try {
    api = await connect(c);
  } catch (e) {
    const code = e instanceof ReadError ? e.code : 'failed';
    const fix =
      code === 'not-found'
        ? [
            `no such cluster: correct DEFAULT_CLUSTER / AUDIT_CLUSTERS (gcloud container clusters list --project=${c.project})`,
          ]
        : code === 'permission-denied' || code === 'unauthenticated'
          ? [`the bot cannot read the cluster (container.clusters.get): ${roleGrant(c.project, sa)}`]
          : [
              `GKE did not answer (${code}): let the bot reach container.googleapis.com, then run imagepull doctor again`,
            ];
    return [{ id: 'cluster.reach', status: 'fail', title, subject, detail: errorMessage(e), fix }];
  }
  const denied: RbacRule[] = [];
  const errors: string[] = [];
  let reached = false;
  for (const r of BOT_RBAC) {
    try {
      if (!(await api.canI(r.verb, r.group, r.resource))) denied.push(r);
      reached = true;
    } catch (e) {
      if (!reached) {
        return [
          {
            id: 'cluster.reach',
            status: 'fail',
            title,
            subject,
            detail: `the Kubernetes API does not answer: ${errorMessage(e)}`,
            fix: [
              `let the bot reach the control plane (a private endpoint or authorized networks: gcloud container clusters describe ${c.name} --location=${c.location} --project=${c.project} --format='value(masterAuthorizedNetworksConfig)')`,
              `GKE lets a Google identity in only with container.clusters.get on the project: ${roleGrant(c.project, sa)}`,
            ],
          },
        ];
      }
      errors.push(`${rbacLabel(r)}: ${errorMessage(e)}`);
    }
  }
  const items: DoctorItem[] = [
    { id: 'cluster.reach', status: 'pass', title, subject, detail: 'GKE clusters.get and the Kubernetes API answer' },
  ];
  const rbacTitle = `Cluster ${subject} RBAC`;
  if (denied.length === 0 && errors.length === 0) {
    items.push({
      id: 'cluster.rbac',
      status: 'pass',
      title: rbacTitle,
      subject,
      detail: `all ${BOT_RBAC.length} RBAC permissions allowed (SelfSubjectAccessReview)`,
    });
  } else {
    const groups = unique(denied.map((r) => r.group));
    items.push({
      id: 'cluster.rbac',
      status: 'fail',
      title: rbacTitle,
      subject,
      detail: [
        ...(denied.length > 0 ? [`denied: ${denied.map(rbacLabel).join(', ')}`] : []),
        ...(errors.length > 0 ? [`not answered: ${errors.join('; ')}`] : []),
      ].join('; '),
      fix: [
        'add to the ClusterRole imagepull-bot (deploy/rbac/clusterrole.yaml, rules):',
        ...groups.map((g) => `  ${clusterRoleRule(denied.filter((r) => r.group === g))}`),
        `then apply it in that cluster: ${credentials} && kubectl apply -k deploy/rbac`,
      ],
    });
  }
  return items;
}

// ---- Google IAM ------------------------------------------------------------------------------------------------

function roleGrant(project: string, sa: string): string {
  return `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${sa} --role=projects/${project}/roles/${BOT_ROLE_ID} --condition=None`;
}

async function projectCheck(
  project: string,
  config: Config,
  projects: ProjectDirectory,
  sa: string,
): Promise<DoctorItem> {
  const title = `Google permissions in project ${project}`;
  const needed = neededPermissions(config.fixMode);
  let granted: readonly string[];
  try {
    granted = await projects.testPermissions(project, needed);
  } catch (e) {
    const code = e instanceof ReadError ? e.code : 'failed';
    return {
      id: 'gcp.project',
      status: 'fail',
      title,
      subject: project,
      detail: errorMessage(e),
      fix:
        code === 'permission-denied' || code === 'not-found'
          ? [
              `the project does not exist or the bot cannot see it: ${roleGrant(project, sa)}`,
              `(the role comes from deploy/gcp/bot-role.yaml: gcloud iam roles create ${BOT_ROLE_ID} --project=${project} --file=deploy/gcp/bot-role.yaml, or run deploy/gcp/setup.sh)`,
            ]
          : [`Resource Manager did not answer (${code}): run imagepull doctor again`],
    };
  }
  const missing = needed.filter((p) => !granted.includes(p));
  if (missing.length === 0) {
    return {
      id: 'gcp.project',
      status: 'pass',
      title,
      subject: project,
      detail: `the ${needed.length} permissions of role ${BOT_ROLE_ID}${config.fixMode === 'approve' ? '' : ' (setIamPolicy not needed: FIX_MODE is not approve)'}`,
    };
  }
  const none = missing.length === needed.length;
  return {
    id: 'gcp.project',
    status: 'fail',
    title,
    subject: project,
    detail: `the bot lacks ${missing.join(', ')}`,
    fix: none
      ? [
          `grant the bot its role there: ${roleGrant(project, sa)}`,
          `(if the role does not exist there: gcloud iam roles create ${BOT_ROLE_ID} --project=${project} --file=deploy/gcp/bot-role.yaml)`,
        ]
      : [
          `gcloud iam roles update ${BOT_ROLE_ID} --project=${project} --add-permissions=${missing.join(',')}`,
          '(deploy/gcp/setup.sh sets the role to deploy/gcp/bot-role.yaml too)',
        ],
  };
}

async function repositoryCheck(repo: string, config: Config, iam: RepositoryIam, sa: string): Promise<DoctorItem> {
  const title = `Google permissions on repository ${repo}`;
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/repositories\/([^/]+)$/.exec(repo);
  if (!m) {
    return {
      id: 'gcp.repository',
      status: 'fail',
      title,
      subject: repo,
      detail: 'not a repository name',
      fix: ['give --repository projects/PROJECT/LOCATION/repositories/NAME'],
    };
  }
  const [, project, location, name] = m;
  const needed = neededPermissions(config.fixMode, 'repository');
  const grant = `gcloud artifacts repositories add-iam-policy-binding ${name} --location=${location} --project=${project} --member=serviceAccount:${sa} --role=projects/${project}/roles/${BOT_ROLE_ID}`;
  try {
    const granted = await iam.testPermissions(repo, needed);
    const missing = needed.filter((p) => !granted.includes(p));
    return missing.length === 0
      ? { id: 'gcp.repository', status: 'pass', title, subject: repo, detail: needed.join(', ') }
      : {
          id: 'gcp.repository',
          status: 'fail',
          title,
          subject: repo,
          detail: `the bot lacks ${missing.join(', ')}`,
          fix: [`grant the role on the repository (or on project ${project}): ${grant}`],
        };
  } catch (e) {
    return {
      id: 'gcp.repository',
      status: 'fail',
      title,
      subject: repo,
      detail: errorMessage(e),
      fix: [`the repository does not exist or the bot cannot see it: ${grant}`],
    };
  }
}

async function firestoreCheck(project: string, projects: ProjectDirectory, sa: string): Promise<DoctorItem> {
  const title = `Firestore state in project ${project}`;
  const grant = `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${sa} --role=roles/datastore.user --condition=None`;
  try {
    const granted = await projects.testPermissions(project, FIRESTORE_PERMISSIONS);
    const missing = FIRESTORE_PERMISSIONS.filter((p) => !granted.includes(p));
    return missing.length === 0
      ? { id: 'firestore', status: 'pass', title, subject: project, detail: 'roles/datastore.user permissions' }
      : {
          id: 'firestore',
          status: 'fail',
          title,
          subject: project,
          detail: `the bot lacks ${missing.join(', ')}`,
          fix: [grant],
        };
  } catch (e) {
    return { id: 'firestore', status: 'fail', title, subject: project, detail: errorMessage(e), fix: [grant] };
  }
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
