import { randomUUID } from 'node:crypto';
import type { FixMode } from '../config.ts';
import type { AuditRecord } from '../incidents/model.ts';
import { ChatError, type ChatPort } from '../ports/chat.port.ts';
import type { IncidentNotifier } from '../ports/notifier.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { incidentMessage } from './blocks/incident.blocks.ts';
import { threadReply } from './blocks/thread.blocks.ts';

export interface MessageSyncDeps {
  readonly store: Pick<StateStore, 'getIncident' | 'updateIncident' | 'acquireLock'>;
  readonly chat: ChatPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly channel: string;
  readonly fixMode: FixMode;
  /** Minimum spacing of `chat.update` calls per message. */
  readonly updateIntervalMs: number;
  readonly now?: () => Date;
}

/** How long the replica that created an incident has to post its message before another may. */
const POST_LEASE_MS = 60_000;

interface RenderState {
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
  lastAt: number;
  dirty: boolean;
}

/**
 * Keeps each incident's Slack message in step with the stored incident (docs/incidents-and-fixes.md, "The
 * message"): posts it once (one replica holds the post lease), then edits it in place, coalesced to at most one
 * `chat.update` per message per interval; re-posts a message someone deleted; gives up loudly on errors no retry
 * fixes. Audit records that belong in the thread become replies.
 */
export class SlackMessageSync implements IncidentNotifier {
  readonly #d: MessageSyncDeps;
  readonly #now: () => Date;
  readonly #render = new Map<string, RenderState>();
  readonly #owner = randomUUID();
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

  changed(id: string, options?: { readonly now?: boolean }): Promise<void> {
    if (options?.now) return this.flush(id);
    this.#schedule(id);
    return Promise.resolve();
  }

  async note(record: AuditRecord): Promise<void> {
    const message = threadReply(record);
    if (!message) return;
    try {
      const rec = await this.#d.store.getIncident(record.incidentId);
      if (rec?.channel && rec.ts) await this.#d.chat.reply({ channel: rec.channel, ts: rec.ts }, message);
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
    const wait = Math.max(0, st.lastAt + this.#d.updateIntervalMs - Date.now());
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void this.flush(id).catch((e) =>
        this.#d.logger.warn({ incident: id, err: e }, 'incident update failed; will retry'),
      );
    }, wait);
    st.timer.unref?.();
  }

  #state(id: string): RenderState {
    const st = this.#render.get(id) ?? { lastAt: 0, dirty: false };
    this.#render.set(id, st);
    return st;
  }

  /** Posts (first time) or updates the incident message now. Rejects when it could not; retries later. */
  flush(id: string): Promise<void> {
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
    st.inFlight = this.#show(id, st).finally(() => {
      st.lastAt = Date.now();
      st.inFlight = undefined;
      if (st.dirty) this.#schedule(id);
    });
    return st.inFlight;
  }

  async #show(id: string, st: RenderState): Promise<void> {
    try {
      const rec = await this.#d.store.getIncident(id);
      if (!rec) return;
      const message = incidentMessage(rec, { fixMode: this.#d.fixMode, now: this.#now() });
      if (rec.ts && rec.channel) {
        try {
          await this.#d.chat.update({ channel: rec.channel, ts: rec.ts }, message);
          this.#count({ event: 'updated' });
        } catch (e) {
          if (!(e instanceof ChatError && e.code === 'message_not_found')) throw e;
          // Someone deleted the message: post a new one rather than retrying an update forever — unless another
          // replica has re-posted it meanwhile.
          this.#d.logger.warn({ incident: id }, 'incident message was deleted; posting it again');
          await this.#d.store.updateIncident(id, ({ ts, permalink: _link, ...cur }) =>
            ts === rec.ts ? cur : undefined,
          );
          st.dirty = true;
        }
      } else if (await this.#d.store.acquireLock(`post:${id}`, this.#owner, POST_LEASE_MS)) {
        // Exactly one replica posts: the creator holds the lease; another takes over only if it lapses.
        const posted = await this.#d.chat.post(rec.channel ?? this.#d.channel, message);
        const permalink = await this.#d.chat.permalink(posted).catch(() => undefined);
        const stored = await this.#d.store.updateIncident(id, (cur) => ({
          ...cur,
          channel: posted.channel,
          ts: posted.ts,
          ...(permalink ? { permalink } : {}),
        }));
        if (stored && stored.version > rec.version + 1) st.dirty = true;
        this.#count({ event: 'posted' });
        this.#d.logger.info({ incident: id, channel: posted.channel, ts: posted.ts }, 'incident posted');
      } else {
        // Another replica is posting it: render again once its message exists.
        st.dirty = true;
      }
    } catch (e) {
      if (e instanceof ChatError && e.permanent) {
        // Retrying cannot help (the bot is not in the channel, the channel is gone…): say so once, loudly.
        this.#d.logger.error(
          { incident: id, slackError: e.code },
          'cannot post or update the incident message; fix the Slack setup',
        );
        this.#count({ event: 'slack-error', code: e.code });
        return;
      }
      st.dirty = true;
      throw e;
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
