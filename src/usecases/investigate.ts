import type { Classification } from '../diagnosis/cause.ts';
import { classifyMessage } from '../diagnosis/classify.ts';
import { diagnose } from '../diagnosis/diagnose.ts';
import type { Diagnosis, DiagnosisSubject, PullIdentity } from '../diagnosis/diagnosis.ts';
import {
  type AccessVerdict,
  type ClusterRef,
  type ContainerFacts,
  type Fact,
  type FactError,
  type Facts,
  factFailed,
  type PodEventFacts,
  type PodFacts,
  type WorkloadRef,
} from '../diagnosis/facts.ts';
import { identityOfPool, resolveIdentity } from '../diagnosis/identity.ts';
import { type ImageRef, parseImageRef } from '../diagnosis/image-ref.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import type { ClusterApi, ClusterConnector, WorkloadState } from '../ports/cluster.port.ts';
import type { ClusterInfo, GoogleCloud } from '../ports/gcp.port.ts';
import { PULL_FAILURE_REASONS } from './cluster-access.ts';
import type { FactReader } from './fact-reader.ts';

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
}

export interface InvestigatorDeps {
  readonly google: GoogleCloud;
  readonly clusters: ClusterConnector;
  readonly reader: FactReader;
}

/**
 * The diagnosis use case: gathers the facts for a target through the ports — independent reads in parallel, each
 * with a deadline, shared through the FactReader — then hands them to the pure `diagnose`. The critical path is a
 * few round trips: cluster → pod → node → troubleshooter; repository reads start as soon as the image is known.
 */
export class Investigator {
  readonly #google: GoogleCloud;
  readonly #clusters: ClusterConnector;
  readonly #reader: FactReader;

  constructor(deps: InvestigatorDeps) {
    this.#google = deps.google;
    this.#clusters = deps.clusters;
    this.#reader = deps.reader;
  }

  get reader(): FactReader {
    return this.#reader;
  }

  async investigate(target: DiagnosisTarget, options?: { fresh?: boolean }): Promise<Investigation> {
    const fresh = options?.fresh === true;
    const hinted = target.message ? classifyMessage(target.message) : undefined;
    const hintImage = target.image ?? hinted?.image;
    // Start repository reads before anything else when the alert already names the image.
    if (hintImage) void this.#imageFacts(parsed(hintImage), fresh);
    const cluster = this.#cluster(target.cluster, fresh);
    const projectNumber = this.#projectNumber(target.cluster.project, fresh);

    if (target.pod && target.namespace)
      return this.#investigatePod(target, target.namespace, target.pod, cluster, projectNumber, fresh);
    if (target.workload) return this.#investigateWorkload(target, target.workload, cluster, projectNumber, fresh);
    if (target.image) return this.#investigateImage(target, target.image, cluster, projectNumber, fresh);
    return { target, diagnoses: [], note: 'Nothing to diagnose: give a pod, a workload or an image.' };
  }

