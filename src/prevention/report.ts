import type { ClusterRef } from '../diagnosis/facts.ts';
import type { ImageUse, NotChecked } from './crossing.ts';
import { clusterText, type Gap, type PairCheck } from './grouping.ts';

/** The answer of one pull audit and its one-line texts (docs/prevention.md). Pure. */

/** A cluster as audited: its pools and how much of it was crossed. */
export interface AuditedCluster {
  readonly cluster: ClusterRef;
  readonly pools: readonly { readonly name: string; readonly serviceAccount?: string }[];
  /** Workloads whose images were checked. */
  readonly workloads: number;
  /** Distinct images checked (Artifact Registry only). */
  readonly images: number;
}

export interface PullAuditReport {
  readonly clusters: readonly AuditedCluster[];
  /** (pool, image) pairs checked. */
  readonly pairs: number;
  /** Pairs IAM lets pull. */
  readonly canPull: number;
  readonly gaps: readonly Gap[];
  readonly notChecked: readonly NotChecked[];
  /** Every pair's verdict (for closing gaps that no longer hold). */
  readonly checks: readonly PairCheck[];
  /** Clusters (`P/L/C`) whose workloads could not all be read: nothing of theirs is taken as closed. */
  readonly incomplete: readonly string[];
}

const NOT_FOUND = new Set(['repository-not-found', 'image-not-found']);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `workload kind/name` for people (`cronjob/nightly-report`). */
export function useText(u: ImageUse): string {
  return `${u.kind.toLowerCase()}/${u.name}`;
}

/** Who cannot pull: the pool(s) and the service account they run as. */
function who(gap: Gap): string {
  if (NOT_FOUND.has(gap.finding)) return 'no node pool can pull';
  const clusters = new Set(gap.pools.map((p) => clusterText(p.cluster)));
  const names = gap.pools.map((p) => `\`${clusters.size > 1 ? `${p.cluster.name}/${p.pool}` : p.pool}\``);
  const sa = gap.serviceAccount ? ` (\`${gap.serviceAccount}\`)` : '';
  return `node pool${names.length === 1 ? '' : 's'} ${names.join(', ')}${sa} cannot pull`;
}

/**
 * What runs today and what has not started yet, among the workloads behind a gap: pods on these pools run only
 * because their nodes hold the image already; pods elsewhere run on pools that can pull.
 */
function today(gap: Gap): string {
  const uses = gap.uses;
  const never = uses.filter((u) => u.neverRun);
  const running = uses.filter((u) => !u.neverRun && u.running > 0);
  const parts: string[] = [];
  if (running.length > 0) {
    const they =
      running.length === uses.length
        ? uses.length === 1
          ? 'it runs'
          : 'they run'
        : `${running.length} of them ${running.length === 1 ? 'runs' : 'run'}`;
    parts.push(
      gap.cached
        ? `${they} today only from the node cache`
        : `${they} today on other pools: the first pod scheduled here will fail`,
    );
  }
  if (never.length > 0) {
    parts.push(
      `${never.map(useText).join(', ')} ${never.length === 1 ? 'has' : 'have'} not run yet: the first run will fail`,
    );
  }
  if (parts.length === 0)
    parts.push(`no pod of ${uses.length === 1 ? 'it' : 'them'} runs now: it may be failing already`);
  return parts.join('; ');
}

/**
 * The one line a gap is announced with, e.g. "node pool `pool-b` (`gke-nodes@…`) cannot pull 3 images used by 2
 * workloads; they run today only from the node cache".
 */
export function gapSummary(gap: Gap): string {
  return `${who(gap)} ${plural(gap.images.length, 'image')} used by ${plural(gap.uses.length, 'workload')}; ${today(gap)}`;
}

/** One line for the whole audit: how much was checked and how many root causes block pulls. */
export function reportSummary(r: PullAuditReport): string {
  const pools = r.clusters.reduce((n, c) => n + c.pools.length, 0);
  const images = r.clusters.reduce((n, c) => n + c.images, 0);
  const checked = `${plural(r.clusters.length, 'cluster')}, ${plural(pools, 'node pool')}, ${plural(images, 'image')}`;
  if (r.gaps.length === 0) return `Every node pool can pull every image it may need (${checked}).`;
  return `${plural(r.gaps.length, 'root cause')} would stop new nodes from pulling images in use (${checked}).`;
}

/** The `imagepull audit --json` shape (docs/prevention.md): ids and data, no Slack or terminal markup. */
export function auditJson(r: PullAuditReport) {
  return {
    summary: reportSummary(r),
    clusters: r.clusters.map((c) => ({
      cluster: clusterText(c.cluster),
      pools: c.pools.map((p) => ({ name: p.name, ...(p.serviceAccount ? { serviceAccount: p.serviceAccount } : {}) })),
      workloads: c.workloads,
      images: c.images,
    })),
    pairs: r.pairs,
    canPull: r.canPull,
    gaps: r.gaps.map((g) => ({
      key: g.key,
      finding: g.finding,
      summary: gapSummary(g),
      headline: g.headline,
      ...(g.repository ? { repository: g.repository } : {}),
      ...(g.serviceAccount ? { serviceAccount: g.serviceAccount } : {}),
      pools: g.pools.map((p) => ({
        cluster: clusterText(p.cluster),
        pool: p.pool,
        ...(p.serviceAccount ? { serviceAccount: p.serviceAccount } : {}),
      })),
      images: g.images,
      workloads: g.uses.map((u) => ({
        cluster: clusterText(u.cluster),
        kind: u.kind,
        namespace: u.namespace,
        name: u.name,
        running: u.running,
        ...(u.neverRun ? { neverRun: true } : {}),
      })),
      fix: g.fix,
      certain: g.certain,
    })),
    notChecked: r.notChecked,
  };
}
