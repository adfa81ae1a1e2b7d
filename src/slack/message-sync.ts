import { randomUUID } from 'node:crypto';
import type { FixMode } from '../config.ts';
import type { IncidentCounts } from '../incidents/counts.ts';
import type { AuditRecord, IncidentRecord, MessagePost } from '../incidents/model.ts';
import { channelsFor, postIn, type Routing, withPost } from '../incidents/routing.ts';
import { ChatError, type ChatMessage, type ChatPort } from '../ports/chat.port.ts';
import type { IncidentNotifier } from '../ports/notifier.port.ts';
import type { Leases, StateStore } from '../ports/store.port.ts';
import { setNewest } from '../shared/bounded.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { detailsMessage } from './blocks/details.blocks.ts';
import { incidentMessage } from './blocks/incident.blocks.ts';
import { threadReply } from './blocks/thread.blocks.ts';

export interface MessageSyncDeps {
  readonly store: Pick<StateStore, 'getIncident' | 'updateIncident' | 'acquireLock'>;
  readonly chat: ChatPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Which channels get a copy: the namespace owners' (`OWNER_CHANNELS`) or the default (`INCIDENT_CHANNEL`). */
  readonly routing: Routing;
  readonly fixMode: FixMode;
  /** The two-person rule: `APPROVALS_REQUIRED` and the configured approvers, shown on the message. */
  readonly approvalsRequired?: number;
  readonly approvers?: readonly string[];
  /** Minimum spacing of `chat.update` calls per message. */
  readonly updateIntervalMs: number;
  /** Failing pods and workloads, read from the cluster for each render (bounded: usecases/live-counts.ts). */
  readonly counts?: (incident: IncidentRecord) => Promise<IncidentCounts>;
  readonly now?: () => Date;
}

/** How long the replica that created an incident has to post its message before another may. */
const POST_LEASE_MS = 60_000;

/** The lease of one copy's post (`acquireLock` name). */
function postLease(id: string, channel: string): string {
  return `post:${id}:${channel}`;
}

/**
 * What the edit lease adds to the update interval: an edit lands up to half this after the lease was last taken
 * (it is taken again when reading the counts took longer), so edits of one message by two replicas stay an interval
 * apart.
 */
const EDIT_LEASE_MARGIN_MS = 500;

/** How soon counts that could not be read are tried again (at most one cluster read per incident per this). */
const COUNTS_RETRY_MS = 5000;
/** After an error no retry of the same call can fix (a revoked token, the bot removed from the channel), the message
 * is tried again after 30 s, doubling to 5 min: once the Slack setup is fixed, it catches up by itself. */
const REFUSED_RETRY_MS = 30_000;
const REFUSED_RETRY_MAX_MS = 5 * 60_000;
const MAX_SETTLING_REFRESHES = 12;

interface RenderState {
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
  lastAt: number;
  dirty: boolean;
  /** The last render's counts must be read again: the next render waits at least COUNTS_RETRY_MS. */
  countsFailed?: boolean;
  /** Renders in a row that asked for that. */
  refreshes?: number;
  /** Slack refused the last render for good (ChatError.permanent): the wait before the next try. */
  refusedBackoffMs?: number;
  /** What each copy (by ts) and each details reply last showed: an unchanged render sends nothing. */
  readonly sent: Map<string, string>;
}

/**
 * Keeps each incident's Slack messages in step with the stored incident (docs/incidents-and-fixes.md, "The
 * message"): posts one copy per owner channel (one replica holds each post lease) with the details as its first
 * thread reply, stores its permalink, then edits every copy in place, coalesced to at most one `chat.update` per
 * message per interval and none when nothing visible changed; re-posts a copy someone deleted; gives up loudly on
 * errors no retry fixes. Audit records that belong in the thread become replies under every copy.
 */
