/**
 * Slack rate-limit accounting for the fake: every call is counted; limits are optionally enforced.
 *
 * Tiers are Slack's published ones (https://api.slack.com/docs/rate-limits): Tier 1 1/min,
 * Tier 2 20/min, Tier 3 50/min, Tier 4 100/min per method per workspace; `chat.postMessage` is special: about one
 * message per second per channel, short bursts allowed.
 */

/** A method's Slack rate tier and the per-minute allowance used for reports and enforcement. */
export interface RateTier {
  readonly tier: 'tier1' | 'tier2' | 'tier3' | 'tier4' | 'special';
  readonly perMinute: number;
  /** Exempt from enforcement: Slack is lenient in practice and refusing them only stalls a client's start. */
  readonly lenient?: boolean;
}

/** Per-method tiers (docs.slack.dev method pages; usergroups.users.list assumed Tier 2). */
export const METHOD_TIERS: Readonly<Record<string, RateTier>> = {
  'apps.connections.open': { tier: 'tier1', perMinute: 1, lenient: true },
  'auth.test': { tier: 'special', perMinute: 100, lenient: true },
  'chat.getPermalink': { tier: 'special', perMinute: 100 },
  'chat.postEphemeral': { tier: 'tier4', perMinute: 100 },
  'chat.postMessage': { tier: 'special', perMinute: 60 },
  'chat.update': { tier: 'tier3', perMinute: 50 },
  'conversations.history': { tier: 'tier3', perMinute: 50 },
  'conversations.replies': { tier: 'tier3', perMinute: 50 },
  'usergroups.users.list': { tier: 'tier2', perMinute: 20 },
  'users.info': { tier: 'tier4', perMinute: 100 },
  'views.publish': { tier: 'tier4', perMinute: 100 },
};

/** `chat.postMessage` burst allowance per channel within any 1-second window. */
export const POST_MESSAGE_BURST = 5;

const MINUTE = 60_000;
const SECOND = 1_000;
const UPDATE_WINDOW = 3_000;

/** Counts for one method. */
export interface MethodRate {
  readonly calls: number;
  /** Most calls in any sliding 60-second window. */
  readonly maxPerMinute: number;
  readonly tier: RateTier['tier'] | 'unknown';
  readonly limitPerMinute: number | null;
  /** `maxPerMinute` went over the tier's allowance. */
  readonly overLimit: boolean;
}

/** What {@link RateMeter.report} returns. */
export interface RateReport {
  readonly methods: Readonly<Record<string, MethodRate>>;
  /** Per channel id. */
  readonly postMessageByChannel: Readonly<
    Record<string, { calls: number; maxPerSecond: number; maxPerMinute: number }>
  >;
  /** Per message, keyed `CHANNEL/TS`. */
  readonly chatUpdateByMessage: Readonly<Record<string, { calls: number; maxPer3s: number }>>;
  /** The largest `maxPer3s` over all messages (0 when none was updated). */
  readonly maxChatUpdatesPerMessagePer3s: number;
  /** How many calls were answered 429. */
  readonly rateLimited: number;
}

/** The verdict for one call about to be served. */
export type RateVerdict = { readonly limited: false } | { readonly limited: true; readonly retryAfterSec: number };

/**
 * Records call times and answers sliding-window questions about them.
 *
 * Guarantees: {@link report} counts every recorded call; {@link check} limits only when asked to enforce, never
 * limits lenient methods, and gives a Retry-After of at least one second.
 */
export class RateMeter {
  readonly #byMethod = new Map<string, number[]>();
  readonly #postsByChannel = new Map<string, number[]>();
  readonly #updatesByMessage = new Map<string, number[]>();
  #rateLimited = 0;

  /** Counts a served call. `channel`/`ts` key the per-channel and per-message counters. */
  record(method: string, at: number, key: { channel?: string; ts?: string } = {}): void {
    push(this.#byMethod, method, at);
    if (method === 'chat.postMessage' && key.channel !== undefined) push(this.#postsByChannel, key.channel, at);
    if (method === 'chat.update' && key.channel !== undefined && key.ts !== undefined) {
      push(this.#updatesByMessage, `${key.channel}/${key.ts}`, at);
    }
  }

  /** Counts a call answered 429. */
  recordLimited(): void {
    this.#rateLimited += 1;
  }

  /** Would serving `method` at `at` exceed Slack's limits, given the calls recorded so far? */
  check(method: string, at: number, channel?: string): RateVerdict {
    const tier = METHOD_TIERS[method];
    if (tier === undefined || tier.lenient === true) return { limited: false };
    const perMethod = over(this.#byMethod.get(method), at, MINUTE, tier.perMinute);
    if (perMethod !== undefined) return { limited: true, retryAfterSec: perMethod };
    if (method === 'chat.postMessage' && channel !== undefined) {
      const times = this.#postsByChannel.get(channel);
      const burst = over(times, at, SECOND, POST_MESSAGE_BURST);
      if (burst !== undefined) return { limited: true, retryAfterSec: burst };
    }
    return { limited: false };
  }

  /** Sliding-window maxima over everything recorded. */
  report(): RateReport {
    const methods: Record<string, MethodRate> = {};
    for (const [method, times] of this.#byMethod) {
      const tier = METHOD_TIERS[method];
      const maxPerMinute = maxInWindow(times, MINUTE);
      methods[method] = {
        calls: times.length,
        maxPerMinute,
        tier: tier?.tier ?? 'unknown',
        limitPerMinute: tier?.perMinute ?? null,
        overLimit: tier !== undefined && maxPerMinute > tier.perMinute,
      };
    }
    const postMessageByChannel: Record<string, { calls: number; maxPerSecond: number; maxPerMinute: number }> = {};
    for (const [channel, times] of this.#postsByChannel) {
      postMessageByChannel[channel] = {
        calls: times.length,
        maxPerSecond: maxInWindow(times, SECOND),
        maxPerMinute: maxInWindow(times, MINUTE),
      };
    }
    const chatUpdateByMessage: Record<string, { calls: number; maxPer3s: number }> = {};
    let maxChatUpdatesPerMessagePer3s = 0;
    for (const [key, times] of this.#updatesByMessage) {
      const maxPer3s = maxInWindow(times, UPDATE_WINDOW);
      chatUpdateByMessage[key] = { calls: times.length, maxPer3s };
      maxChatUpdatesPerMessagePer3s = Math.max(maxChatUpdatesPerMessagePer3s, maxPer3s);
    }
    return {
      methods,
      postMessageByChannel,
      chatUpdateByMessage,
      maxChatUpdatesPerMessagePer3s,
      rateLimited: this.#rateLimited,
    };
  }
}

function push(map: Map<string, number[]>, key: string, at: number): void {
  const times = map.get(key);
  if (times === undefined) map.set(key, [at]);
  else times.push(at);
}

/** Seconds to wait when `limit` calls already happened in the window ending at `at`; undefined when under it. */
function over(times: readonly number[] | undefined, at: number, windowMs: number, limit: number): number | undefined {
  if (times === undefined || times.length < limit) return undefined;
  const oldestInWindow = times[times.length - limit];
  if (oldestInWindow === undefined || at - oldestInWindow >= windowMs) return undefined;
  return Math.max(1, Math.ceil((oldestInWindow + windowMs - at) / 1000));
}

/**
 * The largest number of times falling in any window `[t, t + windowMs)`.
 *
 * @param times ascending epoch ms
 */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    const t = times[end] as number;
    while ((times[start] as number) <= t - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
