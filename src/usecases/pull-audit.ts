import { diagnose } from '../diagnosis/diagnose.ts';
import type { ClusterRef, Fact } from '../diagnosis/facts.ts';
import { identityOfPool } from '../diagnosis/identity.ts';
import type { ImageRef } from '../diagnosis/image-ref.ts';
import type { ClusterConnector } from '../ports/cluster.port.ts';
import type { ClusterInfo, GoogleCloud } from '../ports/gcp.port.ts';
import { crossImagesWithPools, type NotChecked, type PullPair } from '../prevention/crossing.ts';
import { type ClusterInventory, TEMPLATE_KINDS, type WorkloadTemplate } from '../prevention/facts.ts';
import { clusterText, groupGaps, type PairResult, pairChecks, undecided, verdictOf } from '../prevention/grouping.ts';
import type { AuditedCluster, PullAuditReport } from '../prevention/report.ts';
import { accessFact, clusterFact, imageFacts, projectNumberFact } from './fact-gathering.ts';
import type { FactReader, FactSession } from './fact-reader.ts';
import { parsed } from './pull-messages.ts';

/** What to audit: clusters, every cluster of some projects, optionally only images that depend on some resources. */
export interface AuditTarget {
  readonly clusters?: readonly ClusterRef[];
  readonly projects?: readonly string[];
  /**
   * Only images whose pull depends on one of these: a repository (`projects/P/locations/L/repositories/R`) or a
   * project (`projects/P`, whose allow policy can grant on all its repositories). The re-audit after an IAM change.
   */
  readonly dependsOn?: readonly string[];
}

/** One image before it is deployed (the CI check): the cluster's pools, or only `nodePool`. */
export interface ImageTarget {
  readonly cluster: ClusterRef;
  readonly image: string;
  readonly nodePool?: string;
}

export interface PullAuditDeps {
  readonly google: GoogleCloud;
  readonly clusters: ClusterConnector;
  readonly reader: FactReader;
}

/** What no audit checks: said with every answer that checked an image. */
const VPC_SC: NotChecked = {
  what: 'VPC Service Controls perimeters',
  why: "a perimeter shows only in the registry's answer to a pull; the audit reads IAM, scopes and the registry, not the network path",
};

/** Reads in flight at once: an audit of a big project must not burst hundreds of calls at the APIs. */
const PARALLEL_PAIRS = 16;

/**
 * The pull audit (docs/prevention.md): for each cluster, every image its workloads use × every node pool that can
 * schedule them, each pair diagnosed with the same checks as a failing pod (`diagnose`), the gaps grouped by the
 * incident key. All reads go through one FactReader session: each fact is read once however many workloads and
 * pools need it (cluster, project number, a list per workload kind and the nodes; per repository its metadata and
 * policy, per project its policy, per image its tag, per service account × repository one Troubleshooter verdict).
 */
export class PullAudit {
  readonly #d: PullAuditDeps;

  constructor(deps: PullAuditDeps) {
    this.#d = deps;
  }

