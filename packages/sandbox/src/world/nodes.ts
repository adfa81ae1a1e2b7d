/**
 * GKE nodes as the Kubernetes API shows them: the labels, provider id, addresses and capacity a node of a pool
 * gets, for nodes made when a scenario is built and for nodes of a pool created through the GKE fake.
 */
import type { Node } from './kube-types.ts';
import type { Cluster, NodeTaint } from './types.ts';
import { iso } from './workloads.ts';
import type { World } from './world.ts';

/** What a node takes from its pool. */
export interface NodePoolShape {
  readonly name: string;
  readonly machineType?: string;
  readonly gkeMetadata?: boolean;
  readonly taints?: readonly NodeTaint[];
}

/** The Node object of `node` in `pool`, Ready since `createdAt`, heartbeating at `now`; `ipSuffix` picks its IPs. */
export function kubeNode(
  world: World,
  cluster: Cluster,
  pool: NodePoolShape,
  n: { readonly name: string; readonly zone: string },
  ipSuffix: number,
  createdAt: number,
  now: number,
): Node {
  const machineType = pool.machineType ?? 'e2-standard-4';
  const region = n.zone.replace(/-[a-z]$/, '');
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: world.rng.uuid(),
      creationTimestamp: iso(createdAt),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': machineType,
        'beta.kubernetes.io/os': 'linux',
        'cloud.google.com/gke-boot-disk': 'pd-balanced',
        'cloud.google.com/gke-container-runtime': 'containerd',
        'cloud.google.com/gke-nodepool': pool.name,
        'cloud.google.com/gke-os-distribution': 'cos',
        'cloud.google.com/machine-family': machineType.split('-')[0] ?? 'e2',
        ...(pool.gkeMetadata ? { 'iam.gke.io/gke-metadata-server-enabled': 'true' } : {}),
        'failure-domain.beta.kubernetes.io/region': region,
        'failure-domain.beta.kubernetes.io/zone': n.zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': machineType,
        'topology.gke.io/zone': n.zone,
        'topology.kubernetes.io/region': region,
        'topology.kubernetes.io/zone': n.zone,
      },
      annotations: {
        'container.googleapis.com/instance_id': String(4_000_000_000_000_000 + world.rng.int(1e9)),
      },
    },
    spec: {
      providerID: `gce://${cluster.projectId}/${n.zone}/${n.name}`,
      podCIDR: `10.8.${ipSuffix}.0/24`,
      podCIDRs: [`10.8.${ipSuffix}.0/24`],
      ...(pool.taints?.length ? { taints: pool.taints.map((t) => ({ ...t })) } : {}),
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: iso(now - 20_000),
          lastTransitionTime: iso(createdAt),
        },
      ],
      addresses: [
        { type: 'InternalIP', address: `10.128.0.${ipSuffix}` },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: '6.6.72+',
        kubeProxyVersion: 'v1.31.6-gke.1020000',
        kubeletVersion: 'v1.31.6-gke.1020000',
        operatingSystem: 'linux',
        osImage: 'Container-Optimized OS from Google',
      },
      images: [],
      capacity: { cpu: '4', memory: '16393780Ki', pods: '110', 'ephemeral-storage': '98831908Ki' },
      allocatable: { cpu: '3920m', memory: '13813812Ki', pods: '110', 'ephemeral-storage': '47060071478' },
    },
  };
  return node;
}
