import type { Classification } from '../diagnosis/cause.ts';
import { classifyMessage } from '../diagnosis/classify.ts';
import { diagnose } from '../diagnosis/diagnose.ts';
import type { Diagnosis, DiagnosisSubject, PullIdentity } from '../diagnosis/diagnosis.ts';
import type { ClusterRef, Fact, FactError, Facts, PodFacts, WorkloadRef } from '../diagnosis/facts.ts';
import { identityOfPool } from '../diagnosis/identity.ts';
import { parseImageRef } from '../diagnosis/image-ref.ts';
import type { ClusterApi, ClusterConnector } from '../ports/cluster.port.ts';
import type { ClusterInfo, GoogleCloud } from '../ports/gcp.port.ts';
import { PULL_FAILURE_REASONS } from './cluster-access.ts';
import { accessFact, clusterFact, imageFacts, podFact, projectNumberFact, readAhead } from './fact-gathering.ts';
import type { FactReader, FactSession } from './fact-reader.ts';
import { diagnosePod } from './pod-diagnosis.ts';
import { clusterKey, hinted, messageOf, parsed } from './pull-messages.ts';
import { ReadAheadBudget } from './read-ahead-budget.ts';

/** Connections to a cluster's API server opened ahead of the first alert (see `Investigator.warm`). */
const WARM_CONNECTIONS = 5;

/** What to diagnose: a pod (optionally one container), a workload, or an image against the cluster's node pools. */
export interface DiagnosisTarget {
  readonly cluster: ClusterRef;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  readonly workload?: WorkloadRef;
  readonly image?: string;
  /** The kubelet message from the alert: a hint, re-checked against the live pod. */
  readonly message?: string;
  /** The node the alert says the pod is on: a hint, read beside the pod; the pod's own node decides. */
  readonly node?: string;
}

/** The diagnoses for a target: one per failing container (or per node identity for `--image`). */
export interface Investigation {
  readonly target: DiagnosisTarget;
  readonly diagnoses: readonly Diagnosis[];
  /** Set when nothing is failing (all pods of the workload run), or the target could not be read at all. */
  readonly note?: string;
  /** The pod as read, for incident bookkeeping. */
  readonly pod?: PodFacts;
  /** Why the target itself (cluster, pod) could not be read, when it could not. */
  readonly readError?: FactError;
  /** Which of the two it was: the cluster (then nothing in it could be read) or the pod. */
  readonly unreadable?: 'cluster' | 'pod';
}

export interface InvestigatorDeps {
  readonly google: GoogleCloud;
  readonly clusters: ClusterConnector;
  readonly reader: FactReader;
  /** How many distinct namespaces and nodes alerts may read ahead per cluster (default: read-ahead-budget.ts). */
  readonly readAhead?: ReadAheadBudget;
}

/**
 * The diagnosis use case: gathers the facts for a target through the ports — independent reads in parallel, each
 * with a deadline, shared through the FactReader — then hands them to the pure `diagnose`. The critical path is a
 * few round trips: cluster → pod → node → troubleshooter; repository reads start as soon as the image is known, and
 * for an alert the node (named by the kubelet's event) and the namespace's lists are read beside the pod.
 */
export class Investigator {
  readonly #google: GoogleCloud;
  readonly #clusters: ClusterConnector;
  readonly #reader: FactReader;
  readonly #readAhead: ReadAheadBudget;

  constructor(deps: InvestigatorDeps) {
    this.#google = deps.google;
    this.#clusters = deps.clusters;
    this.#reader = deps.reader;
    this.#readAhead = deps.readAhead ?? new ReadAheadBudget();
  }

  get reader(): FactReader {
    return this.#reader;
  }

