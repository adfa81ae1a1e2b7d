import type { AuditRecord } from '../incidents/model.ts';
import type { IncidentNotifier } from '../ports/notifier.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * The audit trail: every decision and change (approve, refuse, apply, finish, undo, dismiss, dry run, re-check) is a
 * structured log line, a stored record, and a note to the notifier, which decides what reaches the incident's thread.
 * Recording never fails the caller: a store or chat failure is logged.
 */
export class AuditTrail {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #notifier: IncidentNotifier;
  readonly #now: () => Date;

  constructor(store: StateStore, logger: Logger, notifier: IncidentNotifier, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#logger = logger;
    this.#notifier = notifier;
    this.#now = now;
  }

  async record(r: Omit<AuditRecord, 'at'>): Promise<void> {
    const record: AuditRecord = { at: this.#now().toISOString(), ...r };
    this.#logger.info({ audit: record }, `audit: ${record.action} ${record.result}`);
    try {
      await this.#store.appendAudit(record);
    } catch (e) {
      this.#logger.error({ err: e, audit: record }, 'could not store audit record');
    }
    await this.#notifier.note(record);
  }
}
