/**
 * Builds worlds for scenarios: projects, repositories with tagged images, clusters with node pools and nodes, and
 * workloads whose pods are materialized through the kubelet simulator (so a pod fails for the reason the world
 * implies, with the events and counts a real GKE pod would have after running for a while).
 */

import { grantKey, newPolicyState, writePolicy } from '../world/iam.ts';
import { fakeDigest, sha256Hex } from '../world/ids.ts';
import { parseImageName } from '../world/image-name.ts';
import { KubeStore } from '../world/kube-store.ts';
import type {
  Container,
  DaemonSet,
  Deployment,
  KubeObject,
  Namespace,
  Node,
  PodTemplateSpec,
  ReplicaSet,
  ServiceAccount,
  StatefulSet,
} from '../world/kube-types.ts';
import { kubeNode } from '../world/nodes.ts';
import type {
  Cluster,
  DenyPolicy,
  DenyRule,
  IamBinding,
  NodePoolState,
  NodeTaint,
  Project,
  Repository,
  RepositoryMode,
} from '../world/types.ts';
import {
  ageFailingPod,
  controllerRef,
  createPod,
  iso,
  refreshDaemonSetStatus,
  refreshDeploymentStatus,
  refreshStatefulSetStatus,
  revisionHash,
  runKubelet,
} from '../world/workloads.ts';
import { World } from '../world/world.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The scopes GKE gives a node pool by default (gcloud's defaults). */
export const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/logging.write',
  'https://www.googleapis.com/auth/monitoring',
  'https://www.googleapis.com/auth/servicecontrol',
  'https://www.googleapis.com/auth/service.management.readonly',
  'https://www.googleapis.com/auth/trace.append',
];

/** A project to create. */
export interface ProjectSpec {
  readonly projectId: string;
  readonly number: string;
  readonly displayName?: string;
  readonly bindings?: IamBinding[];
}

/** An image pushed to a package, with its tags and age. */
export interface ImageSpec {
  readonly tags: readonly string[];
  /** How long ago the image was uploaded. */
  readonly uploadedAgoMs: number;
  readonly sizeBytes?: number;
}

/** A repository to create, with its bindings and images. */
export interface RepositorySpec {
  readonly projectId: string;
  readonly location: string;
  readonly repositoryId: string;
  readonly mode?: RepositoryMode;
  readonly description?: string;
  readonly bindings?: IamBinding[];
  /** package id → its images. */
  readonly packages?: Readonly<Record<string, readonly ImageSpec[]>>;
}

/** A node of a pool and its zone. */
export interface NodeSpec {
  readonly name: string;
  readonly zone: string;
}

/** A node pool to create. */
export interface PoolSpec {
  readonly name: string;
  readonly serviceAccount: string;
  readonly oauthScopes: readonly string[];
  readonly nodes: readonly NodeSpec[];
  readonly machineType?: string;
  readonly gkeMetadata?: boolean;
  readonly taints?: readonly NodeTaint[];
}

/** A cluster to create. */
export interface ClusterSpec {
  readonly projectId: string;
  readonly location: string;
  readonly name: string;
  readonly zones: readonly string[];
  readonly pools: readonly PoolSpec[];
  readonly workloadPool?: string;
}

/** A workload to create, whose pods are materialized through the kubelet simulator. */
export interface WorkloadSpec {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly serviceAccountName?: string;
  /** Fixed names for the pods (the seed guide's `checkout-7d9c8b6f4-q2xnv`); generated otherwise. */
  readonly podNames?: readonly string[];
  /** Node of each pod; round-robin over `pool` (or every node) otherwise. */
  readonly nodes?: readonly string[];
  readonly pool?: string;
  /** Deployment only: the ReplicaSet's pod-template-hash (the seed's `7d9c8b6f4`). */
  readonly templateHash?: string;
  readonly paused?: boolean;
  /** When the pods were created; default 12 minutes ago. */
  readonly startedAgoMs?: number;
  /**
   * The images were pulled long ago, before whatever broke: they are in the nodes' image cache, so these pods
   * run whatever the world now says about pulling (pull policy IfNotPresent).
   */
  readonly cachedOnNodes?: boolean;
  readonly labels?: Record<string, string>;
  /** The pod template's `nodeSelector` and `affinity`, as written in a manifest (the builder places pods itself). */
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: Record<string, unknown>;
  readonly tolerations?: readonly Record<string, unknown>[];
}

/** Assembles one scenario's world; `now` is the scenario's present. */
export class WorldBuilder {
  readonly world: World;
  readonly now: number;

  constructor(seed: string, now: number) {
    this.now = now;
    this.world = new World({ seed, clock: Date.now });
  }

