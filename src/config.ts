/**
 * Configuration from the environment (README, "Configuration"): parsed once, every error reported at once, frozen, passed down.
 * This is the only module that reads environment variables; callers hand it `process.env`.
 */

export type FixMode = 'off' | 'dry-run' | 'approve';
export type SlackMode = 'socket' | 'http';
export type StateStoreKind = 'memory' | 'firestore';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly slack: {
    readonly mode: SlackMode;
    readonly botToken: string;
    readonly appToken?: string;
    readonly signingSecret?: string;
    readonly apiUrl: string;
    /** Known bot ids skip `auth.test` at start-up (docs/library-traps.md, "Slack and Bolt"). */
    readonly botUserId?: string;
    readonly botId?: string;
  };
  /** HTTP port: Slack requests in HTTP mode; health and metrics in both modes. */
  readonly port: number;
  /** Address to listen on (default all interfaces; the sandbox uses 127.0.0.1). */
  readonly host: string;
  /** Default channel: incidents in namespaces without an owner in `ownerChannels`. */
  readonly incidentChannel: string;
  /** Namespace → the owning team's channel id (`OWNER_CHANNELS=prod=C123,payments=C456`). */
  readonly ownerChannels: Readonly<Record<string, string>>;
  /** Slack user ids (`U…`/`W…`) and user-group ids (`S…`) allowed to approve fixes. */
  readonly approvers: readonly string[];
  /** The person who asked for a diagnosis may not approve its fix. */
  readonly fourEyes: boolean;
  /** Distinct approvers who must press before any change (the two-person rule when 2). */
  readonly approvalsRequired: 1 | 2;
  /** Cluster for `/imagepull diagnose` when `--cluster` is not given. */
  readonly defaultCluster?: { readonly project: string; readonly location: string; readonly name: string };
  /** Period of the pull audit (docs/prevention.md); absent: no periodic audit. */
  readonly auditIntervalMs?: number;
  /**
   * What the periodic audit, the re-audit after an IAM change and `/imagepull audit` cover: clusters, and every
   * cluster of some projects (AUDIT_CLUSTERS; by default DEFAULT_CLUSTER).
   */
  readonly auditScope: {
    readonly clusters: readonly { readonly project: string; readonly location: string; readonly name: string }[];
    readonly projects: readonly string[];
  };
  /** `projects/P/subscriptions/S`; alert intake is off without it. */
  readonly pubsubSubscription?: string;
  /**
   * `POST /pubsub/push` (push subscriptions; docs/alerts.md, "Push"), off without it: each request must carry the OIDC
   * token Pub/Sub signs for the subscription's push service account, with this audience.
   */
  readonly pubsubPush?: {
    readonly audience: string;
    readonly serviceAccount: string;
    /** Google's signing certificates (PEM by key id); a loopback URL in tests. */
    readonly certsUrl: string;
  };
  /** Pub/Sub flow control: messages processed at once (throughput vs memory under alert storms). */
  readonly pubsubMaxMessages: number;
  /** Pub/Sub flow control: bytes of message data held at once (bounds memory whatever the messages' size). */
  readonly pubsubMaxBytes: number;
  /** Streaming pulls opened at once: throughput vs the bytes held in transit (README, "Performance"). */
  readonly pubsubStreams: number;
  /** How often the subscription is checked for `/readyz`, and a closed stream reopened. */
  readonly pubsubHealthCheckMs: number;
  readonly fixMode: FixMode;
  /** Empty = any project / namespace. */
  readonly allowedProjects: readonly string[];
  readonly allowedNamespaces: readonly string[];
  readonly stateStore: StateStoreKind;
  /** Project holding Firestore state (defaults to the subscription's project). */
  readonly firestoreProject?: string;
  readonly logLevel: LogLevel;
  /** Test/staging seam: every Google API client but Pub/Sub and Firestore goes to this `host:port`, insecure. */
  readonly googleEndpoint?: string;
  readonly pubsubEmulatorHost?: string;
  readonly firestoreEmulatorHost?: string;
  readonly timing: {
    /** How long to wait for an IAM grant to reach the registry before giving up (typically 2–7 minutes: docs/incidents-and-fixes.md, "Fixes"). */
    readonly propagationTimeoutMs: number;
    /** How long to wait for restarted pods to run. */
    readonly rolloutTimeoutMs: number;
    /** How often to poll while waiting. */
    readonly pollIntervalMs: number;
    /** Fix plans expire after this. */
    readonly planTtlMs: number;
    /** Minimum spacing of `chat.update` calls per incident message. */
    readonly updateIntervalMs: number;
    /** Deadline for each fact read (GCP or Kubernetes). */
    readonly factTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  readonly code = 'ipb_config_invalid';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Every variable the bot reads, for `.env.example` and the README (names only, never values). */
export const CONFIG_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_API_URL',
  'SLACK_BOT_USER_ID',
  'SLACK_BOT_ID',
  'PORT',
  'HOST',
  'INCIDENT_CHANNEL',
  'OWNER_CHANNELS',
  'APPROVERS',
  'FOUR_EYES',
  'APPROVALS_REQUIRED',
  'DEFAULT_CLUSTER',
  'AUDIT_INTERVAL',
  'AUDIT_CLUSTERS',
  'PUBSUB_SUBSCRIPTION',
  'PUBSUB_MAX_MESSAGES',
  'PUBSUB_MAX_BYTES',
  'PUBSUB_STREAMS',
  'PUBSUB_HEALTH_CHECK_SECONDS',
  'PUBSUB_PUSH_AUDIENCE',
  'PUBSUB_PUSH_SERVICE_ACCOUNT',
  'PUBSUB_PUSH_CERTS_URL',
  'FIX_MODE',
  'ALLOWED_PROJECTS',
  'ALLOWED_NAMESPACES',
  'STATE_STORE',
  'FIRESTORE_PROJECT',
  'LOG_LEVEL',
  'IMAGEPULL_GOOGLE_ENDPOINT',
  'PUBSUB_EMULATOR_HOST',
  'FIRESTORE_EMULATOR_HOST',
  'PROPAGATION_TIMEOUT_SECONDS',
  'ROLLOUT_TIMEOUT_SECONDS',
  'POLL_INTERVAL_SECONDS',
  'PLAN_TTL_MINUTES',
  'UPDATE_INTERVAL_SECONDS',
  'FACT_TIMEOUT_SECONDS',
] as const;

