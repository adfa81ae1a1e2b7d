import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a CLI command gets: its arguments and the process streams (tests pass their own). */
export interface Io {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes of the CLI (README, "The CLI"). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parse<T extends ParseArgsConfig['options']>(
  args: readonly string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

const MAX_INPUT = 16 * 1024 * 1024;

/** Reads all of stdin (bounded). */
export async function readStdin(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  if (stdin.isTTY) throw new UsageError('no input: pass it as an argument or pipe it on stdin');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > MAX_INPUT) throw new UsageError('input is larger than 16 MiB');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readInput(file: string | undefined, io: Io): Promise<string> {
  if (!file || file === '-') return readStdin(io.stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
