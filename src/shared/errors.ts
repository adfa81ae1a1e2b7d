import type { FactErrorCode } from '../diagnosis/facts.ts';

/**
 * Coded errors (bolt-js `CodedError` style): every error that crosses a boundary carries a stable string `code`.
 * Never put tokens, policies' contents or secrets in messages or metadata.
 */
export type ErrorCode =
  | 'ipb_config_invalid'
  | 'ipb_usage'
  | 'ipb_read_failed'
  | 'ipb_iam_conflict'
  | 'ipb_plan_not_found'
  | 'ipb_plan_expired'
  | 'ipb_plan_stale'
  | 'ipb_not_authorized'
  | 'ipb_fix_disabled'
  | 'ipb_out_of_scope'
  | 'ipb_workload_paused'
  | 'ipb_emulator_missing';

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

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
