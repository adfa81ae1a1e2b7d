/**
 * The GKE ClusterManager v1 fake (`google.container.v1.ClusterManager`): clusters and node pools of the world. The
 * cluster's `endpoint` is the sandbox's Kubernetes HTTPS fake and `masterAuth.clusterCaCertificate` its CA (base64
 * PEM), so a client connects exactly as it would to GKE.
 */
import * as grpc from '@grpc/grpc-js';
import type { WireRuntime } from '../world/call-log.ts';
import { sha256Hex } from '../world/ids.ts';
import type { Node } from '../world/kube-types.ts';
import { kubeNode } from '../world/nodes.ts';
import type { Caller, Cluster, NodePoolState } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { GrpcError, unary } from './grpc.ts';

/** GKE's NOT_FOUND message for a cluster or node pool. */
function gkeNotFound(name: string): GrpcError {
  return new GrpcError(grpc.status.NOT_FOUND, `Not found: ${name}.`);
}

/** GKE's PERMISSION_DENIED message. */
function gkeDenied(permission: string, name: string): GrpcError {
  return new GrpcError(grpc.status.PERMISSION_DENIED, `Required "${permission}" permission(s) for "${name}".`);
}

/** GKE's NodeTaint.Effect names. */
const GKE_EFFECT = {
  NoSchedule: 'NO_SCHEDULE',
  PreferNoSchedule: 'PREFER_NO_SCHEDULE',
  NoExecute: 'NO_EXECUTE',
} as const;

function wireNodePool(cluster: Cluster, pool: NodePoolState): object {
  const selfLink = `https://container.googleapis.com/v1/projects/${cluster.projectId}/locations/${cluster.location}/clusters/${cluster.name}/nodePools/${pool.name}`;
  return {
    name: pool.name,
    config: {
      machineType: pool.machineType,
      diskSizeGb: 100,
      diskType: 'pd-balanced',
      oauthScopes: [...pool.oauthScopes],
      serviceAccount: pool.serviceAccount,
      metadata: { 'disable-legacy-endpoints': 'true' },
      imageType: 'COS_CONTAINERD',
      labels: {},
      ...(pool.taints?.length
        ? { taints: pool.taints.map((t) => ({ key: t.key, value: t.value ?? '', effect: GKE_EFFECT[t.effect] })) }
        : {}),
      ...(pool.gkeMetadata ? { workloadMetadataConfig: { mode: 'GKE_METADATA' } } : {}),
      shieldedInstanceConfig: { enableSecureBoot: false, enableIntegrityMonitoring: true },
    },
    initialNodeCount: Math.max(1, Math.round(pool.nodes.length / Math.max(1, pool.locations.length))),
    locations: [...pool.locations],
    selfLink,
    version: pool.version,
    instanceGroupUrls: pool.locations.map(
      (zone) =>
        `https://www.googleapis.com/compute/v1/projects/${cluster.projectId}/zones/${zone}/instanceGroupManagers/gke-${cluster.name}-${pool.name}-grp`,
    ),
    status: 'RUNNING',
    autoscaling: { enabled: false },
    management: { autoUpgrade: true, autoRepair: true },
    maxPodsConstraint: { maxPodsPerNode: '110' },
    podIpv4CidrSize: 24,
    upgradeSettings: { maxSurge: 1, maxUnavailable: 0, strategy: 'SURGE' },
    etag: `"${sha256Hex(`${cluster.resourceName}/${pool.name}/${pool.serviceAccount}`).slice(0, 8)}"`,
  };
}

