import { ClusterManagerClient } from '@google-cloud/container/build/src/v1/index.js';
import type { ClusterRef, Taint } from '../../diagnosis/facts.ts';
import type { ClusterInfo, GkeReader } from '../../ports/gcp.port.ts';
import type { ClientOptions } from './client-options.ts';
import { toReadError, withRetry } from './google-errors.ts';

/** GKE through `@google-cloud/container`: the cluster, its node pools (service account, scopes) and its endpoint. */
export class GkeAdapter implements GkeReader {
  readonly #client: ClusterManagerClient;
  readonly #timeout: number;

  constructor(options: ClientOptions) {
    this.#client = new ClusterManagerClient(options.grpc);
    this.#timeout = options.timeoutMs;
  }

  async getCluster(ref: ClusterRef): Promise<ClusterInfo> {
    const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
    try {
      const [c] = await withRetry(() => this.#client.getCluster({ name }, { timeout: this.#timeout }));
      const nap = c.autoscaling?.autoprovisioningNodePoolDefaults?.serviceAccount;
      return {
        ref,
        endpoint: c.endpoint ?? '',
        caCertificate: c.masterAuth?.clusterCaCertificate ?? '',
        nodePools: (c.nodePools ?? []).map((p) => ({
          name: p.name ?? '',
          configuredServiceAccount: p.config?.serviceAccount ?? 'default',
          oauthScopes: [...(p.config?.oauthScopes ?? [])],
          ...(p.config?.labels ? { labels: { ...p.config.labels } } : {}),
          ...(p.config?.machineType ? { machineType: p.config.machineType } : {}),
          ...(p.config?.taints?.length ? { taints: p.config.taints.flatMap(taintOf) } : {}),
        })),
        ...(c.workloadIdentityConfig?.workloadPool ? { workloadPool: c.workloadIdentityConfig.workloadPool } : {}),
        autopilot: c.autopilot?.enabled === true,
        ...(nap ? { autoprovisioningServiceAccount: nap } : {}),
      };
    } catch (e) {
      throw toReadError(e, `GKE clusters.get ${name}`, 'container.clusters.get');
    }
  }

  async listClusters(project: string): Promise<ClusterRef[]> {
    const parent = `projects/${project}/locations/-`;
    try {
      const [r] = await withRetry(() => this.#client.listClusters({ parent }, { timeout: this.#timeout }));
      return (r.clusters ?? []).map((c) => ({ project, location: c.location ?? c.zone ?? '', name: c.name ?? '' }));
    } catch (e) {
      throw toReadError(e, `GKE clusters.list ${parent}`, 'container.clusters.list');
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** GKE's NodeTaint effects (by name or number) as Kubernetes writes them. */
const EFFECTS: Readonly<Record<string, Taint['effect']>> = {
  NO_SCHEDULE: 'NoSchedule',
  '1': 'NoSchedule',
  PREFER_NO_SCHEDULE: 'PreferNoSchedule',
  '2': 'PreferNoSchedule',
  NO_EXECUTE: 'NoExecute',
  '3': 'NoExecute',
};

function taintOf(t: { key?: string | null; value?: string | null; effect?: unknown }): Taint[] {
  const effect = EFFECTS[String(t.effect ?? '')];
  return t.key && effect ? [{ key: t.key, ...(t.value ? { value: t.value } : {}), effect }] : [];
}
