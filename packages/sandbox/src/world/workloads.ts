/**
 * Pods, ReplicaSets and their events as the kubelet and controllers produce them: creating a scheduled pod,
 * running the kubelet over it (through the pull simulator), back-off, event aggregation, and workload status.
 * Pure state transitions over a cluster's store; the timers that drive them live in `kube/controller.ts`.
 */
import { createHash } from 'node:crypto';
import { podTemplateHash } from './ids.ts';
import type {
  Container,
  ContainerStatus,
  DaemonSet,
  Deployment,
  KubeEvent,
  KubeObject,
  Node,
  OwnerReference,
  Pod,
  PodCondition,
  PodTemplateSpec,
  ReplicaSet,
  StatefulSet,
  WorkloadCondition,
} from './kube-types.ts';
import { defaultPullPolicy, simulatePull } from './kubelet.ts';
import type { Cluster } from './types.ts';
import type { World } from './world.ts';

/** RFC 3339 without milliseconds, the way the API server prints timestamps. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** JSON with sorted keys, for comparing objects regardless of key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** True when two pod templates are equal once the controller-added hash labels are ignored (EqualIgnoreHash). */
export function templatesEqual(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  const strip = (t: PodTemplateSpec): unknown => {
    const copy = structuredClone(t);
    if (copy.metadata?.labels) {
      delete copy.metadata.labels['pod-template-hash'];
      delete copy.metadata.labels['controller-revision-hash'];
    }
    return copy;
  };
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/** The hash controllers label pods with for a template (hash labels excluded, so it is stable). */
export function revisionHash(template: PodTemplateSpec): string {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels['pod-template-hash'];
    delete copy.metadata.labels['controller-revision-hash'];
  }
  return podTemplateHash(JSON.parse(canonicalJson(copy)));
}

/** An owner reference with `controller: true`, as controllers set on what they create. */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The object's controlling owner reference, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

function containerFieldPath(pod: Pod, name: string): string {
  return pod.spec.initContainers?.some((c) => c.name === name)
    ? `spec.initContainers{${name}}`
    : `spec.containers{${name}}`;
}

/** One event occurrence to record on a pod. */
export interface EventInput {
  readonly reason: string;
  readonly type: 'Normal' | 'Warning';
  readonly message: string;
  /** Container name, for `involvedObject.fieldPath`. */
  readonly container?: string;
  readonly component?: string;
  readonly at: number;
  /** Set the count and first time outright (history built for a scenario) instead of incrementing. */
  readonly count?: number;
  readonly firstAt?: number;
}

/** A nanosecond timestamp for an event name: the millisecond, then the write counter, then a random tail. */
function eventNanos(atMs: number, counter: number, random: number): bigint {
  return BigInt(atMs) * 1_000_000n + BigInt(counter % 1000) * 1000n + BigInt(random);
}

/**
 * Records a pod event the way the kubelet's event correlator does: the same (object, field, reason, message)
 * increments `count` and moves `lastTimestamp` instead of creating a new Event.
 */