  project(spec: ProjectSpec): Project {
    const project: Project = {
      projectId: spec.projectId,
      number: spec.number,
      displayName: spec.displayName ?? spec.projectId,
      parent: this.world.organization,
      createTime: this.now - 900 * DAY,
      labels: {},
      iam: newPolicyState(`projects/${spec.projectId}`, spec.bindings ?? []),
      denyPolicies: [],
    };
    this.world.projects.set(spec.projectId, project);
    return project;
  }

  /** Attaches a deny policy to a project. */
  denyPolicy(
    projectId: string,
    id: string,
    displayName: string,
    rules: { description?: string; denyRule: DenyRule }[],
  ): DenyPolicy {
    const project = this.mustProject(projectId);
    const policy: DenyPolicy = {
      name: `policies/cloudresourcemanager.googleapis.com%2Fprojects%2F${projectId}/denypolicies/${id}`,
      uid: this.world.rng.uuid(),
      displayName,
      rules,
      createTime: this.now - 30 * DAY,
      etag: `W/"${sha256Hex(id).slice(0, 16)}"`,
    };
    project.denyPolicies.push(policy);
    return policy;
  }

  repository(spec: RepositorySpec): Repository {
    const name = `projects/${spec.projectId}/locations/${spec.location}/repositories/${spec.repositoryId}`;
    const repo: Repository = {
      name,
      projectId: spec.projectId,
      location: spec.location,
      repositoryId: spec.repositoryId,
      format: 'DOCKER',
      mode: spec.mode ?? 'STANDARD_REPOSITORY',
      description: spec.description ?? '',
      labels: {},
      createTime: this.now - 400 * DAY,
      updateTime: this.now - 2 * DAY,
      iam: newPolicyState(name, spec.bindings ?? []),
      packages: new Map(),
    };
    for (const [pkg, images] of Object.entries(spec.packages ?? {})) this.addImages(repo, pkg, images);
    this.world.repositories.set(name, repo);
    return repo;
  }

  /** Pushes images (with tags) into a package of a repository. */
  addImages(repo: Repository, pkg: string, images: readonly ImageSpec[]): void {
    let state = repo.packages.get(pkg);
    if (!state) {
      state = { name: pkg, createTime: this.now - 300 * DAY, updateTime: this.now, images: [], tags: new Map() };
      repo.packages.set(pkg, state);
    }
    for (const img of images) {
      const digest = fakeDigest(`${repo.name}/${pkg}:${img.tags.join(',')}`);
      const uploadTime = this.now - img.uploadedAgoMs;
      state.images.push({
        digest,
        sizeBytes: img.sizeBytes ?? 40_000_000 + this.world.rng.int(60_000_000),
        uploadTime,
        buildTime: uploadTime - 90_000,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
      for (const tag of img.tags) state.tags.set(tag, digest);
      state.updateTime = Math.max(state.updateTime, uploadTime);
    }
  }

  /** Grants `role` to `member` on a repository or `projects/P`, `agoMs` ago (recent grants may not have propagated). */
  grant(resource: string, role: string, member: string, agoMs = 90 * DAY): void {
    const state =
      resource.startsWith('projects/') && !resource.includes('/repositories/')
        ? this.mustProject(resource.slice('projects/'.length)).iam
        : this.world.repository(resource)?.iam;
    if (!state) throw new Error(`no resource ${resource}`);
    const bindings = structuredClone(state.bindings);
    let binding = bindings.find((b) => b.role === role && !b.condition);
    if (!binding) {
      binding = { role, members: [] };
      bindings.push(binding);
    }
    if (!binding.members.includes(member)) binding.members.push(member);
    writePolicy(state, resource, bindings, this.now - agoMs);
    state.grantedAt.set(grantKey(role, member), this.now - agoMs);
  }

  cluster(spec: ClusterSpec): Cluster {
    const resourceName = `projects/${spec.projectId}/locations/${spec.location}/clusters/${spec.name}`;
    const pools: NodePoolState[] = spec.pools.map((p) => ({
      name: p.name,
      serviceAccount: p.serviceAccount,
      oauthScopes: [...p.oauthScopes],
      machineType: p.machineType ?? 'e2-standard-4',
      version: '1.31.6-gke.1020000',
      locations: [...new Set(p.nodes.map((n) => n.zone))],
      nodes: p.nodes.map((n) => n.name),
      gkeMetadata: p.gkeMetadata ?? spec.workloadPool !== undefined,
      ...(p.taints ? { taints: p.taints.map((t) => ({ ...t })) } : {}),
    }));
    const cluster: Cluster = {
      projectId: spec.projectId,
      location: spec.location,
      name: spec.name,
      resourceName,
      zones: [...spec.zones],
      createTime: this.now - 500 * DAY,
      masterVersion: '1.31.6-gke.1020000',
      network: `projects/${spec.projectId}/global/networks/${spec.name}-vpc`,
      subnetwork: `projects/${spec.projectId}/regions/${spec.location}/subnetworks/${spec.name}-gke`,
      ...(spec.workloadPool ? { workloadPool: spec.workloadPool } : {}),
      nodePools: pools,
      endpoint: '',
      kube: new KubeStore(),
    };
    this.world.clusters.set(resourceName, cluster);
    let ip = 2;
    for (const pool of spec.pools) {
      for (const n of pool.nodes) this.node(cluster, pool, n, ip++);
    }
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.namespace(cluster, ns);
    return cluster;
  }

  private node(cluster: Cluster, pool: PoolSpec, n: NodeSpec, ipSuffix: number): void {
    cluster.kube.put(kubeNode(this.world, cluster, pool, n, ipSuffix, this.now - 40 * DAY, this.now));
  }

  namespace(cluster: Cluster, name: string): void {
    const ns: Namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        uid: this.world.rng.uuid(),
        creationTimestamp: iso(this.now - 500 * DAY),
        labels: { 'kubernetes.io/metadata.name': name },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    cluster.kube.put(ns);
    this.serviceAccount(cluster, name, 'default');
  }

  serviceAccount(cluster: Cluster, namespace: string, name: string, annotations?: Record<string, string>): void {
    const sa: ServiceAccount = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name,
        namespace,
        uid: this.world.rng.uuid(),
        creationTimestamp: iso(this.now - 300 * DAY),
        ...(annotations ? { annotations } : {}),
      },
    };
    cluster.kube.put(sa);
  }

