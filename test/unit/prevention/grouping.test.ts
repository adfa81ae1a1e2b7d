import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { AccessVerdict, ClusterFacts, NodePoolFacts } from '../../../src/diagnosis/facts.ts';
import { identityOfPool } from '../../../src/diagnosis/identity.ts';
import { crossImagesWithPools, type PullPair } from '../../../src/prevention/crossing.ts';
import type { ClusterInventory, WorkloadTemplate } from '../../../src/prevention/facts.ts';
import { groupGaps, type PairResult, undecided, verdictOf } from '../../../src/prevention/grouping.ts';
import { gapSummary } from '../../../src/prevention/report.ts';
import { ok } from '../diagnosis/fixtures.ts';

const REF = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };
const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const HOST = 'us-central1-docker.pkg.dev/acme-prod-417/services';
const A = `gke-a@acme-prod-417.iam.gserviceaccount.com`;
const B = `gke-b@acme-prod-417.iam.gserviceaccount.com`;
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

const pools: NodePoolFacts[] = [
  { name: 'pool-a', configuredServiceAccount: A, oauthScopes: SCOPES },
  { name: 'pool-b', configuredServiceAccount: B, oauthScopes: SCOPES },
];
const clusterFacts: ClusterFacts = { ref: REF, nodePools: pools, autopilot: false };

const template = (w: Partial<WorkloadTemplate> & Pick<WorkloadTemplate, 'kind' | 'name'>): WorkloadTemplate => ({
  namespace: 'prod',
  containers: [],
  nodeSelector: {},
  running: 0,
  desired: 0,
  ...w,
});

const inventory: ClusterInventory = {
  cluster: REF,
  pools,
  nodes: [
    {
      name: 'gke-a-1',
      pool: 'pool-a',
      labels: { 'cloud.google.com/gke-nodepool': 'pool-a' },
      images: [`${HOST}/checkout:1.8.2`],
    },
    {
      name: 'gke-b-1',
      pool: 'pool-b',
      labels: { 'cloud.google.com/gke-nodepool': 'pool-b' },
      images: [`${HOST}/checkout:1.8.2`, `${HOST}/checkout-migrate:1.8.2`],
    },
  ],
  workloads: [
    template({
      kind: 'Deployment',
      name: 'checkout',
      running: 3,
      desired: 3,
      containers: [
        { name: 'migrate', image: `${HOST}/checkout-migrate:1.8.2`, init: true },
        { name: 'checkout', image: `${HOST}/checkout:1.8.2`, init: false },
        { name: 'proxy', image: 'nginx:1.27', init: false },
      ],
    }),
    template({
      kind: 'CronJob',
      name: 'report',
      containers: [{ name: 'report', image: `${HOST}/report:2.0.0`, init: false }],
    }),
    // A CronJob's Job is the CronJob's business; a finished Job pulls nothing more.
    template({
      kind: 'Job',
      name: 'report-28999',
      ownerKind: 'CronJob',
      containers: [{ name: 'report', image: `${HOST}/old-report:1.0.0`, init: false }],
    }),
    template({
      kind: 'Job',
      name: 'migrate-once',
      idle: true,
      containers: [{ name: 'm', image: `${HOST}/migrate-once:1.0.0`, init: false }],
    }),
    template({ kind: 'Deployment', name: 'broken', containers: [{ name: 'x', image: 'Not A Ref', init: false }] }),
  ],
};

