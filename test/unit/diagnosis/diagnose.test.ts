import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKS, type Check } from '../../../src/diagnosis/checks/index.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { Facts } from '../../../src/diagnosis/facts.ts';
import { denied, notFound, ok, projectPolicy, repoPolicy, SEED, seedCluster, seedInput } from './fixtures.ts';

const GRANTED = {
  overall: 'CAN_ACCESS' as const,
  allow: 'ALLOW_ACCESS_STATE_GRANTED',
  deny: 'DENY_ACCESS_STATE_NOT_DENIED',
  denyPolicies: [],
};
const withReader = {
  ...repoPolicy,
  bindings: [...repoPolicy.bindings, { role: 'roles/artifactregistry.reader', members: [`serviceAccount:${SEED.sa}`] }],
};

interface Case {
  name: string;
  over?: Partial<Facts>;
  message?: string;
  image?: string;
  findings: string[];
  fixes: string[];
}

// Each case varies the seed facts in one way a GKE team meets, and says what the bot must conclude.
const cases: Case[] = [
  {
    name: 'seed: default compute SA lacks reader',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  {
    name: 'troubleshooter unavailable: the two allow policies alone decide',
    over: { access: notFound('troubleshooter') },
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  {
    name: 'policies unreadable: the troubleshooter alone decides, and the missing permissions are named',
    over: {
      repositoryPolicy: denied('artifactregistry.repositories.getIamPolicy'),
      projectPolicy: denied('resourcemanager.projects.getIamPolicy'),
    },
    findings: ['node-sa-missing-reader', 'cannot-verify'],
    // The bot cannot apply a grant to a policy it cannot read: no doomed button.
    fixes: [],
  },
  {
    name: 'nothing readable about IAM: cannot-verify, no grant offered',
    over: {
      repositoryPolicy: denied('artifactregistry.repositories.getIamPolicy'),
      projectPolicy: denied('resourcemanager.projects.getIamPolicy'),
      access: ok({ overall: 'UNKNOWN_INFO', denyPolicies: [] }),
    },
    findings: ['cannot-verify'],
    fixes: [],
  },
  {
    name: 'reader at project level: already granted, restart only',
    over: {
      projectPolicy: ok({
        ...projectPolicy,
        bindings: [
          ...projectPolicy.bindings,
          { role: 'roles/artifactregistry.reader', members: [`serviceAccount:${SEED.sa}`] },
        ],
      }),
      access: ok(GRANTED),
    },
    findings: ['access-already-granted'],
    fixes: ['restart-workload'],
  },
  {
    name: 'Editor on the project counts as reader',
    over: {
      projectPolicy: ok({
        ...projectPolicy,
        bindings: [{ role: 'roles/editor', members: [`serviceAccount:${SEED.sa}`] }],
      }),
      access: notFound('troubleshooter'),
    },
    findings: ['access-already-granted'],
    fixes: ['restart-workload'],
  },
  {
    name: 'only a conditional (expired) reader binding: still missing, the condition is named, policy version 3 kept',
    over: {
      repositoryPolicy: ok({
        ...repoPolicy,
        bindings: [
          ...repoPolicy.bindings,
          {
            role: 'roles/artifactregistry.reader',
            members: [`serviceAccount:${SEED.sa}`],
            condition: { title: 'until-2026', expression: 'request.time < timestamp("2026-01-01T00:00:00Z")' },
          },
        ],
      }),
      access: ok({
        overall: 'UNKNOWN_CONDITIONAL',
        allow: 'ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL',
        deny: 'DENY_ACCESS_STATE_NOT_DENIED',
        denyPolicies: [],
      }),
    },
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  {
    name: 'deny policy wins over a reader grant',
    over: {
      repositoryPolicy: ok(withReader),
      access: ok({
        overall: 'CANNOT_ACCESS',
        allow: 'ALLOW_ACCESS_STATE_GRANTED',
        deny: 'DENY_ACCESS_STATE_DENIED',
        denyPolicies: [
          { policy: 'policies/cloudresourcemanager.googleapis.com%2Fprojects%2Facme-prod-417/denypolicies/no-ar' },
        ],
      }),
    },
    findings: ['deny-policy'],
    fixes: [],
  },
  {
    name: 'scopes without cloud-platform or devstorage',
    over: {
      cluster: ok({
        ...seedCluster,
        nodePools: [
          {
            name: 'default-pool',
            configuredServiceAccount: 'nodes@acme-prod-417.iam.gserviceaccount.com',
            oauthScopes: ['https://www.googleapis.com/auth/logging.write'],
          },
        ],
      }),
      repositoryPolicy: ok({
        ...repoPolicy,
        bindings: [
          {
            role: 'roles/artifactregistry.reader',
            members: ['serviceAccount:nodes@acme-prod-417.iam.gserviceaccount.com'],
          },
        ],
      }),
      access: ok(GRANTED),
    },
    findings: ['node-scopes-insufficient'],
    fixes: [],
  },
  {
    name: 'repository missing everywhere',
    over: { repository: notFound('repository'), similarRepositories: ok([]), repositoryPolicy: notFound('policy') },
    findings: ['repository-not-found'],
    fixes: [],
  },
  {
    name: 'wrong regional host: the repository exists in another location',
    image: 'us-east1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
    over: {
      repository: notFound('repository'),
      similarRepositories: ok([{ name: SEED.repo, format: 'DOCKER', mode: 'STANDARD_REPOSITORY' }]),
    },
    findings: ['repository-not-found'],
    fixes: [],
  },
  {
    name: 'tag missing, node can pull',
    message:
      'Failed to pull image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.3": rpc error: code = NotFound desc = failed to pull and unpack image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.3": failed to resolve reference "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.3": us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.3: not found',
    image: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.3',
    over: {
      repositoryPolicy: ok(withReader),
      access: ok(GRANTED),
      tag: ok({
        exists: false,
        packageExists: true,
        recentTags: [{ tag: '1.8.2', updated: '2026-11-20T10:00:00.000Z' }],
      }),
    },
    findings: ['image-not-found'],
    fixes: [],
  },
  {
    name: 'VPC-SC text in the message: never a grant',
    message:
      'Error response from daemon: Head "https://us-central1-docker.pkg.dev/v2/acme-prod-417/services/checkout/manifests/1.8.2": denied: Request is prohibited by organization\'s policy. vpcServiceControlsUniqueIdentifier: abc123',
    findings: ['vpc-sc'],
    fixes: [],
  },
  {
    name: 'workload identity: the GSA has reader, the node SA does not',
    over: {
      kubernetesServiceAccount: ok({
        name: 'prod/checkout',
        gcpServiceAccount: 'checkout@acme-prod-417.iam.gserviceaccount.com',
      }),
      repositoryPolicy: ok({
        ...repoPolicy,
        bindings: [
          ...repoPolicy.bindings,
          {
            role: 'roles/artifactregistry.reader',
            members: ['serviceAccount:checkout@acme-prod-417.iam.gserviceaccount.com'],
          },
        ],
      }),
    },
    findings: ['node-sa-missing-reader', 'workload-identity-misconception'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  {
    name: 'cross-project repository',
    image: 'us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2',
    message:
      'failed to resolve reference "us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2": failed to authorize: failed to fetch anonymous token: unexpected status: 403 Forbidden',
    findings: ['cross-project-reader-missing'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  {
    name: 'Docker Hub rate limit: advice, no GCP fix',
    image: 'nginx:1.25',
    message:
      'Failed to pull image "nginx:1.25": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:1.25": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.',
    findings: ['non-gcp-registry'],
    fixes: [],
  },
  {
    name: 'network failure on an AR host: no IAM finding, no fix',
    message:
      'Failed to pull image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2": rpc error: code = Unknown desc = failed to pull and unpack image: failed to resolve reference: failed to do request: Head "https://us-central1-docker.pkg.dev/v2/acme-prod-417/services/checkout/manifests/1.8.2": dial tcp 199.36.153.8:443: i/o timeout',
    findings: [],
    fixes: [],
  },
];

describe('diagnose (pure, over hand-built facts)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = diagnose(seedInput(c.over, c.message, c.image));
      assert.deepEqual(
        d.findings.map((f) => f.id),
        c.findings,
      );
      assert.deepEqual(
        d.fixes.map((f) => f.kind),
        c.fixes,
      );
      for (const f of d.findings) {
        assert.ok(f.title.length > 0 && f.summary.length > 0, `${f.id} has human text`);
        assert.ok(
          !/imagePullSecrets/.test(f.summary) || f.id === 'non-gcp-registry',
          `${f.id} never advises pull secrets for Artifact Registry`,
        );
      }
    });
  }

  it('the seed grant is least privilege: reader, on the one repository, for the node SA, from the etag it read', () => {
    const d = diagnose(seedInput());
    assert.deepEqual(d.fixes[0], {
      kind: 'grant-repo-reader',
      repository: SEED.repo,
      member: `serviceAccount:${SEED.sa}`,
      role: 'roles/artifactregistry.reader',
      basedOnEtag: repoPolicy.etag,
    });
    assert.equal(d.key, `node-access|${SEED.repo}|${SEED.sa}`);
    const commands = d.findings[0]?.commands.map((c) => c.command) ?? [];
    assert.ok(
      commands.some((c) =>
        c.startsWith(
          'gcloud artifacts repositories add-iam-policy-binding services --project=acme-prod-417 --location=us-central1',
        ),
      ),
    );
    assert.ok(commands.some((c) => c === 'kubectl rollout restart deployment/checkout -n prod'));
  });

  it('a check that throws becomes a visible unknown for that check; the other findings stand', () => {
    const broken: Check = {
      id: 'vpc-sc',
      run: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'perimeter')");
      },
    };
    const d = diagnose(seedInput(), [broken, ...CHECKS.filter((c) => c.id !== 'vpc-sc')]);
    assert.deepEqual(
      d.findings.map((f) => f.id),
      ['node-sa-missing-reader'],
      'the seed diagnosis is not lost',
    );
    assert.deepEqual(
      d.fixes.map((f) => f.kind),
      ['grant-repo-reader', 'restart-workload'],
    );
    const u = d.unknowns.find((x) => x.check === 'vpc-sc');
    assert.match(u?.error.message ?? '', /the check failed: Cannot read properties of undefined/);
    assert.equal(d.confidence, 'medium', 'an unknown lowers the confidence');
  });

  it('names every permission the bot lacked', () => {
    const d = diagnose(
      seedInput({
        repositoryPolicy: denied('artifactregistry.repositories.getIamPolicy'),
        projectPolicy: denied('resourcemanager.projects.getIamPolicy'),
        access: ok({ overall: 'UNKNOWN_INFO', denyPolicies: [] }),
      }),
    );
    const cv = d.findings.find((f) => f.id === 'cannot-verify');
    assert.match(cv?.title ?? '', /artifactregistry\.repositories\.getIamPolicy/);
    assert.match(cv?.title ?? '', /resourcemanager\.projects\.getIamPolicy/);
    assert.equal(d.confidence, 'medium');
  });

  it('a conditional-only grant is named in the summary', () => {
    const d = diagnose(
      seedInput({
        repositoryPolicy: ok({
          ...repoPolicy,
          bindings: [
            {
              role: 'roles/artifactregistry.reader',
              members: [`serviceAccount:${SEED.sa}`],
              condition: { title: 'until-2026', expression: 'request.time < timestamp("2026-01-01T00:00:00Z")' },
            },
          ],
        }),
        access: ok({
          overall: 'UNKNOWN_CONDITIONAL',
          allow: 'ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL',
          denyPolicies: [],
        }),
      }),
    );
    assert.match(d.findings[0]?.summary ?? '', /only pull role is conditional \(until-2026/);
  });

  it('wrong region names the host to use', () => {
    const d = diagnose(
      seedInput(
        {
          repository: notFound('repository'),
          similarRepositories: ok([{ name: SEED.repo, format: 'DOCKER', mode: 'STANDARD_REPOSITORY' }]),
        },
        SEED.message,
        'us-east1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      ),
    );
    assert.match(
      d.findings[0]?.nextSteps.join(' ') ?? '',
      /us-central1-docker\.pkg\.dev\/acme-prod-417\/services\/checkout/,
    );
  });
});
