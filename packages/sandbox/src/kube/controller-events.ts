/**
 * The Events the controllers record on the objects they manage, with their real reasons, components and message
 * forms: the deployment controller's `ScalingReplicaSet` on a Deployment, the ReplicaSet, StatefulSet and DaemonSet
 * controllers' `SuccessfulCreate` / `SuccessfulDelete` (what `kubectl describe deployment|rs|sts|ds` lists).
 */
import type { KubeEvent, KubeObject, Pod } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import { iso } from '../world/workloads.ts';
import type { World } from '../world/world.ts';

const COMPONENTS: Readonly<Record<string, string>> = {
  Deployment: 'deployment-controller',
  ReplicaSet: 'replicaset-controller',
  StatefulSet: 'statefulset-controller',
  DaemonSet: 'daemonset-controller',
};

/** Records one Normal event from `obj`'s controller on `obj`. */
export function recordControllerEvent(
  world: World,
  cluster: Cluster,
  obj: KubeObject,
  reason: string,
  message: string,
): KubeEvent {
  const now = world.now();
  const component = COMPONENTS[obj.kind] ?? 'kube-controller-manager';
  const nanos = BigInt(now) * 1_000_000n + BigInt(Number(cluster.kube.resourceVersion()) % 1_000_000);
  const event: KubeEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${obj.metadata.name}.${nanos.toString(16).padStart(16, '0')}`,
      namespace: obj.metadata.namespace ?? 'default',
      uid: world.rng.uuid(),
      creationTimestamp: iso(now),
    },
    involvedObject: {
      kind: obj.kind,
      namespace: obj.metadata.namespace ?? 'default',
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
    },
    reason,
    message,
    source: { component },
    firstTimestamp: iso(now),
    lastTimestamp: iso(now),
    count: 1,
    type: 'Normal',
    eventTime: null,
    reportingComponent: component,
    reportingInstance: '',
  };
  return cluster.kube.put(event);
}

/** `Scaled up replica set X to N from M` (or down), on the Deployment. */
export function scaledReplicaSet(
  world: World,
  cluster: Cluster,
  d: KubeObject,
  rs: KubeObject,
  from: number,
  to: number,
) {
  if (from === to) return;
  const how = to > from ? 'up' : 'down';
  recordControllerEvent(
    world,
    cluster,
    d,
    'ScalingReplicaSet',
    `Scaled ${how} replica set ${rs.metadata.name} to ${to} from ${from}`,
  );
}

/** A controller created or deleted one of its pods. */
export function podChanged(world: World, cluster: Cluster, owner: KubeObject, pod: Pod, created: boolean): void {
  const message =
    owner.kind === 'StatefulSet'
      ? `${created ? 'create' : 'delete'} Pod ${pod.metadata.name} in StatefulSet ${owner.metadata.name} successful`
      : `${created ? 'Created' : 'Deleted'} pod: ${pod.metadata.name}`;
  recordControllerEvent(world, cluster, owner, created ? 'SuccessfulCreate' : 'SuccessfulDelete', message);
}
