import type { FactErrorCode } from '../../diagnosis/facts.ts';
import { ReadError } from '../../shared/errors.ts';

/** gRPC status codes the adapters distinguish (google-gax surfaces them as `err.code`). */
const GRPC: Record<number, FactErrorCode | 'conflict'> = {
  4: 'timeout', // DEADLINE_EXCEEDED
  5: 'not-found', // NOT_FOUND
  7: 'permission-denied', // PERMISSION_DENIED
  10: 'conflict', // ABORTED: stale etag on setIamPolicy
  14: 'unavailable', // UNAVAILABLE
  16: 'unauthenticated', // UNAUTHENTICATED
};

const HTTP: Record<number, FactErrorCode | 'conflict'> = {
  401: 'unauthenticated',
  403: 'permission-denied',
  404: 'not-found',
  409: 'conflict',
  429: 'unavailable',
  500: 'unavailable',
  502: 'unavailable',
  503: 'unavailable',
  504: 'timeout',
};

/**
 * Turns a Google client error (gRPC status or HTTP status) into a `ReadError`, keeping the permission the API named.
 * Real messages: `Permission 'artifactregistry.repositories.getIamPolicy' denied on resource '…' (or it may not
 * exist).` (Artifact Registry), `Required "container.clusters.get" permission(s) for "projects/…"` (GKE), and
 * `errorInfo.metadata.permission` when the server attaches an ErrorInfo detail.
 */
export function toReadError(e: unknown, call: string, requiredPermission?: string): ReadError {
  if (e instanceof ReadError) return e;
  const err = e as {
    code?: unknown;
    status?: unknown;
    message?: unknown;
    details?: unknown;
    errorInfoMetadata?: Record<string, string>;
  };
  const message = typeof err.message === 'string' ? err.message : String(e);
  let code: FactErrorCode | 'conflict' = 'failed';
  if (typeof err.code === 'number' && err.code < 100) code = GRPC[err.code] ?? 'failed';
  else if (typeof err.code === 'number') code = HTTP[err.code] ?? 'failed';
  else if (typeof err.status === 'number') code = HTTP[err.status] ?? 'failed';
  else if (/timed? ?out|ETIMEDOUT/i.test(message)) code = 'timeout';
  else if (/ECONNREFUSED|ECONNRESET|EAI_AGAIN|socket hang up/i.test(message)) code = 'unavailable';
  const named =
    err.errorInfoMetadata?.permission ??
    /Permission ['"]([\w.]+)['"] denied/.exec(message)?.[1] ??
    /Required ['"]([\w.]+)['"] permission/.exec(message)?.[1];
  const permission = code === 'permission-denied' ? (named ?? requiredPermission) : undefined;
  const text = `${call}: ${firstLine(message)}`;
  return new ReadError(code, text, { ...(permission ? { permission } : {}), cause: e });
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** Retries idempotent reads on UNAVAILABLE / DEADLINE_EXCEEDED with jittered backoff (docs/alerts.md, "Acknowledging"). */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 3, baseMs = 150): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const transient =
        code === 14 || code === 4 || (e instanceof ReadError && (e.code === 'unavailable' || e.code === 'timeout'));
      if (!transient || i >= attempts - 1) throw e;
      await new Promise((r) => setTimeout(r, baseMs * 2 ** i + Math.random() * baseMs));
    }
  }
}
