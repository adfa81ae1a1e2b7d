import type { PullAuditReport } from './report.ts';

/**
 * When a gap the audit reported before no longer holds (docs/prevention.md, "Closing"): the audit must have looked
 * at what the gap is about, and decided it. A read that failed, a cluster whose workloads could not all be listed,
 * or a re-audit about other resources closes nothing. Pure.
 */

/** What an open gap (its incident) is about, from its diagnosis. */
export interface OpenGap {
  readonly id: string;
  readonly key: string;
  /** `PROJECT/LOCATION/CLUSTER` of its diagnosis. */
  readonly cluster?: string;
  readonly pool?: string;
  readonly serviceAccount?: string;
  readonly repository?: string;
  readonly image?: string;
}

/** The kind of root cause, from the key's first segment (`node-access`, `scopes`, `deny-policy`…). */
function kindOf(key: string): string {
  return key.split('|')[0] ?? '';
}

/** Ids of the open gaps this audit shows closed. `partial`: the audit was limited to some resources (an IAM change). */
export function closedGaps(open: readonly OpenGap[], report: PullAuditReport, partial: boolean): string[] {
  const found = new Set(report.gaps.map((g) => g.key));
  const audited = new Set(report.clusters.map((c) => `${c.cluster.project}/${c.cluster.location}/${c.cluster.name}`));
  const incomplete = new Set(report.incomplete);
  return open
    .filter((g) => {
      if (found.has(g.key) || !g.cluster || !audited.has(g.cluster) || incomplete.has(g.cluster)) return false;
      const related = report.checks.filter((c) => {
        switch (kindOf(g.key)) {
          case 'scopes':
            return c.cluster === g.cluster && c.pool === g.pool;
          case 'image-not-found':
            return c.image === g.image;
          case 'repository-not-found':
            return c.repository === g.repository;
          default:
            return c.repository === g.repository && c.serviceAccount === g.serviceAccount;
        }
      });
      // Nothing uses it any more: closed, if the audit saw every workload (a partial one saw only some).
      if (related.length === 0) return !partial;
      return related.every((c) => c.verdict !== 'unknown');
    })
    .map((g) => g.id);
}