export function recordEvent(world: World, cluster: Cluster, pod: Pod, e: EventInput): KubeEvent {
  const ns = pod.metadata.namespace ?? 'default';
  const fieldPath = e.container ? containerFieldPath(pod, e.container) : undefined;
  const component = e.component ?? 'kubelet';
  const existing = cluster.kube
    .eventsFor(pod.metadata.uid)
    .find(
      (ev) =>
        ev.involvedObject.uid === pod.metadata.uid &&
        ev.involvedObject.fieldPath === fieldPath &&
        ev.reason === e.reason &&
        ev.message === e.message &&
        ev.source.component === component,
    );
  if (existing) {
    existing.count = e.count ?? existing.count + 1;
    if (e.firstAt !== undefined) existing.firstTimestamp = iso(e.firstAt);
    existing.lastTimestamp = iso(e.at);
    return cluster.kube.put(existing);
  }
  const host = component === 'kubelet' ? pod.spec.nodeName : undefined;
  const event: KubeEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      // The kubelet names events `POD.<creation time in ns, hex>`, so a namespace's events list in creation order; the
      // store's write counter orders events recorded in the same millisecond.
      name: `${pod.metadata.name}.${eventNanos(e.at, Number(cluster.kube.resourceVersion()), world.rng.int(1000)).toString(16).padStart(16, '0')}`,
      namespace: ns,
      uid: world.rng.uuid(),
      creationTimestamp: iso(e.firstAt ?? e.at),
    },
    involvedObject: {
      kind: 'Pod',
      namespace: ns,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      apiVersion: 'v1',
      resourceVersion: pod.metadata.resourceVersion,
      ...(fieldPath ? { fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    source: host ? { component, host } : { component },
    firstTimestamp: iso(e.firstAt ?? e.at),
    lastTimestamp: iso(e.at),
    count: e.count ?? 1,
    type: e.type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: host ?? '',
  };
  return cluster.kube.put(event);
}

function condition(type: string, ok: boolean, at: number, reason?: string, message?: string): PodCondition {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: iso(at),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function waitingStatus(c: Container, reason: string, message?: string): ContainerStatus {
  return {
    name: c.name,
    image: c.image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: message ? { reason, message } : { reason } },
    lastState: {},
  };
}

/** Kubernetes' defaulting of a pod spec created from a template. */
function podSpecFromTemplate(template: PodTemplateSpec, nodeName: string): Pod['spec'] {
  const spec = structuredClone(template.spec);
  const withDefaults = (c: Container): Container => ({
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    resources: {},
    ...c,
    imagePullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
  });
  spec.containers = spec.containers.map(withDefaults);
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(withDefaults);
  const serviceAccountName = spec.serviceAccountName ?? 'default';
  return {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    ...spec,
    serviceAccountName,
    serviceAccount: serviceAccountName,
    nodeName,
  };
}

/**
 * The ServiceAccount admission plugin's projected token volume (`kube-api-access-xxxxx`: token, cluster CA,
 * namespace) mounted read-only into every container at `/var/run/secrets/kubernetes.io/serviceaccount`, unless
 * the pod opts out with `automountServiceAccountToken: false`. The suffix is derived from the pod name, so
 * scenario worlds stay reproducible.
 */
function withServiceAccountToken(spec: Pod['spec'], podName: string): Pod['spec'] {
  if (spec.automountServiceAccountToken === false) return spec;
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha1').update(podName).digest();
  const suffix = Array.from({ length: 5 }, (_, i) => alphabet[(digest[i] ?? 0) % alphabet.length]).join('');
  const name = `kube-api-access-${suffix}`;
  const mount = { name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  const volume = {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
  const addMount = (c: Container): Container => ({
    ...c,
    volumeMounts: [...((c.volumeMounts as unknown[] | undefined) ?? []), mount],
  });
  return {
    ...spec,
    containers: spec.containers.map(addMount),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(addMount) } : {}),
    volumes: [...((spec.volumes as unknown[] | undefined) ?? []), volume],
  };
}

/** A pod a controller creates: its name, template, owner and the node it is bound to. */
export interface NewPodInput {
  readonly namespace: string;
  readonly name: string;
  readonly template: PodTemplateSpec;
  readonly owner: KubeObject;
  readonly nodeName: string;
  readonly at: number;
  /** Labels added by the controller (`pod-template-hash`, `controller-revision-hash`, …). */
  readonly labels?: Record<string, string>;
  readonly uid?: string;
}

/**
 * A pod a controller just created. Bound to `input.nodeName`: Pending, containers `ContainerCreating`, with the
 * scheduler's `Scheduled` event. With an empty `nodeName` (no node can take it): Pending and unscheduled, with
 * the scheduler's `FailedScheduling` event; {@link bindPod} binds it later.
 */
export function createPod(world: World, cluster: Cluster, input: NewPodInput): Pod {
  const spec = withServiceAccountToken(podSpecFromTemplate(input.template, input.nodeName), input.name);
  if (!input.nodeName) delete spec.nodeName;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: input.uid ?? world.rng.uuid(),
      creationTimestamp: iso(input.at),
      labels: { ...(input.template.metadata.labels ?? {}), ...(input.labels ?? {}) },
      ...(input.template.metadata.annotations ? { annotations: { ...input.template.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(input.owner)],
    },
    spec,
    status: { phase: 'Pending', conditions: [], qosClass: 'BestEffort' },
  };
  if (input.nodeName) return bindPod(world, cluster, pod, input.nodeName, input.at);
  const nodes = cluster.nodePools.reduce((n, p) => n + p.nodes.length, 0);
  const message = `0/${nodes} nodes are available: ${nodes} node(s) were unschedulable. preemption: 0/${nodes} nodes are available: ${nodes} Preemption is not helpful for scheduling.`;
  pod.status.conditions = [condition('PodScheduled', false, input.at, 'Unschedulable', message)];
  cluster.kube.put(pod);
  recordEvent(world, cluster, pod, {
    reason: 'FailedScheduling',
    type: 'Warning',
    component: 'default-scheduler',
    message,
    at: input.at,
  });
  return pod;
}

/** The scheduler binding a pod to a node: containers `ContainerCreating`, the `Scheduled` event. */
export function bindPod(world: World, cluster: Cluster, pod: Pod, nodeName: string, at: number): Pod {
  const spec = pod.spec;
  spec.nodeName = nodeName;
  pod.status = {
    phase: 'Pending',
    conditions: [condition('PodScheduled', true, at)],
    qosClass: 'BestEffort',
    startTime: iso(at),
    hostIP: nodeIp(cluster, nodeName),
    hostIPs: [{ ip: nodeIp(cluster, nodeName) }],
    ...(spec.initContainers?.length
      ? { initContainerStatuses: spec.initContainers.map((c) => waitingStatus(c, 'PodInitializing')) }
      : {}),
    containerStatuses: spec.containers.map((c) =>
      waitingStatus(c, spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating'),
    ),
  };
  cluster.kube.put(pod);
  recordEvent(world, cluster, pod, {
    reason: 'Scheduled',
    type: 'Normal',
    component: 'default-scheduler',
    message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`,
    at,
  });
  return pod;
}

/** The internal IP of a node (its `InternalIP` address). */
export function nodeIp(cluster: Cluster, nodeName: string): string {
  const node = cluster.kube.get<Node>('Node', undefined, nodeName);
  return node?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '10.128.0.2';
}

/** The outcome of one kubelet pass over a pod. */
export type KubeletOutcome = 'running' | 'failed';

/**
 * One kubelet pass at time `at`: pulls init containers in order (stopping at the first failure), then the app
 * containers, through {@link simulatePull}; writes container statuses, pod conditions and phase, and the
 * Pulling/Pulled/Failed/Created/Started events. A successful pull adds the image to the node's `status.images`.
 */
export function runKubelet(world: World, cluster: Cluster, pod: Pod, at: number): KubeletOutcome {
  const nodeName = pod.spec.nodeName ?? '';
  const node = cluster.kube.get<Node>('Node', undefined, nodeName);
  const pool = world.nodePoolOfNode(cluster, nodeName) ?? cluster.nodePools[0];
  if (!pool) throw new Error(`cluster ${cluster.name} has no node pools`);
  if (!pod.status.podIP) {
    const ip = `10.8.${world.rng.int(250)}.${2 + world.rng.int(250)}`;
    pod.status.podIP = ip;
    pod.status.podIPs = [{ ip }];
  }
  const pullOne = (c: Container): ContainerStatus => {
    const result = simulatePull(world, {
      cluster,
      pool,
      image: c.image,
      pullPolicy: c.imagePullPolicy,
      cachedImages: node?.status.images,
    });
    if (!result.ok) {
      if (result.eventReason === 'Failed') {
        recordEvent(world, cluster, pod, {
          reason: 'Pulling',
          type: 'Normal',
          container: c.name,
          message: `Pulling image "${c.image}"`,
          at,
        });
      }
      recordEvent(world, cluster, pod, {
        reason: result.eventReason,
        type: 'Warning',
        container: c.name,
        message: result.message,
        at,
      });
      recordEvent(world, cluster, pod, {
        reason: 'Failed',
        type: 'Warning',
        container: c.name,
        message: `Error: ${result.waitingReason}`,
        at,
      });
      return waitingStatus(c, result.waitingReason, result.detail);
    }
    if (result.cached) {
      recordEvent(world, cluster, pod, {
        reason: 'Pulled',
        type: 'Normal',
        container: c.name,
        message: `Container image "${c.image}" already present on machine`,
        at,
      });
    } else {
      recordEvent(world, cluster, pod, {
        reason: 'Pulling',
        type: 'Normal',
        container: c.name,
        message: `Pulling image "${c.image}"`,
        at,
      });
      const secs = (1 + world.rng.int(4000) / 1000).toFixed(3);
      recordEvent(world, cluster, pod, {
        reason: 'Pulled',
        type: 'Normal',
        container: c.name,
        message: `Successfully pulled image "${c.image}" in ${secs}s (${secs}s including waiting). Image size: ${result.sizeBytes} bytes.`,
        at,
      });
      if (node && !node.status.images.some((i) => i.names.includes(result.normalized))) {
        node.status.images.push({ names: [result.imageId, result.normalized], sizeBytes: result.sizeBytes });
        cluster.kube.put(node);
      }
    }
    recordEvent(world, cluster, pod, {
      reason: 'Created',
      type: 'Normal',
      container: c.name,
      message: `Created container: ${c.name}`,
      at,
    });
    recordEvent(world, cluster, pod, {
      reason: 'Started',
      type: 'Normal',
      container: c.name,
      message: `Started container ${c.name}`,
      at,
    });
    return {
      name: c.name,
      image: c.image,
      imageID: result.imageId,
      containerID: `containerd://${world.rng.hex(64)}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: iso(at) } },
      lastState: {},
    };
  };

  const inits = pod.spec.initContainers ?? [];
  const initStatuses: ContainerStatus[] = [];
  let initFailed: string | undefined;
  for (const c of inits) {
    if (initFailed) {
      initStatuses.push(waitingStatus(c, 'PodInitializing'));
      continue;
    }
    const s = pullOne(c);
    if (s.state.running) {
      // Init containers run to completion.
      s.state = {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: iso(at),
          finishedAt: iso(at),
          containerID: s.containerID,
        },
      };
      s.ready = true;
      s.started = false;
    } else {
      initFailed = c.name;
    }
    initStatuses.push(s);
  }
  const statuses = initFailed
    ? pod.spec.containers.map((c) => waitingStatus(c, 'PodInitializing'))
    : pod.spec.containers.map(pullOne);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const allReady = unready.length === 0;
  if (inits.length) pod.status.initContainerStatuses = initStatuses;
  pod.status.containerStatuses = statuses;
  pod.status.phase = statuses.some((s) => s.state.running) ? 'Running' : 'Pending';
  pod.status.conditions = [
    condition('PodReadyToStartContainers', true, at),
    initFailed
      ? condition(
          'Initialized',
          false,
          at,
          'ContainersNotInitialized',
          `containers with incomplete status: [${initFailed}]`,
        )
      : condition('Initialized', true, at),
    allReady
      ? condition('Ready', true, at)
      : condition('Ready', false, at, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`),
    allReady
      ? condition('ContainersReady', true, at)
      : condition(
          'ContainersReady',
          false,
          at,
          'ContainersNotReady',
          `containers with unready status: [${unready.join(' ')}]`,
        ),
    condition('PodScheduled', true, Date.parse(pod.metadata.creationTimestamp)),
  ];
  cluster.kube.put(pod);
  return allReady ? 'running' : 'failed';
}

function failingStatuses(pod: Pod): ContainerStatus[] {
  return [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].filter(
    (s) => s.state.waiting?.reason === 'ErrImagePull' || s.state.waiting?.reason === 'ImagePullBackOff',
  );
}

/** Containers of the pod currently failing to pull (ErrImagePull or ImagePullBackOff). */
export function failingContainers(pod: Pod): { name: string; image: string; reason: string; init: boolean }[] {
  const init = new Set((pod.spec.initContainers ?? []).map((c) => c.name));
  return failingStatuses(pod).map((s) => ({
    name: s.name,
    image: s.image,
    reason: s.state.waiting?.reason ?? '',
    init: init.has(s.name),
  }));
}

/**
 * The kubelet backing off after a failed pull: `ErrImagePull` becomes `ImagePullBackOff` with the previous error
 * in its message (kubelet ≥1.31 form), and the `BackOff` / `Error: ImagePullBackOff` events are recorded.
 */
export function enterBackOff(
  world: World,
  cluster: Cluster,
  pod: Pod,
  at: number,
  history?: { count: number; firstAt: number },
): void {
  for (const s of failingStatuses(pod)) {
    // The back-off message embeds the previous pull error (kubelet image_manager.go: "Back-off pulling image %q: %s").
    const previous =
      s.state.waiting?.reason === 'ErrImagePull'
        ? s.state.waiting.message
        : s.state.waiting?.message?.replace(/^Back-off pulling image "[^"]*": ErrImagePull: /, '');
    s.state = {
      waiting: {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${s.image}": ErrImagePull: ${previous ?? ''}`,
      },
    };
    recordEvent(world, cluster, pod, {
      reason: 'BackOff',
      type: 'Normal',
      container: s.name,
      message: `Back-off pulling image "${s.image}"`,
      at,
      ...(history ?? {}),
    });
    recordEvent(world, cluster, pod, {
      reason: 'Failed',
      type: 'Warning',
      container: s.name,
      message: 'Error: ImagePullBackOff',
      at,
      ...(history ?? {}),
    });
  }
  cluster.kube.put(pod);
}

