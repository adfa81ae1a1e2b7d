/**
 * Scenarios where everything runs today and something would fail tomorrow: the pods run from images already in their
 * nodes' caches (or have not started yet), while a new node — autoscaling, an upgrade, a repair, a new pool — could
 * not pull. The kubelet simulator decides both: a cached image with pull policy IfNotPresent runs, a fresh node
 * pulls from the world as it is now.
 */
import { removeMember } from '../world/iam.ts';
import type { World } from '../world/world.ts';
import {
  acmeBase,
  CHECKOUT_IMAGE,
  CHECKOUT_POD,
  CLUSTER,
  checkoutSpec,
  DEFAULT_SA,
  LOCATION,
  NAMESPACE,
  PROJECT,
  READER,
  SEED_POOL,
  SERVICES_REPO,
  WEB_REPO,
  ZONES,
} from './acme.ts';
import { addCronJob } from './batch-builder.ts';
import type { WorkloadSpec, WorldBuilder } from './builder.ts';
import type { ScenarioDefinition, ScenarioTarget } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const member = (email: string) => `serviceAccount:${email}`;

/** The pod that runs today in most of these worlds: the seed's checkout pod, healthy. */
const checkoutRuns: ScenarioTarget = {
  project: PROJECT,
  location: LOCATION,
  cluster: CLUSTER,
  namespace: NAMESPACE,
  pod: CHECKOUT_POD,
  container: 'checkout',
  workload: { kind: 'Deployment', name: 'checkout' },
  image: CHECKOUT_IMAGE,
};

/**
 * A scenario whose running pod belongs to the workload at risk: its target (that pod, running today, so the diagnosis
 * finds nothing) and its risk (the same workload and image on a new node of `pool`), from one description.
 */
function atRisk(run: ScenarioTarget, pool: string): Pick<ScenarioDefinition, 'target' | 'expected' | 'latent'> {
  return {
    target: run,
    expected: { cause: 'none', findings: [] },
    latent: {
      workload: { kind: run.workload.kind, namespace: run.namespace, name: run.workload.name },
      image: run.image,
      pool,
    },
  };
}

/** The service account of the new pool `pool-b`. */
const POOL_B_SA = `gke-pool-b@${PROJECT}.iam.gserviceaccount.com`;
const FRONTEND_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/web/frontend:3.1.0`;
const CART_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/web/cart:2.0.4`;
const FRONTEND_PODS = ['frontend-6b8d7c9f5-k4wzp', 'frontend-6b8d7c9f5-t9mxq'];

/** Where the web workloads of these worlds have run for six days. */
const ON_DEFAULT = { pool: 'default-pool', startedAgoMs: 6 * DAY, namespace: NAMESPACE } as const;

/** The frontend Deployment, on `default-pool`. */
function frontendOnDefault(): WorkloadSpec {
  return {
    ...ON_DEFAULT,
    name: 'frontend',
    replicas: 2,
    containers: [{ name: 'frontend', image: FRONTEND_IMAGE }],
    templateHash: '6b8d7c9f5',
    podNames: FRONTEND_PODS,
  };
}

/** Required node affinity to one pool, as a manifest writes it. */
function onPool(pool: string): Record<string, unknown> {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'cloud.google.com/gke-nodepool', operator: 'In', values: [pool] }] },
        ],
      },
    },
  };
}

/**
 * A new pool `pool-b` runs as its own service account, which has no role on any repository yet. Nothing runs on it:
 * checkout is pinned to `default-pool` by required node affinity (it is safe), frontend and cart are not (the
 * scheduler may put their next pods on pool-b, which could not pull them).
 */
