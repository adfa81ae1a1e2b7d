import { classifyMessage } from '../../../src/diagnosis/classify.ts';
import type { DiagnoseInput } from '../../../src/diagnosis/diagnose.ts';
import { type ClusterFacts, type Fact, type Facts, factFailed, factOk } from '../../../src/diagnosis/facts.ts';
import type { IamPolicy } from '../../../src/diagnosis/iam-policy.ts';
import { resolveIdentity } from '../../../src/diagnosis/identity.ts';
import { parseImageRef } from '../../../src/diagnosis/image-ref.ts';

/** Hand-built facts for pure diagnosis tests: the seed incident (a node pool on the Compute Engine default SA without reader), varied one fact at a time. */
export const SEED = {
  project: 'acme-prod-417',
  number: '123456789012',
  sa: '123456789012-compute@developer.gserviceaccount.com',
  image: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
  repo: 'projects/acme-prod-417/locations/us-central1/repositories/services',
  message:
    'Failed to pull image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2": rpc error: code = Unknown desc = failed to pull and unpack image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2": failed to resolve reference "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2": pulling from host us-central1-docker.pkg.dev failed with status code [manifests 1.8.2]: 403 Forbidden',
} as const;

export const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/logging.write',
  'https://www.googleapis.com/auth/monitoring',
];

const cluster: ClusterFacts = {
  ref: { project: SEED.project, location: 'us-central1', name: 'prod' },
  nodePools: [{ name: 'default-pool', configuredServiceAccount: 'default', oauthScopes: DEFAULT_SCOPES }],
  autopilot: false,
  workloadPool: `${SEED.project}.svc.id.goog`,
};

// Other people's bindings the grant must leave alone.
export const repoPolicy: IamPolicy = {
  version: 3,
  etag: 'BwYAAAAAAAE=',
  bindings: [
    { role: 'roles/artifactregistry.writer', members: ['serviceAccount:ci@acme-prod-417.iam.gserviceaccount.com'] },
  ],
};
export const projectPolicy: IamPolicy = {
  version: 1,
  etag: 'BwYAAAAAAAI=',
  bindings: [{ role: 'roles/container.defaultNodeServiceAccount', members: [`serviceAccount:${SEED.sa}`] }],
};

const src = (what: string) => `test ${what}`;

export function ok<T>(value: T, what = 'read'): Fact<T> {
  return factOk(value, src(what));
}

export function denied<T>(permission: string): Fact<T> {
  return factFailed(
    { code: 'permission-denied', message: `Permission '${permission}' denied`, permission },
    src(permission),
  );
}

export function notFound<T>(what: string): Fact<T> {
  return factFailed({ code: 'not-found', message: `${what} not found` }, src(what));
}

/** Facts of the seed incident; `over` replaces single facts. */
export function seedInput(
  over: Partial<Facts> = {},
  message: string = SEED.message,
  imageRaw: string = SEED.image,
): DiagnoseInput {
  const facts: Facts = {
    cluster: ok(cluster, 'cluster'),
    clusterProjectNumber: ok(SEED.number, 'project number'),
    node: ok({ name: 'gke-prod-default-pool-a1b2c3d4-9xkz', nodePool: 'default-pool' }, 'node'),
    workload: ok({ kind: 'Deployment', namespace: 'prod', name: 'checkout', paused: false }, 'workload'),
    kubernetesServiceAccount: ok({ name: 'prod/default' }, 'ksa'),
    repository: ok({ name: SEED.repo, format: 'DOCKER', mode: 'STANDARD_REPOSITORY' }, 'repository'),
    tag: ok({ exists: true, packageExists: true, recentTags: [] }, 'tag'),
    repositoryPolicy: ok(repoPolicy, 'repository policy'),
    projectPolicy: ok(projectPolicy, 'project policy'),
    access: ok(
      {
        overall: 'CANNOT_ACCESS',
        allow: 'ALLOW_ACCESS_STATE_NOT_GRANTED',
        deny: 'DENY_ACCESS_STATE_NOT_DENIED',
        denyPolicies: [],
      },
      'troubleshooter',
    ),
    ...over,
  };
  const parsed = parseImageRef(imageRaw);
  const identity = resolveIdentity(facts);
  return {
    facts,
    classification: classifyMessage(message),
    message,
    subject: {
      cluster: cluster.ref,
      namespace: 'prod',
      pod: 'checkout-7d9c8b6f4-q2xnv',
      container: 'checkout',
      workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' },
      image: imageRaw,
    },
    ...(parsed.ok ? { image: parsed.ref } : {}),
    ...(identity ? { identity } : {}),
  };
}

export { cluster as seedCluster };
