import type { Diagnosis, FindingId, GrantRepoReaderPlan, PullIdentity } from '../diagnosis/diagnosis.ts';
import type { ClusterRef } from '../diagnosis/facts.ts';
import type { ImageUse, NotChecked, PullPair } from './crossing.ts';

/**
 * From one diagnosis per (pool, image) to gaps grouped by root cause (docs/prevention.md, "Root causes"): the
 * diagnosis's `key` is the key incidents are grouped on (repository × node service account for access, cluster ×
 * pool for scopes…), so one gap is one incident. Pure.
 */

/** Findings that mean the pool could not pull the image: what a new node would fail on. */
const GAP_FINDINGS: ReadonlySet<FindingId> = new Set([
  'vpc-sc',
  'deny-policy',
  'repository-not-found',
  'node-scopes-insufficient',
  'node-sa-missing-reader',
  'cross-project-reader-missing',
  'workload-identity-misconception',
  'image-not-found',
]);

/** `cannot-pull`: a finding blocks it; `can-pull`: IAM lets the node pull; `unknown`: the reads could not decide. */
export type PullVerdict = 'can-pull' | 'cannot-pull' | 'unknown';

/** The verdict a diagnosis of (pool identity, image) gives. */
export function verdictOf(d: Diagnosis): PullVerdict {
  const primary = d.findings[0]?.id;
  if (primary && GAP_FINDINGS.has(primary)) return 'cannot-pull';
  if (d.findings.some((f) => f.id === 'access-already-granted')) return 'can-pull';
  return 'unknown';
}

/** One pair and what the diagnosis said about it. */
export interface PairResult {
  readonly pair: PullPair;
  readonly diagnosis: Diagnosis;
}

/** A node pool (of a cluster) and the identity its nodes pull with. */
export interface PoolIdentity {
  readonly cluster: ClusterRef;
  readonly pool: string;
  /** Undefined when the identity could not be resolved. */
  readonly serviceAccount?: string;
}

/** What closes a gap: the exact grant when one does, else the steps and commands of the finding. */
export interface GapFix {
  readonly grant?: GrantRepoReaderPlan;
  /** The command a person runs for it (the grant, or the finding's first command). */
  readonly command?: string;
  readonly steps: readonly string[];
}

/** Pools that cannot pull images, for one root cause. */
export interface Gap {
  /** The diagnosis key: the same key an alert-driven incident for this cause has. */
  readonly key: string;
  readonly finding: FindingId;
  readonly headline: string;
  /** `projects/P/locations/L/repositories/R` of the images, when they share one. */
  readonly repository?: string;
  readonly serviceAccount?: string;
  readonly pools: readonly PoolIdentity[];
  /** The images, as written in the pod templates (normalized), sorted. */
  readonly images: readonly string[];
  /** Each workload once (the first container that needs the image names it). */
  readonly uses: readonly ImageUse[];
  readonly fix: GapFix;
  /** False when every pair of it comes from scheduling that could not be decided. */
  readonly certain: boolean;
  /** Some node of these pools holds one of the images in its cache: pods there run without pulling. */
  readonly cached: boolean;
  /** The diagnosis of the first pair (by pool, then image): what the incident shows. */
  readonly diagnosis: Diagnosis;
}

