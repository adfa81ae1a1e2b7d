import type { ClusterRef, NodePoolFacts } from '../diagnosis/facts.ts';
import { type ImageRef, parseImageRef } from '../diagnosis/image-ref.ts';
import type { ClusterInventory, NodeLabels, TemplateKind, WorkloadTemplate } from './facts.ts';
import { poolCanSchedule } from './scheduling.ts';

/**
 * Crossing the images in use with the node pools that may pull them (docs/prevention.md): every container and init
 * container image of every workload × every pool that can schedule the workload. Pure.
 */

/** A workload that uses an image (and which container of it). */
export interface ImageUse {
  readonly cluster: ClusterRef;
  readonly kind: TemplateKind;
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly init: boolean;
  /** Pods of the workload running now: they run from images already on their nodes. */
  readonly running: number;
  /** A CronJob that has never run. */
  readonly neverRun: boolean;
}

/** One image that nodes of one pool would have to pull, with every workload that needs it there. */
export interface PullPair {
  readonly cluster: ClusterRef;
  readonly pool: NodePoolFacts;
  readonly image: ImageRef;
  readonly uses: readonly ImageUse[];
  /** False when scheduling onto this pool could not be decided for every use (checked as if it could). */
  readonly certain: boolean;
  /** Nodes of the pool now, and how many of them hold the image in their cache (pods there run without a pull). */
  readonly nodes: number;
  readonly cachedOn: number;
}

/** Something the audit did not check, and why (shown with the answer). */
export interface NotChecked {
  readonly what: string;
  readonly why: string;
}

/** What crossing one cluster's inventory gives. */
export interface Crossing {
  readonly pairs: readonly PullPair[];
  readonly notChecked: readonly NotChecked[];
  /** Workloads whose images were crossed (idle ones and Jobs of CronJobs excluded). */
  readonly workloads: number;
}

/** Every (pool, image) pair of a cluster, each once, with the workloads behind it. */
export function crossImagesWithPools(inv: ClusterInventory): Crossing {
  const pairs = new Map<string, { pair: Omit<PullPair, 'uses' | 'certain'>; uses: ImageUse[]; certain: boolean }>();
  const nodesOf = new Map<string, NodeLabels[]>();
  for (const n of inv.nodes ?? []) if (n.pool) nodesOf.set(n.pool, [...(nodesOf.get(n.pool) ?? []), n]);
  const outside = new Map<string, string[]>();
  const invalid = new Map<string, string[]>();
  const undecided: string[] = [];
  let workloads = 0;
  for (const w of inv.workloads) {
    if (w.ownerKind === 'CronJob' || w.idle) continue;
    workloads++;
    const where = new Map(inv.pools.map((p) => [p.name, poolCanSchedule(w, p, inv.nodes ?? [])] as const));
    const pools = inv.pools.filter((p) => where.get(p.name) !== 'no');
    const unsure = pools.filter((p) => where.get(p.name) === 'unknown');
    if (unsure.length > 0) {
      undecided.push(`${label(w)} on ${unsure.map((p) => `\`${p.name}\``).join(', ')}`);
    }
    for (const c of w.containers) {
      const parsed = parseImageRef(c.image);
      if (!parsed.ok) {
        invalid.set(c.image, [...(invalid.get(c.image) ?? []), label(w)]);
        continue;
      }
      const image = parsed.ref;
      if (!image.ar) {
        outside.set(image.normalized, [...(outside.get(image.normalized) ?? []), label(w)]);
        continue;
      }
      const use: ImageUse = {
        cluster: inv.cluster,
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        container: c.name,
        init: c.init,
        running: w.running,
        neverRun: w.kind === 'CronJob' && w.lastScheduled === undefined,
      };
      for (const pool of pools) {
        const key = `${pool.name}|${image.normalized}`;
        const nodes = nodesOf.get(pool.name) ?? [];
        const cachedOn = nodes.filter((n) => n.images?.includes(image.normalized)).length;
        const entry = pairs.get(key) ?? {
          pair: { cluster: inv.cluster, pool, image, nodes: nodes.length, cachedOn },
          uses: [],
          certain: true,
        };
        entry.uses.push(use);
        if (where.get(pool.name) !== 'yes') entry.certain = false;
        pairs.set(key, entry);
      }
    }
  }
  const notChecked: NotChecked[] = [];
  if (outside.size > 0) {
    notChecked.push({
      what: `${outside.size} image(s) outside Artifact Registry: ${[...outside.keys()].map((i) => `\`${i}\``).join(', ')}`,
      why: 'node IAM does not decide pulls from other registries (their credentials, rate limits and pull secrets are not checked)',
    });
  }
  for (const [image, users] of invalid) {
    notChecked.push({ what: `image \`${image}\` of ${users.join(', ')}`, why: 'it is not a valid image reference' });
  }
  if (undecided.length > 0) {
    notChecked.push({
      what: `whether ${undecided.join('; ')} can be scheduled`,
      why: 'its node selector or affinity names labels not known for nodes that do not exist yet: checked as if it could',
    });
  }
  return {
    pairs: [...pairs.values()].map((e) => ({ ...e.pair, uses: e.uses, certain: e.certain })),
    notChecked,
    workloads,
  };
}

function label(w: WorkloadTemplate): string {
  return `${w.kind.toLowerCase()}/${w.namespace}/${w.name}`;
}
