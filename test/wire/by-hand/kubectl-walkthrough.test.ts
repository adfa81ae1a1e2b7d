import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { staysLocal } from '../../support/egress-trace.ts';
import { explain, Kubectl, type KubectlResult, requireKubectlAndStrace } from './kubectl-run.ts';

/**
 * The sandbox walkthrough by hand, with the real kubectl: `imagepull sandbox` hands out a kubeconfig; `kubectl get
 * pods -n prod` shows the seed's failing pods as a real cluster would; the rollout waits while the node service
 * account lacks reader; after the grant (made in the sandbox world, as the printed gcloud command would) a restart
 * rolls out and `kubectl get pods` shows the new pods Running — in the same world the bot reads.
 */

const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const NODE_SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
const READER = 'roles/artifactregistry.reader';

function ran(command: string, r: KubectlResult): void {
  assert.equal(r.code, 0, explain(command, r));
  assert.deepEqual(
    r.connects.filter((c) => !staysLocal(c)),
    [],
    `kubectl connected beyond loopback\n${explain(command, r)}`,
  );
}

/** The rows of a kubectl table whose first column starts with `prefix`, split on runs of spaces. */
function rows(stdout: string, prefix: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.trim().split(/\s{2,}/));
}

describe('the sandbox walkthrough with the real kubectl', () => {
  let sb: Sandbox;
  let kubectl: Kubectl;
  let kubeconfigDir: string;

  before(async () => {
    await requireKubectlAndStrace();
    sb = await startSandbox({ scenario: 'seed', pubsub: false, podStartMs: 100 });
    kubectl = new Kubectl(sb.kubeconfig);
    kubeconfigDir = dirname(sb.kubeconfig);
  });
  after(async () => {
    kubectl?.close();
    await sb?.stop();
  });

  it('hands out a private kubeconfig with a GKE-style current context', async () => {
    assert.equal(statSync(sb.kubeconfig).mode & 0o777, 0o600);
    assert.equal(statSync(kubeconfigDir).mode & 0o777, 0o700);
    const r = await kubectl.run('kubectl config current-context');
    ran('kubectl config current-context', r);
    assert.equal(r.stdout.trim(), 'gke_acme-prod-417_us-central1_prod');
  });

  it('kubectl get pods -n prod shows the failing pods as a real cluster does', async () => {
    const r = await kubectl.run('kubectl get pods -n prod');
    ran('kubectl get pods -n prod', r);
    assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    const checkout = rows(r.stdout, 'checkout-');
    assert.equal(checkout.length, 3, explain('kubectl get pods -n prod', r));
    for (const [name, ready, status, restarts, age] of checkout) {
      assert.match(name ?? '', /^checkout-7d9c8b6f4-\w{5}$/);
      assert.equal(ready, '0/1');
      assert.match(status ?? '', /^(ImagePullBackOff|ErrImagePull)$/);
      assert.equal(restarts, '0');
      assert.match(age ?? '', /^\d+m(\d+s)?$/);
    }
    for (const [, ready, status] of rows(r.stdout, 'frontend-')) assert.deepEqual([ready, status], ['1/1', 'Running']);
  });

  it('kubectl get deploy checkout -n prod shows READY / UP-TO-DATE / AVAILABLE', async () => {
    const r = await kubectl.run('kubectl get deploy checkout -n prod');
    ran('kubectl get deploy checkout -n prod', r);
    assert.match(r.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    assert.deepEqual(rows(r.stdout, 'checkout')[0]?.slice(0, 4), ['checkout', '0/3', '3', '0']);
  });

  it('kubectl get events -n prod lists the pull failures', async () => {
    const r = await kubectl.run('kubectl get events -n prod');
    ran('kubectl get events -n prod', r);
    assert.match(r.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    assert.match(r.stdout, /Warning\s+Failed\s+pod\/checkout-7d9c8b6f4-q2xnv\s+Failed to pull image ".*403 Forbidden/);
  });

  it('while the node service account lacks reader, the rollout waits and times out', async () => {
    const restart = await kubectl.run('kubectl rollout restart deployment/checkout -n prod');
    ran('kubectl rollout restart deployment/checkout -n prod', restart);
    const cmd = 'kubectl rollout status deployment/checkout -n prod --timeout=3s';
    const r = await kubectl.run(cmd);
    assert.equal(r.code, 1, explain(cmd, r));
    // maxSurge 1, maxUnavailable 0: one new pod is created, fails to pull, and nothing else moves.
    assert.match(r.stdout, /rollout to finish: 1 out of 3 new replicas have been updated\.\.\./);
    assert.match(r.stderr, /timed out waiting for the condition/);
  });

  it('after the grant, restart and status return 0 and the new pods run, in the world the bot reads', async () => {
    sb.google.addBinding(SERVICES, READER, NODE_SA);
    const restart = await kubectl.run('kubectl rollout restart deployment/checkout -n prod');
    ran('kubectl rollout restart deployment/checkout -n prod', restart);
    assert.equal(restart.stdout.trim(), 'deployment.apps/checkout restarted');
    const cmd = 'kubectl rollout status deployment/checkout -n prod --timeout=60s';
    const status = await kubectl.run(cmd, 90_000);
    ran(cmd, status);
    assert.match(status.stdout, /deployment "checkout" successfully rolled out\n$/);
    const pods = await kubectl.run('kubectl get pods -n prod');
    ran('kubectl get pods -n prod', pods);
    const checkout = rows(pods.stdout, 'checkout-');
    assert.equal(checkout.length, 3, explain('kubectl get pods -n prod', pods));
    for (const [, ready, status] of checkout) assert.deepEqual([ready, status], ['1/1', 'Running']);
    const described = await kubectl.run('kubectl describe deploy checkout -n prod');
    ran('kubectl describe deploy checkout -n prod', described);
    assert.match(
      described.stdout,
      /ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set checkout-\w+ to 3 from 2/,
    );
    assert.match(described.stdout, /Scaled down replica set checkout-7d9c8b6f4 to 0 from 1/);
    const deploy = await kubectl.run('kubectl get deploy checkout -n prod');
    assert.deepEqual(rows(deploy.stdout, 'checkout')[0]?.slice(0, 4), ['checkout', '3/3', '3', '3']);
    const cluster = sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
    const d = cluster?.kube.get('Deployment', 'prod', 'checkout') as
      | { status: { availableReplicas?: number }; spec: { template: { metadata: { annotations?: object } } } }
      | undefined;
    assert.equal(d?.status.availableReplicas, 3);
    assert.ok(d && 'kubectl.kubernetes.io/restartedAt' in (d.spec.template.metadata.annotations ?? {}));
  });

  it('stop() removes the kubeconfig and its private directory', async () => {
    const path = sb.kubeconfig;
    await sb.stop();
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(kubeconfigDir), false);
  });
});

describe('imagepull sandbox prints export KUBECONFIG=…', () => {
  it('writes the kubeconfig into --dir, kubectl works with it, and Ctrl-C removes it', async () => {
    await requireKubectlAndStrace();
    const dir = join(mkdtempSync(join(tmpdir(), 'imagepull-cli-')), 'kube');
    const child = spawn(
      process.execPath,
      ['--import', './test/support/no-egress.ts', 'src/cli/main.ts', 'sandbox', '--scenario', 'seed', '--dir', dir],
      { env: { ...process.env, METADATA_SERVER_DETECTION: 'none' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const kubeconfigLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no export KUBECONFIG line in 60 s\n${stdout}\n${stderr}`)),
        60_000,
      );
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        const m = /^export KUBECONFIG=(.+)$/m.exec(stdout);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then((code) => reject(new Error(`imagepull sandbox exited (${code}) early\n${stderr}`)));
    });
    const kubectl = new Kubectl(kubeconfigLine);
    try {
      assert.equal(kubeconfigLine, join(dir, 'kubeconfig'));
      assert.equal(statSync(kubeconfigLine).mode & 0o777, 0o600);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.match(readFileSync(kubeconfigLine, 'utf8'), /^current-context: "gke_acme-prod-417_us-central1_prod"$/m);
      assert.match(
        stdout,
        /^export IMAGEPULL_GOOGLE_ENDPOINT=127\.0\.0\.1:\d+$/m,
        'the bot env lines are still printed',
      );
      const r = await kubectl.run('kubectl get deploy checkout -n prod');
      ran('kubectl get deploy checkout -n prod', r);
      assert.deepEqual(rows(r.stdout, 'checkout')[0]?.slice(0, 2), ['checkout', '0/3']);
    } finally {
      kubectl.close();
      if (child.exitCode === null) child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(existsSync(kubeconfigLine), false, 'the kubeconfig is removed on exit');
    rmSync(dirname(dir), { recursive: true, force: true });
  });
});