  async #investigatePod(
    target: DiagnosisTarget,
    namespace: string,
    podName: string,
    clusterP: Promise<Fact<ClusterInfo>>,
    projectNumberP: Promise<Fact<string>>,
    fresh: boolean,
  ): Promise<Investigation> {
    const cluster = await clusterP;
    const api = cluster.ok ? await this.#connect(cluster.value) : undefined;
    const pod: Fact<PodFacts> = api
      ? await this.#reader.read(
          `pod|${clusterKey(target.cluster)}|${namespace}/${podName}`,
          `Kubernetes get pods ${namespace}/${podName}`,
          () => api.getPod(namespace, podName),
          { fresh },
        )
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
        ...(image ? await this.#imageFacts(image, fresh) : {}),
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
      };
    }
    return this.#diagnosePod(target, pod, cluster, projectNumberP, api as ClusterApi, fresh);
  }

  async #diagnosePod(
    target: DiagnosisTarget,
    pod: Fact<PodFacts> & { ok: true },
    cluster: Fact<ClusterInfo>,
    projectNumberP: Promise<Fact<string>>,
    api: ClusterApi,
    fresh: boolean,
  ): Promise<Investigation> {
    const p = pod.value;
    const ck = clusterKey(target.cluster);
    const nodeP = p.nodeName
      ? this.#reader.read(
          `node|${ck}|${p.nodeName}`,
          `Kubernetes get nodes ${p.nodeName}`,
          () => api.getNode(p.nodeName as string),
          { fresh },
        )
      : Promise.resolve(
          factFailed<never>(
            { code: 'not-found', message: `pod ${p.name} is not scheduled on a node yet` },
            `Kubernetes get pods ${p.namespace}/${p.name}`,
          ),
        );
    const eventsP = this.#reader.read(
      `events|${ck}|${p.namespace}/${p.name}`,
      `Kubernetes list events ${p.namespace}/${p.name}`,
      () => api.listPodEvents(p.namespace, p.name),
      { fresh },
    );
    const owner = p.owner;
    const workloadP: Promise<Fact<WorkloadState | undefined>> | undefined = owner
      ? this.#reader.read(
          `workload|${ck}|${p.namespace}|${owner.kind}/${owner.name}`,
          `Kubernetes get ${owner.kind.toLowerCase()}s ${p.namespace}/${owner.name}`,
          () => api.resolveWorkload(p.namespace, owner),
          { fresh },
        )
      : undefined;
    const ksaP = this.#reader.read(
      `ksa|${ck}|${p.namespace}/${p.serviceAccountName}`,
      `Kubernetes get serviceaccounts ${p.namespace}/${p.serviceAccountName}`,
      () => api.getServiceAccount(p.namespace, p.serviceAccountName),
      { fresh },
    );

    const failing = failingContainers(p, target);
    // Repository reads for every failing image start now, in parallel with node/events/workload.
    for (const c of failing) {
      const image = parsed(c.image);
      if (image) void this.#imageFacts(image, fresh);
    }
    // Who pulls (node → pool → service account), then the Troubleshooter verdict, start as soon as the node is
    // known: the critical path is cluster → pod → node → troubleshooter, in parallel with the owner chain.
    const identityP = Promise.all([nodeP, projectNumberP]).then(([node, clusterProjectNumber]) =>
      resolveIdentity({ cluster, clusterProjectNumber, node }),
    );
    const accessP = new Map<string, Promise<Fact<AccessVerdict> | undefined>>();
    for (const c of failing) {
      const image = parsed(c.image);
      if (image?.ar && !accessP.has(image.ar.resourceName)) {
        accessP.set(
          image.ar.resourceName,
          identityP.then((id) => (id?.ok ? this.#access(id.value, image, fresh) : undefined)),
        );
      }
    }
    const [node, events, workloadFact, ksa, projectNumber, identity] = await Promise.all([
      nodeP,
      eventsP,
      workloadP,
      ksaP,
      projectNumberP,
      identityP,
    ]);
    const workload = workloadFact?.ok && workloadFact.value ? workloadFact.value : undefined;
    const baseFacts: Facts = {
      cluster: cluster,
      clusterProjectNumber: projectNumber,
      pod,
      events,
      node,
      kubernetesServiceAccount: ksa,
      ...(workload
        ? { workload: { ok: true as const, value: workload, source: (workloadFact as Fact<unknown>).source } }
        : {}),
    };
    if (failing.length === 0) {
      return {
        target,
        diagnoses: [],
        pod: p,
        note: `No container of ${p.namespace}/${p.name} is failing to pull right now.`,
      };
    }
    const diagnoses = await Promise.all(
      failing.map(async (c) => {
        const message = messageFor(c, target, events.ok ? events.value : []);
        const classification = classifyMessage(message ?? '');
        const image = parsed(c.image);
        const imageFacts = image ? await this.#imageFacts(image, fresh) : {};
        const access = image?.ar ? await accessP.get(image.ar.resourceName) : undefined;
        const subject: DiagnosisSubject = {
          cluster: target.cluster,
          namespace: p.namespace,
          pod: p.name,
          container: c.name,
          ...(c.init ? { initContainer: true } : {}),
          ...(workload
            ? { workload: { kind: workload.kind, namespace: workload.namespace, name: workload.name } }
            : {}),
          image: c.image,
        };
        return diagnose({
          facts: { ...baseFacts, ...imageFacts, ...(access ? { access } : {}) },
          classification,
          ...(message ? { message } : {}),
          subject,
          ...(image ? { image } : {}),
          ...(identity ? { identity } : {}),
        });
      }),
    );
    return { target, diagnoses, pod: p };
  }

  async #investigateWorkload(
    target: DiagnosisTarget,
    ref: WorkloadRef,
    clusterP: Promise<Fact<ClusterInfo>>,
    projectNumberP: Promise<Fact<string>>,
    fresh: boolean,
  ): Promise<Investigation> {
    const cluster = await clusterP;
    if (!cluster.ok) return { target, diagnoses: [], note: `Cluster could not be read: ${cluster.error.message}` };
    const api = await this.#connect(cluster.value);
    const pods = await this.#reader.read(
      `pods|${clusterKey(target.cluster)}|${ref.kind}/${ref.namespace}/${ref.name}`,
      `Kubernetes list pods of ${ref.kind.toLowerCase()}/${ref.name}`,
      () => api.listWorkloadPods(ref),
      { fresh },
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
        this.#diagnosePod(
          { ...target, namespace: p.namespace, pod: p.name },
          { ok: true, value: p, source: pods.source },
          cluster,
          projectNumberP,
          api,
          fresh,
        ),
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
    fresh: boolean,
  ): Promise<Investigation> {
    const image = parsed(raw);
    const classification: Classification = target.message ? classifyMessage(target.message) : { cause: 'unknown' };
    if (!image) {
      const r = parseImageRef(raw);
      return { target, diagnoses: [], note: `Invalid image reference: ${r.ok ? raw : r.reason}` };
    }
    const [cluster, projectNumber, imageFacts] = await Promise.all([
      clusterP,
      projectNumberP,
      this.#imageFacts(image, fresh),
    ]);
    const subject: DiagnosisSubject = { cluster: target.cluster, image: raw };
    if (!cluster.ok) {
      return {
        target,
        diagnoses: [diagnose({ facts: { cluster: cluster, ...imageFacts }, classification, subject, image })],
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
        const access = image.ar && identity.ok ? await this.#access(identity.value, image, fresh) : undefined;
        return diagnose({
          facts: {
            cluster: cluster,
            clusterProjectNumber: projectNumber,
            ...imageFacts,
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

  #cluster(ref: ClusterRef, fresh: boolean): Promise<Fact<ClusterInfo>> {
    const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
    return this.#reader.read(`cluster|${name}`, `GKE clusters.get ${name}`, () => this.#google.gke.getCluster(ref), {
      fresh,
    });
  }

  #projectNumber(project: string, fresh: boolean): Promise<Fact<string>> {
    return this.#reader.read(
      `project-number|${project}`,
      `Resource Manager projects.get projects/${project}`,
      () => this.#google.projects.getProjectNumber(project),
      { fresh },
    );
  }

  async #connect(cluster: ClusterInfo): Promise<ClusterApi> {
    return this.#clusters.connect(cluster);
  }

  /** Repository, tag and allow policies of an Artifact Registry image, read in parallel. */
  async #imageFacts(image: ImageRef | undefined, fresh: boolean): Promise<Partial<Facts>> {
    const ar = image?.ar;
    if (!image || !ar) return {};
    const r = this.#reader;
    const g = this.#google;
    const ref = image.digest ?? image.tag ?? 'latest';
    const [repository, tag, repositoryPolicy, projectPolicy] = await Promise.all([
      r.read(
        `repo|${ar.resourceName}`,
        `Artifact Registry repositories.get ${ar.resourceName}`,
        () => g.registry.getRepository(ar.resourceName),
        { fresh },
      ),
      r.read(
        `tag|${ar.resourceName}|${ar.packageName}|${ref}`,
        `Artifact Registry tags ${ar.packageName}:${ref}`,
        () =>
          g.registry.getTag({
            ...ar,
            ...(image.tag ? { tag: image.tag } : {}),
            ...(image.digest ? { digest: image.digest } : {}),
          }),
        { fresh },
      ),
      r.read(
        `repo-policy|${ar.resourceName}`,
        `Artifact Registry repositories.getIamPolicy ${ar.resourceName}`,
        () => g.repositoryIam.getPolicy(ar.resourceName),
        { fresh },
      ),
      r.read(
        `project-policy|${ar.project}`,
        `Resource Manager projects.getIamPolicy projects/${ar.project}`,
        () => g.projects.getIamPolicy(ar.project),
        { fresh },
      ),
    ]);
    const missing = !repository.ok && repository.error.code === 'not-found';
    const similarRepositories = missing
      ? await r.read(
          `repos|${ar.project}`,
          `Artifact Registry repositories.list projects/${ar.project}`,
          () => g.registry.listRepositories(ar.project),
          { fresh },
        )
      : undefined;
    return {
      repository,
      ...(repository.ok || !missing ? { tag } : {}),
      repositoryPolicy,
      projectPolicy,
      ...(similarRepositories ? { similarRepositories } : {}),
    };
  }

  #access(identity: PullIdentity, image: ImageRef, fresh: boolean) {
    const resource = `//artifactregistry.googleapis.com/${image.ar?.resourceName}`;
    return this.#reader.read(
      `access|${identity.serviceAccount}|${resource}`,
      `Policy Troubleshooter iam.troubleshoot ${resource}`,
      () => this.#google.access.troubleshoot(identity.serviceAccount, resource, DOWNLOAD_PERMISSION),
      { fresh },
    );
  }
}