function wireCluster(cluster: Cluster, caPem: string): object {
  const pools = cluster.nodePools.map((p) => wireNodePool(cluster, p));
  const first = pools[0] as { config?: object } | undefined;
  const nodeCount = cluster.nodePools.reduce((n, p) => n + p.nodes.length, 0);
  return {
    name: cluster.name,
    description: '',
    initialNodeCount: 0,
    ...(first?.config ? { nodeConfig: first.config } : {}),
    masterAuth: { clusterCaCertificate: Buffer.from(caPem).toString('base64'), clientCertificateConfig: null },
    loggingService: 'logging.googleapis.com/kubernetes',
    monitoringService: 'monitoring.googleapis.com/kubernetes',
    network: cluster.network.split('/').pop() ?? 'default',
    subnetwork: cluster.subnetwork.split('/').pop() ?? 'default',
    clusterIpv4Cidr: '10.8.0.0/14',
    nodePools: pools,
    locations: [...cluster.zones],
    resourceLabels: { env: 'prod' },
    ...(cluster.workloadPool ? { workloadIdentityConfig: { workloadPool: cluster.workloadPool } } : {}),
    releaseChannel: { channel: 'REGULAR' },
    selfLink: `https://container.googleapis.com/v1/projects/${cluster.projectId}/locations/${cluster.location}/clusters/${cluster.name}`,
    zone: cluster.location,
    endpoint: cluster.endpoint,
    initialClusterVersion: '1.27.3-gke.100',
    currentMasterVersion: cluster.masterVersion,
    currentNodeVersion: cluster.masterVersion,
    createTime: new Date(cluster.createTime).toISOString(),
    status: 'RUNNING',
    servicesIpv4Cidr: '10.12.0.0/20',
    currentNodeCount: nodeCount,
    location: cluster.location,
    id: sha256Hex(cluster.resourceName).slice(0, 32),
    networkConfig: { network: cluster.network, subnetwork: cluster.subnetwork },
  };
}

interface ClusterRequest {
  name: string;
  projectId: string;
  zone: string;
  clusterId: string;
  parent: string;
  nodePoolId?: string;
  operationId?: string;
}

/** `google.container.v1.NodePool` as proto-loader decodes the parts a create reads. */
interface NodePoolInput {
  name: string;
  initialNodeCount: number;
  locations: string[];
  config: { machineType: string; serviceAccount: string; oauthScopes: string[] } | null;
}

/** The scopes GKE gives a pool created without `--scopes` (gcloud's defaults). */
const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/logging.write',
  'https://www.googleapis.com/auth/monitoring',
  'https://www.googleapis.com/auth/servicecontrol',
  'https://www.googleapis.com/auth/service.management.readonly',
  'https://www.googleapis.com/auth/trace.append',
];

/** A long-running GKE operation the fake started. */
interface OperationState {
  readonly name: string;
  readonly cluster: Cluster;
  readonly type: string;
  readonly targetLink: string;
  readonly startTime: number;
}

function wireOperation(op: OperationState, projectNumber: string, done: boolean, now: number): object {
  return {
    name: op.name,
    zone: op.cluster.location,
    operationType: op.type,
    status: done ? 'DONE' : 'RUNNING',
    selfLink: `https://container.googleapis.com/v1/projects/${projectNumber}/locations/${op.cluster.location}/operations/${op.name}`,
    targetLink: op.targetLink,
    location: op.cluster.location,
    startTime: new Date(op.startTime).toISOString(),
    ...(done ? { endTime: new Date(now).toISOString() } : {}),
  };
}

