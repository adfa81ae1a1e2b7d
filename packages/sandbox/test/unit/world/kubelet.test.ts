import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildScenario } from '../../../src/scenarios/index.ts';
import { addMember } from '../../../src/world/iam.ts';
import { simulatePull } from '../../../src/world/kubelet.ts';
import type { World } from '../../../src/world/world.ts';

const SEED_IMAGE = 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2';
const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const DEFAULT_SA = '123456789012-compute@developer.gserviceaccount.com';

/** Pulls `image` on a node of the scenario's (first or named) pool, as the kubelet would now. */
function pull(
  world: World,
  image: string,
  opts: { pool?: string; cached?: boolean; policy?: 'Always' | 'IfNotPresent' | 'Never' } = {},
) {
  const cluster = [...world.clusters.values()][0]!;
  const pool = cluster.nodePools.find((p) => !opts.pool || p.name === opts.pool)!;
  const cachedImages = opts.cached ? [{ names: [`${image}`], sizeBytes: 1 }] : [];
  return simulatePull(world, {
    cluster,
    pool,
    image,
    cachedImages,
    ...(opts.policy ? { pullPolicy: opts.policy } : {}),
  });
}

function failure(world: World, image: string, opts?: Parameters<typeof pull>[2]) {
  const r = pull(world, image, opts);
  assert.equal(r.ok, false, `expected ${image} to fail`);
  return r as Extract<typeof r, { ok: false }>;
}

describe('kubelet simulator', () => {
  it("writes exactly the seed guide's 403 message for the default compute SA without reader", () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../fixtures/alerts/logentry-failed-to-pull.json', import.meta.url), 'utf8'),
    ) as { jsonPayload: { message: string } };
    const r = failure(buildScenario('seed').world, SEED_IMAGE);
    assert.equal(r.message, fixture.jsonPayload.message);
    assert.equal(r.kind, 'forbidden');
    assert.equal(r.waitingReason, 'ErrImagePull');
  });

  it('pulls once the node SA is granted reader, but not before the grant has propagated', () => {
    const { world } = buildScenario('seed');
    world.propagationDelayMs = 60_000;
    addMember(
      world.repository(SERVICES)!.iam,
      SERVICES,
      'roles/artifactregistry.reader',
      `serviceAccount:${DEFAULT_SA}`,
      world.now(),
    );
    assert.equal(failure(world, SEED_IMAGE).kind, 'forbidden');
    world.propagationDelayMs = 0;
    const ok = pull(world, SEED_IMAGE);
    assert.equal(ok.ok, true);
    assert.match(
      ok.ok ? ok.imageId : '',
      /^us-central1-docker\.pkg\.dev\/acme-prod-417\/services\/checkout@sha256:[0-9a-f]{64}$/,
    );
  });

  const cases: { scenario: string; image: string; kind: string; text: RegExp }[] = [
    {
      scenario: 'tag-missing',
      image: `${SEED_IMAGE.slice(0, -1)}3`,
      kind: 'not-found',
      text: /code = NotFound desc = .*checkout:1\.8\.3: not found$/,
    },
    {
      scenario: 'scopes',
      image: SEED_IMAGE,
      kind: 'scopes',
      text: /failed to fetch oauth token: unexpected status from GET request to https:\/\/us-central1-docker\.pkg\.dev\/v2\/token\?scope=repository%3Aacme-prod-417%2Fservices%2Fcheckout%3Apull&service=us-central1-docker\.pkg\.dev: 403 Forbidden$/,
    },
    {
      scenario: 'vpc-sc',
      image: 'us-central1-docker.pkg.dev/acme-secure-artifacts/secure/checkout:1.8.2',
      kind: 'vpc-sc',
      text: /403 Forbidden: denied: Request is prohibited by organization's policy\. vpcServiceControlsUniqueIdentifier: \S+$/,
    },
    { scenario: 'deny-policy', image: SEED_IMAGE, kind: 'forbidden', text: /\[manifests 1\.8\.2\]: 403 Forbidden$/ },
    {
      scenario: 'repo-missing',
      image: 'us-central1-docker.pkg.dev/acme-prod-417/service/checkout:1.8.2',
      kind: 'repository-not-found',
      text: /403 Forbidden$/,
    },
    {
      scenario: 'wrong-region',
      image: 'us-east1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      kind: 'repository-not-found',
      text: /pulling from host us-east1-docker\.pkg\.dev failed with status code \[manifests 1\.8\.2\]: 403 Forbidden$/,
    },
    {
      scenario: 'docker-hub-rate-limit',
      image: 'nginx:1.25',
      kind: 'rate-limited',
      text: /429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit/,
    },
    {
      scenario: 'gcr-io',
      image: 'gcr.io/acme-prod-417/legacy-api:2.3.0',
      kind: 'forbidden',
      text: /pulling from host gcr\.io failed with status code \[manifests 2\.3\.0\]: 403 Forbidden$/,
    },
    {
      scenario: 'seed',
      image: 'quay.io/acme/tool:1',
      kind: 'unreachable',
      text: /lookup quay\.io on 169\.254\.169\.254:53: no such host$/,
    },
    {
      scenario: 'seed',
      image: 'acme/does-not-exist:1',
      kind: 'not-found',
      text: /pull access denied, repository does not exist or may require authorization/,
    },
  ];
  for (const c of cases) {
    it(`fails ${c.scenario}: ${c.image} as ${c.kind}`, () => {
      const r = failure(buildScenario(c.scenario).world, c.image);
      assert.equal(r.kind, c.kind);
      assert.match(r.message, c.text);
      assert.ok(r.message.startsWith(`Failed to pull image "${c.image}": rpc error: code = `));
    });
  }

  it('lets a cross-project pull succeed once reader is granted in the repository project', () => {
    const { world } = buildScenario('cross-project');
    const image = 'us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2';
    assert.equal(failure(world, image).kind, 'forbidden');
    const repo = 'projects/acme-shared-artifacts/locations/us/repositories/base';
    addMember(world.repository(repo)!.iam, repo, 'roles/artifactregistry.reader', `serviceAccount:${DEFAULT_SA}`, 0);
    assert.equal(pull(world, image).ok, true);
  });

  it('pulls with the failing pool SA in custom-sa-wrong-pool, and succeeds on the other pool', () => {
    const { world } = buildScenario('custom-sa-wrong-pool');
    assert.equal(failure(world, SEED_IMAGE, { pool: 'pool-b' }).kind, 'forbidden');
    assert.equal(pull(world, SEED_IMAGE, { pool: 'pool-a' }).ok, true);
  });

  it('reuses a cached image under IfNotPresent but goes to the registry under Always', () => {
    const { world } = buildScenario('seed');
    const cached = pull(world, SEED_IMAGE, { cached: true });
    assert.equal(cached.ok && cached.cached, true);
    assert.equal(failure(world, SEED_IMAGE, { cached: true, policy: 'Always' }).kind, 'forbidden');
  });

  it('reports the Never pull policy and invalid references the way the kubelet does', () => {
    const { world } = buildScenario('seed');
    const never = failure(world, SEED_IMAGE, { policy: 'Never' });
    assert.equal(never.message, `Container image "${SEED_IMAGE}" is not present with pull policy of Never`);
    assert.equal(never.waitingReason, 'ErrImageNeverPull');
    const invalid = failure(world, 'Bad/Name:1');
    assert.equal(invalid.waitingReason, 'InvalidImageName');
    assert.match(invalid.message, /invalid reference format$/);
  });
});
