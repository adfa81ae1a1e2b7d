import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { type Emulator, startFirestoreEmulator, startPubsubEmulator } from './emulators.ts';
import { type GoogleSandbox, SCENARIOS, startGoogleSandbox } from './google/index.ts';
import { freePort } from './net.ts';
import { SLACK_FAKE_DEFAULTS, type SlackFake, startSlackFake } from './slack/index.ts';

/**
 * The sandbox: one simulator for tests, the demo and the benchmark (docs/testing.md, "The sandbox"). A simulated GCP + GKE cluster for a
 * scenario, a fake Slack, and the real Pub/Sub (and optionally Firestore) emulator, all on loopback; `env` is the
 * environment a bot needs to run against it. Nothing here reaches Slack or Google.
 */
export interface SandboxOptions {
  readonly scenario?: string;
  readonly slackMode?: 'socket' | 'http';
  /** Start the Pub/Sub emulator and create the alert topic + subscription (default true). */
  readonly pubsub?: boolean;
  /** Start the Firestore emulator and point the bot's state at it (default false). */
  readonly firestore?: boolean;
  readonly latencyMs?: number;
  readonly propagationDelayMs?: number;
  readonly podStartMs?: number;
  readonly slackLatencyMs?: number;
  /** The Slack credentials the fake accepts (default: fixed sandbox values); a test may choose its own. */
  readonly slackCredentials?: {
    readonly botToken?: string;
    readonly appToken?: string;
    readonly signingSecret?: string;
  };
  /**
   * Where to write the kubeconfig for the real `kubectl` (created 0700 if missing). Default: a fresh private
   * temporary directory, removed by `stop()`.
   */
  readonly kubeconfigDir?: string;
  /** Slack channels besides `#incidents` (`C0INCIDENTS`, the bot's INCIDENT_CHANNEL), e.g. owner channels. */
  readonly slackChannels?: readonly { readonly id: string; readonly name: string }[];
  /** Extra environment for the bot (overrides the defaults). */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface Sandbox {
  readonly google: GoogleSandbox;
  readonly slack: SlackFake;
  readonly pubsub?: Emulator;
  readonly firestore?: Emulator;
  /** `projects/P/topics/T` and `projects/P/subscriptions/S` of the alert route. */
  readonly topic?: string;
  readonly subscription?: string;
  /** The environment for the bot (Slack tokens and URL, Google endpoint, emulator hosts, approvers, timings…). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Path of a kubeconfig (mode 0600) that points the real `kubectl` at the scenario's cluster (context
   * `gke_PROJECT_LOCATION_CLUSTER`, current); `stop()` removes it.
   */
  readonly kubeconfig: string;
  /** Publishes one alert payload to the alert topic, as Cloud Logging/Monitoring would: an object as JSON, a string
   * as UTF-8, bytes as they are. */
  publish(payload: object | string | Buffer, attributes?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/** Approvers of the sandbox: Alice directly, Bob through the on-call user group; Carol is not one. */
export const SANDBOX_PEOPLE = {
  approver: 'U0ALICE',
  groupApprover: 'U0BOB',
  stranger: 'U0CAROL',
  approverGroup: 'S0ONCALL',
} as const;

export { type Emulator, EmulatorMissingError, startFirestoreEmulator, startPubsubEmulator } from './emulators.ts';
export {
  GCLOUD_APIS,
  GCLOUD_SANDBOX_TOKEN,
  type GcloudConfig,
  type GcloudConfigOptions,
  writeGcloudConfig,
} from './google/gcloud-config.ts';
export { type GoogleSandbox, startGoogleSandbox } from './google/index.ts';
export { gkeContextName, KUBECTL_TOKEN, renderKubeconfig, writeKubeconfig } from './kube/kubeconfig.ts';
export { freePort, waitUntil } from './net.ts';
export {
  type PostedMessage,
  SLACK_FAKE_DEFAULTS,
  type SlackFake,
  startSlackFake,
  validateBlocks,
} from './slack/index.ts';
export { type BindingDelta, setIamPolicyEntry } from './world/audit-log.ts';
export { SCENARIOS };

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const scenario = options.scenario ?? 'seed';
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const google = await startGoogleSandbox({
      scenario,
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
      ...(options.propagationDelayMs !== undefined ? { propagationDelayMs: options.propagationDelayMs } : {}),
      ...(options.podStartMs !== undefined ? { podStartMs: options.podStartMs } : {}),
    });
    started.push(google);
    const ownDir = options.kubeconfigDir === undefined;
    const kubeDir = options.kubeconfigDir ?? mkdtempSync(join(tmpdir(), 'imagepull-sandbox-'));
    const kubeconfig = google.writeKubeconfig(kubeDir);
    started.push({
      stop: async () => rmSync(ownDir ? kubeDir : kubeconfig, { recursive: true, force: true }),
    });
    const slack = await startSlackFake({
      usergroups: { [SANDBOX_PEOPLE.approverGroup]: [SANDBOX_PEOPLE.groupApprover] },
      ...(options.slackLatencyMs !== undefined ? { latencyMs: options.slackLatencyMs } : {}),
      ...(options.slackCredentials ?? {}),
      ...(options.slackChannels ? { channels: [...SLACK_FAKE_DEFAULTS.channels, ...options.slackChannels] } : {}),
    });
    started.push(slack);
    const t = google.scenario.target;
    const mode = options.slackMode ?? 'socket';
    const port = await freePort();
    const env: Record<string, string> = {
      METADATA_SERVER_DETECTION: 'none',
      SLACK_BOT_TOKEN: slack.botToken,
      ...(mode === 'socket' ? { SLACK_APP_TOKEN: slack.appToken } : { SLACK_SIGNING_SECRET: slack.signingSecret }),
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: SLACK_FAKE_DEFAULTS.botUserId,
      SLACK_BOT_ID: SLACK_FAKE_DEFAULTS.botId,
      PORT: String(port),
      HOST: '127.0.0.1',
      INCIDENT_CHANNEL: SLACK_FAKE_DEFAULTS.channels[0].id,
      APPROVERS: `${SANDBOX_PEOPLE.approver},${SANDBOX_PEOPLE.approverGroup}`,
      FIX_MODE: 'approve',
      DEFAULT_CLUSTER: `${t.project}/${t.location}/${t.cluster}`,
      IMAGEPULL_GOOGLE_ENDPOINT: google.endpoint,
      POLL_INTERVAL_SECONDS: '0.2',
      PROPAGATION_TIMEOUT_SECONDS: '60',
      ROLLOUT_TIMEOUT_SECONDS: '60',
      UPDATE_INTERVAL_SECONDS: '1',
      FACT_TIMEOUT_SECONDS: '10',
      LOG_LEVEL: 'warn',
    };
    let pubsub: Emulator | undefined;
    let topic: Topic | undefined;
    let client: PubSub | undefined;
    let subscription: string | undefined;
    if (options.pubsub !== false) {
      pubsub = await startPubsubEmulator({ projectId: t.project, ...(options.log ? { log: options.log } : {}) });
      started.push(pubsub);
      client = new PubSub({ projectId: t.project, apiEndpoint: pubsub.host, emulatorMode: true });
      const id = randomBytes(4).toString('hex');
      [topic] = await client.createTopic(`gke-image-pull-${id}`);
      const [sub] = await topic.createSubscription(`imagepull-bot-${id}`, { ackDeadlineSeconds: 30 });
      subscription = sub.name;
      env.PUBSUB_SUBSCRIPTION = sub.name;
      env.PUBSUB_EMULATOR_HOST = pubsub.host;
      const c = client;
      started.push({ stop: () => c.close() });
    }
    let firestore: Emulator | undefined;
    if (options.firestore) {
      firestore = await startFirestoreEmulator({ projectId: t.project, ...(options.log ? { log: options.log } : {}) });
      started.push(firestore);
      env.FIRESTORE_EMULATOR_HOST = firestore.host;
      env.STATE_STORE = 'firestore';
      env.FIRESTORE_PROJECT = t.project;
    }
    Object.assign(env, options.env ?? {});
    const stopped = { done: false };
    return {
      google,
      slack,
      ...(pubsub ? { pubsub } : {}),
      ...(firestore ? { firestore } : {}),
      ...(topic ? { topic: topic.name } : {}),
      ...(subscription ? { subscription } : {}),
      env,
      kubeconfig,
      async publish(payload, attributes) {
        if (!topic) throw new Error('the sandbox was started without Pub/Sub');
        const data = Buffer.isBuffer(payload)
          ? payload
          : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
        return topic.publishMessage({ data, ...(attributes ? { attributes } : {}) });
      },
      async stop() {
        if (stopped.done) return;
        stopped.done = true;
        await stopAll();
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
