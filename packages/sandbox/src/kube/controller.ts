/**
 * The controllers and kubelets of one simulated cluster, driven by timers: a changed pod template rolls out a new
 * ReplicaSet (Deployment), replaces pods in reverse ordinal order (StatefulSet) or per node (DaemonSet); new pods
 * pull through the kubelet simulator after `podStartMs`, then run or back off. A Deployment rolls with the
 * deployment controller's arithmetic (`rollout.ts`: maxSurge, maxUnavailable, unhealthy old pods first), so a
 * rollout whose new pods cannot pull stops after the surge, as on a real cluster. Simplifications: pods a
 * ReplicaSet scales down disappear at once (no Terminating phase); existing failing pods are not retried by the
 * kubelet on their own (as if their back-off were at its 5-minute cap for the whole test). The scheduler places pods only on
 * nodes that are not cordoned (`spec.unschedulable`); a pod no node can take stays Pending with FailedScheduling
 * until a node change (uncordon, a new pool's nodes) lets it bind. A deleted or evicted pod is Terminating until
 * its kubelet has stopped it (after `podStartMs`, or its grace period if shorter), and its controller replaces it.
 */
import type {
  DaemonSet,
  Deployment,
  KubeObject,
  Node,
  Pod,
  ReplicaSet,
  StatefulSet,
  Workload,
} from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import {
  bindPod,
  controllerOf,
  createPod,
  currentReplicaSet,
  enterBackOff,
  iso,
  podReady,
  podsOwnedBy,
  recordEvent,
  refreshDaemonSetStatus,
  refreshDeploymentStatus,
  refreshStatefulSetStatus,
  replicaSetsOf,
  revisionHash,
  runKubelet,
} from '../world/workloads.ts';
import type { World } from '../world/world.ts';
import { podChanged, scaledReplicaSet } from './controller-events.ts';
import { syncUnschedulableTaints } from './node-lifecycle.ts';
import { newReplicaSet, rolloutReplicas, type Strategy } from './rollout.ts';

/** Timing of the simulated kubelets. */
export interface ControllerOptions {
  /** Delay before a new pod pulls its image; the back-off transition follows after the same delay. */
  readonly podStartMs: number;
}

/** Drives one cluster's rollouts and pod start-ups with timers; `stop()` cancels them all. */
export class ClusterController {
  private readonly world: World;
  private readonly cluster: Cluster;
  private readonly podStartMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private spread = 0;
  private stopped = false;
  /** `namespace/name` of pods waiting for a node. */
  private readonly pending = new Set<string>();
  private readonly unsubscribe: () => void;
  private rescheduleQueued = false;

  constructor(world: World, cluster: Cluster, opts: ControllerOptions) {
    this.world = world;
    this.cluster = cluster;
    this.podStartMs = opts.podStartMs;
    // Any write to a Node (a cordon, an uncordon, a new pool's nodes) may change its taints and let a pending pod
    // schedule.
    this.unsubscribe = cluster.kube.subscribe((c) => {
      if (c.kind !== 'Node' || this.rescheduleQueued) return;
      this.rescheduleQueued = true;
      queueMicrotask(() => {
        this.rescheduleQueued = false;
        if (this.stopped) return;
        syncUnschedulableTaints(this.cluster, this.world.now());
        if (this.pending.size > 0) this.schedulePending();
      });
    });
  }

  /**
   * Deletes a pod gracefully, as the API server does for a DELETE or an allowed eviction: it gets its
   * deletionTimestamp now (so its controller replaces it at once), and is gone once its kubelet has stopped it.
   */
  deletePod(pod: Pod, gracePeriodSeconds?: number): void {
    const grace = gracePeriodSeconds ?? (pod.spec.terminationGracePeriodSeconds as number | undefined) ?? 30;
    const now = this.world.now();
    const owner = this.ownerOf(pod);
    const ns = pod.metadata.namespace;
    if (grace <= 0 || !pod.spec.nodeName) {
      this.removePod(pod);
      if (owner) this.ownerChanged(owner);
      return;
    }
    pod.metadata.deletionTimestamp = iso(now + grace * 1000);
    pod.metadata.deletionGracePeriodSeconds = grace;
    this.cluster.kube.put(pod);
    for (const c of pod.status.containerStatuses ?? []) {
      if (!c.state.running) continue;
      recordEvent(this.world, this.cluster, pod, {
        reason: 'Killing',
        type: 'Normal',
        container: c.name,
        message: `Stopping container ${c.name}`,
        at: now,
      });
    }
    if (owner) this.ownerChanged(owner);
    const uid = pod.metadata.uid;
    this.schedule(Math.min(this.podStartMs, grace * 1000), () => {
      const live = this.cluster.kube.get<Pod>('Pod', ns, pod.metadata.name);
      if (live?.metadata.uid !== uid) return;
      this.removePod(live);
      const o = this.ownerOf(live);
      if (o) this.ownerChanged(o);
    });
  }