/** Builds the ClusterManager implementation over the world; `caPem` is the Kubernetes fake's CA. */
export function clusterManagerService(world: World, rt: WireRuntime, caPem: string): grpc.UntypedServiceImplementation {
  const clusterName = (req: ClusterRequest): string =>
    req.name || req.parent || `projects/${req.projectId}/locations/${req.zone}/clusters/${req.clusterId}`;
  const findCluster = (name: string, caller: Caller): Cluster => {
    const base = /^projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+/.exec(name)?.[0] ?? name;
    if (world.denied(caller, 'container.clusters.get', base)) throw gkeDenied('container.clusters.get', base);
    const byId = world.cluster(base);
    if (byId) return byId;
    // The API also accepts the project number.
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(base);
    const project = m?.[1] ? world.project(m[1]) : undefined;
    const alt =
      project && m ? world.cluster(`projects/${project.projectId}/locations/${m[2]}/clusters/${m[3]}`) : undefined;
    if (!alt) throw gkeNotFound(base);
    return alt;
  };
  const operations = new Map<string, OperationState>();
  const projectNumber = (c: Cluster) => world.project(c.projectId)?.number ?? '0';

  /** Adds a pool and its nodes (Ready at once) to the cluster; GKE's create completes by the first poll. */
  const createPool = (cluster: Cluster, input: NodePoolInput): NodePoolState => {
    const at = `projects/${cluster.projectId}/locations/${cluster.location}/clusters/${cluster.name}/nodePools/${input.name}`;
    if (!/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/.test(input.name)) {
      throw new GrpcError(grpc.status.INVALID_ARGUMENT, `Invalid node pool name "${input.name}".`);
    }
    if (cluster.nodePools.some((p) => p.name === input.name)) {
      throw new GrpcError(grpc.status.ALREADY_EXISTS, `Already exists: ${at}.`);
    }
    const zones = input.locations.length > 0 ? input.locations : cluster.zones;
    const perZone = input.initialNodeCount > 0 ? input.initialNodeCount : 3;
    const base = `gke-${cluster.name}-${input.name}`.slice(0, 26);
    const nodes = zones.flatMap((zone) => {
      const group = world.rng.hex(8);
      return Array.from({ length: perZone }, () => ({ name: `${base}-${group}-${world.rng.suffix(4)}`, zone }));
    });
    const scopes = input.config?.oauthScopes ?? [];
    const pool: NodePoolState = {
      name: input.name,
      serviceAccount: input.config?.serviceAccount || 'default',
      oauthScopes: scopes.length > 0 ? [...scopes] : [...DEFAULT_SCOPES],
      machineType: input.config?.machineType || 'e2-medium',
      version: cluster.masterVersion,
      locations: [...zones],
      nodes: nodes.map((n) => n.name),
      gkeMetadata: cluster.workloadPool !== undefined,
    };
    cluster.nodePools.push(pool);
    const now = world.now();
    const taken = cluster.kube.list<Node>('Node').length;
    nodes.forEach((n, i) => {
      cluster.kube.put(kubeNode(world, cluster, pool, n, 2 + taken + i, now, now));
    });
    return pool;
  };

  return {
    createNodePool: unary<ClusterRequest & { nodePool: NodePoolInput | null }>(
      rt,
      'container.CreateNodePool',
      (req, caller) => {
        const cluster = findCluster(clusterName(req), caller);
        if (world.denied(caller, 'container.nodes.create', cluster.resourceName)) {
          throw gkeDenied('container.nodes.create', cluster.resourceName);
        }
        if (!req.nodePool?.name) throw new GrpcError(grpc.status.INVALID_ARGUMENT, 'Node pool name is required.');
        const pool = createPool(cluster, req.nodePool);
        const op: OperationState = {
          name: `operation-${world.now()}-${world.rng.hex(8)}`,
          cluster,
          type: 'CREATE_NODE_POOL',
          targetLink: (wireNodePool(cluster, pool) as { selfLink: string }).selfLink,
          startTime: world.now(),
        };
        operations.set(op.name, op);
        return wireOperation(op, projectNumber(cluster), false, world.now());
      },
    ),
    getOperation: unary<ClusterRequest>(rt, 'container.GetOperation', (req) => {
      const name = req.name || `projects/${req.projectId}/locations/${req.zone}/operations/${req.operationId ?? ''}`;
      const op = operations.get(name.split('/').pop() ?? '');
      if (!op) throw gkeNotFound(name);
      return wireOperation(op, projectNumber(op.cluster), true, world.now());
    }),
    getCluster: unary<ClusterRequest>(rt, 'container.GetCluster', (req, caller) =>
      wireCluster(findCluster(clusterName(req), caller), caPem),
    ),
    listClusters: unary<ClusterRequest>(rt, 'container.ListClusters', (req, caller) => {
      const parent = req.parent || `projects/${req.projectId}/locations/${req.zone || '-'}`;
      const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
      const project = m?.[1] ? world.project(m[1]) : undefined;
      if (!project || world.denied(caller, 'container.clusters.list', `projects/${project.projectId}`)) {
        throw gkeDenied('container.clusters.list', parent);
      }
      const clusters = [...world.clusters.values()].filter(
        (c) => c.projectId === project.projectId && (m?.[2] === '-' || c.location === m?.[2]),
      );
      return { clusters: clusters.map((c) => wireCluster(c, caPem)), missingZones: [] };
    }),
    listNodePools: unary<ClusterRequest>(rt, 'container.ListNodePools', (req, caller) => {
      const cluster = findCluster(clusterName(req), caller);
      return { nodePools: cluster.nodePools.map((p) => wireNodePool(cluster, p)) };
    }),
    getNodePool: unary<ClusterRequest>(rt, 'container.GetNodePool', (req, caller) => {
      const name = req.name || `${clusterName(req)}/nodePools/${req.nodePoolId ?? ''}`;
      const cluster = findCluster(name, caller);
      const poolName = /\/nodePools\/([^/]+)$/.exec(name)?.[1];
      const pool = cluster.nodePools.find((p) => p.name === poolName);
      if (!pool) throw gkeNotFound(name);
      return wireNodePool(cluster, pool);
    }),
  };
}