  /** Puts an image into the nodes' image cache, as if pulled successfully long ago. */
  cacheImage(cluster: Cluster, nodeNames: readonly string[], image: string): void {
    const ref = parseImageName(image);
    if (!ref) return;
    const digest = ref.ar
      ? (this.world
          .repository(ref.ar.resourceName)
          ?.packages.get(ref.ar.packageName)
          ?.tags.get(ref.tag ?? '') ?? fakeDigest(ref.normalized))
      : fakeDigest(ref.normalized);
    for (const name of nodeNames) {
      const node = cluster.kube.get<Node>('Node', undefined, name);
      if (!node || node.status.images.some((i) => i.names.includes(ref.normalized))) continue;
      node.status.images.push({ names: [`${ref.host}/${ref.path}@${digest}`, ref.normalized], sizeBytes: 41_000_000 });
      cluster.kube.put(node);
    }
  }

  private nodesFor(cluster: Cluster, spec: WorkloadSpec, count: number): string[] {
    if (spec.nodes) return Array.from({ length: count }, (_, i) => spec.nodes?.[i % spec.nodes.length] ?? '');
    const candidates = cluster.nodePools.filter((p) => !spec.pool || p.name === spec.pool).flatMap((p) => p.nodes);
    return Array.from({ length: count }, (_, i) => candidates[i % candidates.length] ?? '');
  }

