import { Duration, type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import type { Alert } from '../alerts/alert.ts';
import { MAX_ALERT_BYTES, parseAlert } from '../alerts/parse-alert.ts';
import { refusedLarge } from '../shared/collect.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from '../usecases/alert-intake.ts';

export interface PubSubConsumerOptions {
  /** `projects/P/subscriptions/S`. */
  readonly subscription: string;
  readonly handle: (alert: Alert, deliveryAttempt: number) => Promise<IntakeOutcome>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  // The defaults of these four live in config.ts (PUBSUB_MAX_MESSAGES, PUBSUB_MAX_BYTES, PUBSUB_STREAMS,
  // PUBSUB_HEALTH_CHECK_SECONDS), not here.
  /** Messages processed at once (flow control). */
  readonly maxInFlight: number;
  /** Bytes of message data held at once (flow control): bounds memory whatever the size of the messages. */
  readonly maxInFlightBytes: number;
  /** Streaming pulls opened at once. */
  readonly streams: number;
  /** How often the subscription is checked (for `/readyz`), and intake restarted once it answers again. */
  readonly healthCheckMs: number;
  /** `host:port` of the Pub/Sub emulator, when testing. */
  readonly emulatorHost?: string;
}

/** How long one check of the subscription may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 5000;

/** A client and the subscription stream pulled through it. */
interface Stream {
  readonly client: PubSub;
  readonly sub: Subscription;
}

/**
 * Pulls alerts from the subscription (transport only): decode → `parseAlert` → hand off → ack or nack as the
 * handler decides (docs/alerts.md, "Acknowledging"). An unreadable message is logged and acked — never a crash,
 * never a loop. Flow control bounds the messages and the bytes held at once.
 *
 * Intake never dies silently. The client closes its stream for good on `NOT_FOUND` or `PERMISSION_DENIED` (a deleted
 * subscription, a revoked role), and after a network cut its channel can sit in reconnect backoff for minutes. So
 * the subscription is checked every `healthCheckMs`: while it cannot be read, `ready` is false (`/readyz` answers
 * 503) and the failed stream is closed at once — left open, its client reconnects by itself when the network comes
 * back and takes messages that then wait out their ack deadline (seen: more than a minute on the emulator) — and
 * once a fresh client can read the subscription again, intake starts over on a fresh client and stream: what was
 * published meanwhile arrives then. On close, it stops pulling, lets in-flight work finish, and nacks what remains.
 */
export class PubSubConsumer {
  readonly #o: PubSubConsumerOptions;
  #stream?: Stream;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  readonly #restarts: (labels?: Record<string, string>, by?: number) => void;
  #received = 0;
  #closing = false;
  readonly #wake = new Set<() => void>();
  /** The last check (or the stream itself) failed: intake is not pulling. */
  #failing = false;
  #checking = false;
  #healthTimer?: NodeJS.Timeout;
  /** Failed streams being closed (their in-flight messages finish; `close()` waits for them). */
  readonly #retiring = new Set<Promise<void>>();

  constructor(options: PubSubConsumerOptions) {
    this.#o = options;
    this.#count = options.metrics.counter('imagepull_pubsub_messages_total', 'Pub/Sub messages by result', ['result']);
    this.#restarts = options.metrics.counter(
      'imagepull_pubsub_restarts_total',
      'Times alert intake started over after it could not pull',
    );
    options.metrics.gauge('imagepull_pubsub_in_flight', 'Messages being processed', () => this.#inFlight.size);
    options.metrics.gauge('imagepull_pubsub_ready', 'Whether alert intake is pulling (1) or not (0)', () =>
      this.ready ? 1 : 0,
    );
  }

  get received(): number {
    return this.#received;
  }

  /** Pulling now: the stream is open and the subscription answered its last check. */
  get ready(): boolean {
    return this.#stream !== undefined && !this.#failing && !this.#closing;
  }

  start(): void {
    this.#stream = this.#open();
    this.#healthTimer = setInterval(() => void this.#check(), this.#o.healthCheckMs);
    this.#healthTimer.unref();
    this.#o.logger.info({ subscription: this.#o.subscription }, 'pulling alerts');
  }

  #client(): PubSub {
    const project = /^projects\/([^/]+)\//.exec(this.#o.subscription)?.[1];
    return new PubSub({
      ...(project ? { projectId: project } : {}),
      // With PUBSUB_EMULATOR_HOST the client goes insecure on its own; passing it here keeps config in one place.
      ...(this.#o.emulatorHost ? { apiEndpoint: this.#o.emulatorHost, emulatorMode: true } : {}),
    });
  }

  #open(): Stream {
    const client = this.#client();
    const sub = client.subscription(this.#o.subscription, {
      flowControl: {
        maxMessages: this.#o.maxInFlight,
        maxBytes: this.#o.maxInFlightBytes,
        allowExcessMessages: false,
      },
      // The lease the stream asks for (then extended while a message is worked on): a message Pub/Sub handed to a stream
      // that died with its connection comes back when it runs out (docs/alerts.md, "When intake cannot pull").
      // Four streaming pulls (PUBSUB_STREAMS), not the client's five: each holds messages in transit beyond flow
      // control — more streams, more of a wave of 9 MB messages held at once — while one stream of the emulator drains
      // only ~1,900 messages/s: four drain a storm at ~0.8x of five, and hold the wave within budget (README,
      // "Performance"; test/wire/hostile/large-payloads.test.ts).
      streamingOptions: { maxStreams: this.#o.streams },
      minAckDeadline: Duration.from({ seconds: 10 }),
      maxAckDeadline: Duration.from({ seconds: 60 }),
      // Within the bot's stop budget (src/main.ts): the library waits for every message it leased to be acked or
      // nacked, then nacks what is left.
      closeOptions: { behavior: 'WAIT', timeout: Duration.from({ seconds: 15 }) },
    });
    const current = () => this.#stream?.sub === sub;
    // `on`, never `once`: removing the last listener closes the subscriber (docs/library-traps.md, "Pub/Sub").
    sub.on('message', (m: Message) => {
      // Stopping: hand the message back at once (another replica, or this one after restart, takes it).
      if (this.#closing) {
        m.nack();
        return;
      }
      if (current()) this.#failing = false;
      const p = this.#process(m).finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    });
    sub.on('error', (e: Error & { code?: number }) => {
      if (!current()) return;
      if (!this.#failing) this.#o.logger.error({ err: e, code: e.code }, 'alert intake stopped: Pub/Sub error');
      this.#fail();
    });
    sub.on('close', () => {
      // The client closed the stream for good (NOT_FOUND, PERMISSION_DENIED): the next check starts over.
      if (current() && !this.#closing) this.#fail();
    });
    return { client, sub };
  }

  /** Intake cannot pull: not ready, and the current stream closed now (a fresh one is opened on recovery). */
  #fail(): void {
    const was = this.#failing;
    this.#failing = true;
    const stream = this.#stream;
    if (was || !stream || this.#closing) return;
    const p = retire(stream).finally(() => this.#retiring.delete(p));
    this.#retiring.add(p);
  }

  /**
   * Checks the subscription: through the current client while all is well; through a fresh client while failing
   * (the current one may be stuck in backoff), and when that one answers, starts intake over on it.
   */
  async #check(): Promise<void> {
    if (this.#checking || this.#closing || !this.#stream) return;
    this.#checking = true;
    try {
      if (!this.#failing) {
        const ok = await answers(this.#stream.sub);
        if (!ok && !this.#closing) {
          this.#o.logger.error({ subscription: this.#o.subscription }, 'the alert subscription cannot be read');
          this.#fail();
        }
        return;
      }
      const probe = this.#client();
      const ok = await answers(probe.subscription(this.#o.subscription));
      await probe.close().catch(() => undefined);
      if (!ok || this.#closing) return;
      this.#o.logger.info({ subscription: this.#o.subscription }, 'the alert subscription answers again: restarting');
      this.#stream = this.#open();
      this.#failing = false;
      this.#restarts();
    } finally {
      this.#checking = false;
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake.add(done);
    });
  }

  async #drained(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #process(m: Message): Promise<void> {
    this.#received++;
    let outcome: IntakeOutcome;
    try {
      const alert = parseAlert(m.data, m.attributes);
      outcome = await this.#o.handle(alert, m.deliveryAttempt || 1);
    } catch (e) {
      this.#o.logger.error({ err: e, messageId: m.id }, 'alert handler crashed: nacking');
      outcome = { ack: false, reason: 'handler error' };
    }
    if (outcome.ack) m.ack();
    else {
      // Hold the message (its lease is extended) for the backoff the handler asked for, so a retry can find the
      // world changed instead of spinning; on shutdown, hand it back at once.
      if (outcome.retryAfterMs && !this.#closing) await this.#pause(outcome.retryAfterMs);
      m.nack();
    }
    this.#count({ result: outcome.ack ? 'acked' : 'nacked' });
    // A body refused for its size: its megabytes go back to the system at the next collection, asked for when such
    // bodies add up (shared/collect.ts).
    if (m.data.length > MAX_ALERT_BYTES) refusedLarge(m.data.length);
    this.#o.logger.debug({ messageId: m.id, ack: outcome.ack, reason: outcome.reason }, 'alert processed');
  }

  /** Stops pulling, waits for in-flight messages (they ack or nack), then closes the client. */
  async close(): Promise<void> {
    const stream = this.#stream;
    // While failing, the current stream is already being retired (#fail): it is waited for below, not closed again.
    const retired = this.#failing;
    this.#stream = undefined;
    this.#closing = true;
    clearInterval(this.#healthTimer);
    for (const wake of [...this.#wake]) wake();
    if (stream && !retired) {
      // WAIT: the stream stops, held messages keep their lease until our handlers ack/nack them (or the timeout).
      await Promise.all([
        stream.sub.close().catch((e: unknown) => this.#o.logger.warn({ err: e }, 'closing the subscription failed')),
        this.#drained(),
      ]);
      await stream.client.close().catch(() => undefined);
    } else await this.#drained();
    await Promise.allSettled([...this.#retiring]);
  }
}

/** Closes a failed stream and its client; its held messages are redelivered (and deduplicated) if their acks cannot
 * reach Pub/Sub. */
async function retire(stream: Stream): Promise<void> {
  await stream.sub.close().catch(() => undefined);
  await stream.client.close().catch(() => undefined);
}

/** Whether the subscription can be read within a few seconds. */
async function answers(sub: Subscription): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sub.getMetadata(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