/**
 * Gives a failing pod created at `start` the history it would have at `until`: pull retries on the kubelet's
 * back-off schedule (10 s doubling to 300 s) raise the counts of its Pulling / Failed events, and BackOff
 * events repeat about every 15 s in between. The pod ends in `ImagePullBackOff`.
 */
export function ageFailingPod(world: World, cluster: Cluster, pod: Pod, start: number, until: number): void {
  const retries: number[] = [start];
  let gap = 10_000;
  while ((retries.at(-1) ?? start) + gap <= until - 5_000) {
    retries.push((retries.at(-1) ?? start) + gap);
    gap = Math.min(gap * 2, 300_000);
  }
  const lastPull = retries.at(-1) ?? start;
  const failing = new Set(failingStatuses(pod).map((s) => s.name));
  for (const ev of cluster.kube.eventsFor(pod.metadata.uid)) {
    // involvedObject.fieldPath is `spec.containers{NAME}` / `spec.initContainers{NAME}` (fixtures/alerts/logentry-*.json).
    const container = /\{(.+)\}$/.exec(ev.involvedObject.fieldPath ?? '')?.[1];
    if (!container || !failing.has(container)) continue;
    if (ev.reason === 'Pulling' || ev.reason === 'Failed' || ev.reason === 'InspectFailed') {
      ev.count = retries.length;
      ev.firstTimestamp = iso(start);
      ev.lastTimestamp = iso(lastPull);
      cluster.kube.put(ev);
    }
  }
  const backOffs = Math.max(1, Math.round((until - start) / 15_000));
  enterBackOff(world, cluster, pod, until, { count: backOffs, firstAt: start + 1_000 });
}

