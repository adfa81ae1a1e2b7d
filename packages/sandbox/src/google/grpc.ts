/**
 * gRPC plumbing shared by the Google fakes: the services' names (their definitions come from the `protos.json` each
 * client package ships: protos.ts), typed errors with Google's real status messages, and the unary-handler wrapper that
 * records the call, adds latency and applies scripted failures.
 */
import * as grpc from '@grpc/grpc-js';
import { admit, type WireRuntime } from '../world/call-log.ts';
import type { Caller } from '../world/types.ts';

/** The fully qualified names of the services the sandbox serves over gRPC. */
export const SERVICE_NAMES = {
  artifactRegistry: 'google.devtools.artifactregistry.v1.ArtifactRegistry',
  clusterManager: 'google.container.v1.ClusterManager',
  projects: 'google.cloud.resourcemanager.v3.Projects',
  locations: 'google.cloud.location.Locations',
} as const;

/**
 * Where a call object carries its caller. The REST front sets it (the operator for a request without
 * credentials); a gRPC call has none and is the bot.
 */
export const CALLER: unique symbol = Symbol('sandbox.caller');

function callerOf(call: object): Caller {
  return (call as { [CALLER]?: Caller })[CALLER] ?? 'bot';
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

type Handler<Req> = (request: Req, caller: Caller) => object | Promise<object>;

/**
 * Wraps a handler: records `method` in the call log, waits the latency, fails with a scripted code if one is
 * pending, and maps thrown {@link GrpcError}s to their status (anything else is INTERNAL). The handler is told
 * who calls (see {@link CALLER}).
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
        callback(null, await handler(call.request, callerOf(call)));
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
