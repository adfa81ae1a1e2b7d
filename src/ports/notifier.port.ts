import type { AuditRecord, IncidentRecord } from '../incidents/model.ts';
import type { Leases } from './store.port.ts';

/**
 * Shows incidents to people. The use cases store state and audit records; this port turns them into the incident
 * message and its thread (implemented by `slack/message-sync.ts`). The use cases never build a message.
 */
export interface IncidentNotifier {
  /**
   * The stored incident changed. With `now`, show it before returning (rejects when the first post fails, so an
   * alert is redelivered rather than lost); otherwise the change joins the next coalesced update. `stored` is the
   * record as the caller just wrote it, when it has it: shown without reading it back; `leases`, the ones
   * `firstPostLeases` gave for it, taken with its creation.
   */
  changed(
    id: string,
    options?: { readonly now?: boolean; readonly stored?: IncidentRecord; readonly leases?: Leases },
  ): Promise<void>;
  /**
   * The leases showing a new incident takes (one per message to post), to be taken with its creation; passed back
   * to `changed` once it is created, so the first post goes without taking them first.
   */
  firstPostLeases?(record: IncidentRecord): Leases | undefined;
  /** A decision or change was recorded: it may belong in the incident's thread. Never rejects. */
  note(record: AuditRecord): Promise<void>;
}

/** Alerts the bot could not investigate in one window: their clusters could not be read at all (docs/alerts.md). */
export interface UninvestigableSummary {
  /** Start of the window (ISO); one message per window. */
  readonly window: string;
  readonly total: number;
  /** One entry per reason (the cluster read's error code), most alerts first. */
  readonly reasons: readonly {
    readonly code: string;
    /** The error of the most recent such read, as the API gave it. */
    readonly message: string;
    /** The permission the bot lacked, when the API named it. */
    readonly permission?: string;
    readonly alerts: number;
    /** Clusters as `project/location/name`, most alerts first (bounded); `clusterCount` counts them all. */
    readonly clusters: readonly { readonly cluster: string; readonly alerts: number }[];
    readonly clusterCount: number;
  }[];
  readonly lastAt: string;
}

/** Shows the window's summary of alerts that could not be investigated: one message, edited as the window fills. */
export interface UninvestigableNotifier {
  show(summary: UninvestigableSummary): Promise<void>;
}
