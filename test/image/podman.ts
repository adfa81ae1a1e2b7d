import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';

/** What a command printed, once it exited 0. */
export interface Output {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion; rejects with its exit status and the tail of its output when it fails or outlives
 * `timeoutMs` (it is then killed, by pid).
 */
export function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
        reject(new Error(`${command} ${args.join(' ')} exited ${signal ?? code}:\n${tail}`));
      }
    });
  });
}

/**
 * Fails, saying how to get them, unless everything the image test needs is here: root (for chroot and mounts),
 * podman, debootstrap (for the stand-in base), unshare and chroot.
 */
export function requireImageTools(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the test chroots into the image and mounts)');
  const path = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
  for (const tool of ['podman', 'debootstrap', 'unshare', 'chroot', 'mount']) {
    if (!path.split(':').some((dir) => dir !== '' && existsSync(`${dir}/${tool}`))) missing.push(tool);
  }
  if (missing.length > 0) {
    throw new Error(
      `the image test needs ${missing.join(', ')}: on Debian, as root, apt-get update && apt-get install -y podman debootstrap`,
    );
  }
}

/** The stand-in for node:24-bookworm-slim, and whether this call had to build it. */
export interface StandinBase {
  readonly ref: string;
  readonly built: boolean;
  readonly seconds: number;
}

/** Builds the stand-in base unless podman already has it for this Node version and recipe (standin-base.sh). */
export async function ensureStandinBase(): Promise<StandinBase> {
  const start = Date.now();
  // Its `npm pack`/`npm view` reach the registry (the host's npm ci may have worked from its cache): the same CA.
  const ca = npmCa();
  const { stdout, stderr } = await run('bash', [`${HERE}standin-base.sh`], {
    timeoutMs: 20 * 60_000,
    env: { ...process.env, ...(ca && !process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: ca } : {}) },
  });
  const ref = stdout.trim().split('\n').at(-1) ?? '';
  if (!ref.startsWith('localhost/')) throw new Error(`standin-base.sh printed no image reference:\n${stdout}${stderr}`);
  return { ref, built: !/cached: /.test(stderr), seconds: (Date.now() - start) / 1000 };
}

/** How a `podman build` went: its duration, and how many of its steps (FROM aside) came from the layer cache. */
export interface Build {
  readonly seconds: number;
  readonly steps: number;
  readonly cachedSteps: number;
}

/**
 * `podman build` of the repository's Dockerfile as these machines allow it (chroot isolation, cgroupfs, never
 * pulling), on `base`. The CA bundle this machine's npm trusts (a TLS-intercepting proxy in front of the npm
 * registry) is handed to the build as the `npm-ca` secret, which the Dockerfile uses without storing it.
 */
export async function buildImage(tag: string, base: string): Promise<Build> {
  const ca = npmCa();
  const start = Date.now();
  const { stdout } = await run(
    'podman',
    [
      'build',
      '--isolation=chroot',
      '--cgroup-manager=cgroupfs',
      '--pull=never',
      '--build-arg',
      `NODE_IMAGE=${base}`,
      ...(ca && existsSync(ca) ? ['--secret', `id=npm-ca,src=${ca}`] : []),
      '-t',
      tag,
      '.',
    ],
    { timeoutMs: 20 * 60_000 },
  );
  return {
    seconds: (Date.now() - start) / 1000,
    // FROM steps are never reported as cached: count the others.
    steps: (stdout.match(/^\[\d+\/\d+\] STEP \d+\/\d+: (?!FROM )/gm) ?? []).length,
    cachedSteps: (stdout.match(/^--> Using cache /gm) ?? []).length,
  };
}

/** The parts of an image's configuration a container runtime uses to start it, and its size in bytes. */
export interface ImageConfig {
  readonly user: string;
  readonly env: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workingDir: string;
  readonly size: number;
}

