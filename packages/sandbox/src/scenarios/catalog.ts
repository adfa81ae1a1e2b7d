/**
 * The scenarios (README, "Sandbox scenarios"): each a realistic, self-consistent world built from Acme's estate, varying only what
 * it is about. The comment on each says what it simulates and why it exists.
 */
import { podTemplateHash, Rng } from '../world/ids.ts';
import type { World } from '../world/world.ts';
import {
  acmeBase,
  CHECKOUT_IMAGE,
  CHECKOUT_POD,
  CLUSTER,
  checkoutContainer,
  checkoutSpec,
  DEFAULT_POOL_NODES,
  DEFAULT_SA,
  LOCATION,
  NAMESPACE,
  NODES_SA,
  PROJECT,
  READER,
  SEED_POOL,
  SERVICES_REPO,
  WEB_REPO,
} from './acme.ts';
import { DEFAULT_SCOPES } from './builder.ts';
import { LATENT_SCENARIOS } from './latent.ts';
import type { ScenarioDefinition, ScenarioTarget } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type { ScenarioDefinition, ScenarioInfo } from './types.ts';

const seedTarget: ScenarioTarget = {
  project: PROJECT,
  location: LOCATION,
  cluster: CLUSTER,
  namespace: NAMESPACE,
  pod: CHECKOUT_POD,
  container: 'checkout',
  workload: { kind: 'Deployment', name: 'checkout' },
  image: CHECKOUT_IMAGE,
};

const SHARED_PROJECT = 'acme-shared-artifacts';
const SHARED_NUMBER = '456789012345';

/** Adds the shared-artifacts project and its multi-region `us` repository `base` (no grant for prod's nodes). */
function addSharedArtifacts(
  b: ReturnType<typeof acmeBase>['b'],
  packages: Record<string, { tags: string[]; uploadedAgoMs: number }[]>,
): void {
  b.project({
    projectId: SHARED_PROJECT,
    number: SHARED_NUMBER,
    displayName: 'Acme Shared Artifacts',
    bindings: [{ role: 'roles/owner', members: ['group:platform-admins@acme.example'] }],
  });
  b.repository({
    projectId: SHARED_PROJECT,
    location: 'us',
    repositoryId: 'base',
    description: 'Shared base and service images for every environment',
    bindings: [
      {
        role: 'roles/artifactregistry.writer',
        members: [`serviceAccount:ci-builder@${SHARED_PROJECT}.iam.gserviceaccount.com`],
      },
      { role: READER, members: ['serviceAccount:210987654321-compute@developer.gserviceaccount.com'] },
    ],
    packages,
  });
}

/** The seed guide, verbatim: the default compute SA lacks downloadArtifacts on `services`. */
function seed(): World {
  const { b, cluster } = acmeBase('seed');
  b.deployment(cluster, checkoutSpec());
  return b.world;
}

/** The image lives in another project's repository; the cluster's node SA has no reader there. */
function crossProject(): World {
  const { b, cluster } = acmeBase('cross-project');
  addSharedArtifacts(b, {
    checkout: [
      { tags: ['1.8.2'], uploadedAgoMs: 2 * HOUR },
      { tags: ['1.8.1'], uploadedAgoMs: 3 * DAY },
    ],
  });
  b.deployment(
    cluster,
    checkoutSpec({ containers: [checkoutContainer(`us-docker.pkg.dev/${SHARED_PROJECT}/base/checkout:1.8.2`)] }),
  );
  return b.world;
}

/** The pool runs as a custom SA that has reader, but was created with neither cloud-platform nor devstorage.read_only. */
function scopes(): World {
  const { b, cluster } = acmeBase('scopes', {
    pools: [
      {
        ...SEED_POOL,
        serviceAccount: NODES_SA,
        oauthScopes: ['https://www.googleapis.com/auth/logging.write', 'https://www.googleapis.com/auth/monitoring'],
      },
    ],
  });
  b.grant(SERVICES_REPO, READER, `serviceAccount:${NODES_SA}`);
  b.grant(WEB_REPO, READER, `serviceAccount:${NODES_SA}`);
  b.deployment(cluster, checkoutSpec());
  return b.world;
}

