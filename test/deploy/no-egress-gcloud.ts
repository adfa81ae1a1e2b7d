import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStrace, staysLocal } from '../support/egress-trace.ts';

/** What a traced command did. */
export interface TracedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every IPv4/IPv6 destination any process of the run connected or sent to, as `address:port`. */
  readonly destinations: readonly string[];
  /** The destinations beyond loopback (must be empty), each with the command line of the process that sent it. */
  readonly offLoopback: readonly string[];
}

/** Thrown when strace is missing; says how to install it (tests fail, never skip). */
export class StraceMissingError extends Error {
  readonly code = 'strace_missing';
}

/** Fails with an install hint unless strace can trace here. */
export function requireStrace(): void {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StraceMissingError('strace is needed to prove gcloud stays on loopback: apt-get install -y strace');
  }
}

/** One destination in a trace: `address:port`, and the command line of the process that sent to it. */
export interface Destination {
  readonly address: string;
  readonly port: number;
  readonly command: string;
  /** Cannot leave the machine (test/support/egress-trace.ts, `staysLocal`: loopback, and no DNS query). */
  readonly local: boolean;
}

/**
 * Every IPv4/IPv6 destination of connect/sendto/sendmsg calls in `strace -f` output (unix sockets skipped; parsed
 * by test/support/egress-trace.ts), with the program each process last executed (from its execve lines).
 */
export function destinationsIn(trace: string): Destination[] {
  const programs = new Map<number, string>();
  for (const line of trace.split('\n')) {
    const exec = /^(\d+)\s+execve\("[^"]*", \[(.*?)\]/.exec(line);
    if (exec?.[2]) programs.set(Number(exec[1]), exec[2].replace(/"/g, '').replace(/, /g, ' ').slice(0, 200));
  }
  return parseStrace(trace)
    .filter((t) => t.family === 'AF_INET' || t.family === 'AF_INET6')
    .map((t) => ({
      address: t.address,
      port: t.port ?? 0,
      command: programs.get(t.pid) ?? `pid ${t.pid}`,
      local: staysLocal(t),
    }));
}

/**
 * Runs `command args…` under `strace -f` (every child process too, with a seccomp filter so it costs nothing
 * measurable) recording each connect/sendto/sendmsg destination, and reports which left loopback. The proof that a
 * child process such as gcloud (Python, not covered by the test preload's socket hooks) sent nothing off the
 * machine: a DNS query or a metadata-server probe would show up as a destination here.
 */
export async function runWithoutEgress(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<TracedRun> {
  requireStrace();
  const dir = await mkdtemp(join(tmpdir(), 'egress-'));
  const traceFile = join(dir, 'trace');
  await writeFile(traceFile, '');
  try {
    const child = spawn(
      'strace',
      [
        '-f',
        '--seccomp-bpf',
        '-qq',
        '-e',
        'trace=connect,sendto,sendmsg,sendmmsg,execve',
        '-s',
        '256',
        '-e',
        'signal=none',
        '-o',
        traceFile,
        command,
        ...args,
      ],
      { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    const found = destinationsIn(await readFile(traceFile, 'utf8'));
    const destinations = [...new Set(found.map((d) => `${d.address}:${d.port}`))];
    const offLoopback = [...new Set(found.filter((d) => !d.local).map((d) => `${d.address}:${d.port} (${d.command})`))];
    return { code, stdout, stderr, destinations, offLoopback };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
