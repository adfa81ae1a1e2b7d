/**
 * HTTP/1.1 JSON REST for every Google fake, transcoded from the `google.api.http` rules of the very descriptors
 * the gRPC services are built from: the path template picks the method and binds path variables, the body
 * (`body: "*"` or a named field) and query parameters fill the request, and the request is encoded and decoded
 * with the gRPC method's own serializers before it reaches the same handler a gRPC call reaches. The answer takes
 * the same road back (so REST shows exactly what a gRPC client sees) and leaves as proto3 JSON; failures leave as
 * Google's `{"error": {code, message, status}}` with the HTTP code of the gRPC status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Caller } from '../world/types.ts';
import type { MessageInfo } from './descriptors.ts';
import { CALLER } from './grpc.ts';
import type { HttpBinding, PathTemplate } from './http-rule.ts';
import { matchTemplate } from './http-rule.ts';
import { bindPath, fromJson, JsonMappingError, toJson } from './proto-json.ts';
import type { ProtoService } from './protos.ts';

/** HTTP status and status name of each gRPC code (google/rpc/code.proto's mapping). */
const HTTP_OF: Readonly<Record<number, [number, string]>> = {
  [grpc.status.CANCELLED]: [499, 'CANCELLED'],
  [grpc.status.UNKNOWN]: [500, 'UNKNOWN'],
  [grpc.status.INVALID_ARGUMENT]: [400, 'INVALID_ARGUMENT'],
  [grpc.status.DEADLINE_EXCEEDED]: [504, 'DEADLINE_EXCEEDED'],
  [grpc.status.NOT_FOUND]: [404, 'NOT_FOUND'],
  [grpc.status.ALREADY_EXISTS]: [409, 'ALREADY_EXISTS'],
  [grpc.status.PERMISSION_DENIED]: [403, 'PERMISSION_DENIED'],
  [grpc.status.RESOURCE_EXHAUSTED]: [429, 'RESOURCE_EXHAUSTED'],
  [grpc.status.FAILED_PRECONDITION]: [400, 'FAILED_PRECONDITION'],
  [grpc.status.ABORTED]: [409, 'ABORTED'],
  [grpc.status.OUT_OF_RANGE]: [400, 'OUT_OF_RANGE'],
  [grpc.status.UNIMPLEMENTED]: [501, 'UNIMPLEMENTED'],
  [grpc.status.INTERNAL]: [500, 'INTERNAL'],
  [grpc.status.UNAVAILABLE]: [503, 'UNAVAILABLE'],
  [grpc.status.DATA_LOSS]: [500, 'DATA_LOSS'],
  [grpc.status.UNAUTHENTICATED]: [401, 'UNAUTHENTICATED'],
};

/** The status name Google sends with an HTTP code that did not come from a gRPC status. */
const STATUS_OF_HTTP: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Query parameters every Google API accepts that are not request fields. */
const SYSTEM_PARAMETERS = new Set([
  'alt',
  'prettyPrint',
  'fields',
  'key',
  'access_token',
  'oauth_token',
  'callback',
  'quotaUser',
  'userIp',
  'upload_protocol',
  'uploadType',
  '$.xgafv',
]);

/** The HTTP code and status name for a gRPC code. */
export function httpStatusOf(code: number): { http: number; status: string } {
  const [http, status] = HTTP_OF[code] ?? [500, 'UNKNOWN'];
  return { http, status };
}

/** A failure with an HTTP code, sent in Google's error envelope. */
export class RestError extends Error {
  readonly http: number;
  /** The status name, when it is not the usual one for `http` (ABORTED and ALREADY_EXISTS are both 409). */
  readonly status: string | undefined;

  constructor(http: number, message: string, status?: string) {
    super(message);
    this.http = http;
    this.status = status;
  }
}

/** Sends JSON, pretty-printed like Google's front end. */
export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Google's JSON error envelope with the status name of `http` (or the one given). */
export function sendGoogleError(res: ServerResponse, http: number, message: string, status?: string): void {
  sendJson(res, http, { error: { code: http, message, status: status ?? STATUS_OF_HTTP[http] ?? 'UNKNOWN' } });
}

/** A route answered by JSON directly, for an API whose descriptor the packages do not ship. */
export interface JsonRoute {
  readonly verb: string;
  readonly template: PathTemplate;
  /** Answers the parsed body (undefined when empty); throws {@link RestError} to fail. */
  handle(body: unknown, caller: Caller): Promise<unknown>;
}

/** A served service: its descriptor and the implementation its gRPC server runs. */
export interface RestService {
  readonly proto: ProtoService;
  readonly implementation: grpc.UntypedServiceImplementation;
}

interface MethodRoute {
  readonly binding: HttpBinding;
  readonly service: RestService;
  readonly method: string;
}

type Route = { kind: 'method'; route: MethodRoute } | { kind: 'json'; route: JsonRoute };

function templateOf(r: Route): PathTemplate {
  return r.kind === 'method' ? r.route.binding.template : r.route.template;
}

/** Who is calling: a Bearer token is the bot; a request without credentials is the operator. */
export function callerOf(req: IncomingMessage): Caller {
  return /^Bearer\s+\S+/i.test(req.headers.authorization ?? '') ? 'bot' : 'operator';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RestError(400, `Invalid JSON payload received. ${(e as Error).message}.`);
  }
}