/** Groups the cannot-pull results by root cause, in a stable order (by key). */
export function groupGaps(results: readonly PairResult[]): Gap[] {
  const byKey = new Map<string, PairResult[]>();
  for (const r of [...results].sort(pairOrder)) {
    if (verdictOf(r.diagnosis) !== 'cannot-pull') continue;
    byKey.set(r.diagnosis.key, [...(byKey.get(r.diagnosis.key) ?? []), r]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, rs]) => {
      const first = rs[0] as PairResult;
      const d = first.diagnosis;
      const finding = d.findings[0];
      const pools = unique(
        rs.map((r) => poolIdentity(r.pair, r.diagnosis.identity)),
        (p) => `${clusterText(p.cluster)}|${p.pool}`,
      );
      const uses = unique(
        rs.flatMap((r) => r.pair.uses),
        (u) => `${clusterText(u.cluster)}|${u.kind}|${u.namespace}|${u.name}`,
      );
      const grant = d.fixes.find((f): f is GrantRepoReaderPlan => f.kind === 'grant-repo-reader');
      const commands = finding?.commands ?? [];
      const command = commands.find((c) => /add-iam-policy-binding/.test(c.command)) ?? commands[0];
      const repositories = new Set(rs.map((r) => r.pair.image.ar?.resourceName));
      const accounts = new Set(pools.map((p) => p.serviceAccount));
      const repository = repositories.size === 1 ? [...repositories][0] : undefined;
      const serviceAccount = accounts.size === 1 ? [...accounts][0] : undefined;
      return {
        key,
        finding: finding?.id ?? 'cannot-verify',
        headline: d.headline,
        ...(repository ? { repository } : {}),
        ...(serviceAccount ? { serviceAccount } : {}),
        pools,
        images: [...new Set(rs.map((r) => r.pair.image.normalized))].sort(),
        uses,
        fix: {
          ...(grant ? { grant } : {}),
          ...(command ? { command: command.command } : {}),
          steps: finding?.nextSteps ?? [],
        },
        certain: rs.some((r) => r.pair.certain),
        cached: rs.some((r) => r.pair.cachedOn > 0),
        diagnosis: d,
      };
    });
}

/** One (pool, image) pair as checked: what closing a gap that no longer holds looks at. */
export interface PairCheck {
  /** `PROJECT/LOCATION/CLUSTER`. */
  readonly cluster: string;
  readonly pool: string;
  readonly serviceAccount?: string;
  readonly repository?: string;
  /** Normalized image reference. */
  readonly image: string;
  readonly verdict: PullVerdict;
  readonly key: string;
}

/** Every pair's verdict, compact. */
export function pairChecks(results: readonly PairResult[]): PairCheck[] {
  return results.map(({ pair, diagnosis }) => ({
    cluster: clusterText(pair.cluster),
    pool: pair.pool.name,
    ...(diagnosis.identity ? { serviceAccount: diagnosis.identity.serviceAccount } : {}),
    ...(pair.image.ar ? { repository: pair.image.ar.resourceName } : {}),
    image: pair.image.normalized,
    verdict: verdictOf(diagnosis),
    key: diagnosis.key,
  }));
}

/**
 * What the diagnoses could not decide or read, each once: pairs with no verdict, and failed reads behind the
 * verdicts that were given (a Troubleshooter that did not answer leaves deny policies unchecked).
 */
export function undecided(results: readonly PairResult[]): NotChecked[] {
  const out = new Map<string, NotChecked>();
  for (const r of results) {
    const { pair, diagnosis } = r;
    if (verdictOf(diagnosis) === 'unknown') {
      const what = `whether pool \`${pair.pool.name}\` of ${clusterText(pair.cluster)} can pull \`${pair.image.normalized}\``;
      const why = diagnosis.unknowns.map((u) => u.error.message).join('; ') || 'no check could decide it';
      out.set(what, { what, why });
    }
    for (const u of diagnosis.unknowns) {
      const what = `\`${u.check}\` (${u.source})`;
      if (!out.has(what)) out.set(what, { what, why: u.error.message });
    }
  }
  return [...out.values()];
}

function poolIdentity(pair: PullPair, identity: PullIdentity | undefined): PoolIdentity {
  return {
    cluster: pair.cluster,
    pool: pair.pool.name,
    ...(identity ? { serviceAccount: identity.serviceAccount } : {}),
  };
}

function pairOrder(a: PairResult, b: PairResult): number {
  return (
    clusterText(a.pair.cluster).localeCompare(clusterText(b.pair.cluster)) ||
    a.pair.pool.name.localeCompare(b.pair.pool.name) ||
    a.pair.image.normalized.localeCompare(b.pair.image.normalized)
  );
}

/** `PROJECT/LOCATION/CLUSTER`. */
export function clusterText(c: ClusterRef): string {
  return `${c.project}/${c.location}/${c.name}`;
}

function unique<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const t of items) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}
