import { PubSub } from '@google-cloud/pubsub';
import type { SubscriptionReader } from '../../ports/pubsub.port.ts';
import { toReadError, withRetry } from './google-errors.ts';

/** gRPC UNIMPLEMENTED: what the Pub/Sub emulator answers to the IAM methods. */
const UNIMPLEMENTED = 12;

/** The alert subscription through the real `@google-cloud/pubsub` client (for `imagepull doctor`). */
export class PubSubSubscriptionAdapter implements SubscriptionReader {
  readonly #client: PubSub;
  readonly #timeout: number;

  constructor(options: { projectId?: string; emulatorHost?: string; timeoutMs: number }) {
    this.#client = new PubSub({
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.emulatorHost ? { apiEndpoint: options.emulatorHost, emulatorMode: true } : {}),
    });
    this.#timeout = options.timeoutMs;
  }

  async topicOf(subscription: string): Promise<string> {
    try {
      const [meta] = await withRetry(() =>
        this.#client.subscription(subscription).getMetadata({ timeout: this.#timeout }),
      );
      return meta.topic ?? '';
    } catch (e) {
      throw toReadError(e, `Pub/Sub subscriptions.get ${subscription}`, 'pubsub.subscriptions.get');
    }
  }

  async testPermissions(subscription: string, permissions: readonly string[]): Promise<readonly string[] | undefined> {
    try {
      const [granted] = await withRetry(() =>
        this.#client.subscription(subscription).iam.testPermissions([...permissions], { timeout: this.#timeout }),
      );
      return permissions.filter((p) => granted[p] === true);
    } catch (e) {
      if ((e as { code?: unknown }).code === UNIMPLEMENTED) return undefined;
      throw toReadError(e, `Pub/Sub subscriptions.testIamPermissions ${subscription}`);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
