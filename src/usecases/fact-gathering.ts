import type { PullIdentity } from '../diagnosis/diagnosis.ts';
import {
  type ClusterRef,
  type Fact,
  type Facts,
  factOk,
  type KubernetesServiceAccountFacts,
  type NodeFacts,
  type PodEventFacts,
  type PodFacts,
  type WorkloadKind,
} from '../diagnosis/facts.ts';
import type { ImageRef } from '../diagnosis/image-ref.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import type { ClusterApi, WorkloadState } from '../ports/cluster.port.ts';
import type { ClusterInfo, GoogleCloud } from '../ports/gcp.port.ts';
import type { FactSession } from './fact-reader.ts';
import { clusterKey } from './pull-messages.ts';
import type { ReadAheadBudget } from './read-ahead-budget.ts';

/**
 * The Google facts an investigation reads, each through the investigation's session (read once, shared by every
 * container and node identity of it). Keys name the fact; sources name the call, for evidence.
 */

/** The cluster, with what it takes to reach its Kubernetes API. */
export function clusterFact(google: GoogleCloud, s: FactSession, ref: ClusterRef): Promise<Fact<ClusterInfo>> {
  const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
  return s.read(`cluster|${name}`, `GKE clusters.get ${name}`, () => google.gke.getCluster(ref));
}

/** The number of a project, to resolve the `default` node service account. */
export function projectNumberFact(google: GoogleCloud, s: FactSession, project: string): Promise<Fact<string>> {
  return s.read(`project-number|${project}`, `Resource Manager projects.get projects/${project}`, () =>
    google.projects.getProjectNumber(project),
  );
}

/** Repository, tag and allow policies of an Artifact Registry image, read in parallel. */
export async function imageFacts(
  google: GoogleCloud,
  s: FactSession,
  image: ImageRef | undefined,
): Promise<Partial<Facts>> {
  const ar = image?.ar;
  if (!image || !ar) return {};
  const g = google;
  const ref = image.digest ?? image.tag ?? 'latest';
  const [repository, tag, repositoryPolicy, projectPolicy] = await Promise.all([
    s.read(`repo|${ar.resourceName}`, `Artifact Registry repositories.get ${ar.resourceName}`, () =>
      g.registry.getRepository(ar.resourceName),
    ),
    s.read(`tag|${ar.resourceName}|${ar.packageName}|${ref}`, `Artifact Registry tags ${ar.packageName}:${ref}`, () =>
      g.registry.getTag({
        ...ar,
        ...(image.tag ? { tag: image.tag } : {}),
        ...(image.digest ? { digest: image.digest } : {}),
      }),
    ),
    s.read(`repo-policy|${ar.resourceName}`, `Artifact Registry repositories.getIamPolicy ${ar.resourceName}`, () =>
      g.repositoryIam.getPolicy(ar.resourceName),
    ),
    s.read(`project-policy|${ar.project}`, `Resource Manager projects.getIamPolicy projects/${ar.project}`, () =>
      g.projects.getIamPolicy(ar.project),
    ),
  ]);
  const missing = !repository.ok && repository.error.code === 'not-found';
  const similarRepositories = missing
    ? await s.read(`repos|${ar.project}`, `Artifact Registry repositories.list projects/${ar.project}`, () =>
        g.registry.listRepositories(ar.project),
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

/** The Policy Troubleshooter's verdict: can the node identity download from the image's repository? */
export function accessFact(google: GoogleCloud, s: FactSession, identity: PullIdentity, image: ImageRef) {
  const resource = `//artifactregistry.googleapis.com/${image.ar?.resourceName}`;
  return s.read(
    `access|${identity.serviceAccount}|${resource}`,
    `Policy Troubleshooter iam.troubleshoot ${resource}`,
    () => google.access.troubleshoot(identity.serviceAccount, resource, DOWNLOAD_PERMISSION),
  );
}

/** The key of a namespace's pod list, shared with the message's live counts (usecases/live-counts.ts). */
export function namespacePodsKey(c: ClusterRef, namespace: string): string {
  return `pods-ns|${clusterKey(c)}|${namespace}`;
}

/**
 * A pod, found in its namespace's pod list: under an alert storm one list serves every pod of the namespace (and the
 * message's counts), instead of a read per pod. A pod the list does not have (created since) is read by itself.
 */
export async function podFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  namespace: string,
  name: string,
): Promise<Fact<PodFacts>> {
  const listed = await s.read(namespacePodsKey(cluster, namespace), `Kubernetes list pods -n ${namespace}`, () =>
    api.listPods(namespace),
  );
  const found = listed.ok ? listed.value.find((p) => p.name === name) : undefined;
  if (found) return factOk(found, listed.source);
  return s.read(`pod|${clusterKey(cluster)}|${namespace}/${name}`, `Kubernetes get pods ${namespace}/${name}`, () =>
    api.getPod(namespace, name),
  );
}

/**
 * The workload a pod belongs to. An alert's session finds it in its namespace's list of that kind — one read for
 * every pod of a storm — naming a Deployment from the ReplicaSet as the Deployment controller does
 * (`NAME-<pod-template-hash>`, the hash also on the pod). A person's (fresh) session, a pod the list does not have,
 * or a list that fails, follows the owner chain by name: the ReplicaSet's controller reference, then the workload.
 */
export async function workloadFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  pod: PodFacts,
): Promise<Fact<WorkloadState | undefined> | undefined> {
  const owner = pod.owner;
  if (!owner) return undefined;
  const ck = clusterKey(cluster);
  const byChain = () =>
    s.read(
      `workload|${ck}|${pod.namespace}|${owner.kind}/${owner.name}`,
      `Kubernetes get ${owner.kind.toLowerCase()}s ${pod.namespace}/${owner.name}`,
      () => api.resolveWorkload(pod.namespace, owner),
    );
  const named = s.fresh ? undefined : listedOwner(owner, pod.templateHash);
  if (!named) return byChain();
  const listed = await workloadsFact(s, api, cluster, pod.namespace, named.kind);
  const found = listed.ok ? listed.value.find((w) => w.name === named.name) : undefined;
  return found ? factOk(found, listed.source) : byChain();
}

