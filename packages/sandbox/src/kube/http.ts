/**
 * HTTP plumbing of the Kubernetes API fake: response writing with the API server's headers, request bodies with its
 * size limit, and `Accept` negotiation for the representations it serves (plain JSON, `meta.k8s.io` Tables,
 * aggregated discovery). Protobuf, YAML and CBOR are not served: a client that accepts JSON as well gets JSON, as a
 * real server would pick among what both sides support; one that accepts nothing else gets 406.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { kubeError } from './status.ts';

/** A representation the fake can produce. */
export type Representation = 'json' | 'table' | 'discovery';

/** The outcome of negotiation: what to produce, and the version parameter of it (`v1`, `v1beta1`, `v2`, …). */
export interface Negotiated {
  readonly as: Representation;
  readonly version: string;
  /** The `Content-Type` of the response. */
  readonly contentType: string;
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

/** Splits an `Accept` header into media ranges, highest `q` first (stable for equal weights). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header?.trim()) return [{ type: '*', subtype: '*', params: {}, q: 1 }];
  const ranges = header.split(',').map((part) => {
    const [mime = '', ...rawParams] = part.split(';').map((p) => p.trim());
    const [type = '', subtype = ''] = mime.toLowerCase().split('/');
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (k === 'q') q = Number(v);
      else params[k] = v;
    }
    return { type, subtype, params, q: Number.isFinite(q) ? q : 1 };
  });
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
}

const TABLE_VERSIONS = ['v1', 'v1beta1'];
const DISCOVERY_VERSIONS = ['v2', 'v2beta1'];

function jsonLike(r: MediaRange): boolean {
  return (r.type === 'application' || r.type === '*') && (r.subtype === 'json' || r.subtype === '*');
}

function pick(r: MediaRange, allowed: ReadonlySet<Representation>): Negotiated | undefined {
  if (!jsonLike(r)) return undefined;
  const as = r.params.as;
  if (as === undefined)
    return allowed.has('json') ? { as: 'json', version: '', contentType: 'application/json' } : undefined;
  const version = r.params.v ?? '';
  if (as === 'Table' && r.params.g === 'meta.k8s.io' && TABLE_VERSIONS.includes(version) && allowed.has('table')) {
    return { as: 'table', version, contentType: `application/json;as=Table;v=${version};g=meta.k8s.io` };
  }
  if (
    as === 'APIGroupDiscoveryList' &&
    r.params.g === 'apidiscovery.k8s.io' &&
    DISCOVERY_VERSIONS.includes(version) &&
    allowed.has('discovery')
  ) {
    return {
      as: 'discovery',
      version,
      contentType: `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
    };
  }
  return undefined;
}

/**
 * The first representation in the client's preference order that the endpoint offers; throws 406 NotAcceptable
 * when there is none, with the API server's message.
 */
export function negotiate(accept: string | undefined, allowed: ReadonlySet<Representation>): Negotiated {
  for (const r of parseAccept(accept)) {
    const n = pick(r, allowed);
    if (n) return n;
  }
  throw kubeError(406, 'only the following media types are accepted: application/json');
}

/** Writes a JSON response with the headers a GKE API server sends. */
export function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
    'audit-id': crypto.randomUUID(),
    'x-kubernetes-pf-flowschema-uid': '0c5ee6e1-6b6a-4b5e-9a1e-8f3f0c0b6a11',
    'x-kubernetes-pf-prioritylevel-uid': '6e0a7c2b-2d4f-4a7e-b1b5-3c9e2f7d8a22',
  });
  res.end(text);
}

/** Reads a request body, refusing more than the API server's 3 MiB limit with its 413. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024) throw kubeError(413, 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON request body into an object, with the API server's 400 for anything else. */
export function parseObject(body: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw kubeError(400, `error decoding ${what}: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw kubeError(400, `error decoding ${what}: the body must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
