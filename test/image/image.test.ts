import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { installedPackages, productionClosure, sameFiles, walkTree } from './image-contents.ts';
import {
  type Build,
  buildImage,
  EGRESS_GUARD_IN_IMAGE,
  ensureStandinBase,
  type ImageConfig,
  inspectImage,
  type MountedImage,
  mountImage,
  requireImageTools,
  runInImage,
  type StandinBase,
  spawnInImage,
} from './podman.ts';

/**
 * The production image, built from the Dockerfile with podman on a local stand-in for node:24-bookworm-slim
 * (standin-base.sh), then run from its own filesystem — its node binary, its /app — as its user, with a read-only
 * root and a tmpfs /tmp (run-in-rootfs.sh), against the sandbox on loopback: the health routes, one alert through
 * the Pub/Sub emulator to one incident message in the Slack fake, `imagepull doctor` green, a clean exit on SIGTERM. `npm run test:image`.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TAG = 'localhost/imagepull-bot:test';
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lockfile = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

describe('the production image (Dockerfile, built with podman)', { timeout: 30 * 60_000 }, () => {
  let base: StandinBase;
  let baseConfig: ImageConfig;
  let build: Build;
  let config: ImageConfig;
  let image: MountedImage | undefined;
  let sb: Sandbox | undefined;
  let bot: ChildProcess | undefined;
  let userspec: string;
  let containerEnv: Record<string, string>;

  before(async () => {
    requireImageTools();
    base = await ensureStandinBase();
    baseConfig = await inspectImage(base.ref);
    build = await buildImage(TAG, base.ref);
    config = await inspectImage(TAG);
    image = await mountImage(TAG);
    // What a container runtime starts the image with: its user, its environment plus HOME from its /etc/passwd.
    const passwd = readFileSync(join(image.root, 'etc/passwd'), 'utf8').split('\n');
    const [uid, gid] = config.user.split(':');
    const entry = passwd.map((l) => l.split(':')).find((f) => f[0] === uid || f[2] === uid);
    assert.ok(entry, `the image's user ${config.user} is in its /etc/passwd`);
    userspec = `${entry[2]}:${gid ?? entry[3]}`;
    containerEnv = { ...config.env, HOME: entry[5] ?? '/' };
  });

  after(async () => {
    if (bot && bot.exitCode === null && bot.signalCode === null) bot.kill('SIGKILL');
    await sb?.stop();
    await image?.remove();
  });

  it('reports how it was built and how large it is', (t) => {
    t.diagnostic(
      `stand-in base ${base.ref}: ${base.built ? `built in ${base.seconds.toFixed(0)} s` : `cached (${base.seconds.toFixed(1)} s to check)`}, ${mb(baseConfig.size)}`,
    );
    t.diagnostic(
      `podman build: ${build.seconds.toFixed(0)} s, ${build.cachedSteps} of ${build.steps} steps from the layer cache`,
    );
    t.diagnostic(
      `image ${TAG}: ${mb(config.size)} (the base ${mb(baseConfig.size)} + the bot's layers ${mb(config.size - baseConfig.size)})`,
    );
    assert.ok(build.steps > 0, 'podman build ran the Dockerfile');
    assert.ok(config.size > baseConfig.size, 'the image is its base plus the bot');
  });

  it("runs as uid 1000 (the base image's node user), NODE_ENV=production, with the heap flags of `npm start`", () => {
    assert.match(config.user, /^\d+(:\d+)?$/, 'a numeric user, so that Kubernetes runAsNonRoot can verify it');
    assert.equal(userspec, '1000:1000');
    const passwd = readFileSync(join(image?.root ?? '', 'etc/passwd'), 'utf8');
    assert.match(passwd, /^node:x:1000:1000:/m, 'uid 1000 is the node user, as in node:24-bookworm-slim');
    assert.equal(config.env.NODE_ENV, 'production');
    assert.equal(config.workingDir, '/app');
    const start = (manifest.scripts.start ?? '').split(/\s+/);
    assert.deepEqual(
      [...config.entrypoint, ...config.cmd],
      start.map((a) => (a === 'src/cli/main.ts' ? 'dist/cli/main.js' : a)),
      'the command is `npm start` on the compiled code',
    );
    assert.ok(
      config.cmd.includes('--max-old-space-size=160'),
      'the heap limit is in the command, not left to a default',
    );
  });

  it('carries the compiled bot and its production dependencies only: no simulator, no dev dependency, no source', () => {
    const root = image?.root ?? '';
    const app = readdirSync(join(root, 'app')).sort();
    assert.deepEqual(app, ['bin', 'dist', 'node_modules', 'package.json']);
    assert.ok(readdirSync(join(root, 'app/dist/cli')).includes('main.js'), 'the compiled CLI is in /app/dist');
    const tsSources = [...walkTree(join(root, 'app/dist'))].filter((f) => /\.ts$/.test(f.path));
    assert.deepEqual(tsSources, [], 'no TypeScript source or declaration in dist');

    const installed = installedPackages(join(root, 'app'));
    const needed = productionClosure(lockfile, manifest);
    assert.deepEqual(
      [...installed].filter((p) => !needed.has(p)),
      [],
      'nothing in node_modules that the production dependencies do not need',
    );
    assert.deepEqual(
      [...needed].filter((p) => !installed.has(p)),
      [],
      'everything the production dependencies need',
    );
    const names = new Set([...installed].map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length)));
    for (const name of [
      '@imagepull/sandbox',
      'typescript',
      '@biomejs/biome',
      '@swc/core',
      'dependency-cruiser',
      'ws',
    ]) {
      assert.ok(!names.has(name), `${name} is not in the image`);
    }
    for (const dev of Object.keys(manifest.devDependencies)) {
      if (![...needed].some((p) => p === `node_modules/${dev}`))
        assert.ok(!names.has(dev), `devDependency ${dev} is not in the image`);
    }
    assert.ok(names.has('@slack/bolt') && names.has('@google-cloud/pubsub'), 'the production dependencies are there');

    const simulator = sameFiles(root, [join(REPO, 'packages/sandbox/src'), join(REPO, 'packages/sandbox/tls')]);
    assert.deepEqual(simulator, [], 'no file of the simulator (packages/sandbox) anywhere in the image');
    const named = [...walkTree(join(root, 'app'))]
      .map((f) => f.path)
      .filter((p) => /(^|\/)(packages|@imagepull)(\/|$)/.test(p));
    assert.deepEqual(named, [], 'no packages/ or @imagepull directory under /app');
  });

  it('keeps /app read-only to its user: every file root-owned, none writable by group or others', () => {
    const root = image?.root ?? '';
    const writable = [{ path: '', stat: lstatSync(join(root, 'app')) }, ...walkTree(join(root, 'app'))]
      .filter(({ stat }) => !stat.isSymbolicLink() && (stat.uid !== 0 || (stat.mode & 0o022) !== 0))
      .map(({ path, stat }) => `/app/${path} (uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)})`);
    assert.deepEqual(writable, []);
  });

  it('has a working `imagepull` CLI; `diagnose --sandbox` says the sandbox is not installed (exit 1)', async () => {
    const root = image?.root ?? '';
    const explain = await runInImage(root, userspec, config.workingDir, ['imagepull', 'explain', '403 Forbidden'], {
      ...containerEnv,
    });
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /^permission-denied: /m);
    const diagnose = await runInImage(
      root,
      userspec,
      config.workingDir,
      ['imagepull', 'diagnose', '--sandbox', 'seed'],
      { ...containerEnv },
    );
    assert.equal(diagnose.code, 1, `${diagnose.stdout}${diagnose.stderr}`);
    assert.match(diagnose.stderr, /the sandbox is not installed here: it is a development package/);
    assert.doesNotMatch(diagnose.stderr, /^\s+at /m, 'a message, not a stack trace');
  });

  it('serves /healthz and /readyz, posts one incident for an alert, passes its own doctor, and exits 0 on SIGTERM (read-only root, uid 1000)', async (t) => {
    const root = image?.root ?? '';
    sb = await startSandbox({ scenario: 'seed', propagationDelayMs: 300, podStartMs: 50 });
    const env = {
      ...containerEnv,
      ...sb.env,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--import=${EGRESS_GUARD_IN_IMAGE}`,
    };
    const child = spawnInImage(root, userspec, config.workingDir, [...config.entrypoint, ...config.cmd], env);
    bot = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const output = () => `\n--- bot stdout ---\n${stdout.slice(-4000)}\n--- bot stderr ---\n${stderr.slice(-4000)}`;
    const s = sb;
    try {
      const base = `http://127.0.0.1:${s.env.PORT}`;
      const status = async (path: string) => {
        if (child.exitCode !== null) throw new Error(`the bot exited ${child.exitCode}${output()}`);
        return fetch(`${base}${path}`)
          .then((r) => r.status)
          .catch(() => 0);
      };
      await until(async () => (await status('/readyz')) === 200, 'GET /readyz → 200', 60_000, output);
      assert.equal(await status('/healthz'), 200);
      // It is the image's node binary that runs, as uid 1000.
      assert.equal(readlinkSync(`/proc/${child.pid}/exe`), join(root, 'usr/local/bin/node'), "the image's node binary");
      assert.match(readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      await until(() => s.slack.socketConnections().open > 0, 'a Socket Mode connection', 20_000, output);

      const [entry] = s.google.logEntries({ pods: [s.google.scenario.target.pod], perPod: 1 });
      assert.ok(entry, 'the sandbox exports a log entry for the failing pod');
      await s.publish(entry);
      const channel = s.env.INCIDENT_CHANNEL as string;
      const incidents = () => s.slack.messages(channel).filter((m) => !m.threadTs);
      await until(() => incidents().length > 0, 'the incident message', 60_000, output);
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(incidents().length, 1, 'exactly one incident post');
      assert.match(incidents()[0]?.text ?? '', /prod\/checkout: Node service account lacks read access/);

      // `kubectl exec deploy/imagepull-bot -- imagepull doctor`, as README "Run it" says: the deployment checklist.
      const doctor = await runInImage(root, userspec, config.workingDir, ['imagepull', 'doctor'], env);
      t.diagnostic(`imagepull doctor in the image:\n${doctor.stdout}`);
      assert.equal(doctor.code, 0, `${doctor.stdout}${doctor.stderr}`);
      assert.match(doctor.stdout, /✓ Slack token valid/);
      assert.match(doctor.stdout, /✓ Cluster acme-prod-417\/us-central1\/prod RBAC/);
      assert.match(doctor.stdout, /checks passed/);

      const stopping = Date.now();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`still running 30 s after SIGTERM${output()}`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      const seconds = (Date.now() - stopping) / 1000;
      t.diagnostic(`SIGTERM → exit ${exit.code} in ${seconds.toFixed(1)} s`);
      assert.deepEqual(exit, { code: 0, signal: null }, `exit 0 after SIGTERM${output()}`);
      assert.ok(seconds < 25, 'within the grace period, before serve forces an exit');
      assert.match(stdout, /"signal":"SIGTERM"/, 'it logged the shutdown');
      assert.doesNotMatch(stderr, /egress-guard: blocked/, 'nothing tried to leave the machine');
    } catch (e) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw e;
    }
  });
});

async function until(
  probe: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
