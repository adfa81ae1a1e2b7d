import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ALERT_POLICY,
  BATCH_ENABLE,
  CREATE_ROLE,
  CREATE_SERVICE_ACCOUNT,
  ENABLE_SERVICE,
  FIRESTORE_DATABASE,
  FIRESTORE_FIELD,
  GET_IAM_POLICY,
  LOG_SINK,
  NOTIFICATION_CHANNEL,
  ROLE,
  SET_IAM_POLICY,
  type Shape,
  shapeErrors,
  UNDELETE_ROLE,
} from './rest-shapes.ts';

/** One request gcloud sent, and how the recorder answered it. */
export interface RecordedRequest {
  /** `iam`, `logging`, `monitoring`, `cloudresourcemanager`, `serviceusage`, `firestore`, `pubsub`. */
  readonly api: string;
  readonly method: string;
  /** The path as the real API sees it (`/v1/projects/p/roles/r`), without the recorder's `/api` prefix. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly status: number;
  /** The REST method it matched (`iam.projects.roles.create`), or `unmatched`. */
  readonly rest: string;
  /** Whether that method changes anything (create, set, update, enable, undelete). */
  readonly mutates: boolean;
  /** Whether gcloud sent an `Authorization` header (it must not: credentials are disabled). */
  readonly authorized: boolean;
}

interface Policy {
  version?: number;
  etag: string;
  bindings: { role: string; members: string[]; condition?: unknown }[];
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

interface Ctx {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
}

interface Route {
  readonly api: string;
  readonly method: string;
  readonly path: RegExp;
  /** The REST method's name as in the API reference. */
  readonly rest: string;
  readonly mutates?: boolean;
  /** Query parameters the method takes (besides gcloud's `alt`). */
  readonly query?: readonly string[];
  /** The request body's shape; none means the method takes no body. */
  readonly body?: Shape;
  handle(ctx: Ctx): Reply | Promise<Reply>;
}

/** What the recorder serves: the projects that exist, with their numbers. */
export interface RecorderOptions {
  readonly projects: Readonly<Record<string, string>>;
  /** The Pub/Sub emulator (`127.0.0.1:PORT`): topics and subscriptions go there; their IAM policies stay here. */
  readonly pubsubEmulator: string;
}

/** A running recorder; always `stop()` it. */
export interface GoogleRestRecorder {
  /** `api_endpoint_overrides/API` values: `http://127.0.0.1:PORT/API/`. */
  readonly overrides: Readonly<Record<string, string>>;
  readonly requests: readonly RecordedRequest[];
  /** Requests that did not match the REST API (unknown method or path, unknown field, bad query): must stay empty. */
  readonly violations: readonly string[];
  /** The current allow policy of a resource (`projects/p`, `projects/p/topics/t`, a service account email). */
  policy(resource: string): Policy | undefined;
  /** Current state, for assertions. */
  readonly state: {
    readonly roles: ReadonlyMap<string, { includedPermissions: string[]; deleted?: boolean; title?: string }>;
    readonly serviceAccounts: ReadonlyMap<string, { email: string; displayName?: string }>;
    readonly sinks: ReadonlyMap<string, { destination: string; filter?: string; writerIdentity: string }>;
    readonly channels: ReadonlyMap<string, { type: string; labels?: Record<string, string> }>;
    readonly alertPolicies: ReadonlyMap<string, Record<string, unknown>>;
    readonly enabledServices: ReadonlyMap<string, Set<string>>;
    readonly databases: ReadonlyMap<string, { locationId?: string; type?: string }>;
    /** Firestore fields with a TTL policy. */
    readonly ttlFields: ReadonlySet<string>;
    /** Fields with an index exemption that disables every index. */
    readonly unindexedFields: ReadonlySet<string>;
  };
  /** Forgets the request log (state stays). */
  clearLog(): void;
  stop(): Promise<void>;
}

const APIS = ['cloudresourcemanager', 'iam', 'logging', 'monitoring', 'serviceusage', 'firestore', 'pubsub'];

function googleError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code: status, message, status: code } } };
}

/**
 * The subset of the Monitoring filter language gcloud sends for `channels list --filter`: `field="value"` terms
 * joined by AND (dotted fields reach into maps, e.g. `labels.topic`).
 */
