import type { PullIdentity } from './diagnosis.ts';
import { type ClusterFacts, type Fact, type Facts, factFailed, factOk, type NodePoolFacts } from './facts.ts';

/** The Compute Engine default service account of a project: what node pools configured as `default` run as. */
export function defaultComputeAccount(projectNumber: string): string {
  return `${projectNumber}-compute@developer.gserviceaccount.com`;
}

/** True when a node pool's configured service account means "the Compute Engine default". */
export function isDefaultServiceAccountSetting(configured: string): boolean {
  return configured === '' || configured === 'default';
}

/**
 * Resolves who pulls: node → its `cloud.google.com/gke-nodepool` label → the pool's `config.serviceAccount`
 * (`default` → `PROJECT_NUMBER-compute@developer.gserviceaccount.com` of the cluster's project). Fails with the first
 * read that blocked it.
 */
export function resolveIdentity(facts: Facts, poolName?: string): Fact<PullIdentity> | undefined {
  const { cluster, node, clusterProjectNumber } = facts;
  if (!cluster) return undefined;
  if (!cluster.ok) return cluster;
  let name = poolName;
  if (name === undefined) {
    if (!node) return undefined;
    if (!node.ok) return node;
    name = node.value.nodePool;
    if (name === undefined) {
      return factFailed(
        { code: 'not-found', message: `node ${node.value.name} has no cloud.google.com/gke-nodepool label` },
        node.source,
      );
    }
  }
  const pool = findPool(cluster.value, name);
  if (!pool) {
    return factFailed(
      { code: 'not-found', message: `node pool ${name} is not in cluster ${cluster.value.ref.name}` },
      cluster.source,
    );
  }
  return identityOfPool(pool, cluster, clusterProjectNumber);
}

function findPool(cluster: ClusterFacts, name: string): NodePoolFacts | undefined {
  return cluster.nodePools.find((p) => p.name === name);
}

/** The identity of one pool (used for `--image` diagnoses, which look at every pool). */
export function identityOfPool(
  pool: NodePoolFacts,
  cluster: Fact<ClusterFacts>,
  projectNumber: Fact<string> | undefined,
): Fact<PullIdentity> {
  const base = { nodePool: pool.name, oauthScopes: pool.oauthScopes };
  if (!isDefaultServiceAccountSetting(pool.configuredServiceAccount)) {
    return factOk(
      {
        ...base,
        serviceAccount: pool.configuredServiceAccount,
        isDefaultComputeAccount: isComputeDefault(pool.configuredServiceAccount),
      },
      cluster.source,
    );
  }
  if (!projectNumber) {
    return factFailed({ code: 'failed', message: 'project number was not read' }, 'Resource Manager projects.get');
  }
  if (!projectNumber.ok) return projectNumber;
  return factOk(
    { ...base, serviceAccount: defaultComputeAccount(projectNumber.value), isDefaultComputeAccount: true },
    `${cluster.source}; ${projectNumber.source}`,
  );
}

function isComputeDefault(email: string): boolean {
  return /^\d+-compute@developer\.gserviceaccount\.com$/.test(email);
}

/** OAuth scopes that let a node read from Artifact Registry (docs/diagnosis.md, "Who pulls": cloud-platform or devstorage.*). */
const PULL_SCOPES = new Set([
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/devstorage.read_write',
  'https://www.googleapis.com/auth/devstorage.full_control',
]);

const SCOPE_ALIASES: Record<string, string> = {
  'cloud-platform': 'https://www.googleapis.com/auth/cloud-platform',
  'storage-ro': 'https://www.googleapis.com/auth/devstorage.read_only',
  'storage-rw': 'https://www.googleapis.com/auth/devstorage.read_write',
  'storage-full': 'https://www.googleapis.com/auth/devstorage.full_control',
};

/** True when at least one of the node's scopes allows Artifact Registry reads. */
export function scopesAllowPull(scopes: readonly string[]): boolean {
  return scopes.some((s) => PULL_SCOPES.has(SCOPE_ALIASES[s] ?? s));
}
