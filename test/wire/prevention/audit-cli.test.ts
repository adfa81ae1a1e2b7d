import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../run-cli.ts';

const HOST = 'us-central1-docker.pkg.dev/acme-prod-417';

/** Runs the real `imagepull` process, as a pipeline step would. */
const imagepull = (args: string[]) => runCli(args);

describe('imagepull audit --image (the check a pipeline runs before it deploys)', () => {
  it('exits 1 with the reason and the exact fix when the cluster could not pull the image', async () => {
    const r = await imagepull(['audit', '--sandbox', 'seed', '--image', `${HOST}/services/checkout:1.8.2`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /✗ cluster acme-prod-417\/us-central1\/prod could not pull .*checkout:1\.8\.2/);
    assert.match(r.stdout, /why: Node service account lacks read access to repository services/);
    assert.match(
      r.stdout,
      /gcloud artifacts repositories add-iam-policy-binding services --project=acme-prod-417 --location=us-central1 --member=serviceAccount:123456789012-compute@developer\.gserviceaccount\.com --role=roles\/artifactregistry\.reader/,
    );
  });

  it('exits 0 when every node pool can pull it', async () => {
    const r = await imagepull(['audit', '--sandbox', 'seed', '--image', `${HOST}/web/frontend:3.1.0`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /✓ every node pool checked \(default-pool\) of cluster acme-prod-417\/us-central1\/prod can pull/,
    );
  });

  it('exits 1 for a tag that was never pushed, saying to push it', async () => {
    const r = await imagepull(['audit', '--sandbox', 'seed', '--image', `${HOST}/web/frontend:9.9.9`, '--json']);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout) as { gaps: { finding: string; fix: { steps: string[] } }[] };
    assert.deepEqual(
      json.gaps.map((g) => g.finding),
      ['image-not-found'],
    );
    assert.match(json.gaps[0]?.fix.steps[0] ?? '', /Push the missing tag/);
  });

  it('--node-pool checks one pool: the pool that can pull passes, the one that cannot fails', async () => {
    const image = `${HOST}/services/checkout:1.8.2`;
    const a = await imagepull([
      'audit',
      '--sandbox',
      'custom-sa-wrong-pool',
      '--image',
      image,
      '--node-pool',
      'pool-a',
    ]);
    assert.equal(a.code, 0, a.stdout);
    const b = await imagepull([
      'audit',
      '--sandbox',
      'custom-sa-wrong-pool',
      '--image',
      image,
      '--node-pool',
      'pool-b',
    ]);
    assert.equal(b.code, 1);
    assert.match(b.stdout, /node pool pool-b \(123456789012-compute@developer\.gserviceaccount\.com\) cannot pull/);
  });

  it('is a usage error (exit 2) to name a pool without an image', async () => {
    const r = await imagepull(['audit', '--sandbox', 'seed', '--node-pool', 'default-pool']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--node-pool goes with --image/);
  });
});
