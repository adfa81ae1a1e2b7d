/**
 * The alert subscription as `imagepull doctor` checks it (the consumer itself is transport/pubsub-consumer.ts).
 * Failures are `ReadError`s (shared/errors.ts): `not-found` when the subscription does not exist.
 */
export interface SubscriptionReader {
  /** The subscription's topic (`projects/P/topics/T`): reading it is what the consumer's readiness check does. */
  topicOf(subscription: string): Promise<string>;
  /**
   * Which of `permissions` the bot holds on the subscription (`testIamPermissions`, which needs no permission);
   * undefined when the server has no IAM (the Pub/Sub emulator).
   */
  testPermissions(subscription: string, permissions: readonly string[]): Promise<readonly string[] | undefined>;
  close(): Promise<void>;
}
