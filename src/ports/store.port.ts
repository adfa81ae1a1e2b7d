import type { AuditRecord, IncidentRecord, IncidentStatus } from '../incidents/model.ts';

/**
 * Pub/Sub deliveries (`insertId`, `incident_id`) whose sightings go into an incident. They are remembered in the same
 * atomic write as the sightings, per incident, so a redelivery — to this replica, another one, or after a restart —
 * is counted once, and no claim is written before the work nor completed after it (docs/architecture.md, "State").
 */
export interface Deliveries {
  readonly keys: readonly string[];
  /** How long a recorded key is remembered, to drop its redeliveries. */
  readonly ttlMs: number;
}

/** Leases taken with an incident's creation, held by `owner` for `ttlMs` (the first post's: see createIncident). */
export interface Leases {
  readonly names: readonly string[];
  readonly owner: string;
  readonly ttlMs: number;
}

/**
 * Durable state: incidents (the model is in incidents/model.ts), Pub/Sub delivery dedupe, locks and the audit trail.
 * In memory for one replica; Firestore when several replicas share a subscription (docs/architecture.md, "State").
 */
export interface StateStore {
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /**
   * Creates the incident unless it exists; false when another writer (replica) got there first. `deliveries` are the
   * ones its sightings came with, remembered in the same write; `leases` (as `acquireLock` takes them) are taken in
   * it too, so the replica that creates an incident holds its first post's lease without another round trip.
   */
  createIncident(record: IncidentRecord, deliveries?: Deliveries, leases?: Leases): Promise<boolean>;
  /**
   * Atomic read-modify-write. `mutate` may run more than once (on contention) and returns the new record, or
   * undefined to leave it unchanged; it is told which of `deliveries` this incident has not recorded yet (`fresh`),
   * and those are remembered in the same write (the `fresh` of its last call is what was written). Resolves to the
   * record as stored afterwards.
   */
  updateIncident(
    id: string,
    mutate: (current: IncidentRecord, fresh: ReadonlySet<string>) => IncidentRecord | undefined,
    deliveries?: Deliveries,
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