/** True when every container is running and ready. */
export function podReady(pod: Pod): boolean {
  return pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Pods controlled by `owner` (by uid), in name order; terminating pods (with a deletionTimestamp) are left out, as
 * controllers count only active pods.
 */
export function podsOwnedBy(cluster: Cluster, owner: KubeObject): Pod[] {
  return cluster.kube
    .list<Pod>('Pod', owner.metadata.namespace)
    .filter((p) => controllerOf(p)?.uid === owner.metadata.uid && !p.metadata.deletionTimestamp);
}

/** ReplicaSets controlled by a Deployment. */
export function replicaSetsOf(cluster: Cluster, d: Deployment): ReplicaSet[] {
  return cluster.kube
    .list<ReplicaSet>('ReplicaSet', d.metadata.namespace)
    .filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
}

/** The ReplicaSet whose template matches the Deployment's current template (the "new" one), if any. */
export function currentReplicaSet(cluster: Cluster, d: Deployment): ReplicaSet | undefined {
  return replicaSetsOf(cluster, d).find((rs) => templatesEqual(rs.spec.template, d.spec.template));
}

/** Recomputes a ReplicaSet's status from its pods. */
export function refreshReplicaSetStatus(cluster: Cluster, rs: ReplicaSet): void {
  const pods = podsOwnedBy(cluster, rs);
  const ready = pods.filter(podReady).length;
  rs.status = {
    replicas: pods.length,
    fullyLabeledReplicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  cluster.kube.put(rs);
}

function workloadCondition(
  type: string,
  status: WorkloadCondition['status'],
  reason: string,
  message: string,
  at: number,
  transitionAt = at,
): WorkloadCondition {
  return { type, status, lastUpdateTime: iso(at), lastTransitionTime: iso(transitionAt), reason, message };
}

/**
 * The deployment controller's condition bookkeeping: an unchanged condition keeps its times, and one whose
 * status did not flip keeps its lastTransitionTime.
 */
function keepConditionTimes(c: WorkloadCondition, previous: readonly WorkloadCondition[]): WorkloadCondition {
  const old = previous.find((p) => p.type === c.type);
  if (!old || old.status !== c.status) return c;
  if (old.reason === c.reason && old.message === c.message) return old;
  return { ...c, lastTransitionTime: old.lastTransitionTime };
}

/**
 * Recomputes a Deployment's status (replicas, updated/ready/available counts, the Available and Progressing
 * conditions) from its ReplicaSets and pods, like the deployment controller.
 */
export function refreshDeploymentStatus(cluster: Cluster, d: Deployment, now: number): void {
  const sets = replicaSetsOf(cluster, d);
  for (const rs of sets) refreshReplicaSetStatus(cluster, rs);
  const current = sets.find((rs) => templatesEqual(rs.spec.template, d.spec.template));
  const pods = sets.flatMap((rs) => podsOwnedBy(cluster, rs));
  const ready = pods.filter(podReady).length;
  const updated = current ? podsOwnedBy(cluster, current) : [];
  const updatedReady = updated.filter(podReady).length;
  const want = d.spec.replicas;
  const maxUnavailable = Math.floor(want * 0.25);
  const available = ready >= want - maxUnavailable;
  const createdAt = current ? Date.parse(current.metadata.creationTimestamp) : now;
  const complete = updated.length === want && updatedReady === want && pods.length === want;
  const deadline = ((d.spec.progressDeadlineSeconds as number | undefined) ?? 600) * 1000;
  let progressing: WorkloadCondition;
  if (d.spec.paused) {
    progressing = workloadCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', now);
  } else if (complete) {
    progressing = workloadCondition(
      'Progressing',
      'True',
      'NewReplicaSetAvailable',
      `ReplicaSet "${current?.metadata.name}" has successfully progressed.`,
      now,
      createdAt,
    );
  } else if (now - createdAt > deadline) {
    progressing = workloadCondition(
      'Progressing',
      'False',
      'ProgressDeadlineExceeded',
      `ReplicaSet "${current?.metadata.name}" has timed out progressing.`,
      now,
      createdAt + deadline,
    );
  } else {
    progressing = workloadCondition(
      'Progressing',
      'True',
      'ReplicaSetUpdated',
      `ReplicaSet "${current?.metadata.name}" is progressing.`,
      now,
      createdAt,
    );
  }
  const previous = d.status.conditions ?? [];
  d.status = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: pods.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(want - ready > 0 ? { unavailableReplicas: want - ready } : {}),
    conditions: [
      available
        ? workloadCondition(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            now,
          )
        : workloadCondition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            now,
          ),
      progressing,
    ].map((c) => keepConditionTimes(c, previous)),
  };
  if (!d.status.readyReplicas) delete d.status.readyReplicas;
  if (!d.status.availableReplicas) delete d.status.availableReplicas;
  cluster.kube.put(d);
}

