import type { FactErrorCode } from '../diagnosis/facts.ts';

/**
 * Coded errors (bolt-js `CodedError` style): what crosses a boundary carries a stable `code` — `ReadError` here
 * (Google and Kubernetes reads and writes), `ChatError` (ports/chat.port.ts), `FixInterrupted` (fixes/fix.ts),
 * `ConfigError` (config.ts). Never put tokens, policies' contents or secrets in messages.
 */

/** What an adapter throws when a read or write fails: the code decides retry and how the diagnosis shows it. */
export class ReadError extends Error {
  readonly code: FactErrorCode | 'conflict';
  /** IAM permission or Kubernetes RBAC the caller lacked, when the API named it. */
  readonly permission?: string;
  constructor(code: FactErrorCode | 'conflict', message: string, options?: { permission?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReadError';
    this.code = code;
    if (options?.permission) this.permission = options.permission;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
