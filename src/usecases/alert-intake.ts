import type { Alert } from '../alerts/alert.ts';
import type { ClusterRef } from '../diagnosis/facts.ts';
import { setNewest } from '../shared/bounded.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { DELIVERY_TTL_MS, type IncidentService } from './incidents.ts';
import type { Investigation, Investigator } from './investigate.ts';
import { cannotInvestigate, type UninvestigableAlerts } from './uninvestigable.ts';

/**
 * What the transport does with the message: ack, or nack for a redelivery (after `retryAfterMs`, so a retry can
 * find the world changed rather than spin).
 */
export type IntakeOutcome =
  | { readonly ack: true; readonly reason: string }
  | { readonly ack: false; readonly reason: string; readonly retryAfterMs?: number };

export interface AlertIntakeDeps {
  readonly investigator: Investigator;
  readonly incidents: IncidentService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Deliveries after which a transient failure is given up: posted with what could be read, or acked. */
  readonly maxAttempts?: number;
  /** Where alerts go whose cluster cannot be read at all (one message per window instead of one post each). */
  readonly uninvestigable?: Pick<UninvestigableAlerts, 'record'>;
  /** Alerts for the same pod within this window share one investigation. */
  readonly coalesceMs?: number;
  /** An IAM change (a SetIamPolicy audit-log entry): the pull audit re-checks what depends on it (usecases/prevention.ts). */
  readonly iamChanged?: (alert: Alert) => Promise<IntakeOutcome>;
}

/**
 * From a normalized alert to incidents. Drops redeliveries (`insertId`, `incident_id`: each incident stores the keys
 * it recorded, in the same write as the sightings — usecases/incidents.ts), shares one investigation
 * among the alerts of one pod that arrive together (an alert storm is a few hundred pods, not ten thousand
 * diagnoses), treats the alert as a hint (the investigation re-reads the live cluster), and decides ack/nack: the
 * message is acked once its incident is stored; a transient failure to read the cluster is retried with backoff a
 * bounded number of times — counted here, since Pub/Sub reports attempts only with a dead-letter policy.
 */
export class AlertIntake {
  readonly #d: AlertIntakeDeps;
  readonly #inFlight = new Map<string, { at: number; result: Promise<Investigation> }>();
  readonly #attempts = new Map<string, number>();
  /** Deliveries this process has handled, until when: a redelivery to the same replica is dropped before any read. */
  readonly #handled = new Map<string, number>();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;

