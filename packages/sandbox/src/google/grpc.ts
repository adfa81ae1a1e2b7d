/**
 * gRPC plumbing shared by the Google fakes: service definitions loaded from the `protos.json` each client package
 * ships (engineering.md §2.2), typed errors with Google's real status messages, and the unary-handler wrapper that
 * records the call, adds latency and applies scripted failures.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { admit, type WireRuntime } from '../world/call-log.ts';

const require = createRequire(import.meta.url);

const LOADER_OPTIONS: protoLoader.Options = { longs: String, enums: String, defaults: true, oneofs: true };

type ServiceCtor = grpc.ServiceClientConstructor;

function loadJson(path: string): grpc.GrpcObject {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Parameters<typeof protoLoader.fromJSON>[0];
  return grpc.loadPackageDefinition(protoLoader.fromJSON(json, LOADER_OPTIONS));
}

function lookup(root: grpc.GrpcObject, path: string): ServiceCtor {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function' || !('service' in node)) throw new Error(`service ${path} not found in protos`);
  return node as ServiceCtor;
}

/** The service definitions the sandbox serves, from the client packages' own descriptors. */
export interface ServiceDefinitions {
  readonly artifactRegistry: grpc.ServiceDefinition;
  readonly clusterManager: grpc.ServiceDefinition;
  readonly projects: grpc.ServiceDefinition;
  readonly locations: grpc.ServiceDefinition;
}

let cached: ServiceDefinitions | undefined;

/** Loads (once) the service definitions from the installed client packages. */
export function serviceDefinitions(): ServiceDefinitions {
  if (cached) return cached;
  const ar = loadJson(require.resolve('@google-cloud/artifact-registry/build/protos/protos.json'));
  const container = loadJson(require.resolve('@google-cloud/container/build/protos/protos.json'));
  const rm = loadJson(require.resolve('@google-cloud/resource-manager/build/protos/protos.json'));
  // google.cloud.location.Locations is served from google-gax's descriptor (the AR client's LocationsClient mixin).
  const gaxMain = createRequire(require.resolve('@google-cloud/artifact-registry')).resolve('google-gax');
  const locations = loadJson(join(dirname(gaxMain), '..', 'protos', 'locations.json'));
  cached = {
    artifactRegistry: lookup(ar, 'google.devtools.artifactregistry.v1.ArtifactRegistry').service,
    clusterManager: lookup(container, 'google.container.v1.ClusterManager').service,
    projects: lookup(rm, 'google.cloud.resourcemanager.v3.Projects').service,
    locations: lookup(locations, 'google.cloud.location.Locations').service,
  };
  return cached;
}

/** A gRPC failure with a status code and the message Google's API would send. */
export class GrpcError extends Error {
  readonly code: grpc.status;

  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

/** Artifact Registry / Resource Manager PERMISSION_DENIED, in the real form. */
export function permissionDenied(permission: string, fullResourceName: string): GrpcError {
  return new GrpcError(
    grpc.status.PERMISSION_DENIED,
    `Permission '${permission}' denied on resource '${fullResourceName}' (or it may not exist).`,
  );
}

/** The NOT_FOUND message Artifact Registry and Resource Manager send. */
export function notFound(): GrpcError {
  return new GrpcError(grpc.status.NOT_FOUND, 'Requested entity was not found.');
}

/** An INVALID_ARGUMENT with `message`. */
export function invalidArgument(message: string): GrpcError {
  return new GrpcError(grpc.status.INVALID_ARGUMENT, message);
}

/** Messages for scripted failures, like the front ends send them. */
const FAULT_MESSAGES: Partial<Record<number, string>> = {
  [grpc.status.UNAVAILABLE]: 'The service is currently unavailable.',
  [grpc.status.DEADLINE_EXCEEDED]: 'Deadline exceeded.',
  [grpc.status.INTERNAL]: 'Internal error encountered.',
  [grpc.status.RESOURCE_EXHAUSTED]: "Quota exceeded for quota metric 'Read requests'.",
  [grpc.status.ABORTED]:
    'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
  [grpc.status.PERMISSION_DENIED]: 'The caller does not have permission',
  [grpc.status.UNAUTHENTICATED]: 'Request had invalid authentication credentials.',
};

type Handler<Req> = (request: Req) => object | Promise<object>;

/**
 * Wraps a handler: records `method` in the call log, waits the latency, fails with a scripted code if one is
 * pending, and maps thrown {@link GrpcError}s to their status (anything else is INTERNAL).
 */
export function unary<Req>(rt: WireRuntime, method: string, handler: Handler<Req>): grpc.handleUnaryCall<Req, object> {
  return (call, callback) => {
    void (async () => {
      const fault = await admit(rt, method, resourceOf(call.request));
      if (fault !== undefined) {
        callback({
          code: fault,
          details: FAULT_MESSAGES[fault] ?? `Injected failure (${grpc.status[fault] ?? fault}).`,
        });
        return;
      }
      try {
        callback(null, await handler(call.request));
      } catch (e) {
        if (e instanceof GrpcError) callback({ code: e.code, details: e.message });
        else callback({ code: grpc.status.INTERNAL, details: `sandbox error: ${(e as Error).message}` });
      }
    })();
  };
}

function resourceOf(request: unknown): string | undefined {
  const r = request as Record<string, unknown> | null;
  const v = r?.name ?? r?.resource ?? r?.parent;
  return typeof v === 'string' && v ? v : undefined;
}

/** A `google.protobuf.Timestamp` for epoch ms. */
export function timestamp(ms: number): { seconds: string; nanos: number } {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** Slices a sorted list for `pageSize` / `pageToken` (the token is the start offset, opaque to clients). */
export function paginate<T>(
  items: readonly T[],
  pageSize: number,
  pageToken: string,
): { page: T[]; nextPageToken: string } {
  const start = pageToken ? Number.parseInt(Buffer.from(pageToken, 'base64url').toString('utf8'), 10) || 0 : 0;
  const size = pageSize > 0 ? pageSize : 1000;
  const end = start + size;
  return {
    page: items.slice(start, end),
    nextPageToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : '',
  };
}
