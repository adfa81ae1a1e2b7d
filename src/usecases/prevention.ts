import { randomUUID } from 'node:crypto';
import type { Alert } from '../alerts/alert.ts';
import type { WorkloadKind } from '../diagnosis/facts.ts';
import { incidentId, newIncident } from '../incidents/merge.ts';
import type { AffectedWorkload, IncidentRecord, PreventionRecord } from '../incidents/model.ts';
import { withPlan } from '../incidents/plan.ts';
import type { StateStore } from '../ports/store.port.ts';
import { closedGaps, type OpenGap } from '../prevention/closing.ts';
import { clusterText, type Gap } from '../prevention/grouping.ts';
import { gapSummary, type PullAuditReport } from '../prevention/report.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from './alert-intake.ts';
import type { IncidentService } from './incidents.ts';
import type { AuditTarget, PullAudit } from './pull-audit.ts';

export type AuditTrigger = PreventionRecord['trigger'];

export interface PreventionDeps {
  readonly audit: Pick<PullAudit, 'audit'>;
  readonly incidents: IncidentService;
  readonly store: Pick<StateStore, 'listIncidents' | 'acquireLock'>;
  /** What the periodic audit and the IAM-change re-audit cover (AUDIT_CLUSTERS, else DEFAULT_CLUSTER). */
  readonly scope: AuditTarget;
  readonly planTtlMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

/** One audit run and what it did to the incidents. */
export interface AuditRun {
  readonly report: PullAuditReport;
  /** The incident of each gap, as stored after the run (same order as `report.gaps`). */
  readonly incidents: readonly IncidentRecord[];
  readonly resolved: number;
}

const RESTARTABLE: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/**
 * The pull audit in the bot (docs/prevention.md, "In the bot"): runs it periodically, on `/imagepull audit`, and at
 * once after an IAM change (a SetIamPolicy audit-log entry), and keeps one incident per root cause in the same
 * lifecycle, with the same plan and buttons, as alert-driven incidents (`origin: 'audit'`). A gap an audit no longer
 * finds resolves its incident; one seen again after it was fixed or resolved opens it again.
 */
export class PreventionService {
  readonly #d: PreventionDeps;
  readonly #now: () => Date;
  readonly #owner = randomUUID();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  /** Re-audits after IAM changes, by resource: one running and at most one more queued behind it. */
  readonly #changes = new Map<string, { running: Promise<AuditRun>; next?: Promise<AuditRun> }>();
  #periodic: Promise<AuditRun> | undefined;

