import type { AuditRecord, IncidentRecord, IncidentStatus } from '../incidents/model.ts';

/**
 * Durable state: incidents (the model is in incidents/model.ts), Pub/Sub delivery dedupe, locks and the audit trail.
 * In memory for one replica; Firestore when several replicas share a subscription (docs/architecture.md, "State").
 */

export type DeliveryClaim = 'claimed' | 'in-progress' | 'done';

export interface StateStore {
  /**
   * Claims a delivery key (Pub/Sub redeliveries: `insertId`, `incident_id`) for `owner` for `leaseMs` while its
   * work runs. `done`: it was already handled; `in-progress`: someone else holds an unexpired claim (redeliver
   * later); `claimed`: go ahead, then `completeDelivery` (or `releaseDelivery` on failure). A crashed claim expires.
   */
  claimDelivery(key: string, leaseMs: number, owner: string): Promise<DeliveryClaim>;
  /** Marks a delivery `owner` claimed as handled, remembered for `ttlMs` (no-op if the claim is not `owner`'s). */
  completeDelivery(key: string, ttlMs: number, owner: string): Promise<void>;
  /** Forgets `owner`'s claim whose work failed, so the redelivery is processed (no-op if not `owner`'s). */
  releaseDelivery(key: string, owner: string): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Creates the incident unless it exists; false when another writer (replica) got there first. */
  createIncident(record: IncidentRecord): Promise<boolean>;
  /**
   * Atomic read-modify-write. `mutate` may run more than once (on contention) and returns the new record, or
   * undefined to leave it unchanged. Resolves to the record as stored afterwards.
   */
  updateIncident(
    id: string,
    mutate: (current: IncidentRecord) => IncidentRecord | undefined,
  ): Promise<IncidentRecord | undefined>;
  /** Every incident with one of `statuses` (all when omitted), optionally only those fed by a Monitoring incident. */
  listIncidents(statuses?: readonly IncidentStatus[], alertIncidentId?: string): Promise<IncidentRecord[]>;
  deleteIncident(id: string): Promise<void>;
  /** A lease: true when `owner` holds `name` now. Used so one replica applies each fix and posts each incident. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
  appendAudit(record: AuditRecord): Promise<void>;
  listAudit(limit: number): Promise<AuditRecord[]>;
  close(): Promise<void>;
}