  private ownerOf(pod: Pod): KubeObject | undefined {
    const ref = controllerOf(pod);
    return ref ? this.cluster.kube.get<KubeObject>(ref.kind, pod.metadata.namespace, ref.name) : undefined;
  }

  /** Binds pods waiting for a node to a node that can now take them, and starts them. */
  private schedulePending(): void {
    for (const key of [...this.pending]) {
      const [ns, name] = key.split('/') as [string, string];
      const pod = this.cluster.kube.get<Pod>('Pod', ns, name);
      if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) {
        this.pending.delete(key);
        continue;
      }
      const owner = this.ownerOf(pod);
      const [node] = this.placement([], 1, pod.spec.nodeSelector);
      if (!node || !owner) continue;
      this.pending.delete(key);
      bindPod(this.world, this.cluster, pod, node, this.world.now());
      this.startPod(pod, owner);
    }
  }

  /** Reconciles a workload after its spec changed (a PATCH was accepted). */
  workloadChanged(obj: Workload): void {
    if (this.stopped) return;
    if (obj.kind === 'Deployment') this.reconcileDeployment(obj);
    else if (obj.kind === 'StatefulSet') this.reconcileStatefulSet(obj);
    else this.reconcileDaemonSet(obj);
  }

  /** Cancels every pending timer; nothing changes afterwards. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /**
   * Nodes for `count` new pods: in the node pools of the pods being replaced (in name order), so replacements land
   * where their predecessors ran, else in any pool; only schedulable nodes; `''` for a pod no node can take.
   */
  private placement(previous: readonly Pod[], count: number, nodeSelector?: Record<string, string>): string[] {
    const usable = (pool: { nodes: string[] } | undefined) =>
      (pool?.nodes ?? []).filter((n) => this.nodeMatches(n, nodeSelector) && this.schedulable(n));
    const pools = previous
      .map((p) => this.world.nodePoolOfNode(this.cluster, p.spec.nodeName ?? ''))
      .filter((p) => p !== undefined && usable(p).length > 0);
    const candidates = pools.length > 0 ? pools : this.cluster.nodePools.filter((p) => usable(p).length > 0);
    return Array.from({ length: count }, (_, i) => {
      const nodes = usable(candidates[i % Math.max(1, candidates.length)]);
      const node = nodes[this.spread % Math.max(1, nodes.length)] ?? '';
      this.spread += 1;
      return node;
    });
  }

  private schedulable(name: string): boolean {
    const node = this.cluster.kube.get<Node>('Node', undefined, name);
    return node !== undefined && node.spec.unschedulable !== true;
  }

  private nodeMatches(name: string, selector?: Record<string, string>): boolean {
    if (!selector) return true;
    const labels = this.cluster.kube.get<Node>('Node', undefined, name)?.metadata.labels ?? {};
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
  }

  /** Starts a new pod: the kubelet pulls after `podStartMs`; a failure backs off after as long again. */
  private startPod(pod: Pod, owner: KubeObject): void {
    if (!pod.spec.nodeName) {
      this.pending.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
      return;
    }
    const uid = pod.metadata.uid;
    const ns = pod.metadata.namespace;
    this.schedule(this.podStartMs, () => {
      const live = this.cluster.kube.get<Pod>('Pod', ns, pod.metadata.name);
      if (live?.metadata.uid !== uid || live.metadata.deletionTimestamp) return;
      const outcome = runKubelet(this.world, this.cluster, live, this.world.now());
      this.ownerChanged(owner);
      if (outcome === 'failed') {
        this.schedule(this.podStartMs, () => {
          const still = this.cluster.kube.get<Pod>('Pod', ns, pod.metadata.name);
          if (still?.metadata.uid !== uid || still.metadata.deletionTimestamp) return;
          enterBackOff(this.world, this.cluster, still, this.world.now());
          this.ownerChanged(owner);
        });
      }
    });
  }

  /** Re-reconciles whatever owns a pod whose state changed. */
  private ownerChanged(owner: KubeObject): void {
    const ns = owner.metadata.namespace;
    if (owner.kind === 'ReplicaSet') {
      const rs = this.cluster.kube.get<ReplicaSet>('ReplicaSet', ns, owner.metadata.name);
      const ref = rs ? controllerOf(rs) : undefined;
      const d = ref ? this.cluster.kube.get<Deployment>('Deployment', ns, ref.name) : undefined;
      if (d) this.reconcileDeployment(d);
    } else if (owner.kind === 'StatefulSet') {
      const s = this.cluster.kube.get<StatefulSet>('StatefulSet', ns, owner.metadata.name);
      if (s) this.reconcileStatefulSet(s);
    } else if (owner.kind === 'DaemonSet') {
      const ds = this.cluster.kube.get<DaemonSet>('DaemonSet', ns, owner.metadata.name);
      if (ds) this.reconcileDaemonSet(ds);
    }
  }

  /** Removes a pod; `owner` set when its controller deletes it (recorded as SuccessfulDelete on the owner). */
  private removePod(pod: Pod, owner?: KubeObject): void {
    this.cluster.kube.delete('Pod', pod.metadata.namespace, pod.metadata.name);
    if (owner) podChanged(this.world, this.cluster, owner, pod, false);
  }

  private reconcileDeployment(d: Deployment): void {
    const now = this.world.now();
    if (d.spec.paused) {
      refreshDeploymentStatus(this.cluster, d, now);
      return;
    }
    const sets = replicaSetsOf(this.cluster, d);
    const current =
      currentReplicaSet(this.cluster, d) ?? this.cluster.kube.put(newReplicaSet(this.world, d, sets, now));
    const old = sets
      .filter((rs) => rs !== current)
      .sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    const counts = (rs: ReplicaSet) => ({
      replicas: rs.spec.replicas,
      available: podsOwnedBy(this.cluster, rs).filter(podReady).length,
    });
    const oldPodsGone = old.every((rs) => podsOwnedBy(this.cluster, rs).length === 0);
    const next = rolloutReplicas(
      d.spec.replicas,
      d.spec.strategy as Strategy | undefined,
      counts(current),
      old.map(counts),
      oldPodsGone,
    );
    scaledReplicaSet(this.world, this.cluster, d, current, current.spec.replicas, next.current);
    current.spec.replicas = next.current;
    old.forEach((rs, i) => {
      scaledReplicaSet(this.world, this.cluster, d, rs, rs.spec.replicas, next.old[i] ?? 0);
      rs.spec.replicas = next.old[i] ?? 0;
    });
    // The ReplicaSet controller: old ones shed pods first, so replacements land where their predecessors ran.
    const previous = old.flatMap((o) => podsOwnedBy(this.cluster, o));
    for (const rs of old) this.syncReplicaSet(rs, []);
    this.syncReplicaSet(current, previous);
    refreshDeploymentStatus(this.cluster, d, now);
  }

  /**
   * Creates or deletes a ReplicaSet's pods to match `spec.replicas`. Deletion picks pods the way the ReplicaSet
   * controller ranks them: unscheduled, then not running, then not ready, newest first.
   */
  private syncReplicaSet(rs: ReplicaSet, previous: readonly Pod[]): void {
    const pods = podsOwnedBy(this.cluster, rs);
    const want = rs.spec.replicas;
    if (pods.length < want) {
      const ns = rs.metadata.namespace ?? 'default';
      const nodes = this.placement(
        previous.length ? previous : pods,
        want - pods.length,
        rs.spec.template.spec.nodeSelector,
      );
      for (const node of nodes) {
        const pod = createPod(this.world, this.cluster, {
          namespace: ns,
          name: `${rs.metadata.name}-${this.world.rng.suffix()}`,
          template: rs.spec.template,
          owner: rs,
          nodeName: node,
          at: this.world.now(),
        });
        podChanged(this.world, this.cluster, rs, pod, true);
        this.startPod(pod, rs);
      }
    } else if (pods.length > want) {
      const rank = (p: Pod) => [p.spec.nodeName ? 1 : 0, p.status.phase === 'Running' ? 1 : 0, podReady(p) ? 1 : 0];
      const doomed = [...pods].sort((a, b) => {
        const [x, y] = [rank(a), rank(b)];
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
        return Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp);
      });
      for (const pod of doomed.slice(0, pods.length - want)) this.removePod(pod, rs);
    }
    this.cluster.kube.put(rs);
  }

  private statefulPod(s: StatefulSet, ordinal: number, revision: string, node: string): Pod {
    const name = `${s.metadata.name}-${ordinal}`;
    const pod = createPod(this.world, this.cluster, {
      namespace: s.metadata.namespace ?? 'default',
      name,
      template: s.spec.template,
      owner: s,
      nodeName: node,
      at: this.world.now(),
      labels: {
        'controller-revision-hash': revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(ordinal),
      },
    });
    podChanged(this.world, this.cluster, s, pod, true);
    return pod;
  }

  /** RollingUpdate: replace the highest-ordinal pod not at the update revision, then wait for it to be healthy. */
  private reconcileStatefulSet(s: StatefulSet): void {
    const ns = s.metadata.namespace;
    const revision = `${s.metadata.name}-${revisionHash(s.spec.template)}`;
    s.status.updateRevision = revision;
    const get = (i: number) => this.cluster.kube.get<Pod>('Pod', ns, `${s.metadata.name}-${i}`);
    for (const pod of podsOwnedBy(this.cluster, s)) {
      const ordinal = Number(pod.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? -1);
      if (ordinal >= s.spec.replicas) this.removePod(pod, s);
    }
    for (let i = 0; i < s.spec.replicas; i++) {
      if (!get(i)) {
        const [node] = this.placement(podsOwnedBy(this.cluster, s), 1, s.spec.template.spec.nodeSelector);
        this.startPod(this.statefulPod(s, i, revision, node ?? ''), s);
      }
    }
    for (let i = s.spec.replicas - 1; i >= 0; i--) {
      const pod = get(i);
      if (!pod) break;
      if (pod.metadata.labels?.['controller-revision-hash'] !== revision) {
        const node = pod.spec.nodeName ?? '';
        this.removePod(pod, s);
        this.startPod(this.statefulPod(s, i, revision, node), s);
        break;
      }
      if (!podReady(pod)) break;
    }
    refreshStatefulSetStatus(this.cluster, s);
  }

  /** One pod per eligible node; pods of an older template are replaced. */
  private reconcileDaemonSet(ds: DaemonSet): void {
    const ns = ds.metadata.namespace ?? 'default';
    const revision = revisionHash(ds.spec.template);
    const nodes = this.cluster.nodePools
      .flatMap((p) => p.nodes)
      .filter((n) => this.nodeMatches(n, ds.spec.template.spec.nodeSelector));
    const pods = podsOwnedBy(this.cluster, ds);
    for (const node of nodes) {
      const mine = pods.filter((p) => p.spec.nodeName === node);
      const current = mine.find((p) => p.metadata.labels?.['controller-revision-hash'] === revision);
      for (const p of mine) if (p !== current) this.removePod(p, ds);
      if (!current) {
        const pod = createPod(this.world, this.cluster, {
          namespace: ns,
          name: `${ds.metadata.name}-${this.world.rng.suffix()}`,
          template: ds.spec.template,
          owner: ds,
          nodeName: node,
          at: this.world.now(),
          labels: {
            'controller-revision-hash': revision,
            'pod-template-generation': String(ds.metadata.generation ?? 1),
          },
        });
        podChanged(this.world, this.cluster, ds, pod, true);
        this.startPod(pod, ds);
      }
    }
    refreshDaemonSetStatus(this.cluster, ds, nodes.length);
  }
}