/** The node SA has reader on `services`, but a project deny policy denies downloadArtifacts to it. */
function denyPolicy(): World {
  const { b, cluster } = acmeBase('deny-policy');
  b.grant(SERVICES_REPO, READER, `serviceAccount:${DEFAULT_SA}`);
  b.denyPolicy(PROJECT, 'deny-default-sa-artifact-downloads', 'Default compute SA must not pull artifacts', [
    {
      description: 'Workloads must run as dedicated service accounts (security baseline SB-12)',
      denyRule: {
        deniedPrincipals: [`principal://iam.googleapis.com/projects/-/serviceAccounts/${DEFAULT_SA}`],
        deniedPermissions: ['artifactregistry.googleapis.com/repositories.downloadArtifacts'],
      },
    },
  ]);
  b.deployment(cluster, checkoutSpec());
  return b.world;
}

/**
 * The repository's project sits in a VPC-SC perimeter restricting Artifact Registry; the cluster's project is
 * outside it. The node SA has reader, so IAM says yes and only the perimeter says no. The bot's own API calls
 * are admitted by an access level (they work), so it can still read the repository and its policy.
 */
function vpcSc(): World {
  const { b, cluster } = acmeBase('vpc-sc');
  b.project({ projectId: 'acme-secure-artifacts', number: '334455667788', displayName: 'Acme Secure Artifacts' });
  b.repository({
    projectId: 'acme-secure-artifacts',
    location: LOCATION,
    repositoryId: 'secure',
    description: 'Images for PCI workloads (inside the cardholder-data perimeter)',
    bindings: [{ role: READER, members: [`serviceAccount:${DEFAULT_SA}`] }],
    packages: { checkout: [{ tags: ['1.8.2'], uploadedAgoMs: 2 * HOUR }] },
  });
  b.world.perimeters.push({
    name: 'accessPolicies/401234567890/servicePerimeters/cardholder_data',
    title: 'cardholder_data',
    projects: ['acme-secure-artifacts'],
    restrictedServices: ['artifactregistry.googleapis.com', 'storage.googleapis.com'],
  });
  b.deployment(
    cluster,
    checkoutSpec({
      containers: [checkoutContainer(`${LOCATION}-docker.pkg.dev/acme-secure-artifacts/secure/checkout:1.8.2`)],
    }),
  );
  return b.world;
}

/** A typo: the image names repository `service`, which exists in no location (the node SA can read `services`). */
function repoMissing(): World {
  const { b, cluster } = acmeBase('repo-missing');
  b.grant(SERVICES_REPO, READER, `serviceAccount:${DEFAULT_SA}`);
  b.deployment(
    cluster,
    checkoutSpec({ containers: [checkoutContainer(`${LOCATION}-docker.pkg.dev/${PROJECT}/service/checkout:1.8.2`)] }),
  );
  return b.world;
}

/** The image uses the `us-east1` host, but `services` exists only in `us-central1` (where the SA can read). */
function wrongRegion(): World {
  const { b, cluster } = acmeBase('wrong-region');
  b.grant(SERVICES_REPO, READER, `serviceAccount:${DEFAULT_SA}`);
  b.deployment(
    cluster,
    checkoutSpec({ containers: [checkoutContainer(`us-east1-docker.pkg.dev/${PROJECT}/services/checkout:1.8.2`)] }),
  );
  return b.world;
}

/** Repository and package exist and the SA can read, but tag 1.8.3 was never pushed (1.8.2, 1.8.1, … were). */
function tagMissing(): World {
  const { b, cluster } = acmeBase('tag-missing');
  b.grant(SERVICES_REPO, READER, `serviceAccount:${DEFAULT_SA}`);
  b.deployment(
    cluster,
    checkoutSpec({ containers: [checkoutContainer(`${LOCATION}-docker.pkg.dev/${PROJECT}/services/checkout:1.8.3`)] }),
  );
  return b.world;
}

/** Someone granted reader to the node SA a minute ago; the pods, started before, are still in back-off. */
function alreadyGranted(): World {
  const { b, cluster } = acmeBase('already-granted');
  b.deployment(cluster, checkoutSpec());
  b.grant(SERVICES_REPO, READER, `serviceAccount:${DEFAULT_SA}`, MINUTE);
  return b.world;
}

