/**
 * The descriptors the Google fakes are built from: the `protos.json` each `@google-cloud/*` client package ships
 * (and google-gax's for the Locations mixin), loaded once. The same descriptor yields the gRPC service definition
 * (through proto-loader) and the REST mapping (its `google.api.http` rules), so both protocols serve one contract.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CRM_V1_DESCRIPTOR } from './crm-v1-descriptor.ts';
import { DescriptorRoot, type JsonNode, type ServiceInfo } from './descriptors.ts';
import { bindingsOfRule, type HttpBinding, httpBindings } from './http-rule.ts';

const require = createRequire(import.meta.url);

/** proto-loader options the fakes decode requests with: what every handler receives. */
export const LOADER_OPTIONS: protoLoader.Options = { longs: String, enums: String, defaults: true, oneofs: true };

/** A service as both protocols serve it. */
export interface ProtoService {
  readonly fullName: string;
  readonly definition: grpc.ServiceDefinition;
  readonly root: DescriptorRoot;
  readonly info: ServiceInfo;
  /** HTTP bindings by method name (`GetIamPolicy`); methods without a REST mapping are absent. */
  readonly http: ReadonlyMap<string, readonly HttpBinding[]>;
}

/**
 * HTTP rules of mixin services. A mixin's REST mapping lives in the API's service configuration, not in its
 * protos; these are the rules Artifact Registry's configuration gives `google.cloud.location.Locations` (the same
 * ones `@google-cloud/artifact-registry` passes as `httpRules` for its REST transport), for v1 and v1beta2.
 */
const MIXIN_RULES: Readonly<Record<string, Readonly<Record<string, readonly object[]>>>> = {
  'google.cloud.location.Locations': {
    GetLocation: [{ get: '/v1/{name=projects/*/locations/*}' }, { get: '/v1beta2/{name=projects/*/locations/*}' }],
    ListLocations: [{ get: '/v1/{name=projects/*}/locations' }, { get: '/v1beta2/{name=projects/*}/locations' }],
  },
};

/** Adds `extra`'s namespaces and types into `base` (a deep merge of `nested`), returning `base`. */
function merge(base: JsonNode, extra: JsonNode): JsonNode {
  for (const [name, node] of Object.entries(extra.nested ?? {})) {
    base.nested ??= {};
    const existing = base.nested[name];
    if (existing && !node.fields && !node.values && !node.methods) merge(existing, node);
    else base.nested[name] = node;
  }
  return base;
}

interface Loaded {
  readonly json: JsonNode;
  readonly root: DescriptorRoot;
  readonly grpc: grpc.GrpcObject;
}

function load(json: JsonNode): Loaded {
  const pkg = protoLoader.fromJSON(json as Parameters<typeof protoLoader.fromJSON>[0], LOADER_OPTIONS);
  return { json, root: new DescriptorRoot(json), grpc: grpc.loadPackageDefinition(pkg) };
}

function readJson(path: string): JsonNode {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonNode;
}

let roots: Loaded[] | undefined;

function allRoots(): Loaded[] {
  if (roots) return roots;
  const gaxMain = createRequire(require.resolve('@google-cloud/artifact-registry')).resolve('google-gax');
  roots = [
    load(readJson(require.resolve('@google-cloud/artifact-registry/build/protos/protos.json'))),
    load(readJson(require.resolve('@google-cloud/container/build/protos/protos.json'))),
    // Resource Manager v1 has no proto in any package; its REST surface is declared next to v3 (see the file).
    load(
      merge(readJson(require.resolve('@google-cloud/resource-manager/build/protos/protos.json')), CRM_V1_DESCRIPTOR),
    ),
    load(readJson(join(dirname(gaxMain), '..', 'protos', 'locations.json'))),
  ];
  return roots;
}

function lookup(root: grpc.GrpcObject, path: string): grpc.ServiceClientConstructor | undefined {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return typeof node === 'function' && 'service' in node ? (node as grpc.ServiceClientConstructor) : undefined;
}

const services = new Map<string, ProtoService>();

/** The service `fullName` from the installed packages' descriptors (throws when none declares it). */
export function protoService(fullName: string): ProtoService {
  const cached = services.get(fullName);
  if (cached) return cached;
  for (const loaded of allRoots()) {
    const ctor = lookup(loaded.grpc, fullName);
    const info = loaded.root.service(fullName);
    if (!ctor || !info) continue;
    const http = new Map<string, HttpBinding[]>();
    const mixin = MIXIN_RULES[fullName];
    for (const [name, method] of Object.entries(info.methods)) {
      const bindings = mixin ? (mixin[name] ?? []).flatMap((r) => bindingsOfRule(r)) : httpBindings(method);
      if (bindings.length > 0) http.set(name, bindings);
    }
    const service = { fullName, definition: ctor.service, root: loaded.root, info, http };
    services.set(fullName, service);
    return service;
  }
  throw new Error(`service ${fullName} not found in the installed protos`);
}
