import type { Alert } from '../alerts/alert.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IncidentService } from './incidents.ts';
import type { Investigation, Investigator } from './investigate.ts';

/** What the Pub/Sub consumer does with the message: ack, or nack for a redelivery. */
export type IntakeOutcome =
  | { readonly ack: true; readonly reason: string }
  | { readonly ack: false; readonly reason: string };

export interface AlertIntakeDeps {
  readonly investigator: Investigator;
  readonly incidents: IncidentService;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Redeliveries after which a transient failure is posted with what could be read (no endless loop). */
  readonly maxAttempts?: number;
  /** Alerts for the same pod within this window share one investigation. */
  readonly coalesceMs?: number;
}

/** How long a handled alert is remembered, to drop redeliveries. */
const DELIVERY_TTL_MS = 24 * 60 * 60_000;
/** How long a claim on an alert lasts while it is handled (a crashed replica's claim lapses after this). */
const CLAIM_LEASE_MS = 5 * 60_000;

/**
 * From a normalized alert to incidents. Drops redeliveries (`insertId`, `incident_id`), shares one investigation
 * among the alerts of one pod that arrive together (an alert storm is a few hundred pods, not ten thousand
 * diagnoses), treats the alert as a hint (the investigation re-reads the live cluster), and decides ack/nack: the
 * message is acked once its incident is recorded; a transient failure to read the cluster is nacked so Pub/Sub
 * redelivers it later.
 */
export class AlertIntake {
  readonly #d: AlertIntakeDeps;
  readonly #inFlight = new Map<string, { at: number; result: Promise<Investigation> }>();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;

  constructor(deps: AlertIntakeDeps) {
    this.#d = deps;
    this.#count = deps.metrics.counter('imagepull_alerts_total', 'Alerts received, by kind and outcome');
  }

  async handle(alert: Alert, deliveryAttempt = 1): Promise<IntakeOutcome> {
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
    const claim = alert.dedupeKey ? await this.#d.store.claimDelivery(alert.dedupeKey, CLAIM_LEASE_MS) : 'claimed';
    if (claim === 'done') {
      this.#count({ kind: alert.kind, outcome: 'duplicate' });
      return { ack: true, reason: 'duplicate delivery' };
    }
    if (claim === 'in-progress') {
      // Another copy is being handled (here or on another replica): let Pub/Sub bring this one back later.
      this.#count({ kind: alert.kind, outcome: 'in-progress' });
      return { ack: false, reason: 'the same alert is being handled' };
    }
    try {
      const clusterRef = { project, location, name: cluster };
      const investigation = await this.#investigate(alert, clusterRef, namespace, pod);
      if (investigation.diagnoses.length === 0) {
        if (alert.dedupeKey) await this.#d.store.completeDelivery(alert.dedupeKey, DELIVERY_TTL_MS);
        this.#count({ kind: alert.kind, outcome: 'nothing-failing' });
        log.info({ pod: `${namespace}/${pod}`, note: investigation.note }, 'alert: nothing failing any more');
        return { ack: true, reason: investigation.note ?? 'nothing failing' };
      }
      if (transientlyBlind(investigation) && deliveryAttempt < (this.#d.maxAttempts ?? 5)) {
        if (alert.dedupeKey) await this.#d.store.releaseDelivery(alert.dedupeKey);
        this.#count({ kind: alert.kind, outcome: 'nacked' });
        return { ack: false, reason: 'cluster or pod could not be read (transient): retry later' };
      }
      const workload = investigation.diagnoses[0]?.subject.workload;
      for (const d of investigation.diagnoses) {
        await this.#d.incidents.record(
          d,
          {
            cluster: clusterRef,
            namespace,
            pod,
            ...((d.subject.workload ?? workload) ? { workload: d.subject.workload ?? workload } : {}),
            alerts: 1,
            ...(alert.incidentId ? { alertIncidentId: alert.incidentId } : {}),
          },
          { kind: 'alert' },
        );
      }
      if (alert.dedupeKey) await this.#d.store.completeDelivery(alert.dedupeKey, DELIVERY_TTL_MS);
      this.#count({ kind: alert.kind, outcome: 'recorded' });
      return { ack: true, reason: `recorded ${investigation.diagnoses.length} diagnosis(es)` };
    } catch (e) {
      if (alert.dedupeKey) await this.#d.store.releaseDelivery(alert.dedupeKey);
      this.#count({ kind: alert.kind, outcome: 'failed' });
      log.error({ err: e, pod: `${namespace}/${pod}` }, 'alert handling failed: will be redelivered');
      return { ack: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** One investigation per pod/container at a time (and for a short while after). */
  #investigate(
    alert: Alert,
    cluster: { project: string; location: string; name: string },
    namespace: string,
    pod: string,
  ): Promise<Investigation> {
    const key = `${cluster.project}/${cluster.location}/${cluster.name}/${namespace}/${pod}/${alert.container ?? ''}`;
    const now = Date.now();
    const hit = this.#inFlight.get(key);
    if (hit && now - hit.at < (this.#d.coalesceMs ?? 30_000)) return hit.result;
    const result = this.#d.investigator.investigate({
      cluster,
      namespace,
      pod,
      ...(alert.container ? { container: alert.container } : {}),
      ...(alert.message ? { message: alert.message } : {}),
      ...(alert.image ? { image: alert.image } : {}),
    });
    this.#inFlight.set(key, { at: now, result });
    result.catch(() => this.#inFlight.delete(key));
    if (this.#inFlight.size > 50_000) {
      for (const [k, v] of this.#inFlight) if (now - v.at > (this.#d.coalesceMs ?? 30_000)) this.#inFlight.delete(k);
    }
    return result;
  }
}

/** The cluster or the pod could not be read for a transient reason: the diagnosis would be guesswork. */
function transientlyBlind(inv: Investigation): boolean {
  return inv.readError?.code === 'unavailable' || inv.readError?.code === 'timeout';
}