  /** Audits the target. `fresh` reads everything anew (after an IAM change, or when a person asks). */
  async audit(target: AuditTarget, options?: { fresh?: boolean }): Promise<PullAuditReport> {
    const s = this.#d.reader.session({ fresh: options?.fresh === true });
    const notChecked: NotChecked[] = [];
    const refs = await this.#clustersOf(target, s, notChecked);
    const inventories = await Promise.all(refs.map((ref) => this.#inventory(ref, s, notChecked)));
    const pairs: { pair: PullPair; info: Fact<ClusterInfo>; projectNumber: Fact<string> }[] = [];
    const audited: AuditedCluster[] = [];
    const crossings = inventories.map((inv) => (inv ? crossImagesWithPools(inv.inventory) : undefined));
    const changed = await this.#changedResources(target.dependsOn, crossings, s);
    for (const [i, inv] of inventories.entries()) {
      const crossing = crossings[i];
      if (!inv || !crossing) continue;
      notChecked.push(...crossing.notChecked.map((n) => ({ ...n, what: `${clusterText(inv.ref)}: ${n.what}` })));
      const kept = crossing.pairs.filter((p) => dependsOn(p.image, changed));
      for (const pair of kept) pairs.push({ pair, info: inv.info, projectNumber: inv.projectNumber });
      audited.push({
        cluster: inv.ref,
        pools: inv.inventory.pools.map((p) => {
          const id = identityOfPool(p, inv.info, inv.projectNumber);
          return { name: p.name, ...(id.ok ? { serviceAccount: id.value.serviceAccount } : {}) };
        }),
        workloads: crossing.workloads,
        images: new Set(kept.map((p) => p.image.normalized)).size,
      });
    }
    const results = await mapLimit(pairs, PARALLEL_PAIRS, ({ pair, info, projectNumber }) =>
      this.#diagnosePair(pair, info, projectNumber, s),
    );
    const incomplete = inventories.flatMap((inv) => (inv && !inv.complete ? [clusterText(inv.ref)] : []));
    return reportOf(audited, results, notChecked, incomplete);
  }

  /** Can the cluster's pools (or one of them) pull this image? No workload is read: the image is not deployed yet. */
  async checkImage(target: ImageTarget): Promise<PullAuditReport> {
    const s = this.#d.reader.session({ fresh: true });
    const image = parsed(target.image);
    const info = await clusterFact(this.#d.google, s, target.cluster);
    const projectNumber = await projectNumberFact(this.#d.google, s, target.cluster.project);
    const notChecked: NotChecked[] = [];
    if (!info.ok) {
      notChecked.push({ what: `cluster ${clusterText(target.cluster)}`, why: info.error.message });
      return reportOf([], [], notChecked, []);
    }
    const pools = info.value.nodePools.filter((p) => !target.nodePool || p.name === target.nodePool);
    if (target.nodePool && pools.length === 0) {
      notChecked.push({
        what: `node pool \`${target.nodePool}\``,
        why: `cluster ${clusterText(target.cluster)} has no such pool (it has ${info.value.nodePools.map((p) => `\`${p.name}\``).join(', ')})`,
      });
    }
    const inventory: ClusterInventory = {
      cluster: target.cluster,
      pools,
      workloads: [pipelineWorkload(target.image)],
    };
    const crossing = crossImagesWithPools(inventory);
    notChecked.push(...crossing.notChecked);
    const results = await Promise.all(crossing.pairs.map((p) => this.#diagnosePair(p, info, projectNumber, s)));
    const audited: AuditedCluster = {
      cluster: target.cluster,
      pools: pools.map((p) => {
        const id = identityOfPool(p, info, projectNumber);
        return { name: p.name, ...(id.ok ? { serviceAccount: id.value.serviceAccount } : {}) };
      }),
      workloads: 0,
      images: image?.ar ? 1 : 0,
    };
    return reportOf([audited], results, notChecked, []);
  }

  /**
   * The changed resources, with a project named by its number (`projects/123…`, as Resource Manager v3 logs it)
   * also under its id: the images name projects by id.
   */
  async #changedResources(
    resources: readonly string[] | undefined,
    crossings: readonly ({ pairs: readonly PullPair[] } | undefined)[],
    s: FactSession,
  ): Promise<readonly string[] | undefined> {
    if (!resources?.some((r) => /^projects\/\d+$/.test(r))) return resources;
    const projects = new Set(crossings.flatMap((c) => c?.pairs.map((p) => p.image.ar?.project ?? '') ?? []));
    const out = [...resources];
    for (const project of projects) {
      if (!project) continue;
      const n = await projectNumberFact(this.#d.google, s, project);
      if (n.ok && resources.includes(`projects/${n.value}`)) out.push(`projects/${project}`);
    }
    return out;
  }

  async #clustersOf(target: AuditTarget, s: FactSession, notChecked: NotChecked[]): Promise<ClusterRef[]> {
    const refs = new Map<string, ClusterRef>();
    for (const c of target.clusters ?? []) refs.set(clusterText(c), c);
    for (const project of target.projects ?? []) {
      const listed = await s.read(`clusters|${project}`, `GKE clusters.list projects/${project}/locations/-`, () =>
        this.#d.google.gke.listClusters(project),
      );
      if (!listed.ok) notChecked.push({ what: `the clusters of project ${project}`, why: listed.error.message });
      else for (const c of listed.value) refs.set(clusterText(c), c);
    }
    return [...refs.values()].sort((a, b) => clusterText(a).localeCompare(clusterText(b)));
  }

  /** The cluster, its project number, its nodes and every workload kind, read in parallel. */
  async #inventory(ref: ClusterRef, s: FactSession, notChecked: NotChecked[]) {
    const [info, projectNumber] = await Promise.all([
      clusterFact(this.#d.google, s, ref),
      projectNumberFact(this.#d.google, s, ref.project),
    ]);
    if (!info.ok) {
      notChecked.push({ what: `cluster ${clusterText(ref)}`, why: info.error.message });
      return undefined;
    }
    const api = await this.#d.clusters.connect(info.value);
    const key = clusterText(ref);
    const [nodes, ...lists] = await Promise.all([
      s.read(`nodes|${key}`, `Kubernetes list nodes (${key})`, () => api.listNodes()),
      ...TEMPLATE_KINDS.map((kind) =>
        s.read(`templates|${key}|${kind}`, `Kubernetes list ${kind.toLowerCase()}s (${key})`, () =>
          api.listWorkloadTemplates(kind),
        ),
      ),
    ]);
    const workloads: WorkloadTemplate[] = [];
    let complete = true;
    lists.forEach((list, i) => {
      if (list.ok) workloads.push(...list.value);
      else {
        complete = false;
        notChecked.push({ what: `${clusterText(ref)}: the ${TEMPLATE_KINDS[i]}s`, why: list.error.message });
      }
    });
    if (!nodes.ok) {
      notChecked.push({
        what: `${clusterText(ref)}: the nodes' labels`,
        why: `${nodes.error.message} (node selectors were matched against the pools' configured labels only)`,
      });
    }
    const inventory: ClusterInventory = {
      cluster: ref,
      pools: info.value.nodePools,
      ...(nodes.ok ? { nodes: nodes.value } : {}),
      workloads,
    };
    return { ref, info, projectNumber, inventory, complete };
  }

  /** The same diagnosis as for a failing pod of this pool, with no kubelet message (the cause is not known yet). */
  async #diagnosePair(
    pair: PullPair,
    info: Fact<ClusterInfo>,
    projectNumber: Fact<string>,
    s: FactSession,
  ): Promise<PairResult> {
    const { google } = this.#d;
    const identity = identityOfPool(pair.pool, info, projectNumber);
    const [repoFacts, access] = await Promise.all([
      imageFacts(google, s, pair.image),
      identity.ok ? accessFact(google, s, identity.value, pair.image) : undefined,
    ]);
    const diagnosis = diagnose({
      facts: { cluster: info, clusterProjectNumber: projectNumber, ...repoFacts, ...(access ? { access } : {}) },
      classification: { cause: 'unknown' },
      subject: { cluster: pair.cluster, image: pair.image.raw },
      image: pair.image,
      identity,
    });
    return { pair, diagnosis };
  }
}