  constructor(deps: PreventionDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_audits_total', 'Pull audits run, by trigger and outcome', [
      'trigger',
      'outcome',
    ]);
  }

  /** Whether any cluster is configured for the periodic and IAM-change audits. */
  get configured(): boolean {
    return (this.#d.scope.clusters?.length ?? 0) + (this.#d.scope.projects?.length ?? 0) > 0;
  }

  /** Audits `target` (default: the configured scope) and records every gap as an incident; closes the others. */
  async run(trigger: AuditTrigger, options: { target?: AuditTarget; because?: string } = {}): Promise<AuditRun> {
    const target = options.target ?? this.#d.scope;
    try {
      const report = await this.#d.audit.audit(target, { fresh: true });
      const incidents: IncidentRecord[] = [];
      for (const gap of report.gaps) {
        const r = await this.#recordGap(gap, trigger, options.because);
        if (r) incidents.push(r);
      }
      const resolved = await this.#resolveClosed(report, target.dependsOn !== undefined, trigger, options.because);
      this.#count({ trigger, outcome: report.gaps.length > 0 ? 'gaps' : 'clean' });
      this.#d.logger.info(
        { trigger, gaps: report.gaps.map((g) => g.key), pairs: report.pairs, resolved },
        'pull audit done',
      );
      return { report, incidents, resolved };
    } catch (e) {
      this.#count({ trigger, outcome: 'failed' });
      throw e;
    }
  }

  /**
   * The periodic audit: one replica per interval (a lease in the store), the others skip; a period that comes while
   * the last run still goes is skipped too.
   */
  async periodic(intervalMs: number): Promise<AuditRun | undefined> {
    if (!this.configured || this.#periodic) return undefined;
    const held = await this.#d.store.acquireLock('audit:schedule', this.#owner, Math.max(1000, intervalMs - 1000));
    if (!held) return undefined;
    this.#periodic = this.run('schedule');
    try {
      return await this.#periodic;
    } finally {
      this.#periodic = undefined;
    }
  }

  /**
   * A SetIamPolicy entry: re-audit, at once, the configured clusters' pools and images that depend on the changed
   * resource. Changes to one resource that arrive while its re-audit runs share the next one.
   */
  async iamChanged(alert: Alert): Promise<IntakeOutcome> {
    const change = alert.iamChange;
    if (!change) return { ack: true, reason: 'not an IAM change' };
    if (!this.configured) {
      this.#d.logger.warn({ resource: change.resource }, 'IAM change received, but no cluster is set up to audit');
      return { ack: true, reason: 'no cluster to audit (set AUDIT_CLUSTERS or DEFAULT_CLUSTER)' };
    }
    const because = `\`${change.method.split('.').at(-1)}\` on ${change.scope} \`${change.resource.split('/').at(-1)}\`${change.principal ? ` by \`${change.principal}\`` : ''}`;
    try {
      const run = await this.#coalesced(change.resource, () =>
        this.run('iam-change', { target: { ...this.#d.scope, dependsOn: [change.resource] }, because }),
      );
      return { ack: true, reason: `re-audited: ${run.report.gaps.length} gap(s), ${run.resolved} resolved` };
    } catch (e) {
      this.#d.logger.error({ err: e, resource: change.resource }, 're-audit after an IAM change failed');
      return { ack: false, reason: e instanceof Error ? e.message : String(e), retryAfterMs: 5000 };
    }
  }

  #coalesced(resource: string, fn: () => Promise<AuditRun>): Promise<AuditRun> {
    const slot = this.#changes.get(resource);
    if (slot?.next) return slot.next;
    const start = (): Promise<AuditRun> => {
      const running = fn().finally(() => {
        const cur = this.#changes.get(resource);
        if (cur?.running !== running) return;
        if (cur.next) this.#changes.set(resource, { running: cur.next });
        else this.#changes.delete(resource);
      });
      return running;
    };
    if (!slot) {
      const running = start();
      this.#changes.set(resource, { running });
      return running;
    }
    // A change made while the re-audit runs may not be in what it read: one more run, shared by every such change.
    const next = slot.running.catch(() => undefined).then(start);
    this.#changes.set(resource, { ...slot, next });
    return next;
  }

  async #recordGap(gap: Gap, trigger: AuditTrigger, because: string | undefined): Promise<IncidentRecord | undefined> {
    const now = this.#now();
    const at = now.toISOString();
    const id = incidentId(gap.key);
    const prevention = preventionOf(gap, trigger, because, at);
    const affected = affectedOf(gap, at);
    const first = gap.uses[0];
    const cluster = first?.cluster ?? gap.pools[0]?.cluster ?? { project: '', location: '', name: '' };
    const sighting = { cluster, namespace: first?.namespace ?? '', alerts: 0 };
    const fresh: IncidentRecord = {
      ...newIncident(gap.diagnosis, sighting, { kind: 'audit' }, at),
      affected,
      prevention,
    };
    if (!(await this.#d.incidents.get(id)) && (await this.#d.incidents.open(fresh))) return this.#d.incidents.get(id);
    return this.#d.incidents.update(id, (cur) => {
      if (cur.status === 'fixed' || cur.status === 'resolved' || cur.status === 'superseded') {
        // The gap is back after it closed: a warning again, on the same messages; the grant ledger stays for Undo.
        const { posts, grants } = cur;
        return withPlan(
          { ...fresh, ...(posts ? { posts } : {}), ...(grants ? { grants } : {}), version: cur.version },
          { now, ttlMs: this.#d.planTtlMs, renew: true },
        );
      }
      // Pods fail on it (an alert joined), a person dismissed it or a fix runs: not the audit's to rewrite.
      if (cur.origin !== 'audit' || cur.alertCount > 0 || cur.status === 'fixing' || cur.status === 'dismissed') {
        return undefined;
      }
      const next: IncidentRecord = {
        ...cur,
        diagnosis: gap.diagnosis,
        affected: mergeAffected(cur.affected, affected),
        prevention,
      };
      return fingerprint(next) === fingerprint(cur) ? undefined : withPlan(next, { now, ttlMs: this.#d.planTtlMs });
    });
  }

  /** Resolves the open audit incidents whose gap this run looked at and no longer found. */
  async #resolveClosed(
    report: PullAuditReport,
    partial: boolean,
    trigger: AuditTrigger,
    because: string | undefined,
  ): Promise<number> {
    const open = (await this.#d.store.listIncidents(['open', 'failed', 'undone'])).filter(
      (r) => r.origin === 'audit' && r.alertCount === 0,
    );
    const ids = closedGaps(open.map(openGapOf), report, partial);
    const at = this.#now().toISOString();
    for (const id of ids) {
      await this.#d.incidents.update(id, (cur) =>
        (cur.status === 'open' || cur.status === 'failed' || cur.status === 'undone') && cur.alertCount === 0
          ? {
              ...cur,
              status: 'resolved',
              resolvedAt: at,
              ...(cur.prevention
                ? {
                    prevention: {
                      ...cur.prevention,
                      trigger,
                      auditedAt: at,
                      closedAt: at,
                      ...(because ? { because } : {}),
                    },
                  }
                : {}),
            }
          : undefined,
      );
      this.#d.logger.info({ incident: id }, 'audit gap closed: incident resolved');
    }
    return ids.length;
  }
}

function preventionOf(gap: Gap, trigger: AuditTrigger, because: string | undefined, at: string): PreventionRecord {
  return {
    summary: gapSummary(gap),
    pools: gap.pools.map((p) => `${clusterText(p.cluster)}/${p.pool}`),
    images: gap.images,
    workloads: gap.uses.map((u) => `${u.kind.toLowerCase()}/${u.namespace}/${u.name}`),
    trigger,
    ...(because ? { because } : {}),
    auditedAt: at,
  };
}

/** The restartable workloads behind a gap (CronJobs and Jobs are named in the prevention record only). */
function affectedOf(gap: Gap, at: string): AffectedWorkload[] {
  return gap.uses
    .filter((u) => RESTARTABLE.has(u.kind))
    .map((u) => ({
      cluster: u.cluster,
      namespace: u.namespace,
      workload: { kind: u.kind as WorkloadKind, namespace: u.namespace, name: u.name },
      pods: [],
      podCount: 0,
      firstSeen: at,
      lastSeen: at,
    }));
}

/** Keeps what alerts recorded (pods, counters); adds the workloads the audit sees now. */
function mergeAffected(current: readonly AffectedWorkload[], seen: readonly AffectedWorkload[]): AffectedWorkload[] {
  const key = (a: AffectedWorkload) =>
    `${clusterText(a.cluster)}|${a.namespace}|${a.workload?.kind ?? ''}|${a.workload?.name ?? a.pods[0] ?? ''}`;
  const have = new Set(current.map(key));
  return [...current, ...seen.filter((a) => !have.has(key(a)))];
}

/** What a person would notice changed in an audit incident (a re-audit that finds the same writes nothing). */
function fingerprint(r: IncidentRecord): string {
  const p = r.prevention;
  return JSON.stringify([r.status, r.diagnosis.key, r.diagnosis.fixes, p?.summary, p?.pools, p?.images, p?.workloads]);
}

function openGapOf(r: IncidentRecord): OpenGap {
  const d = r.diagnosis;
  const c = d.subject.cluster;
  return {
    id: r.id,
    key: r.key,
    ...(c ? { cluster: clusterText(c) } : {}),
    ...(d.identity ? { pool: d.identity.nodePool, serviceAccount: d.identity.serviceAccount } : {}),
    ...(d.image?.ar ? { repository: d.image.ar.resourceName } : {}),
    ...(d.image ? { image: d.image.normalized } : {}),
  };
}
