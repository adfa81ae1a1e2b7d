import { Duration, type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import type { Alert } from '../alerts/alert.ts';
import { parseAlert } from '../alerts/parse-alert.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { IntakeOutcome } from '../usecases/alert-intake.ts';

export interface PubSubConsumerOptions {
  /** `projects/P/subscriptions/S`. */
  readonly subscription: string;
  readonly handle: (alert: Alert, deliveryAttempt: number) => Promise<IntakeOutcome>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Messages processed at once (flow control). */
  readonly maxInFlight?: number;
  /** `host:port` of the Pub/Sub emulator, when testing. */
  readonly emulatorHost?: string;
}

/**
 * Pulls alerts from the subscription (transport only): decode → `parseAlert` → hand off → ack or nack as the
 * handler decides (docs/alerts.md, "Acknowledging"). An unreadable message is logged and acked — never a crash, never a loop. On close,
 * it stops pulling, lets in-flight work finish, and nacks what remains.
 */
export class PubSubConsumer {
  readonly #o: PubSubConsumerOptions;
  readonly #pubsub: PubSub;
  #subscription?: Subscription;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #count: (labels?: Record<string, string>, by?: number) => void;
  #received = 0;
  #closing = false;
  readonly #wake = new Set<() => void>();

  constructor(options: PubSubConsumerOptions) {
    this.#o = options;
    const project = /^projects\/([^/]+)\//.exec(options.subscription)?.[1];
    this.#pubsub = new PubSub({
      ...(project ? { projectId: project } : {}),
      // With PUBSUB_EMULATOR_HOST the client goes insecure on its own; passing it here keeps config in one place.
      ...(options.emulatorHost ? { apiEndpoint: options.emulatorHost, emulatorMode: true } : {}),
    });
    this.#count = options.metrics.counter('imagepull_pubsub_messages_total', 'Pub/Sub messages by result', ['result']);
    options.metrics.gauge('imagepull_pubsub_in_flight', 'Messages being processed', () => this.#inFlight.size);
  }

  get received(): number {
    return this.#received;
  }

  start(): void {
    const sub = this.#pubsub.subscription(this.#o.subscription, {
      flowControl: { maxMessages: this.#o.maxInFlight ?? 1000, allowExcessMessages: false },
      minAckDeadline: Duration.from({ seconds: 60 }),
      closeOptions: { behavior: 'WAIT', timeout: Duration.from({ seconds: 20 }) },
    });
    // `on`, never `once`: removing the last listener closes the subscriber (docs/library-traps.md, "Pub/Sub").
    sub.on('message', (m: Message) => {
      // Stopping: hand the message back at once (another replica, or this one after restart, takes it).
      if (this.#closing) {
        m.nack();
        return;
      }
      const p = this.#process(m).finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    });
    sub.on('error', (e: Error) => this.#o.logger.error({ err: e }, 'Pub/Sub subscriber error'));
    this.#subscription = sub;
    this.#o.logger.info({ subscription: this.#o.subscription }, 'pulling alerts');
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
    this.#o.logger.debug({ messageId: m.id, ack: outcome.ack, reason: outcome.reason }, 'alert processed');
  }

  /** Stops pulling, waits for in-flight messages (they ack or nack), then closes the client. */
  async close(): Promise<void> {
    const sub = this.#subscription;
    this.#subscription = undefined;
    this.#closing = true;
    for (const wake of [...this.#wake]) wake();
    if (sub) {
      // WAIT: the stream stops, held messages keep their lease until our handlers ack/nack them (or the timeout).
      await Promise.all([
        sub.close().catch((e: unknown) => this.#o.logger.warn({ err: e }, 'closing the subscription failed')),
        this.#drained(),
      ]);
    }
    await this.#pubsub.close().catch(() => undefined);
  }
}