/** Parses the environment into a frozen Config, or throws one ConfigError listing every problem. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const list = (name: string): string[] =>
    (str(name) ?? '')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const v = str(name);
    if (v === undefined) return fallback;
    if ((values as readonly string[]).includes(v)) return v as T;
    problems.push(`${name} must be one of ${values.join(', ')} (got "${v}")`);
    return fallback;
  };
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`${name} must be a number between ${min} and ${max} (got "${v}")`);
      return fallback;
    }
    return n;
  };

  const botToken = str('SLACK_BOT_TOKEN');
  const appToken = str('SLACK_APP_TOKEN');
  const signingSecret = str('SLACK_SIGNING_SECRET');
  if (!botToken) problems.push('SLACK_BOT_TOKEN is required (xoxb-…)');
  else if (!botToken.startsWith('xoxb-')) problems.push('SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
  if (appToken && !appToken.startsWith('xapp-')) problems.push('SLACK_APP_TOKEN must be an app-level token (xapp-…)');
  if (!appToken && !signingSecret) {
    problems.push('set SLACK_APP_TOKEN (Socket Mode, the default) or SLACK_SIGNING_SECRET and PORT (HTTP mode)');
  }
  const mode: SlackMode = appToken ? 'socket' : 'http';
  const port = number('PORT', mode === 'http' ? 3000 : 8080, 0, 65535);

  const apiUrl = str('SLACK_API_URL') ?? 'https://slack.com/api/';
  if (!/^https?:\/\//.test(apiUrl)) problems.push(`SLACK_API_URL must be an http(s) URL (got "${apiUrl}")`);

  const incidentChannel = str('INCIDENT_CHANNEL');
  if (!incidentChannel) problems.push('INCIDENT_CHANNEL is required (a channel id like C0123456789)');

  const ownerChannels: Record<string, string> = {};
  for (const pair of list('OWNER_CHANNELS')) {
    const [namespace = '', channel = '', extra] = pair.split('=');
    if (
      extra !== undefined ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) ||
      !/^[CG][A-Z0-9]{2,}$/.test(channel)
    )
      problems.push(`OWNER_CHANNELS: "${pair}" is not NAMESPACE=CHANNEL_ID (e.g. prod=C0123456789)`);
    else if (ownerChannels[namespace] !== undefined && ownerChannels[namespace] !== channel)
      problems.push(`OWNER_CHANNELS: namespace "${namespace}" is given two channels`);
    else ownerChannels[namespace] = channel;
  }

  const approvers = list('APPROVERS');
  for (const a of approvers) {
    if (!/^[UWS][A-Z0-9]{2,}$/.test(a))
      problems.push(`APPROVERS: "${a}" is not a Slack user (U…/W…) or user-group (S…) id`);
  }
  const fixMode = oneOf<FixMode>('FIX_MODE', ['off', 'dry-run', 'approve'], 'dry-run');
  if (fixMode === 'approve' && approvers.length === 0) {
    problems.push('FIX_MODE=approve needs APPROVERS (Slack user or user-group ids)');
  }
  const fourEyes = oneOf('FOUR_EYES', ['true', 'false'], 'false') === 'true';
  const approvalsRequired = oneOf('APPROVALS_REQUIRED', ['1', '2'], '1') === '2' ? 2 : 1;
  if (
    approvalsRequired === 2 &&
    fixMode === 'approve' &&
    approvers.length < 2 &&
    !approvers.some((a) => a.startsWith('S'))
  ) {
    problems.push('APPROVALS_REQUIRED=2 needs at least two APPROVERS (or a user group)');
  }

  const defaultClusterText = str('DEFAULT_CLUSTER');
  const dc = defaultClusterText?.split('/');
  if (dc && (dc.length !== 3 || dc.some((p) => p === ''))) {
    problems.push(`DEFAULT_CLUSTER must be PROJECT/LOCATION/CLUSTER (got "${defaultClusterText}")`);
  }
  const defaultCluster =
    dc?.length === 3 ? { project: dc[0] as string, location: dc[1] as string, name: dc[2] as string } : undefined;
  const auditIntervalText = str('AUDIT_INTERVAL');
  let auditIntervalMs: number | undefined;
  if (auditIntervalText && !['off', '0'].includes(auditIntervalText)) {
    const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(auditIntervalText);
    const ms = m
      ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
      : 0;
    if (!m || ms < 1000 || ms > 30 * 86_400_000) {
      problems.push(`AUDIT_INTERVAL must be a duration like 30m, 6h or 1d, or off (got "${auditIntervalText}")`);
    } else auditIntervalMs = ms;
  }
  const auditClusters: { project: string; location: string; name: string }[] = [];
  const auditProjects: string[] = [];
  for (const entry of list('AUDIT_CLUSTERS')) {
    const parts = entry.split('/');
    if (parts.length === 3 && parts.every((p) => p !== '')) {
      auditClusters.push({ project: parts[0] as string, location: parts[1] as string, name: parts[2] as string });
    } else if (parts.length === 1 && /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(entry)) auditProjects.push(entry);
    else problems.push(`AUDIT_CLUSTERS: "${entry}" is neither PROJECT/LOCATION/CLUSTER nor a project id`);
  }
  if (auditClusters.length === 0 && auditProjects.length === 0 && defaultCluster) auditClusters.push(defaultCluster);
  const pubsubSubscription = str('PUBSUB_SUBSCRIPTION');
  if (pubsubSubscription && !/^projects\/[^/]+\/subscriptions\/[^/]+$/.test(pubsubSubscription)) {
    problems.push(
      `PUBSUB_SUBSCRIPTION must be a full name projects/PROJECT/subscriptions/NAME (got "${pubsubSubscription}")`,
    );
  }
  const pubsubMaxMessages = number('PUBSUB_MAX_MESSAGES', 2000, 1, 100_000);
  const pubsubMaxBytes = number('PUBSUB_MAX_BYTES', 16 * 1024 * 1024, 1024 * 1024, 1024 * 1024 * 1024);
  const pubsubStreams = number('PUBSUB_STREAMS', 4, 1, 10);
  const pubsubHealthCheckMs = number('PUBSUB_HEALTH_CHECK_SECONDS', 10, 0.1, 3600) * 1000;
  // The shared URL token push intake once took ended up in load-balancer access logs; it is refused, not ignored, so
  // an upgrade cannot silently turn push intake off.
  if (str('PUBSUB_PUSH_TOKEN') !== undefined) {
    problems.push(
      'PUBSUB_PUSH_TOKEN is no longer read: push requests are authenticated with the OIDC token Pub/Sub signs; set PUBSUB_PUSH_AUDIENCE and PUBSUB_PUSH_SERVICE_ACCOUNT instead and remove it (docs/alerts.md, "Push")',
    );
  }
  const pushAudience = str('PUBSUB_PUSH_AUDIENCE');
  const pushServiceAccount = str('PUBSUB_PUSH_SERVICE_ACCOUNT');
  const pushCertsUrl = str('PUBSUB_PUSH_CERTS_URL') ?? 'https://www.googleapis.com/oauth2/v1/certs';
  if ((pushAudience === undefined) !== (pushServiceAccount === undefined)) {
    problems.push(
      `push intake needs both PUBSUB_PUSH_AUDIENCE (the subscription's --push-auth-token-audience) and PUBSUB_PUSH_SERVICE_ACCOUNT (its --push-auth-service-account); ${pushAudience === undefined ? 'PUBSUB_PUSH_AUDIENCE' : 'PUBSUB_PUSH_SERVICE_ACCOUNT'} is missing`,
    );
  }
  if (pushServiceAccount !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(pushServiceAccount)) {
    problems.push(
      `PUBSUB_PUSH_SERVICE_ACCOUNT must be a service account email like push@PROJECT.iam.gserviceaccount.com (got "${pushServiceAccount}")`,
    );
  }
  if (!secureOrLoopback(pushCertsUrl)) {
    problems.push(`PUBSUB_PUSH_CERTS_URL must be an https URL, or http on a loopback address (got "${pushCertsUrl}")`);
  }
  const allowedProjects = list('ALLOWED_PROJECTS');
  const allowedNamespaces = list('ALLOWED_NAMESPACES');
  const stateStore = oneOf<StateStoreKind>('STATE_STORE', ['memory', 'firestore'], 'memory');
  const firestoreProject = str('FIRESTORE_PROJECT') ?? pubsubSubscription?.split('/')[1];
  if (stateStore === 'firestore' && !firestoreProject) {
    problems.push('STATE_STORE=firestore needs FIRESTORE_PROJECT (or a PUBSUB_SUBSCRIPTION to take the project from)');
  }
  const logLevel = oneOf<LogLevel>('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info');
  const googleEndpoint = str('IMAGEPULL_GOOGLE_ENDPOINT');
  if (googleEndpoint && !/^[\w.-]+:\d+$/.test(googleEndpoint)) {
    problems.push(`IMAGEPULL_GOOGLE_ENDPOINT must be host:port (got "${googleEndpoint}")`);
  }

  const timing = {
    propagationTimeoutMs: number('PROPAGATION_TIMEOUT_SECONDS', 900, 0, 86_400) * 1000,
    rolloutTimeoutMs: number('ROLLOUT_TIMEOUT_SECONDS', 600, 0, 86_400) * 1000,
    pollIntervalMs: number('POLL_INTERVAL_SECONDS', 10, 0.01, 3600) * 1000,
    planTtlMs: number('PLAN_TTL_MINUTES', 24 * 60, 1, 7 * 24 * 60) * 60_000,
    updateIntervalMs: number('UPDATE_INTERVAL_SECONDS', 3, 0, 3600) * 1000,
    factTimeoutMs: number('FACT_TIMEOUT_SECONDS', 10, 0.05, 600) * 1000,
  };

  if (problems.length > 0) throw new ConfigError(problems);
  const botUserId = str('SLACK_BOT_USER_ID');
  const botId = str('SLACK_BOT_ID');
  const pubsubEmulatorHost = str('PUBSUB_EMULATOR_HOST');
  const firestoreEmulatorHost = str('FIRESTORE_EMULATOR_HOST');
  return deepFreeze({
    slack: {
      mode,
      botToken: botToken as string,
      ...(appToken ? { appToken } : {}),
      ...(signingSecret ? { signingSecret } : {}),
      apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
      ...(botUserId ? { botUserId } : {}),
      ...(botId ? { botId } : {}),
    },
    port,
    host: str('HOST') ?? '0.0.0.0',
    incidentChannel: incidentChannel as string,
    ownerChannels,
    approvers,
    fourEyes,
    approvalsRequired,
    ...(defaultCluster ? { defaultCluster } : {}),
    ...(auditIntervalMs !== undefined ? { auditIntervalMs } : {}),
    auditScope: { clusters: auditClusters, projects: auditProjects },
    ...(pubsubSubscription ? { pubsubSubscription } : {}),
    pubsubMaxMessages,
    pubsubMaxBytes,
    pubsubStreams,
    pubsubHealthCheckMs,
    ...(pushAudience && pushServiceAccount
      ? { pubsubPush: { audience: pushAudience, serviceAccount: pushServiceAccount, certsUrl: pushCertsUrl } }
      : {}),
    fixMode,
    allowedProjects,
    allowedNamespaces,
    stateStore,
    ...(firestoreProject ? { firestoreProject } : {}),
    logLevel,
    ...(googleEndpoint ? { googleEndpoint } : {}),
    ...(pubsubEmulatorHost ? { pubsubEmulatorHost } : {}),
    ...(firestoreEmulatorHost ? { firestoreEmulatorHost } : {}),
    timing,
  });
}

/** The certificates that decide which push tokens are genuine are fetched over TLS, or from this machine (tests). */
function secureOrLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    return (
      u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    );
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
