import type { AuditRecord, IncidentRecord, IncidentStatus } from '../../incidents/model.ts';
import type { DeliveryClaim, StateStore } from '../../ports/store.port.ts';

/**
 * State in process memory: the default for a single replica. Loses state on restart (an incident message is then
 * posted again on the next alert); use Firestore for several replicas or durable state.
 */
export class MemoryStore implements StateStore {
  readonly #deliveries = new Map<string, { done: boolean; owner: string; until: number }>();
  readonly #incidents = new Map<string, IncidentRecord>();
  readonly #locks = new Map<string, { owner: string; until: number }>();
  readonly #audit: AuditRecord[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async claimDelivery(key: string, leaseMs: number, owner: string): Promise<DeliveryClaim> {
    const now = this.#now();
    const held = this.#deliveries.get(key);
    if (held && held.until > now) return held.done ? 'done' : held.owner === owner ? 'claimed' : 'in-progress';
    this.#deliveries.set(key, { done: false, owner, until: now + leaseMs });
    if (this.#deliveries.size > 200_000) {
      for (const [k, d] of this.#deliveries) if (d.until <= now) this.#deliveries.delete(k);
    }
    return 'claimed';
  }

  async completeDelivery(key: string, ttlMs: number, owner: string): Promise<void> {
    const held = this.#deliveries.get(key);
    if (held && held.owner !== owner) return;
    this.#deliveries.set(key, { done: true, owner, until: this.#now() + ttlMs });
  }

  async releaseDelivery(key: string, owner: string): Promise<void> {
    if (this.#deliveries.get(key)?.owner === owner) this.#deliveries.delete(key);
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    return this.#incidents.get(id);
  }

  async createIncident(record: IncidentRecord): Promise<boolean> {
    if (this.#incidents.has(record.id)) return false;
    this.#incidents.set(record.id, record);
    return true;
  }

  async updateIncident(
    id: string,
    mutate: (current: IncidentRecord) => IncidentRecord | undefined,
  ): Promise<IncidentRecord | undefined> {
    const current = this.#incidents.get(id);
    if (!current) return undefined;
    const next = mutate(current);
    if (!next) return current;
    const stored = { ...next, version: current.version + 1 };
    this.#incidents.set(id, stored);
    return stored;
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