/** Every workload of `kind` in a namespace: one read for every pod of a storm. */
function workloadsFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  namespace: string,
  kind: WorkloadKind,
): Promise<Fact<WorkloadState[]>> {
  return s.read(
    `workloads-ns|${clusterKey(cluster)}|${namespace}|${kind}`,
    `Kubernetes list ${kind.toLowerCase()}s -n ${namespace}`,
    () => api.listWorkloads(namespace, kind),
  );
}

/** A node, by name: one read for every pod on it. */
export function nodeFact(s: FactSession, api: ClusterApi, cluster: ClusterRef, name: string): Promise<Fact<NodeFacts>> {
  return s.read(`node|${clusterKey(cluster)}|${name}`, `Kubernetes get nodes ${name}`, () => api.getNode(name));
}

/** The Warning events about any pod of a namespace: one read for a storm (an alert's session). */
export function namespaceWarningsFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  namespace: string,
): Promise<Fact<PodEventFacts[]>> {
  return s.read(
    `warnings-ns|${clusterKey(cluster)}|${namespace}`,
    `Kubernetes list events -n ${namespace} (Warning, pods)`,
    () => api.listPodWarnings(namespace),
  );
}

function serviceAccountsFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  namespace: string,
): Promise<Fact<KubernetesServiceAccountFacts[]>> {
  return s.read(`ksas-ns|${clusterKey(cluster)}|${namespace}`, `Kubernetes list serviceaccounts -n ${namespace}`, () =>
    api.listServiceAccounts(namespace),
  );
}

/**
 * A pod's Kubernetes service account. An alert's session finds it in its namespace's list — one read for every pod
 * of a storm, and one that can start before the pod is read; a person's (fresh) session, an account the list does
 * not have, or a list that fails (a ClusterRole without `list serviceaccounts`), reads it by name.
 */
export async function serviceAccountFact(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  namespace: string,
  name: string,
): Promise<Fact<KubernetesServiceAccountFacts>> {
  const byName = () =>
    s.read(
      `ksa|${clusterKey(cluster)}|${namespace}/${name}`,
      `Kubernetes get serviceaccounts ${namespace}/${name}`,
      () => api.getServiceAccount(namespace, name),
    );
  if (s.fresh) return byName();
  const listed = await serviceAccountsFact(s, api, cluster, namespace);
  const found = listed.ok ? listed.value.find((a) => a.name === `${namespace}/${name}`) : undefined;
  return found ? factOk(found, listed.source) : byName();
}

/** A pod a Deployment made: `NAME-<pod-template-hash>-<suffix>`. A guess, only used to start a list early. */
const DEPLOYMENT_POD = /-[a-z0-9]{6,10}-[a-z0-9]{5}$/;

/**
 * Starts, for an alert's session, the reads that do not need the pod: its namespace's Warning events, service
 * accounts and (for a pod named as a Deployment names its pods) Deployments, and the node the alert names. Each is
 * shared by key with the read `diagnosePod` makes once the pod is known, so the critical path of an alert is the
 * pod's read alone (docs/diagnosis.md, "Facts"). A person's (fresh) session reads by the pod, as before; so does an
 * alert whose namespace or node the budget refuses (a flood of made-up names: read-ahead-budget.ts).
 */
export function readAhead(
  s: FactSession,
  api: ClusterApi,
  cluster: ClusterRef,
  target: { readonly namespace: string; readonly pod: string; readonly node?: string | undefined },
  budget: ReadAheadBudget,
): void {
  if (s.fresh) return;
  const ck = clusterKey(cluster);
  const { namespace, pod, node } = target;
  if (budget.allow(ck, 'namespace', namespace)) {
    void namespaceWarningsFact(s, api, cluster, namespace);
    void serviceAccountsFact(s, api, cluster, namespace);
    if (DEPLOYMENT_POD.test(pod)) void workloadsFact(s, api, cluster, namespace, 'Deployment');
  }
  if (node && budget.allow(ck, 'node', node)) void nodeFact(s, api, cluster, node);
}

/** The workload a pod's owner reference names without reading its ReplicaSet, when that is certain. */
function listedOwner(
  owner: { readonly kind: string; readonly name: string },
  hash: string | undefined,
): { kind: WorkloadKind; name: string } | undefined {
  if (owner.kind === 'Deployment' || owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet')
    return { kind: owner.kind, name: owner.name };
  if (owner.kind !== 'ReplicaSet' || !hash || !owner.name.endsWith(`-${hash}`)) return undefined;
  const name = owner.name.slice(0, -(hash.length + 1));
  return name ? { kind: 'Deployment', name } : undefined;
}
