import type { Server } from 'node:http';
import type { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { createGoogleCloud } from './adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from './adapters/kube/cluster.adapter.ts';
import { SlackChatAdapter } from './adapters/slack/chat.adapter.ts';
import { MemoryStore } from './adapters/store/memory-store.ts';
import type { Config } from './config.ts';
import type { FixWorld } from './fixes/fix.ts';
import { FixRunner } from './fixes/runner.ts';
import type { GoogleCloud } from './ports/gcp.port.ts';
import type { StateStore } from './ports/store.port.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { Metrics } from './shared/metrics.ts';
import { createSlackApp } from './slack/app.ts';
import { SlackMessageSync } from './slack/message-sync.ts';
import { SlackUninvestigableNotices } from './slack/notice-sync.ts';
import { operationalRoutes, type Route, serveRoutes } from './transport/http-routes.ts';
import { PubSubConsumer } from './transport/pubsub-consumer.ts';
import { PushAuthenticator } from './transport/push-auth.ts';
import { pushRoute } from './transport/push-route.ts';
import { AlertIntake } from './usecases/alert-intake.ts';
import { Approvers } from './usecases/approvers.ts';
import { AuditTrail } from './usecases/audit.ts';
import { ClusterAccess } from './usecases/cluster-access.ts';
import { FactReader } from './usecases/fact-reader.ts';
import { IncidentActions, targetOf } from './usecases/incident-actions.ts';
import { IncidentService } from './usecases/incidents.ts';
import { Investigator } from './usecases/investigate.ts';
import { LiveCounts } from './usecases/live-counts.ts';
import { OnDemandDiagnosis } from './usecases/on-demand.ts';
import { PermissionHealth } from './usecases/permission-health.ts';
import { PreventionService } from './usecases/prevention.ts';
import { PullAudit } from './usecases/pull-audit.ts';
import { ReadAheadBudget } from './usecases/read-ahead-budget.ts';
import { UninvestigableAlerts } from './usecases/uninvestigable.ts';

/** The running bot, for `serve`, the demo, tests and the benchmark. */
export interface Bot {
  readonly app: App;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: StateStore;
  readonly google: GoogleCloud;
  readonly reader: FactReader;
  readonly intake: AlertIntake;
  readonly incidents: IncidentService;
  readonly actions: IncidentActions;
  /** The pull audit in the bot: periodic, `/imagepull audit`, and after IAM changes. */
  readonly prevention: PreventionService;
  /** Keeps the incident messages in step with the store (flush one now: `messages.flush(id)`). */
  readonly messages: SlackMessageSync;
  readonly consumer?: PubSubConsumer;
  /** Stops pulling, finishes or nacks in-flight work, flushes pending message updates, closes clients. */
  stop(): Promise<void>;
  /** What `stop()` is waiting on ("alert intake", "fix runs", …); undefined before it is called. */
  readonly stopping: string | undefined;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly store?: StateStore;
  /** Period of the "are the affected pods running again?" sweep (default 60 s; 0 = off). */
  readonly sweepIntervalMs?: number;
  /** How often fixes whose replica stopped are looked for and resumed (default 5 s; 0 = only at start-up). */
  readonly resumeIntervalMs?: number;
  /** How long cached facts are reused during alert storms (default 30 s). */
  readonly factTtlMs?: number;
  /** How long `stop()` may take in all (default 20 s). */
  readonly stopBudgetMs?: number;
}

/** How long `stop()` may take in all: within the serve command's 25 s, itself within Kubernetes' 30 s grace period. */
const STOP_BUDGET_MS = 20_000;
/** What a phase gets when an earlier one used up the budget. */
const MIN_PHASE_MS = 500;

/** Composition root: builds every adapter and use case from the config and starts Slack and alert intake. */
export async function startBot(config: Config, options: StartOptions = {}): Promise<Bot> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const google = createGoogleCloud({
    ...(config.googleEndpoint ? { endpoint: config.googleEndpoint } : {}),
    timeoutMs: config.timing.factTimeoutMs,
  });
  const reader = new FactReader({ ttlMs: options.factTtlMs ?? 30_000, timeoutMs: config.timing.factTimeoutMs });
  metrics.gauge('imagepull_fact_reads_total', 'Google and Kubernetes reads sent (cache misses)', () => reader.reads);
  const connector = new KubernetesConnector(() => google.accessToken(), config.timing.factTimeoutMs);
  const readAhead = new ReadAheadBudget();
  metrics.gauge(
    'imagepull_read_ahead_refused_total',
    'Namespaces and nodes whose reads beside the pod the per-cluster budget refused (a flood of made-up names)',
    () => readAhead.refused,
  );
  const investigator = new Investigator({ google, clusters: connector, reader, readAhead });
  const access = new ClusterAccess(google.gke, connector, reader);
  // Firestore's client is loaded only when it is used (it costs memory at import).
  const store =
    options.store ??
    (config.stateStore === 'firestore'
      ? (await import('./adapters/store/firestore-store.ts')).createFirestoreStore({
          projectId: config.firestoreProject as string,
          logger,
          ...(config.firestoreEmulatorHost ? { emulatorHost: config.firestoreEmulatorHost } : {}),
        })
      : new MemoryStore());
  const web = new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    retryConfig: { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 30_000 },
  });
  const chat = new SlackChatAdapter(web);
  // The message's "how bad", read from the cluster on each update: one pod list per namespace per update interval.
  const liveCounts = new LiveCounts(access, reader, config.timing.updateIntervalMs);
  const messages = new SlackMessageSync({
    store,
    chat,
    logger,
    metrics,
    routing: {
      owners: new Map(Object.entries(config.ownerChannels)),
      defaultChannel: config.incidentChannel,
    },
    fixMode: config.fixMode,
    approvalsRequired: config.approvalsRequired,
    approvers: config.approvers,
    updateIntervalMs: config.timing.updateIntervalMs,
    counts: (incident) => liveCounts.read(incident),
  });
  const audit = new AuditTrail(store, logger, messages);
  const incidents = new IncidentService({
    store,
    notifier: messages,
    access,
    logger,
    metrics,
    planTtlMs: config.timing.planTtlMs,
  });
  const world: FixWorld = {
    repositoryIam: google.repositoryIam,
    access: google.access,
    cluster: (ref) => access.api(ref),
    workloadHealth: (cluster, ref, restartedAt) => access.workloadHealth(cluster, ref, restartedAt),
    invalidate: (prefix) => reader.invalidate(prefix),
  };
  const runner = new FixRunner({
    locks: store,
    incidents,
    audit: (r) => audit.record(r),
    recheck: async (incident) => {
      const inv = await investigator.investigate(targetOf(incident), { fresh: true });
      const diagnosis = inv.diagnoses.find((d) => d.key === incident.key) ?? inv.diagnoses[0];
      return { ...(diagnosis ? { diagnosis } : {}), ...(inv.note ? { note: inv.note } : {}) };
    },
    world,
    timing: config.timing,
    fixMode: config.fixMode,
    logger,
    metrics,
  });
  const actions = new IncidentActions({
    config,
    incidents,
    runner,
    approvers: new Approvers(config.approvers, config.fourEyes, chat, logger),
    audit,
    investigate: (target) => investigator.investigate(target, { fresh: true }),
    repositoryIam: google.repositoryIam,
    invalidate: (prefix) => reader.invalidate(prefix),
    logger,
    metrics,
  });
  const onDemand = new OnDemandDiagnosis(investigator, incidents, config.defaultCluster);
  const permissions = new PermissionHealth(google, access, store, config.fixMode, config.defaultCluster);
  const prevention = new PreventionService({
    audit: new PullAudit({ google, clusters: connector, reader }),
    incidents,
    store,
    scope: config.auditScope,
    planTtlMs: config.timing.planTtlMs,
    logger,
    metrics,
  });
  const uninvestigable = new UninvestigableAlerts({
    notifier: new SlackUninvestigableNotices(chat, config.incidentChannel, logger),
    store,
    logger,
    updateIntervalMs: config.timing.updateIntervalMs,
  });
  const intake = new AlertIntake({
    investigator,
    uninvestigable,
    incidents,
    logger,
    metrics,
    iamChanged: (alert) => prevention.iamChanged(alert),
  });
  const status = async () => ({
    incidents: await store.listIncidents(),
    health: await permissions.checks(),
    fixMode: config.fixMode,
  });

  let consumer: PubSubConsumer | undefined;
  let started = false;
  let stopPhase: string | undefined;
  // Ready: started, and pulling alerts when intake is configured (a deleted subscription or a revoked role says so).
  const routes: Route[] = operationalRoutes({ metrics, ready: () => started && (consumer?.ready ?? true) });
  if (config.pubsubPush) {
    const auth = new PushAuthenticator(config.pubsubPush);
    routes.push(
      pushRoute({
        authenticate: (h, url) => auth.check(h, url),
        handle: (a, n) => intake.handle(a, n),
        metrics,
        logger,
      }),
    );
  }
  const app = createSlackApp({ config, listeners: { actions, onDemand, prevention, status, logger }, logger, routes });
  await app.init();
  let healthServer: Server | undefined;
  if (config.slack.mode === 'http') {
    await app.start({ port: config.port, host: config.host });
  } else {
    await app.start();
    healthServer = await serveRoutes(routes, config.port, config.host);
  }
  if (config.pubsubSubscription) {
    consumer = new PubSubConsumer({
      subscription: config.pubsubSubscription,
      handle: (alert, attempt) => intake.handle(alert, attempt),
      maxInFlight: config.pubsubMaxMessages,
      maxInFlightBytes: config.pubsubMaxBytes,
      streams: config.pubsubStreams,
      healthCheckMs: config.pubsubHealthCheckMs,
      logger,
      metrics,
      ...(config.pubsubEmulatorHost ? { emulatorHost: config.pubsubEmulatorHost } : {}),
    });
    consumer.start();
  } else if (!config.pubsubPush) {
    logger.warn('PUBSUB_SUBSCRIPTION is not set: alert intake is off, only /imagepull works');
  }
  // Fixes left running by a replica that stopped (SIGTERM, a crash) are resumed from their ledger: at once, then
  // every resumeIntervalMs.
  const resume = () =>
    void runner
      .resumeStale(() => store.listIncidents(['fixing']))
      .catch((e: unknown) => logger.warn({ err: e }, 'looking for fixes to resume failed'));
  resume();
  const resumeMs = options.resumeIntervalMs ?? 5_000;
  const resuming = resumeMs > 0 ? setInterval(resume, resumeMs) : undefined;
  resuming?.unref();
  // The cluster alerts are expected from is read, and its API server connected to, ahead of the first alert (and
  // kept so), which takes the cluster read and the TLS handshake off an alert's critical path.
  const warmCluster = config.defaultCluster;
  const warm = () =>
    warmCluster
      ? void investigator.warm(warmCluster).catch((e: unknown) => logger.debug({ err: e }, 'warm-up failed'))
      : undefined;
  warm();
  const warming = warmCluster ? setInterval(warm, 20_000) : undefined;
  warming?.unref();
  const sweepMs = options.sweepIntervalMs ?? 60_000;
  const sweep =
    sweepMs > 0
      ? setInterval(() => void incidents.sweep().catch((e) => logger.warn({ err: e }, 'sweep failed')), sweepMs)
      : undefined;
  sweep?.unref();
  // The periodic pull audit: once soon after start, then every AUDIT_INTERVAL (docs/prevention.md).
  const auditMs = config.auditIntervalMs;
  const periodicAudit = () =>
    void prevention.periodic(auditMs ?? 0).catch((e) => logger.warn({ err: e }, 'periodic pull audit failed'));
  const firstAudit = auditMs ? setTimeout(periodicAudit, Math.min(auditMs, 10_000)) : undefined;
  const audits = auditMs ? setInterval(periodicAudit, auditMs) : undefined;
  firstAudit?.unref();
  audits?.unref();
  started = true;
  logger.info(
    {
      mode: config.slack.mode,
      fixMode: config.fixMode,
      store: config.stateStore,
      alerts: Boolean(config.pubsubSubscription),
      push: Boolean(config.pubsubPush),
      audit: auditMs ? `every ${auditMs / 1000} s` : 'on demand',
      port: config.port,
    },
    'imagepull-bot started',
  );

  return {
    app,
    config,
    logger,
    metrics,
    store,
    google,
    reader,
    intake,
    incidents,
    actions,
    prevention,
    messages,
    ...(consumer ? { consumer } : {}),
    get stopping() {
      return stopPhase;
    },
    async stop() {
      started = false;
      if (sweep) clearInterval(sweep);
      if (firstAudit) clearTimeout(firstAudit);
      if (audits) clearInterval(audits);
      if (resuming) clearInterval(resuming);
      if (warming) clearInterval(warming);
      // Each phase is named and bounded by what is left of the stop's budget: one that hangs is logged and the next
      // goes on (what it held is not lost — an alert not acknowledged comes back from Pub/Sub), so the process exits 0
      // within Kubernetes' grace period (docs/operations.md, "Stopping").
      const deadline = Date.now() + (options.stopBudgetMs ?? STOP_BUDGET_MS);
      const phase = async (name: string, step: () => Promise<unknown> | unknown) => {
        stopPhase = name;
        const began = Date.now();
        const left = Math.max(deadline - began, MIN_PHASE_MS);
        let timer: NodeJS.Timeout | undefined;
        const overran = await Promise.race([
          Promise.resolve()
            .then(step)
            .then(() => false),
          new Promise<true>((r) => {
            timer = setTimeout(() => r(true), left);
          }),
        ]).finally(() => clearTimeout(timer));
        if (overran) logger.warn({ phase: name, ms: left }, 'stopping: a phase overran the stop budget; going on');
        else logger.debug({ phase: name, ms: Date.now() - began }, 'stopping: phase done');
      };
      await phase('alert intake', () => consumer?.close());
      await phase('fix runs', () => runner.close());
      await phase('message edits', () => messages.close());
      await phase('cannot-investigate message', () => uninvestigable.close());
      await phase('Slack connection', () =>
        app.stop().catch((e: unknown) => logger.warn({ err: e }, 'stopping Slack failed')),
      );
      await phase('health server', () => (healthServer ? new Promise((r) => healthServer?.close(r)) : undefined));
      await phase('Google clients', () => google.close());
      await phase('Kubernetes connections', () => connector.close());
      await phase('state store', () => store.close());
      stopPhase = 'stopped';
      logger.info('imagepull-bot stopped');
    },
  };
}
