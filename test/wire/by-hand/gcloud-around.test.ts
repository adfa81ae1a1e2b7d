/**
 * The gcloud commands around the printed ones (describe, remove a grant), `imagepull sandbox`'s gcloud
 * configuration as a person would use it, and the confinement every gcloud run here relies on, shown to catch
 * what it must catch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startGoogleSandbox } from '@imagepull/sandbox';
import { runConfined } from '../../support/egress-trace.ts';
import { gcloudWorkspace, requireGcloud, runByHand, shown } from './gcloud-helpers.ts';

requireGcloud();

describe('the gcloud commands around them, against one sandbox', () => {
  it('describes the repository, the cluster and the project as the APIs would', async () => {
    const sandbox = await startGoogleSandbox({ scenario: 'seed' });
    const ws = await gcloudWorkspace(sandbox);
    try {
      const run = (c: string) => runByHand(ws, c).then((r) => ({ c, r }));
      const [repo, cluster, project] = await Promise.all([
        run('gcloud artifacts repositories describe services --project=acme-prod-417 --location=us-central1'),
        run('gcloud container clusters describe prod --location=us-central1 --project=acme-prod-417'),
        run('gcloud projects describe acme-prod-417'),
      ]);
      for (const { c, r } of [repo, cluster, project]) {
        assert.equal(r.code, 0, shown(c, r));
        assert.deepEqual(r.violations, [], shown(c, r));
      }
      assert.match(repo.r.stdout, /^name: projects\/acme-prod-417\/locations\/us-central1\/repositories\/services$/m);
      assert.match(repo.r.stdout, /^registryUri: us-central1-docker\.pkg\.dev\/acme-prod-417\/services$/m);
      assert.match(repo.r.stdout, /^format: DOCKER$/m);
      const endpoint = sandbox.kubeEndpoints.get('projects/acme-prod-417/locations/us-central1/clusters/prod');
      assert.match(cluster.r.stdout, new RegExp(`^endpoint: ${endpoint}$`, 'm'));
      assert.match(cluster.r.stdout, /^status: RUNNING$/m);
      assert.ok(cluster.r.stdout.includes(Buffer.from(sandbox.caPem).toString('base64')), 'the cluster CA, base64');
      assert.match(project.r.stdout, /^projectNumber: '123456789012'$/m);
      assert.match(project.r.stdout, /^lifecycleState: ACTIVE$/m);
      assert.match(project.r.stdout, /^ {2}type: organization$/m);
    } finally {
      await ws.remove();
      await sandbox.stop();
    }
  });

  it('removes a grant it added, and refuses at version 1 to remove one from a policy with conditions', async () => {
    const sandbox = await startGoogleSandbox({ scenario: 'cross-project' });
    const ws = await gcloudWorkspace(sandbox);
    const member = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
    const flags = `--member=${member} --role=roles/artifactregistry.reader`;
    const holds = (name: string) =>
      sandbox.world
        .repository(name)
        ?.iam.bindings.some((b) => b.role === 'roles/artifactregistry.reader' && b.members.includes(member));
    try {
      const base = 'projects/acme-shared-artifacts/locations/us/repositories/base';
      const add = `gcloud artifacts repositories add-iam-policy-binding base --project=acme-shared-artifacts --location=us ${flags}`;
      const added = await runByHand(ws, add);
      assert.equal(added.code, 0, shown(add, added));
      assert.equal(holds(base), true);
      const remove = add.replace('add-iam-policy-binding', 'remove-iam-policy-binding');
      const removed = await runByHand(ws, remove);
      assert.equal(removed.code, 0, shown(remove, removed));
      assert.equal(holds(base), false, 'the grant is gone from the world the bot reads');
      assert.deepEqual([...added.violations, ...removed.violations], []);

      // `services` holds a conditional binding; gcloud reads and writes at version 1, and IAM requires version 3
      // to remove any binding from a policy with conditions (google/iam/v1/policy.proto).
      const services = sandbox.world.repository('projects/acme-prod-417/locations/us-central1/repositories/services');
      assert.ok(services);
      assert.ok(
        services.iam.bindings.some((b) => b.condition),
        'services has a conditional binding',
      );
      const etag = Buffer.from(services.iam.etag);
      const strip =
        'gcloud artifacts repositories remove-iam-policy-binding services --project=acme-prod-417 --location=us-central1 ' +
        '--member=serviceAccount:ci-builder@acme-prod-417.iam.gserviceaccount.com --role=roles/artifactregistry.writer';
      const refused = await runByHand(ws, strip);
      assert.equal(refused.code, 1, shown(strip, refused));
      assert.match(refused.stderr, /INVALID_ARGUMENT: .*requires policy version 3/);
      assert.ok(services.iam.etag.equals(etag), 'the policy is unchanged');
    } finally {
      await ws.remove();
      await sandbox.stop();
    }
  });
});

describe('imagepull sandbox, for a person with gcloud', () => {
  it('prints CLOUDSDK_CONFIG: a private configuration gcloud reads, pointed at the sandbox, removed on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'sandbox', '--scenario', 'seed'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/^export CLOUDSDK_CONFIG=/m.test(out) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const dir = /^export CLOUDSDK_CONFIG=(\S+)$/m.exec(out)?.[1];
      const endpoint = /^export IMAGEPULL_GOOGLE_ENDPOINT=(\S+)$/m.exec(out)?.[1];
      assert.ok(dir && endpoint, `printed the env lines:\n${out}`);
      const env = { PATH: process.env.PATH ?? '', HOME: dir, CLOUDSDK_CONFIG: dir };
      const ports = [Number(endpoint.split(':')[1])];
      const list = await runConfined('gcloud', ['config', 'list', '--format=json'], { env, ports });
      const props = JSON.parse(list.stdout) as Record<string, Record<string, string>>;
      assert.equal(props.auth?.disable_credentials, 'true');
      assert.equal(props.core?.check_gce_metadata, 'false');
      assert.equal(props.core?.disable_usage_reporting, 'true');
      assert.equal(props.core?.project, 'acme-prod-417');
      assert.equal(props.component_manager?.disable_update_check, 'true');
      assert.equal(props.api_endpoint_overrides?.artifactregistry, `http://${endpoint}/`);
      const describe = await runConfined('gcloud', ['projects', 'describe', 'acme-prod-417'], { env, ports });
      assert.equal(describe.code, 0, shown('gcloud projects describe', describe));
      assert.match(describe.stdout, /^projectNumber: '123456789012'$/m);
      assert.deepEqual([...list.violations, ...describe.violations], []);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      await assert.rejects(stat(dir), { code: 'ENOENT' }, 'the configuration is removed with the sandbox');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('the confinement the runs above rely on', () => {
  it('catches a connection to the metadata server and a DNS query, which cannot leave the namespace', async () => {
    const probe =
      `"${process.execPath}" -e "require('net').connect(80, '169.254.169.254').on('error', () => process.exit(3))"; ` +
      'getent hosts metadata.google.internal; echo done';
    const run = await runConfined('sh', ['-c', probe], { env: { PATH: process.env.PATH ?? '' }, ports: [] });
    assert.match(run.stdout, /done/);
    assert.ok(
      run.violations.some((v) => v.startsWith('connect AF_INET 169.254.169.254:80')),
      run.violations.join('\n'),
    );
    assert.ok(
      run.violations.some((v) => /:53 /.test(v)),
      `the DNS query is caught: ${run.violations.join('\n')}`,
    );
  });

  it("keeps the emulator launcher's own gcloud call (finding the SDK) on loopback and off ~/.config/gcloud", async () => {
    const home = await mkdtemp(join(tmpdir(), 'launcher-home-'));
    try {
      const script = `import('${new URL('../../../packages/sandbox/src/emulators.ts', import.meta.url).href}')
        .then((m) => m.findCloudSdkRoot()).then((root) => console.log(root ?? 'none'))`;
      const run = await runConfined(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH ?? '', HOME: home },
        ports: [],
      });
      assert.equal(run.code, 0, shown('findCloudSdkRoot()', run));
      assert.notEqual(run.stdout.trim(), 'none', 'it finds the SDK');
      assert.deepEqual(run.violations, [], 'gcloud info probes nothing');
      await assert.rejects(stat(join(home, '.config', 'gcloud')), { code: 'ENOENT' }, "the user's gcloud config");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('catches gcloud probing the metadata server when metrics/environment is not set', async () => {
    const sandbox = await startGoogleSandbox({ scenario: 'seed' });
    const ws = await gcloudWorkspace(sandbox);
    try {
      const file = `${ws.env.CLOUDSDK_CONFIG}/configurations/config_default`;
      const config = await readFile(file, 'utf8');
      await writeFile(file, config.replace(/\[metrics\]\nenvironment = .*\n/, ''));
      await rm(`${ws.env.CLOUDSDK_CONFIG}/gce`);
      const run = await runByHand(ws, 'gcloud projects describe acme-prod-417');
      assert.equal(run.code, 0, shown('gcloud projects describe', run));
      assert.ok(
        run.violations.some((v) => /:53 /.test(v)),
        `gcloud resolves metadata.google.internal${shown('', run)}`,
      );
    } finally {
      await ws.remove();
      await sandbox.stop();
    }
  });
});