  constructor(deps: AlertIntakeDeps) {
    this.#d = deps;
    this.#count = deps.metrics.counter('imagepull_alerts_total', 'Alerts received, by kind and outcome', [
      'kind',
      'outcome',
    ]);
  }

  async handle(alert: Alert, deliveryAttempt = 1): Promise<IntakeOutcome> {
    const receivedAt = new Date();
    const log = this.#d.logger;
    switch (alert.kind) {
      case 'ignored':
        this.#count({ kind: 'ignored', outcome: 'acked' });
        log.warn({ reason: alert.reason }, 'alert ignored');
        return { ack: true, reason: `ignored: ${alert.reason ?? 'not an image-pull alert'}` };
      case 'test':
        this.#count({ kind: 'test', outcome: 'acked' });
        log.info('test notification received from Cloud Monitoring: the Pub/Sub channel works');
        return { ack: true, reason: 'test notification' };
      case 'iam-change': {
        const outcome = this.#d.iamChanged
          ? await this.#d.iamChanged(alert)
          : { ack: true as const, reason: 'IAM change: no pull audit to run' };
        this.#count({ kind: 'iam-change', outcome: outcome.ack ? 'acked' : 'nacked' });
        return outcome;
      }
      default:
        break;
    }
    if (alert.state === 'closed') {
      const n = alert.incidentId ? await this.#d.incidents.monitoringIncidentClosed(alert.incidentId) : 0;
      this.#count({ kind: alert.kind, outcome: 'closed' });
      log.info({ incidentId: alert.incidentId, resolved: n }, 'monitoring incident closed');
      return { ack: true, reason: `closed; ${n} incident(s) resolved` };
    }
    const { project, location, cluster, namespace, pod } = alert;
    if (!project || !location || !cluster || !namespace || !pod) {
      this.#count({ kind: alert.kind, outcome: 'unidentified' });
      log.warn(
        { alert: { kind: alert.kind, project, location, cluster, namespace, pod } },
        'alert does not identify a pod: acknowledged',
      );
      return { ack: true, reason: 'no pod identity in the alert' };
    }
    if (this.#seen(alert.dedupeKey)) {
      this.#count({ kind: alert.kind, outcome: 'duplicate' });
      return { ack: true, reason: 'duplicate delivery' };
    }
    const clusterRef = { project, location, name: cluster };
    const key = alert.dedupeKey ?? `pod:${project}/${location}/${cluster}/${namespace}/${pod}/${alert.container ?? ''}`;
    const attempt = Math.max(deliveryAttempt, this.#attempt(key));
    const maxAttempts = this.#d.maxAttempts ?? 5;
    try {
      const investigation = await this.#investigate(alert, clusterRef, namespace, pod);
      const blind = investigation.readError?.code === 'unavailable' || investigation.readError?.code === 'timeout';
      if (blind && attempt < maxAttempts) {
        this.#count({ kind: alert.kind, outcome: 'nacked' });
        return {
          ack: false,
          reason: `cluster or pod could not be read (${investigation.readError?.message}): retry later`,
          retryAfterMs: backoff(attempt),
        };
      }
      const unreadable = investigation.unreadable === 'cluster' ? investigation.readError : undefined;
      if (unreadable && this.#d.uninvestigable && cannotInvestigate(unreadable)) {
        this.#d.uninvestigable.record(clusterRef, unreadable);
        this.#done(key, alert.dedupeKey);
        this.#count({ kind: alert.kind, outcome: 'uninvestigable' });
        return { ack: true, reason: `cluster cannot be read (${unreadable.code}): counted, not investigated` };
      }
      if (investigation.diagnoses.length === 0) {
        this.#done(key, alert.dedupeKey);
        this.#count({ kind: alert.kind, outcome: 'nothing-failing' });
        log.info({ pod: `${namespace}/${pod}`, note: investigation.note }, 'alert: nothing failing any more');
        return { ack: true, reason: investigation.note ?? 'nothing failing' };
      }
      const workload = investigation.diagnoses[0]?.subject.workload;
      let counted = 0;
      for (const d of investigation.diagnoses) {
        const w = d.subject.workload ?? workload;
        const recorded = await this.#d.incidents.recordDelivered(
          d,
          {
            cluster: clusterRef,
            namespace,
            pod,
            ...(w ? { workload: w } : {}),
            alerts: 1,
            ...(alert.incidentId ? { alertIncidentId: alert.incidentId } : {}),
          },
          { kind: 'alert', receivedAt },
          alert.dedupeKey,
        );
        if (recorded.counted) counted++;
      }
      this.#done(key, alert.dedupeKey);
      if (counted === 0) {
        // Every incident it feeds had recorded this delivery already: a redelivery.
        this.#count({ kind: alert.kind, outcome: 'duplicate' });
        return { ack: true, reason: 'duplicate delivery' };
      }
      this.#count({ kind: alert.kind, outcome: 'recorded' });
      return { ack: true, reason: `recorded ${investigation.diagnoses.length} diagnosis(es)` };
    } catch (e) {
      if (attempt >= maxAttempts) {
        // Never loop forever: after the last attempt the alert is acknowledged and the failure logged loudly.
        this.#forget(key);
        this.#count({ kind: alert.kind, outcome: 'given-up' });
        log.error(
          { err: e, pod: `${namespace}/${pod}`, attempt },
          'alert handling failed on its last attempt: acknowledged',
        );
        return { ack: true, reason: `failed after ${attempt} attempts` };
      }
      this.#count({ kind: alert.kind, outcome: 'failed' });
      log.error({ err: e, pod: `${namespace}/${pod}`, attempt }, 'alert handling failed: will be redelivered');
      return { ack: false, reason: e instanceof Error ? e.message : String(e), retryAfterMs: backoff(attempt) };
    }
  }

  /** Counts deliveries of one alert in this process (bounded; oldest forgotten first). */
  #attempt(key: string): number {
    const n = (this.#attempts.get(key) ?? 0) + 1;
    setNewest(this.#attempts, key, n, 50_000);
    return n;
  }

  #forget(key: string): void {
    this.#attempts.delete(key);
  }

  /** Handled and acknowledged: its attempts are forgotten and the delivery remembered here (bounded, oldest first). */
  #done(key: string, dedupe: string | undefined): void {
    this.#forget(key);
    if (dedupe) setNewest(this.#handled, dedupe, Date.now() + DELIVERY_TTL_MS, 50_000);
  }

  #seen(dedupe: string | undefined): boolean {
    const until = dedupe ? this.#handled.get(dedupe) : undefined;
    return until !== undefined && until > Date.now();
  }

  /**
   * One investigation per pod/container at a time (and for a short while after). A result that could not read the
   * cluster or the pod for a transient reason is not reused: the retry must look again.
   */
  #investigate(alert: Alert, cluster: ClusterRef, namespace: string, pod: string): Promise<Investigation> {
    const key = `${cluster.project}/${cluster.location}/${cluster.name}/${namespace}/${pod}/${alert.container ?? ''}`;
    const now = Date.now();
    const window = this.#d.coalesceMs ?? 30_000;
    const hit = this.#inFlight.get(key);
    if (hit && now - hit.at < window) return hit.result;
    const result = this.#d.investigator.investigate({
      cluster,
      namespace,
      pod,
      ...(alert.container ? { container: alert.container } : {}),
      ...(alert.message ? { message: alert.message } : {}),
      ...(alert.image ? { image: alert.image } : {}),
      ...(alert.node ? { node: alert.node } : {}),
    });
    const entry = { at: now, result };
    this.#inFlight.set(key, entry);
    const evict = () => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
    };
    result.then((inv) => {
      if (inv.readError?.code === 'unavailable' || inv.readError?.code === 'timeout') evict();
    }, evict);
    if (this.#inFlight.size > 50_000) {
      for (const [k, v] of this.#inFlight) if (now - v.at > window) this.#inFlight.delete(k);
    }
    return result;
  }
}

/** 1 s, 2 s, 4 s … capped at 30 s. */
function backoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