/** Reads an image's configuration with `podman image inspect`. */
export async function inspectImage(ref: string): Promise<ImageConfig> {
  const { stdout } = await run('podman', ['image', 'inspect', ref]);
  const [image] = JSON.parse(stdout) as {
    Size: number;
    Config: { User?: string; Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string };
  }[];
  if (!image) throw new Error(`podman image inspect ${ref}: no image`);
  const c = image.Config;
  return {
    user: c.User ?? '',
    env: Object.fromEntries((c.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    workingDir: c.WorkingDir || '/',
    size: image.Size,
  };
}

/** An image's filesystem on the host (a container created, not started, and mounted). */
export interface MountedImage {
  readonly root: string;
  /** Unmounts and removes the container; safe to call twice. */
  remove(): Promise<void>;
}

const CONTAINER_LABEL = 'imagepull-bot.image-test=1';

/**
 * `podman create` + `podman mount`: the image's files, read from the host. Always `remove()` it. Containers that an
 * earlier run left behind (a test process killed before its `after`) are removed first.
 */
export async function mountImage(ref: string): Promise<MountedImage> {
  const stale = (await run('podman', ['ps', '--all', '--quiet', '--filter', `label=${CONTAINER_LABEL}`])).stdout;
  for (const old of stale.split('\n').filter((l) => l.trim() !== '')) {
    await run('podman', ['umount', old]).catch(() => undefined);
    await run('podman', ['rm', '--force', old]);
  }
  const id = (await run('podman', ['create', '--label', CONTAINER_LABEL, ref])).stdout.trim();
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await run('podman', ['umount', id]).catch(() => undefined);
    await run('podman', ['rm', '--force', id]);
  };
  try {
    const root = (await run('podman', ['mount', id])).stdout.trim();
    if (!existsSync(`${root}/etc/passwd`)) throw new Error(`podman mount gave ${root}, which holds no /etc/passwd`);
    return { root, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** The file the bot preloads in the image test (egress-guard.ts), as the image sees it. */
export const EGRESS_GUARD_IN_IMAGE = 'file:///tmp/egress-guard.ts';

/**
 * Starts `command` inside a mounted image as a container runtime with a read-only root would (run-in-rootfs.sh):
 * the image's own files and binaries, as `userspec` (UID:GID) in `workdir`, with exactly `env`, on the host's
 * network (loopback reaches the test's servers). The returned process is the command itself (signals reach it).
 */
export function spawnInImage(
  root: string,
  userspec: string,
  workdir: string,
  command: readonly string[],
  env: Readonly<Record<string, string>>,
): ChildProcess {
  return spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      `${HERE}run-in-rootfs.sh`,
      root,
      userspec,
      workdir,
      `${HERE}egress-guard.ts`,
      ...command,
    ],
    { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Runs a short command inside a mounted image (see spawnInImage) and returns its exit code and output. */
export function runInImage(
  root: string,
  userspec: string,
  workdir: string,
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnInImage(root, userspec, workdir, command, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The CA bundle npm on this machine trusts: `NODE_EXTRA_CA_CERTS`, else npm's own `cafile` setting (a global npmrc
 * sets it where a proxy intercepts TLS; a CI run with a bare environment has no NODE_EXTRA_CA_CERTS), else
 * `SSL_CERT_FILE`, else Debian's system bundle (it holds the CAs installed locally, a proxy's among them: the host's
 * npm may work from its cache where the build's cannot). Undefined when none names a file.
 */
function npmCa(): string | undefined {
  const candidates = [
    () => process.env.NODE_EXTRA_CA_CERTS,
    () => {
      try {
        return execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
      } catch {
        return undefined;
      }
    },
    () => process.env.SSL_CERT_FILE,
    () => SYSTEM_CA,
  ];
  for (const candidate of candidates) {
    const f = candidate();
    if (f && f !== 'null' && f !== 'undefined' && existsSync(f)) return f;
  }
  return undefined;
}
