import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStrace, type SocketTarget } from '../../support/egress-trace.ts';

/**
 * Runs the real `kubectl` (and `sh -c` for printed commands chained with `&&`) against a sandbox, each run under
 * `strace` so the caller can prove every connection it made went to loopback. kubectl gets a private HOME (its
 * discovery cache) and CLOUDSDK_CONFIG (the Cloud SDK's kubectl dispatcher), never the user's.
 */

/** The outcome of one run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every `connect()` the processes made (test/support/egress-trace.ts; `staysLocal` tells which stayed here). */
  readonly connects: readonly SocketTarget[];
}

function exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, [...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Throws with how to install it when a tool is not on the PATH. */
async function requireTool(tool: string, args: string[], install: string): Promise<void> {
  const r = await exec(tool, args, { PATH: process.env.PATH ?? '' }, 30_000);
  if (r.code !== 0) throw new Error(`\`${tool}\` is needed by this test and is not runnable here. ${install}`);
}

/** Fails (never skips) when kubectl or strace is missing, saying how to install them. */
export async function requireKubectlAndStrace(): Promise<void> {
  await requireTool(
    'kubectl',
    ['version', '--client'],
    'Install it with `sudo apt-get install kubectl` (Google Cloud apt repository) or `gcloud components install kubectl`.',
  );
  await requireTool(
    'strace',
    ['-V'],
    'Install it with `sudo apt-get install strace` (it proves kubectl stays on loopback).',
  );
}

/**
 * Splits a printed command into words the way `sh` would for the quoting the bot uses (plain words, '…' with the
 * `'"'"'` escape, "…"). Throws on anything else (`$`, backquotes, pipes), which the bot never prints.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] ?? '';
    if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${command}`);
      word += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      const end = command.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${command}`);
      word += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (/[$`|;<>\\]/.test(ch)) {
      throw new Error(`unexpected shell syntax ${JSON.stringify(ch)} in printed command: ${command}`);
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A private kubectl environment (HOME, CLOUDSDK_CONFIG) around one kubeconfig. */
export class Kubectl {
  readonly home: string;
  kubeconfig: string;

  constructor(kubeconfig: string) {
    this.home = mkdtempSync(join(tmpdir(), 'imagepull-kubectl-'));
    this.kubeconfig = kubeconfig;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      KUBECONFIG: this.kubeconfig,
      CLOUDSDK_CONFIG: join(this.home, 'gcloud'),
      LANG: 'C.UTF-8',
    };
  }

  /**
   * Runs a printed command as a person would paste it: plain `kubectl …` with execFile, a `… && …` chain through
   * `sh -c`; always under `strace -f` to record connects.
   */
  async run(command: string, timeoutMs = 60_000): Promise<KubectlResult> {
    const trace = join(this.home, `trace-${process.hrtime.bigint()}.txt`);
    const argv = command.includes('&&') ? ['sh', '-c', command] : shellWords(command);
    if (argv[0] !== 'kubectl' && argv[0] !== 'sh') throw new Error(`not a kubectl command: ${command}`);
    const r = await exec('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', trace, ...argv], this.env(), timeoutMs);
    let connects: SocketTarget[] = [];
    try {
      connects = parseStrace(readFileSync(trace, 'utf8')).filter((t) => t.syscall === 'connect');
    } finally {
      rmSync(trace, { force: true });
    }
    return { ...r, connects };
  }

  /** Removes the private HOME. */
  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** A readable dump of a run for assertion messages. */
export function explain(command: string, r: KubectlResult): string {
  return `$ ${command}\n(exit ${r.code})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
