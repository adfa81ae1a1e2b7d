import { type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import { sleep, until } from './bot-process.ts';

/**
 * The floor the bot is measured against, on the same emulator in the same run: a subscriber that only acknowledges,
 * with the bot's flow control. Whatever the machine's load, the bot's numbers are read as ratios to these. By default
 * it opens the client's five streaming pulls; given `streams`, that many (the bot opens PUBSUB_STREAMS, 4 by default,
 * and one stream of the emulator delivers only so fast: that floor is the most the bot could drain with its streams).
 */
export interface Floor {
  /** An ack-only subscription on the alert topic, created before the storm is published. */
  readonly subscription: string;
  /** Drains the storm from it: messages per second. */
  drain(expected: number): Promise<number>;
  /** Publish → receipt by an ack-only subscriber, for single messages on an idle stream (ms, sorted). */
  deliveryMs(publish: (n: number) => Promise<void>, trials: number): Promise<number[]>;
  close(): Promise<void>;
}

export async function createFloor(
  emulatorHost: string,
  topic: string,
  maxMessages: number,
  streams?: number,
): Promise<Floor> {
  const project = /^projects\/([^/]+)\//.exec(topic)?.[1] ?? 'sandbox-project';
  const client = new PubSub({ projectId: project, apiEndpoint: emulatorHost, emulatorMode: true });
  const id = `floor-${Date.now().toString(36)}`;
  const [sub] = await client.topic(topic).createSubscription(id, { ackDeadlineSeconds: 30 });
  const open = (): Subscription =>
    client.subscription(sub.name, {
      flowControl: { maxMessages, allowExcessMessages: false },
      ...(streams ? { streamingOptions: { maxStreams: streams } } : {}),
    });
  return {
    subscription: sub.name,
    async drain(expected) {
      const s = open();
      let n = 0;
      let last = 0;
      s.on('message', (m: Message) => {
        m.ack();
        n++;
        last = Date.now();
      });
      const started = Date.now();
      await until(() => n >= expected, 300_000, 'the floor to drain');
      await s.close();
      // From the stream's start, as for the bot (which is measured from ready).
      return Math.round(expected / ((last - started) / 1000));
    },
    async deliveryMs(publish, trials) {
      const out: number[] = [];
      const s = open();
      let received: (() => void) | undefined;
      s.on('message', (m: Message) => {
        m.ack();
        received?.();
      });
      await sleep(500);
      for (let i = 0; i < trials; i++) {
        const t0 = Date.now();
        const got = new Promise<void>((r) => {
          received = r;
        });
        await publish(i);
        await got;
        out.push(Date.now() - t0);
        await sleep(100);
      }
      await s.close();
      return out.sort((a, b) => a - b);
    },
    async close() {
      await sub.delete().catch(() => undefined);
      await client.close();
    },
  };
}
