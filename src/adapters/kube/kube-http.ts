import { Agent, request } from 'node:https';
import { ReadError } from '../../shared/errors.ts';

/**
 * A small Kubernetes API client over HTTPS: exactly the calls the bot makes, with the cluster CA from GKE and a
 * bearer token, keep-alive connections, and Kubernetes `Status` errors turned into `ReadError`s.
 *
 * Why not @kubernetes/client-node: importing it costs ~75 MB of resident memory (its generated code covers every
 * API group), a third of the bot's memory budget, and its patch calls default to the wrong content
 * type (docs/library-traps.md, "Kubernetes"). The bot needs eight paths.
 */
export class KubeHttp {
  readonly #base: URL;
  readonly #agent: Agent;
  readonly #token: () => Promise<string>;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(options: {
    server: string;
    caPem: string;
    token: () => Promise<string>;
    name: string;
    timeoutMs: number;
  }) {
    this.#base = new URL(options.server);
    // Idle keep-alive sockets are closed after a minute; in-flight requests are never cut by the client.
    this.#agent = new Agent({ ca: options.caPem, keepAlive: true, maxSockets: 64, timeout: 60_000 });
    this.#token = options.token;
    this.#name = options.name;
    this.#timeoutMs = options.timeoutMs;
  }

  get<T>(path: string, query?: Record<string, string>, rbac?: string): Promise<T> {
    return this.#send<T>('GET', path, query, undefined, undefined, rbac);
  }

  post<T>(path: string, body: unknown, rbac?: string): Promise<T> {
    return this.#send<T>('POST', path, undefined, JSON.stringify(body), 'application/json', rbac);
  }

  /** PATCH with an explicit patch type (kubectl rollout restart: `application/strategic-merge-patch+json`). */
  patch<T>(
    path: string,
    body: unknown,
    contentType: string,
    query?: Record<string, string>,
    rbac?: string,
  ): Promise<T> {
    return this.#send<T>('PATCH', path, query, JSON.stringify(body), contentType, rbac);
  }

  close(): void {
    this.#agent.destroy();
  }

  async #send<T>(
    method: string,
    path: string,
    query?: Record<string, string>,
    body?: string,
    contentType?: string,
    rbac?: string,
  ): Promise<T> {
    // Reads and the bot's patches are idempotent (the same restartedAt twice is one rollout): a control plane that
    // answers 409/429/5xx or drops the connection is asked again, a bounded number of times, then the error stands.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, query, body, contentType, rbac);
      } catch (e) {
        const retryable =
          e instanceof KubeStatusError
            ? RETRYABLE.has(e.status) || (e.status === 409 && method === 'PATCH')
            : e instanceof ReadError && e.code === 'unavailable';
        if (!retryable || attempt >= ATTEMPTS) throw e instanceof KubeStatusError ? e.error : e;
        const hinted = e instanceof KubeStatusError ? e.retryAfterMs : undefined;
        await new Promise((r) => setTimeout(r, Math.min(5000, hinted ?? 200 * 2 ** (attempt - 1))));
      }
    }
  }

  async #once<T>(
    method: string,
    path: string,
    query?: Record<string, string>,
    body?: string,
    contentType?: string,
    rbac?: string,
  ): Promise<T> {
    const url = new URL(path, this.#base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const token = await this.#token();
    const what = `Kubernetes ${method} ${url.pathname}${url.search} (${this.#name})`;
    const { status, text, retryAfter } = await new Promise<{ status: number; text: string; retryAfter?: string }>(
      (resolve, reject) => {
        const req = request(
          url,
          {
            method,
            agent: this.#agent,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              'user-agent': 'imagepull-bot',
              ...(body !== undefined
                ? { 'content-type': contentType ?? 'application/json', 'content-length': Buffer.byteLength(body) }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const ra = res.headers['retry-after'];
              resolve({
                status: res.statusCode ?? 0,
                text: Buffer.concat(chunks).toString('utf8'),
                ...(typeof ra === 'string' ? { retryAfter: ra } : {}),
              });
            });
            res.on('error', reject);
          },
        );
        req.on('error', (e) =>
          reject(e instanceof ReadError ? e : new ReadError('unavailable', `${what}: ${e.message}`, { cause: e })),
        );
        // A control plane that stops answering must not hang a diagnosis or a fix (nor SIGTERM).
        req.setTimeout(this.#timeoutMs, () =>
          req.destroy(new ReadError('timeout', `${what}: no answer within ${this.#timeoutMs} ms`)),
        );
        if (body !== undefined) req.write(body);
        req.end();
      },
    );
    if (status >= 200 && status < 300) return JSON.parse(text) as T;
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: keep the body
    }
    const seconds = Number(retryAfter);
    throw new KubeStatusError(
      status,
      statusError(status, `${what}: ${message}`, rbac),
      Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined,
    );
  }
}

/** Attempts of one request before a transient failure is reported. */
const ATTEMPTS = 3;
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** An HTTP status from the API server, with the coded error it becomes if it stands. */
class KubeStatusError extends Error {
  readonly status: number;
  readonly error: ReadError;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, error: ReadError, retryAfterMs?: number) {
    super(error.message);
    this.status = status;
    this.error = error;
    this.retryAfterMs = retryAfterMs;
  }
}

function statusError(status: number, text: string, rbac?: string): ReadError {
  switch (status) {
    case 401:
      return new ReadError('unauthenticated', text);
    case 403:
      return new ReadError('permission-denied', text, rbac ? { permission: `Kubernetes RBAC: ${rbac}` } : undefined);
    case 404:
      return new ReadError('not-found', text);
    case 408:
    case 504:
      return new ReadError('timeout', text);
    case 429:
    case 500:
    case 502:
    case 503:
      return new ReadError('unavailable', text);
    default:
      return new ReadError('failed', text);
  }
}
