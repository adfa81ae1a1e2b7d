import { execFile } from 'node:child_process';

/** What one `imagepull` run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node src/cli/main.ts ARGS`, as a person or a pipeline runs it: its exit code and output. `env` replaces the
 * environment (default: this one, with no metadata-server probe); `input` is written to its stdin; a run past
 * `timeoutMs` (default 60 s) is killed and reported as exit 1.
 */
export function runCli(
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['src/cli/main.ts', ...args],
      {
        env: o.env ?? { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        timeout: o.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(o.input ?? '');
  });
}
