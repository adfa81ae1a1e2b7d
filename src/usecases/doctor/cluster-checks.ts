import type { Config } from '../../config.ts';
import type { ClusterRef } from '../../diagnosis/facts.ts';
import type { ClusterApi } from '../../ports/cluster.port.ts';
import type { GkeReader } from '../../ports/gcp.port.ts';
import { errorMessage, ReadError } from '../../shared/errors.ts';
import { BOT_RBAC, clusterRoleRule, type RbacRule, rbacLabel } from '../bot-permissions.ts';
import { roleGrant } from './google-checks.ts';
import type { DoctorItem } from './item.ts';

/** At most this many clusters are checked (the ones of AUDIT_CLUSTERS projects included). */
const MAX_CLUSTERS = 20;

const keyOf = (c: ClusterRef) => `${c.project}/${c.location}/${c.name}`;

/**
 * DEFAULT_CLUSTER, AUDIT_CLUSTERS' clusters, and every cluster of AUDIT_CLUSTERS' projects (at most MAX_CLUSTERS),
 * with a failed item for each project whose clusters could not be listed.
 */
export async function clustersOf(
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

/**
 * One cluster's items: reachable (GKE clusters.get and the Kubernetes API, the way the bot reaches them) and its RBAC
 * (a SelfSubjectAccessReview per rule the bot needs), the missing rules given as ClusterRole text to apply.
 */
export async function clusterChecks(
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
    const groups = [...new Set(denied.map((r) => r.group))];
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