/** Builds the request message of a method route from the body, the path variables and the query. */
function buildRequest(
  r: MethodRoute,
  body: unknown,
  vars: [string, string][],
  query: URLSearchParams,
): Record<string, unknown> {
  const { root, info } = r.service.proto;
  const method = info.methods[r.method];
  if (!method) throw new Error(`no method ${r.method}`);
  const type: MessageInfo = root.message(root.resolve(method.requestType, info.scope));
  let request: Record<string, unknown>;
  if (r.binding.body === '*') {
    request = fromJson(root, type, body ?? {}) as Record<string, unknown>;
  } else if (r.binding.body) {
    request = fromJson(root, type, body === undefined ? {} : { [r.binding.body]: body }) as Record<string, unknown>;
  } else {
    request = {};
  }
  for (const [path, value] of vars) {
    if (!bindPath(root, type, request, path, value)) throw new Error(`template field ${path} not in ${type.fullName}`);
  }
  for (const [key, value] of query) {
    if (SYSTEM_PARAMETERS.has(key)) continue;
    if (r.binding.body === '*' || !bindPath(root, type, request, key, value)) {
      throw new RestError(
        400,
        `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.`,
      );
    }
  }
  return request;
}

/** Runs a method route through the gRPC method's serializers and implementation; resolves with the JSON answer. */
function invoke(r: MethodRoute, request: Record<string, unknown>, caller: Caller): Promise<unknown> {
  const { definition, root, info } = r.service.proto;
  const def = definition[r.method];
  const method = info.methods[r.method];
  if (!def || !method) throw new Error(`no method ${r.method}`);
  let decoded: unknown;
  try {
    decoded = def.requestDeserialize(def.requestSerialize(request));
  } catch (e) {
    throw new RestError(400, `Invalid JSON payload received. ${(e as Error).message}.`);
  }
  const implName = def.originalName ?? r.method[0]?.toLowerCase() + r.method.slice(1);
  const impl = r.service.implementation[implName] as grpc.handleUnaryCall<unknown, unknown> | undefined;
  if (!impl) {
    return Promise.reject(new RestError(501, `Method ${info.fullName}.${r.method} is not implemented by the sandbox.`));
  }
  return new Promise((resolve, reject) => {
    const call = { request: decoded, metadata: new grpc.Metadata(), cancelled: false, [CALLER]: caller };
    impl(call as unknown as grpc.ServerUnaryCall<unknown, unknown>, (err, value) => {
      if (err) {
        const { http, status } = httpStatusOf(err.code ?? grpc.status.UNKNOWN);
        reject(new RestError(http, err.details ?? '', status));
        return;
      }
      try {
        const wire = def.responseDeserialize(def.responseSerialize(value)) as Record<string, unknown>;
        const type = root.message(root.resolve(method.responseType, info.scope));
        const json = toJson(root, type, wire) as Record<string, unknown>;
        resolve(r.binding.responseBody ? json[r.binding.responseBody] : json);
      } catch (e) {
        reject(new RestError(500, `sandbox error: ${(e as Error).message}`));
      }
    });
  });
}

/** The HTTP/1.1 request handler serving every method with a REST mapping, plus the JSON routes. */
export function restHandler(
  services: readonly RestService[],
  jsonRoutes: readonly JsonRoute[] = [],
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: Route[] = [
    ...jsonRoutes.map((route): Route => ({ kind: 'json', route })),
    ...services.flatMap((service) =>
      [...service.proto.http].flatMap(([method, bindings]) =>
        bindings.map((binding): Route => ({ kind: 'method', route: { binding, service, method } })),
      ),
    ),
  ];
  // A template with a custom verb is tried first: `…/services:getIamPolicy` must not read as a name.
  routes.sort((a, b) => Number(templateOf(b).verb !== undefined) - Number(templateOf(a).verb !== undefined));
  return (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const verb = (req.method ?? 'GET').toUpperCase();
      const override = String(req.headers['x-http-method-override'] ?? '').toUpperCase();
      try {
        const text = await readBody(req);
        let found: { route: Route; vars: [string, string][] } | undefined;
        for (const route of routes) {
          const routeVerb = route.kind === 'method' ? route.route.binding.verb : route.route.verb;
          if (routeVerb !== verb && routeVerb !== override) continue;
          const vars = matchTemplate(templateOf(route), url.pathname);
          if (vars) {
            found = { route, vars };
            break;
          }
        }
        if (!found) throw new RestError(404, `The requested URL ${url.pathname} was not found on this server.`);
        const body = parseBody(text);
        const caller = callerOf(req);
        const answer =
          found.route.kind === 'json'
            ? await found.route.route.handle(body, caller)
            : await invoke(
                found.route.route,
                buildRequest(found.route.route, body, found.vars, url.searchParams),
                caller,
              );
        sendJson(res, 200, answer ?? {});
      } catch (e) {
        if (e instanceof RestError) sendGoogleError(res, e.http, e.message, e.status);
        else if (e instanceof JsonMappingError) sendGoogleError(res, 400, e.message);
        else sendGoogleError(res, 500, `sandbox error: ${(e as Error).message}`);
      }
    })();
  };
}