/** The answer, from the pairs' diagnoses and what could not be read. */
function reportOf(
  clusters: readonly AuditedCluster[],
  results: readonly PairResult[],
  notChecked: readonly NotChecked[],
  incomplete: readonly string[],
): PullAuditReport {
  return {
    clusters,
    pairs: results.length,
    canPull: results.filter((r) => verdictOf(r.diagnosis) === 'can-pull').length,
    gaps: groupGaps(results),
    notChecked: [...notChecked, ...undecided(results), ...(results.length > 0 ? [VPC_SC] : [])],
    checks: pairChecks(results),
    incomplete,
  };
}

/** Whether an image's pull depends on one of the changed resources (all images when none is given). */
function dependsOn(image: ImageRef, resources: readonly string[] | undefined): boolean {
  if (!resources) return true;
  const ar = image.ar;
  return ar !== undefined && (resources.includes(ar.resourceName) || resources.includes(`projects/${ar.project}`));
}

/** The image about to be deployed, as a workload that may land on any pool. */
function pipelineWorkload(image: string): WorkloadTemplate {
  return {
    kind: 'Deployment',
    namespace: '',
    name: 'the image to deploy',
    containers: [{ name: 'image', image, init: false }],
    nodeSelector: {},
    running: 0,
    desired: 1,
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