export class SlackMessageSync implements IncidentNotifier {
  readonly #d: MessageSyncDeps;
  readonly #now: () => Date;
  readonly #render = new Map<string, RenderState>();
  readonly #owner = randomUUID();
  /** Post leases taken with an incident's creation, until when this replica may count on them. */
  readonly #held = new Map<string, number>();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  #closed = false;

  constructor(deps: MessageSyncDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#count = deps.metrics.counter('imagepull_slack_messages_total', 'Incident messages by event', [
      'event',
      'code',
    ]);
  }

  changed(
    id: string,
    options?: { readonly now?: boolean; readonly stored?: IncidentRecord; readonly leases?: Leases },
  ): Promise<void> {
    if (options?.leases?.owner === this.#owner) {
      // Taken with the incident's creation: good for a little less than their time (clocks differ by a little).
      const until = Date.now() + options.leases.ttlMs / 2;
      for (const name of options.leases.names) setNewest(this.#held, name, until, 1000);
    }
    if (options?.now) return this.flush(id, options.stored);
    this.#schedule(id);
    return Promise.resolve();
  }

  async note(record: AuditRecord): Promise<void> {
    const message = threadReply(record);
    if (!message) return;
    try {
      const rec = await this.#d.store.getIncident(record.incidentId);
      for (const post of rec?.posts ?? []) {
        // Every copy carries the same audit trail; one that fails does not stop the others.
        await this.#d.chat
          .reply(post, message)
          .catch((e: unknown) =>
            this.#d.logger.warn({ incident: record.incidentId, channel: post.channel, err: e }, 'thread reply failed'),
          );
      }
    } catch (e) {
      // The audit record is already stored and logged; a thread reply that fails must not fail the caller.
      this.#d.logger.warn({ incident: record.incidentId, err: e }, 'could not post the thread reply');
    }
  }

  /** Marks for re-render, coalesced: at most one chat.update per message per interval. */
  #schedule(id: string): void {
    if (this.#closed) return;
    const st = this.#state(id);
    st.dirty = true;
    if (st.timer || st.inFlight) return;
    const spacing = Math.max(this.#d.updateIntervalMs, st.countsFailed ? COUNTS_RETRY_MS : 0, st.refusedBackoffMs ?? 0);
    const wait = Math.max(0, st.lastAt + spacing - Date.now());
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void this.flush(id).catch((e) =>
        this.#d.logger.warn({ incident: id, err: e }, 'incident update failed; will retry'),
      );
    }, wait);
    st.timer.unref?.();
  }

  #state(id: string): RenderState {
    const st = this.#render.get(id) ?? { lastAt: 0, dirty: false, sent: new Map<string, string>() };
    this.#render.set(id, st);
    return st;
  }

  /**
   * Posts (first time) or updates the incident's messages now. Rejects when it could not; retries later. `stored`:
   * the incident as its caller just wrote it (a render in flight reads the store afresh when it is done).
   */
  flush(id: string, stored?: IncidentRecord): Promise<void> {
    const st = this.#state(id);
    if (st.inFlight) {
      st.dirty = true;
      return st.inFlight;
    }
    if (st.timer) {
      clearTimeout(st.timer);
      st.timer = undefined;
    }
    st.dirty = false;
    st.inFlight = this.#show(id, st, stored).finally(() => {
      st.lastAt = Date.now();
      st.inFlight = undefined;
      if (st.dirty) this.#schedule(id);
    });
    return st.inFlight;
  }

  async #show(id: string, st: RenderState, stored?: IncidentRecord): Promise<void> {
    let rec = stored ?? (await this.#d.store.getIncident(id));
    if (!rec) return;
    // Replicas take turns to edit: an edit lease a little longer than the update interval keeps every copy of the
    // message at one chat.update per interval across replicas, not one per replica. Refused, try again after the
    // interval — reading the store afresh then, so what this replica recorded is shown.
    const editing = (rec.posts?.length ?? 0) > 0 && this.#d.updateIntervalMs > 0;
    if (editing && !(await this.#editLease(id))) {
      st.dirty = true;
      return;
    }
    const leasedAt = Date.now();
    const counts = await this.#counts(rec);
    // Read again a little later, so the message does not keep stale counts: counts that could not be read, and
    // failing pods on a fixed or resolved incident (the old ReplicaSet's pods go as the new ones run) — a minute at most.
    const unread = !counts && this.#d.counts !== undefined && rec.affected.length > 0;
    const settling =
      counts !== undefined && counts.failingPods > 0 && (rec.status === 'fixed' || rec.status === 'resolved');
    st.refreshes = unread || settling ? (st.refreshes ?? 0) + 1 : 0;
    st.countsFailed = st.refreshes > 0 && (unread || st.refreshes <= MAX_SETTLING_REFRESHES);
    if (st.countsFailed) st.dirty = true;
    const supersededBy = rec.supersededBy
      ? (await this.#d.store.getIncident(rec.supersededBy.id))?.posts?.find((p) => p.permalink)?.permalink
      : undefined;
    const message = incidentMessage(rec, {
      fixMode: this.#d.fixMode,
      now: this.#now(),
      ...(this.#d.approvalsRequired ? { approvalsRequired: this.#d.approvalsRequired } : {}),
      ...(this.#d.approvers ? { approvers: this.#d.approvers } : {}),
      ...(counts ? { counts } : {}),
      ...(supersededBy ? { supersededBy } : {}),
    });
    const details = detailsMessage(rec);
    // The lease is measured from when it was taken, the edit lands after the counts were read: when that took long,
    // the lease is taken again now, so the next replica's edit is an interval after this one, not after the lease.
    if (editing && Date.now() - leasedAt > EDIT_LEASE_MARGIN_MS / 2 && !(await this.#editLease(id))) {
      st.dirty = true;
      return;
    }
    let failure: unknown;
    let refused = false;
    for (const channel of channelsFor(rec, this.#d.routing)) {
      try {
        const post = postIn(rec, channel);
        if (post) await this.#keep(id, st, post, message, details);
        else rec = (await this.#post(id, st, rec, channel, message, details)) ?? rec;
      } catch (e) {
        if (e instanceof ChatError && e.permanent) {
          // Retrying now cannot help (the bot is not in the channel, the token was revoked…): say so, loudly, and
          // try again much later, so the message catches up once the setup is fixed.
          refused = true;
          const retryInMs = Math.min(REFUSED_RETRY_MAX_MS, (st.refusedBackoffMs ?? REFUSED_RETRY_MS / 2) * 2);
          st.refusedBackoffMs = retryInMs;
          this.#d.logger.error(
            { incident: id, channel, slackError: e.code, retryInSeconds: retryInMs / 1000 },
            'cannot post or update the incident message; fix the Slack setup',
          );
          this.#count({ event: 'slack-error', code: e.code });
          continue;
        }
        failure ??= e;
      }
    }
    if (refused) st.dirty = true;
    else st.refusedBackoffMs = undefined;
    if (failure !== undefined) {
      st.dirty = true;
      throw failure;
    }
  }

  #editLease(id: string): Promise<boolean> {
    return this.#d.store.acquireLock(`edit:${id}`, this.#owner, this.#d.updateIntervalMs + EDIT_LEASE_MARGIN_MS);
  }

  firstPostLeases(record: IncidentRecord): Leases | undefined {
    const names = channelsFor(record, this.#d.routing).map((channel) => postLease(record.id, channel));
    return names.length > 0 ? { names, owner: this.#owner, ttlMs: POST_LEASE_MS } : undefined;
  }

  /** Whether this replica took `lease` with the incident's creation (and still holds it): used once. */
  #holds(lease: string): boolean {
    const until = this.#held.get(lease);
    this.#held.delete(lease);
    return until !== undefined && until > Date.now();
  }

  /** Edits a copy and its details reply, if what they show changed. */
  async #keep(id: string, st: RenderState, post: MessagePost, message: ChatMessage, details: ChatMessage) {
    const json = JSON.stringify(message);
    if (st.sent.get(post.ts) !== json) {
      try {
        await this.#d.chat.update(post, message);
        st.sent.set(post.ts, json);
        this.#count({ event: 'updated' });
      } catch (e) {
        if (!(e instanceof ChatError && e.code === 'message_not_found')) throw e;
        // Someone deleted the message: post a new one rather than retrying an update forever — unless another
        // replica has re-posted it meanwhile.
        this.#d.logger.warn({ incident: id, channel: post.channel }, 'incident message was deleted; posting it again');
        await this.#d.store.updateIncident(id, (cur) =>
          postIn(cur, post.channel)?.ts === post.ts
            ? { ...cur, posts: (cur.posts ?? []).filter((p) => p.ts !== post.ts) }
            : undefined,
        );
        st.dirty = true;
        return;
      }
    }
    if (!post.detailsTs) return;
    const text = JSON.stringify(details);
    if (st.sent.get(post.detailsTs) === text) return;
    try {
      await this.#d.chat.update({ channel: post.channel, ts: post.detailsTs }, details);
      st.sent.set(post.detailsTs, text);
    } catch (e) {
      // A deleted details reply stays deleted: someone chose to remove it.
      if (!(e instanceof ChatError && e.code === 'message_not_found')) throw e;
      st.sent.set(post.detailsTs, text);
    }
  }

  /** Posts the copy for one channel with its details reply; exactly one replica does (the post lease). */
  async #post(
    id: string,
    st: RenderState,
    rec: IncidentRecord,
    channel: string,
    message: ChatMessage,
    details: ChatMessage,
  ): Promise<IncidentRecord | undefined> {
    const lease = postLease(id, channel);
    if (!this.#holds(lease) && !(await this.#d.store.acquireLock(lease, this.#owner, POST_LEASE_MS))) {
      // Another replica is posting it: render again once its message exists.
      st.dirty = true;
      return undefined;
    }
    const posted = await this.#d.chat.post(channel, message);
    st.sent.set(posted.ts, JSON.stringify(message));
    const reply = await this.#d.chat.reply(posted, details).catch((e: unknown) => {
      this.#d.logger.warn({ incident: id, channel, err: e }, 'could not post the details reply');
      return undefined;
    });
    if (reply) st.sent.set(reply.ts, JSON.stringify(details));
    const permalink = await this.#d.chat.permalink(posted).catch(() => undefined);
    const post: MessagePost = {
      channel: posted.channel,
      ts: posted.ts,
      ...(permalink ? { permalink } : {}),
      ...(reply ? { detailsTs: reply.ts } : {}),
    };
    const stored = await this.#d.store.updateIncident(id, (cur) => withPost(cur, post));
    // Changed meanwhile (a sighting, a step): what was posted is already behind.
    if (stored && stored.version > rec.version + 1) st.dirty = true;
    this.#count({ event: 'posted' });
    this.#d.logger.info({ incident: id, channel: posted.channel, ts: posted.ts }, 'incident posted');
    return stored;
  }

  async #counts(rec: IncidentRecord): Promise<IncidentCounts | undefined> {
    if (!this.#d.counts || rec.affected.length === 0) return undefined;
    try {
      return await this.#d.counts(rec);
    } catch (e) {
      this.#d.logger.debug({ incident: rec.id, err: e }, 'could not read the live counts; showing what alerts saw');
      return undefined;
    }
  }

  /** Flushes pending renders and stops scheduling (SIGTERM). */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = [...this.#render.entries()];
    for (const [, st] of pending) if (st.timer) clearTimeout(st.timer);
    await Promise.allSettled(
      pending.map(async ([id, st]) => {
        await st.inFlight;
        if (!st.dirty) return;
        // The last update still keeps to the per-message interval (within the shutdown grace period).
        const wait = Math.max(0, st.lastAt + this.#d.updateIntervalMs - Date.now());
        await new Promise((r) => setTimeout(r, wait));
        await this.flush(id);
      }),
    );
  }
}