/**
 * Two pools: `pool-a` runs as the custom SA `gke-nodes@…` (reader on `services`), `pool-b` as the default compute
 * SA (no reader). Two checkout pods run on pool-a; the one that landed on pool-b fails. The fix belongs to
 * pool-b's SA, not to the SA a reader of the Terraform would expect.
 */
function customSaWrongPool(): World {
  const poolA = {
    name: 'pool-a',
    serviceAccount: NODES_SA,
    oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
    nodes: [
      { name: 'gke-prod-pool-a-3e4f5a6b-c7dq', zone: 'us-central1-a' },
      { name: 'gke-prod-pool-a-9d8c7b6a-h2jm', zone: 'us-central1-b' },
    ],
  };
  const poolB = {
    name: 'pool-b',
    serviceAccount: 'default',
    oauthScopes: DEFAULT_SCOPES,
    nodes: [
      { name: 'gke-prod-pool-b-8c9d0e1f-t6vw', zone: 'us-central1-a' },
      { name: 'gke-prod-pool-b-2a3b4c5d-z5fl', zone: 'us-central1-c' },
    ],
  };
  const { b, cluster } = acmeBase('custom-sa-wrong-pool', { pools: [poolA, poolB] });
  b.grant(SERVICES_REPO, READER, `serviceAccount:${NODES_SA}`);
  b.grant(WEB_REPO, READER, `serviceAccount:${NODES_SA}`);
  b.deployment(
    cluster,
    checkoutSpec({
      nodes: ['gke-prod-pool-b-8c9d0e1f-t6vw', 'gke-prod-pool-a-3e4f5a6b-c7dq', 'gke-prod-pool-a-9d8c7b6a-h2jm'],
    }),
  );
  return b.world;
}

/**
 * Workload Identity is on and reader was granted to the workload's GSA (the KSA is annotated with it), but the
 * kubelet pulls with the node's identity, which still has nothing.
 */
function workloadIdentity(): World {
  const { b, cluster } = acmeBase('workload-identity', { workloadIdentity: true });
  const gsa = `checkout@${PROJECT}.iam.gserviceaccount.com`;
  b.serviceAccount(cluster, NAMESPACE, 'checkout', { 'iam.gke.io/gcp-service-account': gsa });
  b.grant(SERVICES_REPO, READER, `serviceAccount:${gsa}`, 2 * HOUR);
  b.deployment(cluster, checkoutSpec());
  return b.world;
}

/** Anonymous pulls of `nginx:1.25` from Docker Hub hit the rate limit (429 toomanyrequests). Nothing GCP-side. */
function dockerHubRateLimit(): World {
  const { b, cluster } = acmeBase('docker-hub-rate-limit');
  b.world.registries.get('docker.io')!.rateLimited = true;
  b.deployment(cluster, checkoutSpec({ cachedOnNodes: true, startedAgoMs: 3 * DAY }));
  b.deployment(cluster, {
    namespace: NAMESPACE,
    name: 'edge-proxy',
    replicas: 2,
    containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] }],
    templateHash: '5f7c9d8b6',
    podNames: ['edge-proxy-5f7c9d8b6-h4tzp', 'edge-proxy-5f7c9d8b6-r9kqw'],
  });
  return b.world;
}

/** The seed, but the bot lacks `artifactregistry.repositories.getIamPolicy` on `services`: it must say so. */
function botLacksPermission(): World {
  const { b, cluster } = acmeBase('bot-lacks-permission');
  b.world.bot.denied.push({ permission: 'artifactregistry.repositories.getIamPolicy', resource: SERVICES_REPO });
  b.deployment(cluster, checkoutSpec());
  return b.world;
}

