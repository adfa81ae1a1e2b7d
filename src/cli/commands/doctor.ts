import { WebClient } from '@slack/web-api';
import { createGoogleCloud, serviceAccountEmail } from '../../adapters/gcp/google-cloud.ts';
import { PubSubSubscriptionAdapter } from '../../adapters/gcp/pubsub-subscription.adapter.ts';
import { KubernetesConnector } from '../../adapters/kube/cluster.adapter.ts';
import { SlackChatAdapter } from '../../adapters/slack/chat.adapter.ts';
import { type Config, ConfigError, loadConfig } from '../../config.ts';
import { ClusterAccess } from '../../usecases/cluster-access.ts';
import { configReport, type DoctorReport, runDoctor } from '../../usecases/doctor.ts';
import { FactReader } from '../../usecases/fact-reader.ts';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { doctorText } from '../render-doctor.ts';

/**
 * `imagepull doctor` (docs/operations.md): checks a deployment's wiring from its environment — the same variables
 * `imagepull serve` reads — against the live Slack, Pub/Sub, GKE and IAM, and prints a checklist with the fix for
 * each failure. Exit 0 when every check passes, 1 when one fails.
 */
export async function doctorCommand(io: Io): Promise<number> {
  const { values } = parse(
    io.args,
    {
      json: { type: 'boolean' },
      project: { type: 'string', multiple: true },
      repository: { type: 'string', multiple: true },
    },
    false,
  );
  for (const r of values.repository ?? []) {
    if (!/^projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+$/.test(r)) {
      throw new UsageError(`--repository must be projects/PROJECT/locations/LOCATION/repositories/NAME (got "${r}")`);
    }
  }
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return print(io, configReport(e.problems), values.json === true);
  }
  const report = await check(config, {
    ...(values.project ? { projects: values.project } : {}),
    ...(values.repository ? { repositories: values.repository } : {}),
  });
  return print(io, report, values.json === true);
}

function print(io: Io, report: DoctorReport, json: boolean): number {
  io.out(json ? JSON.stringify(report, null, 2) : doctorText(report, process.stdout.isTTY === true));
  return report.ok ? EXIT.ok : EXIT.failure;
}

async function check(
  config: Config,
  options: { projects?: readonly string[]; repositories?: readonly string[] },
): Promise<DoctorReport> {
  const timeoutMs = config.timing.factTimeoutMs;
  const google = createGoogleCloud({
    ...(config.googleEndpoint ? { endpoint: config.googleEndpoint } : {}),
    timeoutMs,
  });
  const connector = new KubernetesConnector(() => google.accessToken(), timeoutMs);
  const access = new ClusterAccess(google.gke, connector, new FactReader({ ttlMs: 60_000, timeoutMs }));
  const web = new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    retryConfig: { retries: 1, factor: 1, minTimeout: 500, maxTimeout: 1000 },
  });
  const sub = config.pubsubSubscription;
  const subscriptions = sub
    ? new PubSubSubscriptionAdapter({
        projectId: sub.split('/')[1] as string,
        ...(config.pubsubEmulatorHost ? { emulatorHost: config.pubsubEmulatorHost } : {}),
        timeoutMs,
      })
    : undefined;
  // The sandbox endpoint has no credentials to name; real ones do (a service account key or Workload Identity).
  const serviceAccount = config.googleEndpoint ? undefined : await serviceAccountEmail(timeoutMs);
  try {
    return await runDoctor(
      config,
      {
        chat: new SlackChatAdapter(web),
        gke: google.gke,
        projects: google.projects,
        repositories: google.repositoryIam,
        cluster: (ref) => access.api(ref),
        ...(subscriptions ? { subscriptions } : {}),
        ...(serviceAccount ? { serviceAccount } : {}),
      },
      options,
    );
  } finally {
    await subscriptions?.close().catch(() => undefined);
    connector.close();
    await google.close();
  }
}