  private template(spec: WorkloadSpec): PodTemplateSpec {
    return {
      metadata: { labels: { app: spec.name, ...(spec.labels ?? {}) } },
      spec: {
        ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
        ...(spec.nodeSelector ? { nodeSelector: { ...spec.nodeSelector } } : {}),
        ...(spec.affinity ? { affinity: structuredClone(spec.affinity) } : {}),
        ...(spec.tolerations ? { tolerations: spec.tolerations.map((t) => ({ ...t })) } : {}),
        ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => ({ ...c })) } : {}),
        containers: spec.containers.map((c) => ({ ...c })),
      },
    };
  }

  private workloadMeta(spec: WorkloadSpec, created: number) {
    return {
      name: spec.name,
      namespace: spec.namespace,
      uid: this.world.rng.uuid(),
      generation: 1,
      creationTimestamp: iso(created),
      labels: { app: spec.name, ...(spec.labels ?? {}) },
    };
  }

  /** Runs the kubelet over a new pod at `start` and, if it fails, ages it to the present. */
  private materialize(
    cluster: Cluster,
    owner: KubeObject,
    spec: WorkloadSpec,
    name: string,
    node: string,
    template: PodTemplateSpec,
    labels: Record<string, string>,
    start: number,
  ): void {
    if (spec.cachedOnNodes) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) this.cacheImage(cluster, [node], c.image);
    }
    const pod = createPod(this.world, cluster, {
      namespace: spec.namespace,
      name,
      template,
      owner,
      nodeName: node,
      at: start,
      labels,
    });
    const outcome = runKubelet(this.world, cluster, pod, start + 2_000);
    if (outcome === 'failed') ageFailingPod(this.world, cluster, pod, start + 2_000, this.now - 4_000);
  }

  /** A Deployment with one ReplicaSet whose pods were created `startedAgoMs` ago. */
  deployment(cluster: Cluster, spec: WorkloadSpec): Deployment {
    const start = this.now - (spec.startedAgoMs ?? 12 * MINUTE);
    const template = this.template(spec);
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        ...this.workloadMeta(spec, start - 200 * DAY),
        annotations: { 'deployment.kubernetes.io/revision': '7' },
      },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: { app: spec.name } },
        template,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...(spec.paused ? { paused: true } : {}),
      },
      status: {},
    };
    cluster.kube.put(deployment);
    const hash = spec.templateHash ?? revisionHash(template);
    const rsTemplate = structuredClone(template);
    rsTemplate.metadata.labels = { ...rsTemplate.metadata.labels, 'pod-template-hash': hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${spec.name}-${hash}`,
        namespace: spec.namespace,
        uid: this.world.rng.uuid(),
        generation: 1,
        creationTimestamp: iso(start - 1_000),
        labels: { ...rsTemplate.metadata.labels },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(spec.replicas),
          'deployment.kubernetes.io/max-replicas': String(spec.replicas + Math.ceil(spec.replicas * 0.25)),
          'deployment.kubernetes.io/revision': '7',
        },
        ownerReferences: [controllerRef(deployment)],
      },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: { app: spec.name, 'pod-template-hash': hash } },
        template: rsTemplate,
      },
      status: { replicas: 0 },
    };
    cluster.kube.put(rs);
    const nodes = this.nodesFor(cluster, spec, spec.replicas);
    for (let i = 0; i < spec.replicas; i++) {
      const name = spec.podNames?.[i] ?? `${rs.metadata.name}-${this.world.rng.suffix()}`;
      this.materialize(
        cluster,
        rs,
        spec,
        name,
        nodes[i] ?? '',
        rsTemplate,
        { 'pod-template-hash': hash },
        start + i * 350,
      );
    }
    refreshDeploymentStatus(cluster, deployment, this.now);
    return deployment;
  }

  /** A StatefulSet (podManagementPolicy Parallel) whose pods `NAME-0…` were created `startedAgoMs` ago. */
  statefulSet(cluster: Cluster, spec: WorkloadSpec): StatefulSet {
    const start = this.now - (spec.startedAgoMs ?? 12 * MINUTE);
    const template = this.template(spec);
    const revision = `${spec.name}-${revisionHash(template)}`;
    const sts: StatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: this.workloadMeta(spec, start - 200 * DAY),
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: { app: spec.name } },
        template,
        serviceName: spec.name,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      },
      status: { replicas: 0, currentRevision: revision, updateRevision: revision, collisionCount: 0 },
    };
    cluster.kube.put(sts);
    const nodes = this.nodesFor(cluster, spec, spec.replicas);
    for (let i = 0; i < spec.replicas; i++) {
      const name = `${spec.name}-${i}`;
      const labels = {
        'controller-revision-hash': revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(i),
      };
      this.materialize(cluster, sts, spec, name, nodes[i] ?? '', template, labels, start + i * 350);
    }
    refreshStatefulSetStatus(cluster, sts);
    return sts;
  }

  /** A DaemonSet with one pod on every node of `spec.pool` (or every node). */
  daemonSet(cluster: Cluster, spec: Omit<WorkloadSpec, 'replicas'>): DaemonSet {
    const start = this.now - (spec.startedAgoMs ?? 12 * MINUTE);
    const template = this.template({ ...spec, replicas: 0 });
    if (spec.pool) template.spec.nodeSelector = { 'cloud.google.com/gke-nodepool': spec.pool };
    const hash = revisionHash(template);
    const ds: DaemonSet = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: this.workloadMeta({ ...spec, replicas: 0 }, start - 200 * DAY),
      spec: {
        selector: { matchLabels: { app: spec.name } },
        template,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        revisionHistoryLimit: 10,
      },
      status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
    };
    cluster.kube.put(ds);
    const nodes = cluster.nodePools.filter((p) => !spec.pool || p.name === spec.pool).flatMap((p) => p.nodes);
    nodes.forEach((node, i) => {
      const name = spec.podNames?.[i] ?? `${spec.name}-${this.world.rng.suffix()}`;
      const labels = { 'controller-revision-hash': hash, 'pod-template-generation': '1' };
      this.materialize(cluster, ds, { ...spec, replicas: 0 }, name, node, template, labels, start + i * 350);
    });
    refreshDaemonSetStatus(cluster, ds, nodes.length);
    return ds;
  }

  private mustProject(projectId: string): Project {
    const p = this.world.project(projectId);
    if (!p) throw new Error(`no project ${projectId}`);
    return p;
  }
}
