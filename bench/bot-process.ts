import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, type Sandbox } from '@imagepull/sandbox';
import { imageEnv, startFlags } from '../test/support/image-env.ts';

/** The V8 flags of `npm start` (package.json), the single place they are defined. */
const START_FLAGS = startFlags();

/**
 * What the bot runs from: the compiled `dist/` the image ships (`npm run bench` builds it first), not the sources
 * through Node's type stripping, which costs ~25 MB of resident memory the image does not pay.
 */
const ENTRY = process.env.BENCH_ENTRY ?? 'dist/cli/main.js';

/** One bot replica, run as `npm start` and the image run it: its own process, with the heap flags. */
export interface BotProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stderr: string[];
}

export async function startBotProcess(sb: Sandbox, extra: Record<string, string> = {}): Promise<BotProcess> {
  const port = await freePort();
  const env = {
    ...imageEnv(),
    ...process.env,
    ...sb.env,
    PORT: String(port),
    LOG_LEVEL: 'error',
    UPDATE_INTERVAL_SECONDS: '3',
    ...extra,
  };
  const child = spawn(
    process.execPath,
    [...START_FLAGS, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), ENTRY, 'serve'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(String(d)));
  const bot = { child, port, stderr };
  await until(async () => (await get(bot, '/readyz'))?.status === 200, 60_000, 'bot ready');
  return bot;
}

export async function stopBotProcess(bot: BotProcess): Promise<void> {
  if (bot.child.exitCode !== null) return;
  const exited = new Promise((r) => bot.child.once('exit', r));
  bot.child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000)]);
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
}

export async function get(bot: BotProcess, path: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${bot.port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined;
  }
}

/** The sum of a Prometheus metric's samples whose line contains `labels`. */
export function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (line.includes(labels)) sum += Number(line.split(' ').at(-1));
    }
  }
  return sum;
}

/** CPU time a process has used so far (user + system), in ms: `/proc/PID/stat` fields 14 and 15, in clock ticks. */
export function cpuMs(pid: number): number {
  // The command (field 2) may hold spaces and parentheses: the fields are counted from its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS);
}

/** USER_HZ: the kernel reports process times in hundredths of a second on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Peak resident set (VmHWM) of a process, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Waits for `probe` to hold, asking every `everyMs` (or as the function of the time waited so far says). */
export async function until(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs: number | (() => number) = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(typeof everyMs === 'number' ? everyMs : everyMs());
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