/** Recomputes a StatefulSet's status from its pods. */
export function refreshStatefulSetStatus(cluster: Cluster, s: StatefulSet): void {
  const pods = podsOwnedBy(cluster, s);
  const updateRevision = s.status.updateRevision;
  const updated = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === updateRevision).length;
  const ready = pods.filter(podReady).length;
  const currentRevision = updated === s.spec.replicas ? updateRevision : s.status.currentRevision;
  s.status = {
    ...s.status,
    observedGeneration: s.metadata.generation ?? 1,
    replicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    currentReplicas: pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === currentRevision).length,
    updatedReplicas: updated,
    currentRevision,
  };
  cluster.kube.put(s);
}

/** Recomputes a DaemonSet's status from its pods. */
export function refreshDaemonSetStatus(cluster: Cluster, ds: DaemonSet, desired: number): void {
  const pods = podsOwnedBy(cluster, ds);
  const ready = pods.filter(podReady).length;
  const revision = revisionHash(ds.spec.template);
  const updated = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
  ds.status = {
    ...ds.status,
    observedGeneration: ds.metadata.generation ?? 1,
    currentNumberScheduled: pods.length,
    desiredNumberScheduled: desired,
    numberMisscheduled: 0,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: ready,
    ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
  };
  cluster.kube.put(ds);
}
