import type { ClusterRef, PodFacts, WorkloadRef } from '../diagnosis/facts.ts';
import { PULL_FAILURE_REASONS } from '../incidents/counts.ts';
import type { ClusterApi, ClusterConnector } from '../ports/cluster.port.ts';
import type { GkeReader } from '../ports/gcp.port.ts';
import { ReadError } from '../shared/errors.ts';
import type { FactReader } from './fact-reader.ts';

/** Kubelet waiting reasons that mean a pull failed (shared by investigation, verification and resolution). */
export { PULL_FAILURE_REASONS };

export interface PodHealth {
  readonly total: number;
  readonly ready: number;
  /** Pods with a container waiting on a pull failure, with the kubelet's reason/message. */
  readonly failing: readonly { readonly pod: string; readonly reason: string; readonly message?: string }[];
}

/** Reaches the Kubernetes API of a cluster by its GKE reference (endpoint and CA from GKE, cached briefly). */
export class ClusterAccess {
  readonly #gke: GkeReader;
  readonly #connector: ClusterConnector;
  readonly #reader: FactReader;

  constructor(gke: GkeReader, connector: ClusterConnector, reader: FactReader) {
    this.#gke = gke;
    this.#connector = connector;
    this.#reader = reader;
  }

  async api(ref: ClusterRef): Promise<ClusterApi> {
    const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
    const cluster = await this.#reader.read(`cluster|${name}`, `GKE clusters.get ${name}`, () =>
      this.#gke.getCluster(ref),
    );
    if (!cluster.ok)
      throw new ReadError(
        cluster.error.code,
        cluster.error.message,
        cluster.error.permission ? { permission: cluster.error.permission } : undefined,
      );
    return this.#connector.connect(cluster.value);
  }

  /** Health of a workload's pods; with `restartedAt`, only the pods of that restart (their template annotation). */
  async workloadHealth(cluster: ClusterRef, ref: WorkloadRef, restartedAt?: string): Promise<PodHealth> {
    const api = await this.api(cluster);
    const pods = await api.listWorkloadPods(ref);
    return health(restartedAt ? pods.filter((p) => p.restartedAt === restartedAt) : pods);
  }

  /** Health of single pods (a missing pod is not counted: it was replaced). */
  async podsHealth(cluster: ClusterRef, namespace: string, names: readonly string[]): Promise<PodHealth> {
    const api = await this.api(cluster);
    const pods: PodFacts[] = [];
    for (const name of names) {
      try {
        pods.push(await api.getPod(namespace, name));
      } catch (e) {
        if (!(e instanceof ReadError && e.code === 'not-found')) throw e;
      }
    }
    return health(pods);
  }
}

function health(pods: readonly PodFacts[]): PodHealth {
  const failing: { pod: string; reason: string; message?: string }[] = [];
  let ready = 0;
  for (const p of pods) {
    const bad = p.containers.find((c) => c.waitingReason !== undefined && PULL_FAILURE_REASONS.has(c.waitingReason));
    if (bad)
      failing.push({
        pod: p.name,
        reason: bad.waitingReason as string,
        ...(bad.waitingMessage ? { message: bad.waitingMessage } : {}),
      });
    else if (p.containers.filter((c) => !c.init).every((c) => c.ready)) ready++;
  }
  return { total: pods.length, ready, failing };
}
