import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { imageEnv, startFlags } from '../support/image-env.ts';
import { eventually } from './helpers.ts';

/** The bot as its own process (`imagepull serve`, what the image runs), with its log lines collected. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: string;
  /** Every line the process wrote (stdout and stderr): its JSON logs and anything else. */
  readonly lines: string[];
  /** `GET path` on the bot's port; undefined when it does not answer within `timeoutMs`. */
  get(path: string, timeoutMs?: number): Promise<Response | undefined>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

/**
 * Starts `node src/cli/main.ts serve` with `env` (a sandbox's, plus overrides), the heap flags of `npm start` and the
 * image's environment (Dockerfile `ENV`), and
 * waits until `/healthz` answers. `ready` also waits for `/readyz`. `entry` runs other code, e.g. the compiled
 * `dist/cli/main.js` the image runs ({@link buildDist}).
 */
export async function startServe(
  env: Record<string, string>,
  options: { ready?: boolean; entry?: string } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...startFlags(), options.entry ?? 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, ...imageEnv(), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  // Whole lines only: a chunk may end inside one.
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (l) => l !== '' && lines.push(l));
  }
  // 'close', not 'exit': by then both pipes have ended, so every line the process wrote is in `lines`.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const port = env.PORT as string;
  const get = (path: string, timeoutMs = 2000) =>
    fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  const proc: ServeProcess = {
    child,
    port,
    lines,
    get,
    exited: () => exit,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
  try {
    await eventually(async () => (await get('/healthz'))?.status === 200, 'the bot to answer /healthz', 30_000);
    if (options.ready) await eventually(async () => (await get('/readyz'))?.status === 200, '/readyz 200', 30_000);
  } catch (e) {
    await proc.kill();
    throw new Error(`${(e as Error).message}; its output:\n${lines.slice(-20).join('\n')}`);
  }
  return proc;
}

/**
 * Compiles the bot into `dist/` (`npm run build`: a few seconds), for a test that must measure what the image runs —
 * the sources through Node's type stripping hold ~10–25 MB more.
 */
export function buildDist(): string {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  return 'dist/cli/main.js';
}
