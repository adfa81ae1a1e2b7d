/**
 * Acme's estate, shared by every scenario: the seed guide's project `acme-prod-417` (number `123456789012`), its
 * repositories, the regional cluster `prod` in `us-central1` and the healthy workloads around the one that breaks.
 * Each scenario starts from {@link acmeBase} and varies only what it is about.
 */
import type { Container } from '../world/kube-types.ts';
import type { Cluster, IamBinding } from '../world/types.ts';
import { DEFAULT_BOT_EMAIL } from '../world/world.ts';
import { DEFAULT_SCOPES, type PoolSpec, type WorkloadSpec, WorldBuilder } from './builder.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The seed guide's project, its number, region, cluster and namespace. */
export const PROJECT = 'acme-prod-417';
export const PROJECT_NUMBER = '123456789012';
export const LOCATION = 'us-central1';
export const CLUSTER = 'prod';
export const NAMESPACE = 'prod';
/** The Compute Engine default service account the seed's node pool runs as. */
export const DEFAULT_SA = `${PROJECT_NUMBER}-compute@developer.gserviceaccount.com`;
/** A custom node service account some scenarios use. */
export const NODES_SA = `gke-nodes@${PROJECT}.iam.gserviceaccount.com`;
/** The repository the seed image lives in, and the storefront repository the default SA can read. */
export const SERVICES_REPO = `projects/${PROJECT}/locations/${LOCATION}/repositories/services`;
export const WEB_REPO = `projects/${PROJECT}/locations/${LOCATION}/repositories/web`;
/** The seed image, its failing pod, the ReplicaSet hash and all three pod names. */
export const CHECKOUT_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/services/checkout:1.8.2`;
export const CHECKOUT_POD = 'checkout-7d9c8b6f4-q2xnv';
export const CHECKOUT_HASH = '7d9c8b6f4';
export const CHECKOUT_PODS = [CHECKOUT_POD, 'checkout-7d9c8b6f4-x8wkt', 'checkout-7d9c8b6f4-m5nbd'];
/** The role a fix grants. */
export const READER = 'roles/artifactregistry.reader';

/** Nodes of the seed's `default-pool`, one per zone; the first is where the seed's pod runs. */
export const DEFAULT_POOL_NODES = [
  { name: 'gke-prod-default-pool-a1b2c3d4-9xkz', zone: 'us-central1-a' },
  { name: 'gke-prod-default-pool-5f6e7d8c-k2lm', zone: 'us-central1-b' },
  { name: 'gke-prod-default-pool-0b9a8c7d-p4rs', zone: 'us-central1-c' },
];

/** The zones of the regional cluster `prod`. */
export const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c'];

/** The seed's node pool: Compute Engine default SA, default scopes. */
export const SEED_POOL: PoolSpec = {
  name: 'default-pool',
  serviceAccount: 'default',
  oauthScopes: DEFAULT_SCOPES,
  nodes: DEFAULT_POOL_NODES,
};

/** Bindings already on `services` that any fix must leave untouched (a writer for CI, a conditional reader). */
export const SERVICES_BINDINGS: IamBinding[] = [
  { role: 'roles/artifactregistry.writer', members: [`serviceAccount:ci-builder@${PROJECT}.iam.gserviceaccount.com`] },
  { role: 'roles/artifactregistry.repoAdmin', members: ['group:payments-platform@acme.example'] },
  {
    role: READER,
    members: ['serviceAccount:staging-nodes@acme-staging-233.iam.gserviceaccount.com'],
    condition: {
      title: 'until-2027',
      description: 'Staging may read services images until the staging split',
      expression: 'request.time < timestamp("2027-01-01T00:00:00Z")',
    },
  },
];

/** Images in `services`: checkout's recent releases (1.8.2 is the one the seed deploys). */
export const SERVICES_PACKAGES = {
  checkout: [
    { tags: ['1.8.2'], uploadedAgoMs: 2 * HOUR },
    { tags: ['1.8.1'], uploadedAgoMs: 3 * DAY },
    { tags: ['1.8.0'], uploadedAgoMs: 10 * DAY },
    { tags: ['1.7.9'], uploadedAgoMs: 24 * DAY },
  ],
  'checkout-migrate': [
    { tags: ['1.8.2'], uploadedAgoMs: 2 * HOUR },
    { tags: ['1.8.1'], uploadedAgoMs: 3 * DAY },
  ],
};

/** What a scenario may vary in the base estate. */
export interface AcmeOptions {
  /** Node pools of `prod`; default: the seed's `default-pool`. */
  readonly pools?: readonly PoolSpec[];
  /** Turn on Workload Identity (`acme-prod-417.svc.id.goog`). */
  readonly workloadIdentity?: boolean;
  /** Add the healthy neighbours (frontend, cart, redis) in `prod`. Default true. */
  readonly neighbours?: boolean;
}

/** The world every scenario starts from, with the builder to vary it and the `prod` cluster. */
export interface AcmeBase {
  readonly b: WorldBuilder;
  readonly cluster: Cluster;
}

/** Builds Acme's projects, repositories, the `prod` cluster and (by default) the healthy workloads of `prod`. */
export function acmeBase(scenario: string, opts: AcmeOptions = {}): AcmeBase {
  const b = new WorldBuilder(`imagepull-sandbox/${scenario}`, Date.now());
  b.project({
    projectId: PROJECT,
    number: PROJECT_NUMBER,
    displayName: 'Acme Production',
    bindings: [
      { role: 'roles/owner', members: ['user:maria.lopez@acme.example'] },
      { role: 'roles/editor', members: [`serviceAccount:${PROJECT_NUMBER}@cloudservices.gserviceaccount.com`] },
      {
        role: 'roles/container.defaultNodeServiceAccount',
        members: [`serviceAccount:${DEFAULT_SA}`, `serviceAccount:${NODES_SA}`],
      },
      {
        role: 'roles/container.serviceAgent',
        members: [`serviceAccount:service-${PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com`],
      },
      {
        role: 'roles/artifactregistry.serviceAgent',
        members: [`serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com`],
      },
      { role: `projects/${PROJECT}/roles/imagepullBot`, members: [`serviceAccount:${DEFAULT_BOT_EMAIL}`] },
      { role: 'roles/iam.securityReviewer', members: [`serviceAccount:${DEFAULT_BOT_EMAIL}`] },
    ],
  });
  b.world.customRoles.set(`projects/${PROJECT}/roles/imagepullBot`, [
    'artifactregistry.repositories.get',
    'artifactregistry.repositories.list',
    'artifactregistry.repositories.getIamPolicy',
    'artifactregistry.repositories.setIamPolicy',
    'artifactregistry.tags.list',
    'artifactregistry.dockerimages.list',
    'container.clusters.get',
    'resourcemanager.projects.get',
    'resourcemanager.projects.getIamPolicy',
  ]);
  b.repository({
    projectId: PROJECT,
    location: LOCATION,
    repositoryId: 'services',
    description: 'Backend service images (checkout, payments, …)',
    bindings: SERVICES_BINDINGS,
    packages: SERVICES_PACKAGES,
  });
  b.repository({
    projectId: PROJECT,
    location: LOCATION,
    repositoryId: 'web',
    description: 'Storefront images',
    bindings: [
      { role: READER, members: [`serviceAccount:${DEFAULT_SA}`] },
      {
        role: 'roles/artifactregistry.writer',
        members: [`serviceAccount:ci-builder@${PROJECT}.iam.gserviceaccount.com`],
      },
    ],
    packages: {
      frontend: [
        { tags: ['3.1.0'], uploadedAgoMs: 6 * DAY },
        { tags: ['3.0.7'], uploadedAgoMs: 20 * DAY },
      ],
      cart: [{ tags: ['2.0.4'], uploadedAgoMs: 9 * DAY }],
    },
  });
  b.world.registries.set('docker.io', {
    host: 'docker.io',
    rateLimited: false,
    images: new Set(['library/redis:7.2', 'library/nginx:1.25', 'library/nginx:1.27', 'fluent/fluent-bit:3.1']),
  });
  const cluster = b.cluster({
    projectId: PROJECT,
    location: LOCATION,
    name: CLUSTER,
    zones: ZONES,
    pools: opts.pools ?? [SEED_POOL],
    ...(opts.workloadIdentity ? { workloadPool: `${PROJECT}.svc.id.goog` } : {}),
  });
  b.namespace(cluster, NAMESPACE);
  b.serviceAccount(cluster, NAMESPACE, 'checkout');
  if (opts.neighbours ?? true) addNeighbours(b, cluster);
  return { b, cluster };
}

/** The healthy neighbours in `prod`: their images were pulled weeks ago and sit in the node caches. */
function addNeighbours(b: WorldBuilder, cluster: Cluster): void {
  const firstPool = cluster.nodePools[0]?.name;
  const common = {
    namespace: NAMESPACE,
    cachedOnNodes: true,
    startedAgoMs: 6 * DAY,
    ...(firstPool ? { pool: firstPool } : {}),
  };
  b.deployment(cluster, {
    ...common,
    name: 'frontend',
    replicas: 2,
    containers: [
      {
        name: 'frontend',
        image: `${LOCATION}-docker.pkg.dev/${PROJECT}/web/frontend:3.1.0`,
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
      },
    ],
  });
  b.deployment(cluster, {
    ...common,
    name: 'cart',
    replicas: 2,
    containers: [{ name: 'cart', image: `${LOCATION}-docker.pkg.dev/${PROJECT}/web/cart:2.0.4` }],
  });
  b.deployment(cluster, {
    ...common,
    name: 'redis',
    replicas: 1,
    containers: [{ name: 'redis', image: 'redis:7.2', ports: [{ containerPort: 6379, protocol: 'TCP' }] }],
  });
}

/** The checkout container of the seed guide. */
export function checkoutContainer(image = CHECKOUT_IMAGE): Container {
  return { name: 'checkout', image, ports: [{ containerPort: 8080, protocol: 'TCP' }] };
}

/** The seed's `deployment/checkout`: 3 replicas, `checkout-7d9c8b6f4-q2xnv` on `gke-prod-default-pool-a1b2c3d4-9xkz`. */
export function checkoutSpec(overrides: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    namespace: NAMESPACE,
    name: 'checkout',
    replicas: 3,
    containers: [checkoutContainer()],
    serviceAccountName: 'checkout',
    templateHash: CHECKOUT_HASH,
    podNames: CHECKOUT_PODS,
    nodes: DEFAULT_POOL_NODES.map((n) => n.name),
    ...overrides,
  };
}
