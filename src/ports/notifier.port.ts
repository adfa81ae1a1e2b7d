import type { AuditRecord } from '../incidents/model.ts';

/**
 * Shows incidents to people. The use cases store state and audit records; this port turns them into the incident
 * message and its thread (implemented by `slack/message-sync.ts`). The use cases never build a message.
 */
export interface IncidentNotifier {
  /**
   * The stored incident changed. With `now`, show it before returning (rejects when the first post fails, so an
   * alert is redelivered rather than lost); otherwise the change joins the next coalesced update.
   */
  changed(id: string, options?: { readonly now?: boolean }): Promise<void>;
  /** A decision or change was recorded: it may belong in the incident's thread. Never rejects. */
  note(record: AuditRecord): Promise<void>;
}