/** Reader on the repository for A only; the Troubleshooter agrees. */
function diagnosePair(pair: PullPair): PairResult {
  const identity = identityOfPool(pair.pool, ok(clusterFacts), ok('123456789012'));
  const sa = identity.ok ? identity.value.serviceAccount : '';
  const granted = sa === A;
  const access: AccessVerdict = {
    overall: granted ? 'CAN_ACCESS' : 'CANNOT_ACCESS',
    allow: granted ? 'ALLOW_ACCESS_STATE_GRANTED' : 'ALLOW_ACCESS_STATE_NOT_GRANTED',
    deny: 'DENY_ACCESS_STATE_NOT_DENIED',
    denyPolicies: [],
  };
  const diagnosis = diagnose({
    facts: {
      cluster: ok(clusterFacts),
      clusterProjectNumber: ok('123456789012'),
      repository: ok({ name: REPO, format: 'DOCKER', mode: 'STANDARD_REPOSITORY' }),
      tag: ok({ exists: true, packageExists: true, recentTags: [] }),
      repositoryPolicy: ok({
        version: 1,
        etag: 'BwYAAAAAAAE=',
        bindings: [{ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${A}`] }],
      }),
      projectPolicy: ok({ version: 1, etag: 'BwYAAAAAAAI=', bindings: [] }),
      access: ok(access),
    },
    classification: { cause: 'unknown' },
    subject: { cluster: REF, image: pair.image.raw },
    image: pair.image,
    identity,
  });
  return { pair, diagnosis };
}

describe('crossing images with pools and grouping the gaps by root cause', () => {
  const crossing = crossImagesWithPools(inventory);

  it('pairs every Artifact Registry image of the running workloads with every pool, each pair once', () => {
    const pairs = crossing.pairs.map((p) => `${p.pool.name} ${p.image.normalized}`).sort();
    assert.deepEqual(pairs, [
      `pool-a ${HOST}/checkout-migrate:1.8.2`,
      `pool-a ${HOST}/checkout:1.8.2`,
      `pool-a ${HOST}/report:2.0.0`,
      `pool-b ${HOST}/checkout-migrate:1.8.2`,
      `pool-b ${HOST}/checkout:1.8.2`,
      `pool-b ${HOST}/report:2.0.0`,
    ]);
    assert.equal(crossing.workloads, 3, "checkout, report and broken (the CronJob's Job and the finished Job are not)");
    const cached = crossing.pairs.find(
      (p) => p.pool.name === 'pool-a' && p.image.normalized.endsWith('checkout:1.8.2'),
    );
    assert.deepEqual([cached?.nodes, cached?.cachedOn], [1, 1]);
  });

  it('says what it did not check: images outside Artifact Registry and invalid references', () => {
    const text = JSON.stringify(crossing.notChecked);
    assert.match(text, /outside Artifact Registry: `docker\.io\/library\/nginx:1\.27`/);
    assert.match(text, /Not A Ref.*deployment\/prod\/broken/);
  });

  it('one gap per root cause: repository × the service account of the pool that cannot pull, with the exact grant', () => {
    const results = crossing.pairs.map(diagnosePair);
    assert.deepEqual(results.map((r) => verdictOf(r.diagnosis)).sort(), [
      'can-pull',
      'can-pull',
      'can-pull',
      'cannot-pull',
      'cannot-pull',
      'cannot-pull',
    ]);
    const gaps = groupGaps(results);
    assert.equal(gaps.length, 1);
    const [gap] = gaps;
    assert.equal(gap?.key, `node-access|${REPO}|${B}`, 'the key an alert-driven incident for it has');
    assert.equal(gap?.finding, 'node-sa-missing-reader');
    assert.deepEqual(
      gap?.pools.map((p) => [p.pool, p.serviceAccount]),
      [['pool-b', B]],
    );
    assert.deepEqual(gap?.images, [`${HOST}/checkout-migrate:1.8.2`, `${HOST}/checkout:1.8.2`, `${HOST}/report:2.0.0`]);
    assert.deepEqual(
      gap?.uses.map((u) => `${u.kind}/${u.name}`),
      ['Deployment/checkout', 'CronJob/report'],
    );
    assert.deepEqual(gap?.fix.grant, {
      kind: 'grant-repo-reader',
      repository: REPO,
      member: `serviceAccount:${B}`,
      role: 'roles/artifactregistry.reader',
      basedOnEtag: 'BwYAAAAAAAE=',
    });
    assert.match(gap?.fix.command ?? '', /add-iam-policy-binding services .*--member=serviceAccount:gke-b@/);
    assert.equal(
      gapSummary(gap as NonNullable<typeof gap>),
      'node pool `pool-b` (`gke-b@acme-prod-417.iam.gserviceaccount.com`) cannot pull 3 images used by 2 workloads; ' +
        '1 of them runs today only from the node cache; cronjob/report has not run yet: the first run will fail',
    );
    assert.deepEqual(undecided(results), []);
  });

  it('a pair the reads could not decide is not a gap, and is named as not checked', () => {
    const [pair] = crossing.pairs.filter((p) => p.pool.name === 'pool-b');
    const diagnosis = diagnose({
      facts: {
        cluster: ok(clusterFacts),
        repository: ok({ name: REPO, format: 'DOCKER', mode: 'STANDARD_REPOSITORY' }),
        repositoryPolicy: {
          ok: false,
          error: { code: 'unavailable', message: 'getIamPolicy: 503' },
          source: 'AR getIamPolicy',
        },
      },
      classification: { cause: 'unknown' },
      subject: { cluster: REF },
      image: (pair as PullPair).image,
      identity: identityOfPool((pair as PullPair).pool, ok(clusterFacts), undefined),
    });
    const results = [{ pair: pair as PullPair, diagnosis }];
    assert.equal(verdictOf(diagnosis), 'unknown');
    assert.deepEqual(groupGaps(results), []);
    assert.match(JSON.stringify(undecided(results)), /whether pool `pool-b` .* can pull .*getIamPolicy: 503/);
  });
});
