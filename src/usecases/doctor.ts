import type { Config } from '../config.ts';
import type { ClusterRef } from '../diagnosis/facts.ts';
import type { ChatIdentity } from '../ports/chat.port.ts';
import type { ClusterApi } from '../ports/cluster.port.ts';
import type { GkeReader, ProjectDirectory, RepositoryIam } from '../ports/gcp.port.ts';
import type { SubscriptionReader } from '../ports/pubsub.port.ts';
import { clusterChecks, clustersOf } from './doctor/cluster-checks.ts';
import { firestoreCheck, projectCheck, repositoryCheck } from './doctor/google-checks.ts';
import type { DoctorItem } from './doctor/item.ts';
import { subscriptionChecks } from './doctor/pubsub-checks.ts';
import { slackChecks } from './doctor/slack-checks.ts';

/**
 * `imagepull doctor` (docs/operations.md): is a real deployment wired up? Each item is checked against the live
 * services the configuration names (Slack, Pub/Sub, GKE and each cluster's API, IAM) and, when it fails, carries
 * the exact fix: the gcloud command, the scope, the ClusterRole rule, the variable. A check that cannot run is a
 * failed item with its reason, never a crash, and one failing check never stops the others. The check groups are in
 * usecases/doctor/ (slack-checks.ts, pubsub-checks.ts, cluster-checks.ts, google-checks.ts), the item model in
 * doctor/item.ts.
 */

export type { DoctorItem } from './doctor/item.ts';

/** The checklist: every item, in order, and whether the deployment is ready. */
export interface DoctorReport {
  /** True when no item failed (skipped items do not count). */
  readonly ok: boolean;
  readonly items: readonly DoctorItem[];
}

/** What the checks reach, the way the bot reaches it (the CLI builds them from the configuration). */
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

/** What to check beyond what the configuration names. */
export interface DoctorOptions {
  /** More projects whose repositories the bot serves (beyond the clusters', AUDIT_CLUSTERS' and ALLOWED_PROJECTS'). */
  readonly projects?: readonly string[];
  /** Repositories (`projects/P/locations/L/repositories/R`) to check the role's repository permissions on. */
  readonly repositories?: readonly string[];
}

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
  const projects = [
    ...new Set([
      ...clusters.map((c) => c.project),
      ...config.auditScope.projects,
      ...config.allowedProjects,
      ...(options.projects ?? []),
    ]),
  ];
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