  /**
   * Reads what every alert about a cluster needs first — the cluster (its API server and CA) and its project number —
   * and opens the connection to its API server, so that an alert's critical path starts at the pod. Called at
   * start-up and periodically for the clusters the bot expects alerts from; failures are left to the next alert.
   */
  async warm(ref: ClusterRef): Promise<void> {
    const s = this.#reader.session({ fresh: true });
    const [cluster] = await Promise.all([
      clusterFact(this.#google, s, ref),
      projectNumberFact(this.#google, s, ref.project),
    ]);
    if (!cluster.ok) return;
    const api = await this.#clusters.connect(cluster.value);
    // As many connections as an alert's investigation reads in parallel (the pod, with its node, events, service
    // accounts and Deployments beside it): each new one would otherwise cost a TLS handshake on the critical path.
    await Promise.all(
      Array.from({ length: WARM_CONNECTIONS }, () => api.canI('get', '', 'pods').catch(() => undefined)),
    );
  }

  async investigate(target: DiagnosisTarget, options?: { fresh?: boolean }): Promise<Investigation> {
    // One session per investigation: each fact is read once, also when fresh (docs/diagnosis.md, "Facts").
    const s = this.#reader.session({ fresh: options?.fresh === true });
    const hinted = target.message ? classifyMessage(target.message) : undefined;
    const hintImage = target.image ?? hinted?.image;
    // Start repository reads before anything else when the alert already names the image.
    if (hintImage) void imageFacts(this.#google, s, parsed(hintImage));
    const cluster = clusterFact(this.#google, s, target.cluster);
    const projectNumber = projectNumberFact(this.#google, s, target.cluster.project);
    // When every node pool runs as the same service account, who pulls is known before the node is: ask the
    // Troubleshooter now, in parallel with the pod and node reads (the read is shared by key with the one made
    // after the node is known). Saves a round trip on the critical path of an alert.
    const image = parsed(hintImage);
    if (image?.ar) {
      void Promise.all([cluster, projectNumber]).then(([c, pn]) => {
        const sole = c.ok ? soleIdentity(c, pn) : undefined;
        if (sole) void accessFact(this.#google, s, sole, image);
      });
    }

    if (target.pod && target.namespace)
      return this.#investigatePod(target, target.namespace, target.pod, cluster, projectNumber, s);
    if (target.workload) return this.#investigateWorkload(target, target.workload, cluster, projectNumber, s);
    if (target.image) return this.#investigateImage(target, target.image, cluster, projectNumber, s);
    return { target, diagnoses: [], note: 'Nothing to diagnose: give a pod, a workload or an image.' };
  }

  async #investigatePod(
    target: DiagnosisTarget,
    namespace: string,
    podName: string,
    clusterP: Promise<Fact<ClusterInfo>>,
    projectNumberP: Promise<Fact<string>>,
    s: FactSession,
  ): Promise<Investigation> {
    const cluster = await clusterP;
    const api = cluster.ok ? await this.#clusters.connect(cluster.value) : undefined;
    if (api) readAhead(s, api, target.cluster, { namespace, pod: podName, node: target.node }, this.#readAhead);
    const pod: Fact<PodFacts> = api
      ? await podFact(s, api, target.cluster, namespace, podName)
      : (cluster as Fact<never>);
    if (!pod.ok) {
      // The pod is gone or unreadable: diagnose from the alert's message and image alone.
      const classification = hinted(target);
      const image = parsed(target.image ?? classification.image);
      const projectNumber = await projectNumberP;
      const facts: Facts = {
        cluster: cluster,
        clusterProjectNumber: projectNumber,
        pod,
        ...(image ? await imageFacts(this.#google, s, image) : {}),
      };
      const subject: DiagnosisSubject = {
        cluster: target.cluster,
        namespace,
        pod: podName,
        ...(target.container ? { container: target.container } : {}),
        ...(image ? { image: image.raw } : {}),
      };
      const d = diagnose({ facts, classification, ...messageOf(target), subject, ...(image ? { image } : {}) });
      return {
        target,
        diagnoses: [d],
        note: `Pod ${namespace}/${podName} could not be read: ${pod.error.message}`,
        readError: pod.error,
        unreadable: cluster.ok ? 'pod' : 'cluster',
      };
    }
    // The pod is real: so are its namespace and node, whose reads alerts may start beside the pod from now on.
    const ck = clusterKey(target.cluster);
    this.#readAhead.known(ck, 'namespace', pod.value.namespace);
    if (pod.value.nodeName) this.#readAhead.known(ck, 'node', pod.value.nodeName);
    return { target, ...(await diagnosePod(this.#google, target, pod, cluster, projectNumberP, api as ClusterApi, s)) };
  }

  async #investigateWorkload(
    target: DiagnosisTarget,
    ref: WorkloadRef,
    clusterP: Promise<Fact<ClusterInfo>>,
    projectNumberP: Promise<Fact<string>>,
    s: FactSession,
  ): Promise<Investigation> {
    const cluster = await clusterP;
    if (!cluster.ok) return { target, diagnoses: [], note: `Cluster could not be read: ${cluster.error.message}` };
    const api = await this.#clusters.connect(cluster.value);
    const pods = await s.read(
      `pods|${clusterKey(target.cluster)}|${ref.kind}/${ref.namespace}/${ref.name}`,
      `Kubernetes list pods of ${ref.kind.toLowerCase()}/${ref.name}`,
      () => api.listWorkloadPods(ref),
    );
    if (!pods.ok)
      return {
        target,
        diagnoses: [],
        note: `Pods of ${ref.kind.toLowerCase()}/${ref.name} could not be read: ${pods.error.message}`,
      };
    // One representative pod per failing image: the same root cause repeats across replicas.
    const seen = new Set<string>();
    const reps = pods.value.filter((p) => {
      const bad = p.containers.filter((c) => c.waitingReason && PULL_FAILURE_REASONS.has(c.waitingReason));
      const key = bad.map((c) => c.image).join('|');
      if (bad.length === 0 || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (reps.length === 0) {
      return {
        target,
        diagnoses: [],
        note: `All ${pods.value.length} pod(s) of ${ref.kind.toLowerCase()}/${ref.name} are pulling fine.`,
      };
    }
    const results = await Promise.all(
      reps.map((p) =>
        diagnosePod(this.#google, target, { ok: true, value: p, source: pods.source }, cluster, projectNumberP, api, s),
      ),
    );
    return {
      target,
      diagnoses: results.flatMap((r) => r.diagnoses),
      ...(results[0]?.pod ? { pod: results[0].pod } : {}),
    };
  }

  async #investigateImage(
    target: DiagnosisTarget,
    raw: string,
    clusterP: Promise<Fact<ClusterInfo>>,
    projectNumberP: Promise<Fact<string>>,
    s: FactSession,
  ): Promise<Investigation> {
    const image = parsed(raw);
    const classification: Classification = target.message ? classifyMessage(target.message) : { cause: 'unknown' };
    if (!image) {
      const r = parseImageRef(raw);
      return { target, diagnoses: [], note: `Invalid image reference: ${r.ok ? raw : r.reason}` };
    }
    const [cluster, projectNumber, repoFacts] = await Promise.all([
      clusterP,
      projectNumberP,
      imageFacts(this.#google, s, image),
    ]);
    const subject: DiagnosisSubject = { cluster: target.cluster, image: raw };
    if (!cluster.ok) {
      return {
        target,
        diagnoses: [diagnose({ facts: { cluster: cluster, ...repoFacts }, classification, subject, image })],
      };
    }
    // A pre-flight: can each distinct node identity of the cluster pull this image?
    const identities = new Map<string, Fact<PullIdentity>>();
    for (const pool of cluster.value.nodePools) {
      const id = identityOfPool(pool, cluster, projectNumber);
      identities.set(id.ok ? id.value.serviceAccount : pool.name, id);
    }
    const diagnoses = await Promise.all(
      [...identities.values()].map(async (identity) => {
        const access = image.ar && identity.ok ? await accessFact(this.#google, s, identity.value, image) : undefined;
        return diagnose({
          facts: {
            cluster: cluster,
            clusterProjectNumber: projectNumber,
            ...repoFacts,
            ...(access ? { access } : {}),
          },
          classification,
          subject,
          image,
          identity,
        });
      }),
    );
    return { target, diagnoses };
  }
}

/** The one identity every node pool of the cluster pulls with, or undefined when pools differ or one is unknown. */
function soleIdentity(
  cluster: Fact<ClusterInfo> & { ok: true },
  projectNumber: Fact<string>,
): PullIdentity | undefined {
  const ids = cluster.value.nodePools.map((p) => identityOfPool(p, cluster, projectNumber));
  const first = ids[0];
  if (!first?.ok) return undefined;
  return ids.every((i) => i.ok && i.value.serviceAccount === first.value.serviceAccount) ? first.value : undefined;
}
