import type { AuditRecord, IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { Deliveries, Leases, StateStore } from '../../ports/store.port.ts';

/**
 * State in process memory: the default for a single replica. Loses state on restart (an incident message is then
 * posted again on the next alert); use Firestore for several replicas or durable state.
 */
export class MemoryStore implements StateStore {
  /** `incident id` + newline + delivery key → until when it is remembered. */
  readonly #deliveries = new Map<string, number>();
  readonly #incidents = new Map<string, IncidentRecord>();
  readonly #locks = new Map<string, { owner: string; until: number }>();
  readonly #audit: AuditRecord[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    return this.#incidents.get(id);
  }

  async createIncident(record: IncidentRecord, deliveries?: Deliveries, leases?: Leases): Promise<boolean> {
    if (this.#incidents.has(record.id)) return false;
    this.#incidents.set(record.id, record);
    if (deliveries) this.#remember(record.id, deliveries.keys, deliveries.ttlMs);
    if (leases)
      for (const name of leases.names)
        this.#locks.set(name, { owner: leases.owner, until: this.#now() + leases.ttlMs });
    return true;
  }

  async updateIncident(
    id: string,
    mutate: (current: IncidentRecord, fresh: ReadonlySet<string>) => IncidentRecord | undefined,
    deliveries?: Deliveries,
  ): Promise<IncidentRecord | undefined> {
    const current = this.#incidents.get(id);
    if (!current) return undefined;
    const now = this.#now();
    const fresh = new Set(
      deliveries?.keys.filter((k) => (this.#deliveries.get(`${id}\n${k}`) ?? Number.NEGATIVE_INFINITY) <= now),
    );
    const next = mutate(current, fresh);
    if (!next) return current;
    const stored = { ...next, version: current.version + 1 };
    this.#incidents.set(id, stored);
    if (deliveries) this.#remember(id, fresh, deliveries.ttlMs);
    return stored;
  }

  #remember(id: string, keys: Iterable<string>, ttlMs: number): void {
    const now = this.#now();
    for (const k of keys) this.#deliveries.set(`${id}\n${k}`, now + ttlMs);
    if (this.#deliveries.size > 200_000) {
      for (const [k, until] of this.#deliveries) if (until <= now) this.#deliveries.delete(k);
    }
  }

  async listIncidents(statuses?: readonly IncidentStatus[], alertIncidentId?: string): Promise<IncidentRecord[]> {
    return [...this.#incidents.values()].filter(
      (r) =>
        (!statuses || statuses.includes(r.status)) &&
        (!alertIncidentId || r.alertIncidentIds.includes(alertIncidentId)),
    );
  }

  async deleteIncident(id: string): Promise<void> {
    this.#incidents.delete(id);
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const held = this.#locks.get(name);
    if (held && held.until > now && held.owner !== owner) return false;
    this.#locks.set(name, { owner, until: now + ttlMs });
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    if (this.#locks.get(name)?.owner === owner) this.#locks.delete(name);
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    this.#audit.push(record);
    if (this.#audit.length > 10_000) this.#audit.splice(0, this.#audit.length - 10_000);
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    return this.#audit.slice(-limit).reverse();
  }

  async close(): Promise<void> {}
}
