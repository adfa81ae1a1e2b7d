import type { AuditRecord } from '../incidents/model.ts';
import type { IncidentNotifier } from '../ports/notifier.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';

/** A person's refusals are shown in an incident's thread at most once per this window. */
export const REFUSAL_WINDOW_MS = 10 * 60_000;

/**
 * The audit trail: every decision and change (approve, refuse, apply, finish, undo, dismiss, dry run, re-check) is a
 * structured log line and a stored record, always; and a note to the notifier, which decides what reaches the
 * incident's thread. Refusals cannot flood the thread: the person who clicked is told privately every time, but the
 * thread gets at most one line per person per incident per window, which says how many more were refused since.
 * Recording never fails the caller: a store or chat failure is logged.
 */
export class AuditTrail {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #notifier: IncidentNotifier;
  readonly #now: () => Date;
  /** incident|user → when their last refusal was shown, and how many were held back since. */
  readonly #refusals = new Map<string, { shownAt: number; held: number }>();

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
    const shown = record.action === 'refuse' ? this.#coalesce(record) : record;
    if (shown) await this.#notifier.note(shown);
  }

  /** The refusal to show in the thread, with the count held back since the last one, or undefined (held back). */
  #coalesce(record: AuditRecord): AuditRecord | undefined {
    const key = `${record.incidentId}|${record.user}`;
    const now = new Date(record.at).getTime();
    const last = this.#refusals.get(key);
    if (last && now - last.shownAt < REFUSAL_WINDOW_MS) {
      last.held++;
      return undefined;
    }
    this.#refusals.set(key, { shownAt: now, held: 0 });
    if (this.#refusals.size > 10_000) this.#forgetOld(now);
    if (!last?.held) return record;
    const more = `${last.held} more refused click${last.held === 1 ? '' : 's'} since the last notice`;
    return {
      ...record,
      summary: `${record.summary ?? record.result} (${more})`,
      detail: { ...record.detail, heldBack: last.held },
    };
  }

  #forgetOld(now: number): void {
    for (const [k, v] of this.#refusals) if (now - v.shownAt >= REFUSAL_WINDOW_MS) this.#refusals.delete(k);
  }
}