/** A legacy gcr.io image, served today by the AR repository `gcr.io` in `us`; the node SA lacks reader on it. */
function gcrIo(): World {
  const { b, cluster } = acmeBase('gcr-io');
  b.repository({
    projectId: PROJECT,
    location: 'us',
    repositoryId: 'gcr.io',
    description: 'gcr.io domain, migrated from Container Registry',
    bindings: [
      {
        role: 'roles/artifactregistry.createOnPushWriter',
        members: [`serviceAccount:ci-builder@${PROJECT}.iam.gserviceaccount.com`],
      },
    ],
    packages: {
      'legacy-api': [
        { tags: ['2.3.0'], uploadedAgoMs: 5 * HOUR },
        { tags: ['2.2.1'], uploadedAgoMs: 40 * DAY },
      ],
    },
  });
  b.deployment(cluster, checkoutSpec({ cachedOnNodes: true, startedAgoMs: 3 * DAY }));
  b.deployment(cluster, {
    namespace: NAMESPACE,
    name: 'legacy-api',
    replicas: 2,
    containers: [{ name: 'legacy-api', image: `gcr.io/${PROJECT}/legacy-api:2.3.0` }],
    templateHash: '6c8d9f7b5',
    podNames: ['legacy-api-6c8d9f7b5-w2rkq', 'legacy-api-6c8d9f7b5-b7nmx'],
  });
  return b.world;
}

/** Reader was granted to the node SA at project level three minutes ago; the pods started before the grant. */
function projectLevelReader(): World {
  const { b, cluster } = acmeBase('project-level-reader');
  b.deployment(cluster, checkoutSpec());
  b.grant(`projects/${PROJECT}`, READER, `serviceAccount:${DEFAULT_SA}`, 3 * MINUTE);
  return b.world;
}

/**
 * The failing container is the init container `migrate` (image `checkout-migrate` from `services`). The pod's
 * app containers (checkout itself and a fluent-bit log shipper, different images) wait in `PodInitializing`: the
 * kubelet pulls app images only after the init containers complete, so only the init container has pull events.
 */
function initContainer(): World {
  const { b, cluster } = acmeBase('init-container');
  b.deployment(
    cluster,
    checkoutSpec({
      initContainers: [
        {
          name: 'migrate',
          image: `${LOCATION}-docker.pkg.dev/${PROJECT}/services/checkout-migrate:1.8.2`,
          args: ['--apply'],
        },
      ],
      containers: [checkoutContainer(), { name: 'log-shipper', image: 'fluent/fluent-bit:3.1' }],
    }),
  );
  return b.world;
}

/** The seed's failure on `statefulset/checkout` (pods `checkout-0…2`, owned directly by the StatefulSet). */
function statefulSet(): World {
  const { b, cluster } = acmeBase('statefulset');
  const { templateHash: _h, podNames: _p, ...spec } = checkoutSpec();
  b.statefulSet(cluster, spec);
  return b.world;
}

/** The seed on a paused Deployment: the API accepts a restart patch, but the controller rolls nothing out. */
function paused(): World {
  const { b, cluster } = acmeBase('paused');
  b.deployment(cluster, checkoutSpec({ paused: true }));
  return b.world;
}

/** The `ledger` pods of the `two-teams` scenario (namespace `payments`). */
const LEDGER_PODS = ['ledger-6c5b4a398-k2p4r', 'ledger-6c5b4a398-w7d3q', 'ledger-6c5b4a398-z9m1t'];

/**
 * The seed's root cause hitting two teams: `checkout` in `prod` and `ledger` in `payments` pull from `services` on the
 * same node pool, whose service account lacks reader. One incident, two owners (owner routing).
 */
function twoTeams(): World {
  const { b, cluster } = acmeBase('two-teams');
  b.deployment(cluster, checkoutSpec());
  const services = b.world.repository(SERVICES_REPO);
  if (!services) throw new Error('services repository missing');
  b.addImages(services, 'ledger', [{ tags: ['2.4.0'], uploadedAgoMs: 5 * HOUR }]);
  b.namespace(cluster, 'payments');
  b.deployment(cluster, {
    namespace: 'payments',
    name: 'ledger',
    replicas: 3,
    containers: [{ name: 'ledger', image: `${LOCATION}-docker.pkg.dev/${PROJECT}/services/ledger:2.4.0` }],
    templateHash: '6c5b4a398',
    podNames: LEDGER_PODS,
    nodes: DEFAULT_POOL_NODES.map((n) => n.name),
  });
  return b.world;
}