function parsed(raw: string | undefined): ImageRef | undefined {
  if (!raw) return undefined;
  const r = parseImageRef(raw);
  return r.ok ? r.ref : undefined;
}

function clusterKey(c: ClusterRef): string {
  return `${c.project}/${c.location}/${c.name}`;
}

function hinted(target: DiagnosisTarget): Classification {
  return target.message ? classifyMessage(target.message) : { cause: 'no-detail' };
}

function messageOf(target: DiagnosisTarget): { message?: string } {
  return target.message ? { message: target.message } : {};
}

/** Containers failing to pull; when none is, the one the alert named (it may be between retries). */
function failingContainers(pod: PodFacts, target: DiagnosisTarget): ContainerFacts[] {
  const failing = pod.containers.filter(
    (c) => c.waitingReason !== undefined && PULL_FAILURE_REASONS.has(c.waitingReason),
  );
  const wanted = target.container ? failing.filter((c) => c.name === target.container) : failing;
  if (wanted.length > 0) return wanted;
  if (target.container && target.message) {
    const named = pod.containers.find((c) => c.name === target.container);
    if (named && !named.running) return [named];
  }
  return target.container ? [] : failing;
}

/**
 * The message that says why a container's pull failed: the alert's own (when it has detail and names this
 * container), else the newest `Failed to pull image` event for the container, else the kubelet's waiting message.
 */
function messageFor(c: ContainerFacts, target: DiagnosisTarget, events: readonly PodEventFacts[]): string | undefined {
  const alert = target.message;
  if (alert && (!target.container || target.container === c.name)) {
    const cls = classifyMessage(alert);
    if (cls.cause !== 'no-detail' && (!cls.image || sameImage(cls.image, c.image))) return alert;
  }
  const pulls = events.filter(
    (e) =>
      (e.container === undefined || e.container === c.name) &&
      e.type === 'Warning' &&
      (e.message.startsWith('Failed to pull image') ||
        e.reason === 'ErrImageNeverPull' ||
        e.reason === 'InspectFailed') &&
      (!e.message.includes('"') || e.message.includes(c.image)),
  );
  const latest = pulls[pulls.length - 1];
  if (latest) return latest.message;
  return c.waitingMessage ?? alert;
}

function sameImage(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseImageRef(a);
  const pb = parseImageRef(b);
  return pa.ok && pb.ok && pa.ref.normalized === pb.ref.normalized;
}