function matchesFilter(filter: string | undefined, obj: Record<string, unknown>): boolean {
  if (!filter) return true;
  return filter.split(/\s+AND\s+/).every((term) => {
    const m = /^([\w.]+)\s*=\s*"([^"]*)"$/.exec(term.trim());
    if (!m?.[1]) return true;
    const value = m[1].split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
    return value === m[2];
  });
}

function etag(): string {
  return randomBytes(8).toString('base64');
}

/**
 * A local stand-in for the Google REST APIs setup.sh calls through gcloud: Resource Manager, IAM, Logging,
 * Monitoring, Service Usage and the Firestore admin API, answered from in-memory state the way the real APIs
 * answer (a get is 404 until a create, then the object; set-IAM checks the etag; a create of what exists is 409),
 * and Pub/Sub forwarded to the real emulator except the topic and subscription IAM methods, which the emulator
 * does not implement (501). Every request is checked against the API reference (method, path, query parameters,
 * body fields) and logged; anything that does not match is a violation and gets the real API's 400/404.
 */
export async function startGoogleRestRecorder(options: RecorderOptions): Promise<GoogleRestRecorder> {
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const policies = new Map<string, Policy>();
  const roles = new Map<string, { includedPermissions: string[]; deleted?: boolean; title?: string; etag: string }>();
  const serviceAccounts = new Map<string, { email: string; displayName?: string; projectId: string }>();
  const sinks = new Map<string, { destination: string; filter?: string; writerIdentity: string }>();
  const channels = new Map<string, { type: string; labels?: Record<string, string> }>();
  const alertPolicies = new Map<string, Record<string, unknown>>();
  const enabledServices = new Map<string, Set<string>>();
  const databases = new Map<string, { locationId?: string; type?: string }>();
  /** Fields (`projects/p/databases/d/collectionGroups/c/fields/f`) with a TTL policy. */
  const ttlFields = new Set<string>();
  const unindexedFields = new Set<string>();
  let counter = 1000;

  const projectOr404 = (p: string): Reply | undefined =>
    options.projects[p] === undefined
      ? googleError(403, 'PERMISSION_DENIED', `Permission denied on resource project ${p}.`)
      : undefined;
  const policyOf = (resource: string): Policy => {
    let p = policies.get(resource);
    if (!p) {
      p = { version: 1, etag: etag(), bindings: [] };
      policies.set(resource, p);
    }
    return p;
  };
  const getPolicy = (resource: string): Reply => ({ status: 200, body: policyOf(resource) });
  const setPolicy = (resource: string, body: unknown): Reply => {
    const current = policyOf(resource);
    const next = (body as { policy: Policy }).policy;
    // Etags are bytes: gcloud may send them back URL-safe base64-encoded.
    const bytes = (e: string) => Buffer.from(e.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');
    if (next.etag !== undefined && bytes(next.etag) !== bytes(current.etag)) {
      return googleError(
        409,
        'ABORTED',
        'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
      );
    }
    const written: Policy = { version: next.version ?? 1, etag: etag(), bindings: next.bindings ?? [] };
    policies.set(resource, written);
    return { status: 200, body: written };
  };
  const emulator = async (method: string, path: string, body: string): Promise<Reply> => {
    const res = await fetch(`http://${options.pubsubEmulator}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'GET' || method === 'DELETE' ? {} : { body }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : JSON.parse(text) };
  };
  const pubsubIam = (kind: 'topics' | 'subscriptions', op: 'get' | 'set'): Route => ({
    api: 'pubsub',
    // Pub/Sub's getIamPolicy is a GET with the options as a query parameter (pubsub v1 REST reference).
    method: op === 'get' ? 'GET' : 'POST',
    path: new RegExp(`^/v1/projects/(?<p>[^/]+)/${kind}/(?<id>[^/:]+):${op}IamPolicy$`),
    rest: `pubsub.projects.${kind}.${op}IamPolicy`,
    mutates: op === 'set',
    ...(op === 'get' ? { query: ['options.requestedPolicyVersion'] } : { body: SET_IAM_POLICY }),
    async handle({ params, body }) {
      const resource = `projects/${params.p}/${kind}/${params.id}`;
      const exists = await emulator('GET', `/v1/${resource}`, '');
      if (exists.status !== 200) return exists;
      return op === 'get' ? getPolicy(resource) : setPolicy(resource, body);
    },
  });
  /** A finished long-running operation; `under` is the resource its name lives under (Firestore's database). */
  const operation = (response: unknown, type: string, under?: string): Reply => ({
    status: 200,
    body: {
      name: `${under ? `${under}/` : ''}operations/op-${counter++}`,
      done: true,
      response: { '@type': type, ...(response as object) },
    },
  });

  const routes: Route[] = [
    // Resource Manager v1 (gcloud projects …).
    {
      api: 'cloudresourcemanager',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/:]+)$/,
      rest: 'cloudresourcemanager.projects.get',
      handle: ({ params }) =>
        projectOr404(params.p as string) ?? {
          status: 200,
          body: {
            projectNumber: options.projects[params.p as string],
            projectId: params.p,
            name: params.p,
            lifecycleState: 'ACTIVE',
          },
        },
    },
    {
      api: 'cloudresourcemanager',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+):getIamPolicy$/,
      rest: 'cloudresourcemanager.projects.getIamPolicy',
      body: GET_IAM_POLICY,
      handle: ({ params }) => projectOr404(params.p as string) ?? getPolicy(`projects/${params.p}`),
    },
    {
      api: 'cloudresourcemanager',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+):setIamPolicy$/,
      rest: 'cloudresourcemanager.projects.setIamPolicy',
      mutates: true,
      body: SET_IAM_POLICY,
      handle: ({ params, body }) => projectOr404(params.p as string) ?? setPolicy(`projects/${params.p}`, body),
    },
    // IAM v1: service accounts and custom roles.
    {
      api: 'iam',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/serviceAccounts\/(?<sa>[^/:]+)$/,
      rest: 'iam.projects.serviceAccounts.get',
      handle: ({ params }) => {
        const sa = serviceAccounts.get(params.sa as string);
        if (!sa) return googleError(404, 'NOT_FOUND', `Unknown service account`);
        return {
          status: 200,
          body: { name: `projects/${sa.projectId}/serviceAccounts/${sa.email}`, ...sa, etag: 'MDEwMjE5MjA=' },
        };
      },
    },
    {
      api: 'iam',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/serviceAccounts$/,
      rest: 'iam.projects.serviceAccounts.create',
      mutates: true,
      body: CREATE_SERVICE_ACCOUNT,
      handle: ({ params, body }) => {
        const b = body as { accountId: string; serviceAccount?: { displayName?: string } };
        if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(b.accountId)) {
          return googleError(400, 'INVALID_ARGUMENT', 'Invalid account ID (must match [a-z][a-z0-9-]{4,28}[a-z0-9]).');
        }
        const email = `${b.accountId}@${params.p}.iam.gserviceaccount.com`;
        if (serviceAccounts.has(email)) {
          return googleError(
            409,
            'ALREADY_EXISTS',
            `Service account ${b.accountId} already exists within project projects/${params.p}.`,
          );
        }
        const sa = {
          email,
          projectId: params.p as string,
          ...(b.serviceAccount?.displayName ? { displayName: b.serviceAccount.displayName } : {}),
        };
        serviceAccounts.set(email, sa);
        return {
          status: 200,
          body: {
            name: `projects/${params.p}/serviceAccounts/${email}`,
            ...sa,
            uniqueId: String(++counter),
            etag: 'MDEwMjE5MjA=',
          },
        };
      },
    },
    {
      api: 'iam',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/serviceAccounts\/(?<sa>[^/:]+):getIamPolicy$/,
      rest: 'iam.projects.serviceAccounts.getIamPolicy',
      query: ['options.requestedPolicyVersion'],
      handle: ({ params }) =>
        serviceAccounts.has(params.sa as string)
          ? getPolicy(params.sa as string)
          : googleError(404, 'NOT_FOUND', `Unknown service account`),
    },
    {
      api: 'iam',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/serviceAccounts\/(?<sa>[^/:]+):setIamPolicy$/,
      rest: 'iam.projects.serviceAccounts.setIamPolicy',
      mutates: true,
      body: SET_IAM_POLICY,
      handle: ({ params, body }) =>
        serviceAccounts.has(params.sa as string)
          ? setPolicy(params.sa as string, body)
          : googleError(404, 'NOT_FOUND', `Unknown service account`),
    },
    {
      api: 'iam',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/roles\/(?<r>[^/:]+)$/,
      rest: 'iam.projects.roles.get',
      handle: ({ params }) => {
        const name = `projects/${params.p}/roles/${params.r}`;
        const r = roles.get(name);
        if (!r) return googleError(404, 'NOT_FOUND', `The role named ${name} was not found.`);
        return { status: 200, body: { name, stage: 'GA', ...r } };
      },
    },
    {
      api: 'iam',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/roles$/,
      rest: 'iam.projects.roles.create',
      mutates: true,
      body: CREATE_ROLE,
      handle: ({ params, body }) => {
        const b = body as { roleId: string; role: { includedPermissions?: string[]; title?: string } };
        const name = `projects/${params.p}/roles/${b.roleId}`;
        if (!/^[a-zA-Z0-9_.]{3,64}$/.test(b.roleId)) return googleError(400, 'INVALID_ARGUMENT', 'Invalid role id.');
        if (roles.has(name)) {
          return googleError(409, 'ALREADY_EXISTS', `A role named ${b.roleId} in projects/${params.p} already exists.`);
        }
        const role = {
          includedPermissions: [...(b.role.includedPermissions ?? [])],
          etag: etag(),
          ...(b.role.title ? { title: b.role.title } : {}),
        };
        roles.set(name, role);
        return { status: 200, body: { name, stage: 'GA', ...role } };
      },
    },
    {
      api: 'iam',
      method: 'PATCH',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/roles\/(?<r>[^/:]+)$/,
      rest: 'iam.projects.roles.patch',
      mutates: true,
      query: ['updateMask'],
      body: ROLE,
      handle: ({ params, body, query }) => {
        const name = `projects/${params.p}/roles/${params.r}`;
        const r = roles.get(name);
        if (!r) return googleError(404, 'NOT_FOUND', `The role named ${name} was not found.`);
        const b = body as { includedPermissions?: string[]; etag?: string; title?: string };
        const bytes = (e: string) => Buffer.from(e.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');
        if (b.etag !== undefined && bytes(b.etag) !== bytes(r.etag))
          return googleError(409, 'ABORTED', 'The role was changed concurrently.');
        // No mask (what `gcloud iam roles update --file` sends) replaces every writable field.
        const mask = query.updateMask ? query.updateMask.split(',') : ['includedPermissions', 'title'];
        if (mask.includes('includedPermissions') || mask.includes('included_permissions')) {
          r.includedPermissions = [...(b.includedPermissions ?? [])];
        }
        if (mask.includes('title') && b.title) r.title = b.title;
        r.etag = etag();
        return { status: 200, body: { name, stage: 'GA', ...r } };
      },
    },
    {
      api: 'iam',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/roles\/(?<r>[^/:]+):undelete$/,
      rest: 'iam.projects.roles.undelete',
      mutates: true,
      body: UNDELETE_ROLE,
      handle: ({ params }) => {
        const name = `projects/${params.p}/roles/${params.r}`;
        const r = roles.get(name);
        if (!r) return googleError(404, 'NOT_FOUND', `The role named ${name} was not found.`);
        delete r.deleted;
        r.etag = etag();
        return { status: 200, body: { name, stage: 'GA', ...r } };
      },
    },
    // Logging v2: sinks.
    {
      api: 'logging',
      method: 'GET',
      path: /^\/v2\/projects\/(?<p>[^/]+)\/sinks\/(?<s>[^/:]+)$/,
      rest: 'logging.projects.sinks.get',
      handle: ({ params }) => {
        const name = `projects/${params.p}/sinks/${params.s}`;
        const s = sinks.get(name);
        return s
          ? { status: 200, body: { name: params.s, ...s } }
          : googleError(404, 'NOT_FOUND', `Sink ${params.s} does not exist`);
      },
    },
    {
      api: 'logging',
      method: 'POST',
      path: /^\/v2\/projects\/(?<p>[^/:]+)\/sinks$/,
      rest: 'logging.projects.sinks.create',
      mutates: true,
      query: ['uniqueWriterIdentity', 'customWriterIdentity'],
      body: LOG_SINK,
      handle: ({ params, body }) => {
        const b = body as { name: string; destination: string; filter?: string };
        const name = `projects/${params.p}/sinks/${b.name}`;
        if (sinks.has(name)) return googleError(409, 'ALREADY_EXISTS', `Sink ${b.name} already exists`);
        if (!/^pubsub\.googleapis\.com\/projects\/[^/]+\/topics\/[^/]+$/.test(b.destination)) {
          return googleError(400, 'INVALID_ARGUMENT', `Invalid destination ${b.destination}`);
        }
        const sink = {
          destination: b.destination,
          ...(b.filter !== undefined ? { filter: b.filter } : {}),
          writerIdentity: `serviceAccount:service-${options.projects[params.p as string]}@gcp-sa-logging.iam.gserviceaccount.com`,
        };
        sinks.set(name, sink);
        return { status: 200, body: { name: b.name, ...sink } };
      },
    },
    ...(['PUT', 'PATCH'] as const).map(
      (method): Route => ({
        api: 'logging',
        method,
        path: /^\/v2\/projects\/(?<p>[^/]+)\/sinks\/(?<s>[^/:]+)$/,
        rest: `logging.projects.sinks.${method === 'PUT' ? 'update' : 'patch'}`,
        mutates: true,
        query: ['uniqueWriterIdentity', 'updateMask', 'customWriterIdentity'],
        body: LOG_SINK,
        handle: ({ params, body }) => {
          const name = `projects/${params.p}/sinks/${params.s}`;
          const s = sinks.get(name);
          if (!s) return googleError(404, 'NOT_FOUND', `Sink ${params.s} does not exist`);
          const b = body as { destination: string; filter?: string };
          s.destination = b.destination;
          if (b.filter !== undefined) s.filter = b.filter;
          return { status: 200, body: { name: params.s, ...s } };
        },
      }),
    ),
    // Monitoring v3: notification channels and alert policies.
    {
      api: 'monitoring',
      method: 'GET',
      path: /^\/v3\/projects\/(?<p>[^/:]+)\/notificationChannels$/,
      rest: 'monitoring.projects.notificationChannels.list',
      query: ['filter', 'orderBy', 'pageSize', 'pageToken'],
      handle: ({ params, query }) => ({
        status: 200,
        body: {
          notificationChannels: [...channels.entries()]
            .filter(([name]) => name.startsWith(`projects/${params.p}/`))
            .filter(([, c]) => matchesFilter(query.filter, c as unknown as Record<string, unknown>))
            .map(([name, c]) => ({ name, ...c, enabled: true })),
        },
      }),
    },
    {
      api: 'monitoring',
      method: 'POST',
      path: /^\/v3\/projects\/(?<p>[^/:]+)\/notificationChannels$/,
      rest: 'monitoring.projects.notificationChannels.create',
      mutates: true,
      body: NOTIFICATION_CHANNEL,
      handle: ({ params, body }) => {
        const b = body as { type: string; labels?: Record<string, string>; displayName?: string };
        if (b.type === 'pubsub' && !/^projects\/[^/]+\/topics\/[^/]+$/.test(b.labels?.topic ?? '')) {
          return googleError(400, 'INVALID_ARGUMENT', 'A pubsub channel needs the label topic=projects/P/topics/T.');
        }
        const name = `projects/${params.p}/notificationChannels/${++counter}`;
        channels.set(name, { type: b.type, ...(b.labels ? { labels: b.labels } : {}) });
        return { status: 200, body: { name, ...b, enabled: true } };
      },
    },
    {
      api: 'monitoring',
      method: 'GET',
      path: /^\/v3\/projects\/(?<p>[^/:]+)\/alertPolicies$/,
      rest: 'monitoring.projects.alertPolicies.list',
      query: ['filter', 'orderBy', 'pageSize', 'pageToken'],
      handle: ({ params }) => ({
        status: 200,
        body: {
          alertPolicies: [...alertPolicies.entries()]
            .filter(([name]) => name.startsWith(`projects/${params.p}/`))
            .map(([name, p]) => ({ ...p, name })),
        },
      }),
    },
    {
      api: 'monitoring',
      method: 'POST',
      path: /^\/v3\/projects\/(?<p>[^/:]+)\/alertPolicies$/,
      rest: 'monitoring.projects.alertPolicies.create',
      mutates: true,
      body: ALERT_POLICY,
      handle: ({ params, body }) => {
        const b = body as {
          conditions?: { conditionMatchedLog?: unknown }[];
          alertStrategy?: { notificationRateLimit?: { period?: string } };
          notificationChannels?: string[];
        };
        // Log-match conditions are only accepted with a notification rate limit (AlertStrategy reference).
        if (b.conditions?.some((c) => c.conditionMatchedLog) && !b.alertStrategy?.notificationRateLimit?.period) {
          return googleError(
            400,
            'INVALID_ARGUMENT',
            'Policies with log-match conditions need alertStrategy.notificationRateLimit.',
          );
        }
        for (const c of b.notificationChannels ?? []) {
          if (!channels.has(c)) return googleError(404, 'NOT_FOUND', `Notification channel ${c} does not exist.`);
        }
        const name = `projects/${params.p}/alertPolicies/${++counter}`;
        alertPolicies.set(name, body as Record<string, unknown>);
        return { status: 200, body: { ...(body as object), name } };
      },
    },
    // Service Usage v1.
    {
      api: 'serviceusage',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/services$/,
      rest: 'serviceusage.services.list',
      query: ['filter', 'pageSize', 'pageToken'],
      handle: ({ params, query }) => {
        const deny = projectOr404(params.p as string);
        if (deny) return deny;
        const number = options.projects[params.p as string];
        const on =
          query.filter === 'state:ENABLED' || query.filter === undefined
            ? (enabledServices.get(params.p as string) ?? new Set())
            : new Set<string>();
        return {
          status: 200,
          body: {
            services: [...on].map((s) => ({
              name: `projects/${number}/services/${s}`,
              config: { name: s },
              state: 'ENABLED',
              parent: `projects/${number}`,
            })),
          },
        };
      },
    },
    {
      api: 'serviceusage',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/services:batchEnable$/,
      rest: 'serviceusage.services.batchEnable',
      mutates: true,
      body: BATCH_ENABLE,
      handle: ({ params, body }) => {
        const set = enabledServices.get(params.p as string) ?? new Set<string>();
        for (const s of (body as { serviceIds: string[] }).serviceIds) set.add(s);
        enabledServices.set(params.p as string, set);
        return operation(
          { services: [] },
          'type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse',
        );
      },
    },
    {
      api: 'serviceusage',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/services\/(?<s>[^/:]+):enable$/,
      rest: 'serviceusage.services.enable',
      mutates: true,
      body: ENABLE_SERVICE,
      handle: ({ params }) => {
        const set = enabledServices.get(params.p as string) ?? new Set<string>();
        set.add(params.s as string);
        enabledServices.set(params.p as string, set);
        return operation({}, 'type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse');
      },
    },
    // Firestore admin v1: databases.
    {
      api: 'firestore',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/databases\/(?<d>[^/:]+)$/,
      rest: 'firestore.projects.databases.get',
      handle: ({ params }) => {
        const name = `projects/${params.p}/databases/${params.d}`;
        const db = databases.get(name);
        return db
          ? { status: 200, body: { name, ...db } }
          : googleError(404, 'NOT_FOUND', `Project '${params.p}' or database '${params.d}' does not exist.`);
      },
    },
    {
      api: 'firestore',
      method: 'POST',
      path: /^\/v1\/projects\/(?<p>[^/:]+)\/databases$/,
      rest: 'firestore.projects.databases.create',
      mutates: true,
      query: ['databaseId'],
      body: FIRESTORE_DATABASE,
      handle: ({ params, query, body }) => {
        if (!query.databaseId) return googleError(400, 'INVALID_ARGUMENT', 'database_id is required.');
        const name = `projects/${params.p}/databases/${query.databaseId}`;
        if (databases.has(name)) return googleError(409, 'ALREADY_EXISTS', `Database already exists.`);
        const b = body as { locationId?: string; type?: string };
        if (!b.locationId) return googleError(400, 'INVALID_ARGUMENT', 'location_id is required.');
        databases.set(name, { locationId: b.locationId, ...(b.type ? { type: b.type } : {}) });
        return operation({ name, ...b }, 'type.googleapis.com/google.firestore.admin.v1.Database');
      },
    },
    // Firestore admin v1: a collection group's field and its TTL policy.
    {
      api: 'firestore',
      method: 'GET',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/databases\/(?<d>[^/]+)\/collectionGroups\/(?<c>[^/]+)\/fields\/(?<f>[^/:]+)$/,
      rest: 'firestore.projects.databases.collectionGroups.fields.get',
      handle: ({ params }) => {
        const database = `projects/${params.p}/databases/${params.d}`;
        if (!databases.has(database)) return googleError(404, 'NOT_FOUND', `The database ${database} does not exist.`);
        const name = `${database}/collectionGroups/${params.c}/fields/${params.f}`;
        // Every field path exists, with the database's default indexes unless exempted; a TTL policy is optional.
        const indexConfig = unindexedFields.has(name)
          ? {}
          : {
              usesAncestorConfig: true,
              ancestorField: `${database}/collectionGroups/__default__/fields/*`,
              indexes: [
                { queryScope: 'COLLECTION', order: 'ASCENDING', state: 'READY' },
                { queryScope: 'COLLECTION', order: 'DESCENDING', state: 'READY' },
                { queryScope: 'COLLECTION', arrayConfig: 'CONTAINS', state: 'READY' },
              ],
            };
        return {
          status: 200,
          body: { name, indexConfig, ...(ttlFields.has(name) ? { ttlConfig: { state: 'ACTIVE' } } : {}) },
        };
      },
    },
    {
      api: 'firestore',
      method: 'PATCH',
      path: /^\/v1\/projects\/(?<p>[^/]+)\/databases\/(?<d>[^/]+)\/collectionGroups\/(?<c>[^/]+)\/fields\/(?<f>[^/:]+)$/,
      rest: 'firestore.projects.databases.collectionGroups.fields.patch',
      mutates: true,
      query: ['updateMask'],
      body: FIRESTORE_FIELD,
      handle: ({ params, query, body }) => {
        const database = `projects/${params.p}/databases/${params.d}`;
        if (!databases.has(database)) return googleError(404, 'NOT_FOUND', `The database ${database} does not exist.`);
        const name = `${database}/collectionGroups/${params.c}/fields/${params.f}`;
        const mask = (query.updateMask ?? '').split(',');
        const b = body as { ttlConfig?: unknown; indexConfig?: { indexes?: unknown[] } };
        if (!mask.includes('ttlConfig') && !mask.includes('indexConfig')) {
          return googleError(400, 'INVALID_ARGUMENT', 'only ttlConfig and indexConfig are updated here');
        }
        if (mask.includes('ttlConfig')) {
          if (b.ttlConfig) ttlFields.add(name);
          else ttlFields.delete(name);
        }
        if (mask.includes('indexConfig')) {
          // An indexConfig without indexes disables them all (an exemption); none at all clears the exemption.
          if (b.indexConfig && (b.indexConfig.indexes ?? []).length === 0) unindexedFields.add(name);
          else unindexedFields.delete(name);
        }
        return operation({ name }, 'type.googleapis.com/google.firestore.admin.v1.Field', database);
      },
    },
    pubsubIam('topics', 'get'),
    pubsubIam('topics', 'set'),
    pubsubIam('subscriptions', 'get'),
    pubsubIam('subscriptions', 'set'),
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, api = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (k !== 'alt') query[k] = v;
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const method = req.method ?? 'GET';
    const decoded = decodeURIComponent(path);
    const route = routes.find((r) => r.api === api && r.method === method && r.path.test(decoded));
    let reply: Reply;
    const problems: string[] = [];
    if (!route && api === 'pubsub') {
      // Topics and subscriptions themselves: the emulator is the authority.
      reply = await emulator(method, `${path}${url.search}`, text);
    } else if (!route) {
      problems.push('no such REST method');
      reply = googleError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
    } else {
      for (const k of Object.keys(query))
        if (!(route.query ?? []).includes(k)) problems.push(`unknown query parameter ${k}`);
      if (route.body) problems.push(...shapeErrors(body ?? {}, route.body));
      else if (text !== '' && text !== '{}') problems.push('this method takes no request body');
      if (problems.length > 0) {
        reply = googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${problems.join('; ')}`);
      } else {
        const params = (route.path.exec(decoded)?.groups ?? {}) as Record<string, string>;
        reply = await route.handle({ params, query, body });
      }
    }
    if (problems.length > 0) violations.push(`${method} /${api}${path}: ${problems.join('; ')}`);
    requests.push({
      api,
      method,
      path,
      query,
      body,
      status: reply.status,
      rest: route?.rest ?? (api === 'pubsub' ? `pubsub (emulator) ${method} ${path}` : 'unmatched'),
      mutates: route?.mutates ?? (api === 'pubsub' && method !== 'GET'),
      authorized: req.headers.authorization !== undefined,
    });
    const out = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(out),
    });
    res.end(out);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      violations.push(`recorder error: ${(e as Error).message}`);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: 'recorder error', status: 'INTERNAL' } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    overrides: Object.fromEntries(APIS.map((a) => [a, `http://127.0.0.1:${port}/${a}/`])),
    requests,
    violations,
    policy: (resource) => policies.get(resource),
    state: {
      roles,
      serviceAccounts,
      sinks,
      channels,
      alertPolicies,
      enabledServices,
      databases,
      ttlFields,
      unindexedFields,
    },
    clearLog() {
      requests.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