const STORM_EXTRA_NODES = [
  { name: 'gke-prod-default-pool-a1b2c3d4-7hjw', zone: 'us-central1-a' },
  { name: 'gke-prod-default-pool-5f6e7d8c-2rtn', zone: 'us-central1-b' },
  { name: 'gke-prod-default-pool-0b9a8c7d-6vbx', zone: 'us-central1-c' },
];
const STORM_SERVICES = Array.from({ length: 10 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
const STORM_BASES = Array.from({ length: 10 }, (_, i) => `base-${String(i).padStart(2, '0')}`);

/** Deterministic pod names for a storm deployment (so the target is known without building). */
function stormPods(name: string): { hash: string; pods: string[] } {
  const rng = new Rng(`storm/${name}`);
  const hash = podTemplateHash({ storm: name });
  return { hash, pods: Array.from({ length: 25 }, () => `${name}-${hash}-${rng.suffix()}`) };
}

const STORM_TARGET_POD = stormPods('svc-00').pods[0] ?? '';

/**
 * The benchmark's alert storm: 20 deployments × 25 pods = 500 failing pods on 2 root causes — 10 deployments pull
 * from `services` (node SA lacks reader), 10 from the cross-project `base` repository (it lacks reader there too).
 */
function storm(): World {
  const { b, cluster } = acmeBase('storm', {
    pools: [{ ...SEED_POOL, nodes: [...DEFAULT_POOL_NODES, ...STORM_EXTRA_NODES] }],
  });
  const services = b.world.repository(SERVICES_REPO);
  if (!services) throw new Error('services repository missing');
  for (const svc of STORM_SERVICES) b.addImages(services, svc, [{ tags: ['1.0.0'], uploadedAgoMs: 4 * HOUR }]);
  addSharedArtifacts(
    b,
    Object.fromEntries(STORM_BASES.map((n) => [n, [{ tags: ['2.0.0'], uploadedAgoMs: 6 * HOUR }]])),
  );
  const images = [
    ...STORM_SERVICES.map((n) => [n, `${LOCATION}-docker.pkg.dev/${PROJECT}/services/${n}:1.0.0`] as const),
    ...STORM_BASES.map((n) => [n, `us-docker.pkg.dev/${SHARED_PROJECT}/base/${n}:2.0.0`] as const),
  ];
  for (const [name, image] of images) {
    const { hash, pods } = stormPods(name);
    b.deployment(cluster, {
      namespace: NAMESPACE,
      name,
      replicas: 25,
      containers: [{ name, image }],
      templateHash: hash,
      podNames: pods,
      startedAgoMs: 9 * MINUTE,
    });
  }
  return b.world;
}

/** Every scenario, in the order the demo lists them: the failing ones, then the latent ones (nothing fails yet). */
export const SCENARIO_DEFINITIONS: readonly ScenarioDefinition[] = [
  {
    name: 'seed',
    description: 'The seed guide: checkout pods get 403 because the default compute SA lacks reader on services',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: seed,
  },
  {
    name: 'cross-project',
    description: "Image in another project's repository (acme-shared-artifacts/base); the node SA has no reader there",
    target: { ...seedTarget, image: `us-docker.pkg.dev/${SHARED_PROJECT}/base/checkout:1.8.2` },
    expected: { cause: 'permission-denied', findings: ['cross-project-reader-missing'] },
    build: crossProject,
  },
  {
    name: 'scopes',
    description: 'Node pool SA has reader, but its OAuth scopes lack cloud-platform and devstorage.read_only',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['node-scopes-insufficient'] },
    build: scopes,
  },
  {
    name: 'deny-policy',
    description: 'Node SA has reader on services, but a project IAM deny policy denies downloadArtifacts to it',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['deny-policy'] },
    build: denyPolicy,
  },
  {
    name: 'vpc-sc',
    description: "Repository's project is inside a VPC-SC perimeter the cluster's nodes are outside of",
    target: { ...seedTarget, image: `${LOCATION}-docker.pkg.dev/acme-secure-artifacts/secure/checkout:1.8.2` },
    expected: { cause: 'vpc-sc-denied', findings: ['vpc-sc'] },
    build: vpcSc,
  },
  {
    name: 'repo-missing',
    description: 'Image names repository "service", which does not exist in any location (typo of "services")',
    target: { ...seedTarget, image: `${LOCATION}-docker.pkg.dev/${PROJECT}/service/checkout:1.8.2` },
    expected: { cause: 'permission-denied', findings: ['repository-not-found'] },
    build: repoMissing,
  },
  {
    name: 'wrong-region',
    description: 'Image uses the us-east1 host but the services repository exists only in us-central1',
    target: { ...seedTarget, image: `us-east1-docker.pkg.dev/${PROJECT}/services/checkout:1.8.2` },
    expected: { cause: 'permission-denied', findings: ['repository-not-found'] },
    build: wrongRegion,
  },
  {
    name: 'tag-missing',
    description: 'Tag 1.8.3 does not exist in services/checkout (1.8.2, 1.8.1, 1.8.0 do)',
    target: { ...seedTarget, image: `${LOCATION}-docker.pkg.dev/${PROJECT}/services/checkout:1.8.3` },
    expected: { cause: 'not-found', findings: ['image-not-found'] },
    build: tagMissing,
  },
  {
    name: 'already-granted',
    description: 'Reader was granted to the node SA a minute ago; pods started before are still in back-off',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['access-already-granted'] },
    build: alreadyGranted,
  },
  {
    name: 'custom-sa-wrong-pool',
    description: 'pool-a runs as gke-nodes@ (has reader); the failing pod landed on pool-b, running as the default SA',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: customSaWrongPool,
  },
  {
    name: 'workload-identity',
    description: "Reader granted to the workload's GSA (KSA annotation) instead of the node SA the kubelet pulls with",
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['workload-identity-misconception'] },
    build: workloadIdentity,
  },
  {
    name: 'docker-hub-rate-limit',
    description: 'edge-proxy pods pulling nginx:1.25 from Docker Hub get 429 toomanyrequests',
    target: {
      ...seedTarget,
      pod: 'edge-proxy-5f7c9d8b6-h4tzp',
      container: 'nginx',
      workload: { kind: 'Deployment', name: 'edge-proxy' },
      image: 'nginx:1.25',
    },
    expected: { cause: 'rate-limited', findings: ['non-gcp-registry'] },
    build: dockerHubRateLimit,
  },
  {
    name: 'bot-lacks-permission',
    description: 'The seed, but the bot lacks artifactregistry.repositories.getIamPolicy on the repository',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['cannot-verify'] },
    build: botLacksPermission,
  },
  {
    name: 'gcr-io',
    description: 'gcr.io/acme-prod-417/legacy-api:2.3.0, served by AR repo gcr.io in us; node SA lacks reader',
    target: {
      ...seedTarget,
      pod: 'legacy-api-6c8d9f7b5-w2rkq',
      container: 'legacy-api',
      workload: { kind: 'Deployment', name: 'legacy-api' },
      image: `gcr.io/${PROJECT}/legacy-api:2.3.0`,
    },
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: gcrIo,
  },
  {
    name: 'project-level-reader',
    description: 'Node SA got roles/artifactregistry.reader at project level after the pods had started',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['access-already-granted'] },
    build: projectLevelReader,
  },
  {
    name: 'init-container',
    description: 'The init container migrate fails to pull checkout-migrate; app containers wait in PodInitializing',
    target: {
      ...seedTarget,
      container: 'migrate',
      image: `${LOCATION}-docker.pkg.dev/${PROJECT}/services/checkout-migrate:1.8.2`,
    },
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: initContainer,
  },
  {
    name: 'statefulset',
    description: 'The seed failure on statefulset/checkout (pods checkout-0..2)',
    target: { ...seedTarget, pod: 'checkout-0', workload: { kind: 'StatefulSet', name: 'checkout' } },
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: statefulSet,
  },
  {
    name: 'paused',
    description: 'The seed on a paused Deployment (a restart must be refused)',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: paused,
  },
  {
    name: 'two-teams',
    description: 'The seed in two namespaces: checkout (prod) and ledger (payments) pull from services, one root cause',
    target: seedTarget,
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader'] },
    build: twoTeams,
  },
  {
    name: 'storm',
    description:
      '500 failing pods in 20 deployments on 2 root causes (services and cross-project base), for the benchmark',
    target: {
      ...seedTarget,
      pod: STORM_TARGET_POD,
      container: 'svc-00',
      workload: { kind: 'Deployment', name: 'svc-00' },
      image: `${LOCATION}-docker.pkg.dev/${PROJECT}/services/svc-00:1.0.0`,
    },
    expected: { cause: 'permission-denied', findings: ['node-sa-missing-reader', 'cross-project-reader-missing'] },
    build: storm,
  },
  ...LATENT_SCENARIOS,
];