function newNodePool(): World {
  const poolB = {
    name: 'pool-b',
    serviceAccount: POOL_B_SA,
    oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
    nodes: [{ name: 'gke-prod-pool-b-6d5e4f3a-b8nq', zone: 'us-central1-a' }],
  };
  const { b, cluster } = acmeBase('new-node-pool', { pools: [SEED_POOL, poolB], neighbours: false });
  b.grant(SERVICES_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  b.grant(`projects/${PROJECT}`, 'roles/container.defaultNodeServiceAccount', member(POOL_B_SA), 10 * MINUTE);
  b.deployment(cluster, checkoutSpec({ affinity: onPool('default-pool'), startedAgoMs: 6 * DAY }));
  b.deployment(cluster, frontendOnDefault());
  b.deployment(cluster, {
    ...ON_DEFAULT,
    name: 'cart',
    replicas: 2,
    containers: [{ name: 'cart', image: CART_IMAGE }],
    templateHash: '58c7d9b64',
  });
  return b.world;
}

const GPU_POOL_SA = `gke-gpu-pool@${PROJECT}.iam.gserviceaccount.com`;
const ML_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/web/ml-inference:0.9.2`;
const ML_PODS = ['ml-inference-7c4d9b8f6-r2vnx'];
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

/**
 * A GPU pool `gpu-pool` runs as its own service account, which has no role on any repository, and is tainted
 * `nvidia.com/gpu=present:NoSchedule`: only `ml-inference` tolerates the taint (it runs on `default-pool` until a GPU
 * node is free). checkout, frontend and cart do not tolerate it, so they can never land there: not gaps.
 */
function taintedPool(): World {
  const gpuPool = {
    name: 'gpu-pool',
    serviceAccount: GPU_POOL_SA,
    oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
    machineType: 'g2-standard-8',
    taints: [GPU_TAINT],
    nodes: [{ name: 'gke-prod-gpu-pool-2f7a9c1e-m4kd', zone: 'us-central1-a' }],
  };
  const { b, cluster } = acmeBase('tainted-pool', { pools: [SEED_POOL, gpuPool], neighbours: false });
  const web = b.world.repository(WEB_REPO);
  if (!web) throw new Error('web repository missing');
  b.addImages(web, 'ml-inference', [{ tags: ['0.9.2'], uploadedAgoMs: 12 * DAY }]);
  b.grant(SERVICES_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  b.grant(WEB_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  b.grant(`projects/${PROJECT}`, 'roles/container.defaultNodeServiceAccount', member(GPU_POOL_SA), 30 * MINUTE);
  b.deployment(cluster, checkoutSpec({ startedAgoMs: 6 * DAY }));
  b.deployment(cluster, frontendOnDefault());
  b.deployment(cluster, {
    ...ON_DEFAULT,
    name: 'ml-inference',
    replicas: 1,
    containers: [{ name: 'model', image: ML_IMAGE }],
    templateHash: '7c4d9b8f6',
    podNames: ML_PODS,
    tolerations: [{ key: GPU_TAINT.key, operator: 'Equal', value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
  });
  return b.world;
}

/** The seed estate, healthy for months, until someone removed the node SA's reader binding on `services`. */
function bindingRemoved(): World {
  const { b, cluster } = acmeBase('binding-removed');
  b.grant(SERVICES_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  b.deployment(cluster, checkoutSpec({ startedAgoMs: 5 * DAY }));
  // Two hours ago a Terraform run that did not know about the binding removed it; the pods kept running.
  const services = b.world.repository(SERVICES_REPO);
  if (!services) throw new Error('services repository missing');
  removeMember(services.iam, SERVICES_REPO, READER, member(DEFAULT_SA), b.now - 2 * HOUR);
  return b.world;
}

const SHARED_PROJECT = 'acme-shared-artifacts';
const LOG_AGENT_IMAGE = `us-docker.pkg.dev/${SHARED_PROJECT}/base/log-agent:3.2.0`;
const LOG_AGENT_PODS = ['log-agent-7xk2p', 'log-agent-9qmfd', 'log-agent-c4ht8'];

/** The shared-artifacts project and its `base` repository, readable by another project's nodes but not prod's. */
function addSharedBase(b: WorldBuilder): void {
  b.project({
    projectId: SHARED_PROJECT,
    number: '456789012345',
    displayName: 'Acme Shared Artifacts',
    bindings: [{ role: 'roles/owner', members: ['group:platform-admins@acme.example'] }],
  });
  b.repository({
    projectId: SHARED_PROJECT,
    location: 'us',
    repositoryId: 'base',
    description: 'Shared base and agent images for every environment',
    bindings: [{ role: READER, members: [member('210987654321-compute@developer.gserviceaccount.com')] }],
    packages: { 'log-agent': [{ tags: ['3.2.0'], uploadedAgoMs: 40 * DAY }] },
  });
}

/**
 * A DaemonSet `log-agent` runs on every node with an image from another project's repository, where prod's node SA
 * has no role: its image was baked into the node image, so every current node has it; a new node has not.
 */
function daemonSetCrossProject(): World {
  const { b, cluster } = acmeBase('daemonset-cross-project');
  b.grant(SERVICES_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  addSharedBase(b);
  b.namespace(cluster, 'observability');
  b.deployment(cluster, checkoutSpec({ startedAgoMs: 5 * DAY }));
  b.daemonSet(cluster, {
    namespace: 'observability',
    name: 'log-agent',
    containers: [{ name: 'agent', image: LOG_AGENT_IMAGE }],
    cachedOnNodes: true,
    startedAgoMs: 30 * DAY,
    podNames: LOG_AGENT_PODS,
  });
  return b.world;
}

const REPORT_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/reports/nightly-report:2.0.0`;

/** A CronJob created an hour ago runs tonight for the first time, from repository `reports`, where the node SA has no role. */
function cronJobNotRun(): World {
  const { b, cluster } = acmeBase('cronjob-not-run');
  b.grant(SERVICES_REPO, READER, member(DEFAULT_SA), 200 * DAY);
  b.repository({
    projectId: PROJECT,
    location: LOCATION,
    repositoryId: 'reports',
    description: 'Batch report images',
    bindings: [
      {
        role: 'roles/artifactregistry.writer',
        members: [member(`ci-builder@${PROJECT}.iam.gserviceaccount.com`)],
      },
    ],
    packages: { 'nightly-report': [{ tags: ['2.0.0'], uploadedAgoMs: 3 * HOUR }] },
  });
  b.deployment(cluster, checkoutSpec({ startedAgoMs: 5 * DAY }));
  addCronJob(b, cluster, {
    namespace: NAMESPACE,
    name: 'nightly-report',
    schedule: '0 2 * * *',
    containers: [{ name: 'report', image: REPORT_IMAGE, args: ['--since=24h'] }],
  });
  return b.world;
}

const FLEET_POOLS = ['pool-a', 'pool-c', 'pool-d'].map((name, i) => ({
  name,
  serviceAccount: `gke-${name}@${PROJECT}.iam.gserviceaccount.com`,
  oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
  nodes: [{ name: `gke-prod-${name}-${['4c1d2e3f', '7a8b9c0d', '1e2f3a4b'][i]}-q${i}zt`, zone: ZONES[i] as string }],
}));
const FLEET_SERVICES = Array.from({ length: 8 }, (_, i) => `app-${i}`);
const FLEET_FIRST_POD = 'api-00-5d9f8c7b6-h2kqx';
const FLEET_FIRST_IMAGE = `${LOCATION}-docker.pkg.dev/${PROJECT}/services/app-0:1.0.0`;

/**
 * The audit at scale: 50 Deployments over 10 images (8 in `services`, 2 in `web`) and 4 pools with 4 service
 * accounts; the newest pool, `pool-d`, has no role yet. What one audit costs in API calls is measured on it.
 */
function fleet(): World {
  const { b, cluster } = acmeBase('fleet', { pools: [SEED_POOL, ...FLEET_POOLS], neighbours: false });
  const services = b.world.repository(SERVICES_REPO);
  if (!services) throw new Error('services repository missing');
  for (const app of FLEET_SERVICES) b.addImages(services, app, [{ tags: ['1.0.0'], uploadedAgoMs: 20 * DAY }]);
  for (const sa of [DEFAULT_SA, ...FLEET_POOLS.slice(0, 2).map((p) => p.serviceAccount)]) {
    b.grant(SERVICES_REPO, READER, member(sa), 200 * DAY);
    b.grant(WEB_REPO, READER, member(sa), 200 * DAY);
  }
  const images = [
    ...FLEET_SERVICES.map((app) => `${LOCATION}-docker.pkg.dev/${PROJECT}/services/${app}:1.0.0`),
    FRONTEND_IMAGE,
    CART_IMAGE,
  ];
  const placed = [SEED_POOL.name, 'pool-a', 'pool-c'];
  for (let i = 0; i < 50; i++) {
    const name = `api-${String(i).padStart(2, '0')}`;
    b.deployment(cluster, {
      namespace: NAMESPACE,
      name,
      replicas: 1,
      containers: [{ name: 'app', image: images[i % images.length] as string }],
      pool: placed[i % placed.length] as string,
      startedAgoMs: 9 * DAY,
      templateHash: '5d9f8c7b6',
      ...(i === 0 ? { podNames: [FLEET_FIRST_POD] } : {}),
    });
  }
  return b.world;
}

/** The latent scenarios, after the failing ones in the catalog. */
export const LATENT_SCENARIOS: readonly ScenarioDefinition[] = [
  {
    name: 'new-node-pool',
    description: 'A new pool-b runs as its own SA with no reader; frontend and cart may land there, checkout is pinned',
    ...atRisk(
      {
        ...checkoutRuns,
        pod: FRONTEND_PODS[0] as string,
        container: 'frontend',
        workload: { kind: 'Deployment', name: 'frontend' },
        image: FRONTEND_IMAGE,
      },
      'pool-b',
    ),
    build: newNodePool,
  },
  {
    name: 'tainted-pool',
    description:
      'A GPU pool tainted NoSchedule runs as its own SA with no reader; only ml-inference tolerates the taint',
    ...atRisk(
      {
        ...checkoutRuns,
        pod: ML_PODS[0] as string,
        container: 'model',
        workload: { kind: 'Deployment', name: 'ml-inference' },
        image: ML_IMAGE,
      },
      'gpu-pool',
    ),
    build: taintedPool,
  },
  {
    name: 'binding-removed',
    description: "Someone removed the node SA's reader on services two hours ago; checkout runs from the node cache",
    ...atRisk(checkoutRuns, 'default-pool'),
    build: bindingRemoved,
  },
  {
    name: 'daemonset-cross-project',
    description: "DaemonSet log-agent runs from a cached image of another project's repository the node SA cannot read",
    ...atRisk(
      {
        ...checkoutRuns,
        namespace: 'observability',
        pod: LOG_AGENT_PODS[0] as string,
        container: 'agent',
        workload: { kind: 'DaemonSet', name: 'log-agent' },
        image: LOG_AGENT_IMAGE,
      },
      'default-pool',
    ),
    build: daemonSetCrossProject,
  },
  {
    name: 'cronjob-not-run',
    description:
      'CronJob nightly-report has not run yet; its image is in repository reports, which the node SA cannot read',
    target: checkoutRuns,
    expected: { cause: 'none', findings: [] },
    latent: {
      workload: { kind: 'CronJob', namespace: NAMESPACE, name: 'nightly-report' },
      image: REPORT_IMAGE,
      pool: 'default-pool',
    },
    build: cronJobNotRun,
  },
  {
    name: 'fleet',
    description: '50 deployments over 10 images and 4 pools with 4 SAs; the newest pool-d has no reader (audit cost)',
    ...atRisk(
      {
        ...checkoutRuns,
        pod: FLEET_FIRST_POD,
        container: 'app',
        workload: { kind: 'Deployment', name: 'api-00' },
        image: FLEET_FIRST_IMAGE,
      },
      'pool-d',
    ),
    build: fleet,
  },
];
