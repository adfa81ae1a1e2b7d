/**
 * The Kubernetes objects the simulated cluster stores, in their wire (JSON) shape. Only the fields the simulator
 * reads or writes are typed; index signatures keep whatever else a patch adds, as the real API server would.
 */

/** `OwnerReference` in its JSON wire shape (fields the simulator uses). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `ManagedFieldsEntry` in its JSON wire shape (fields the simulator uses). */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Update' | 'Apply';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** `ObjectMeta` in its JSON wire shape (fields the simulator uses). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  generateName?: string;
  [key: string]: unknown;
}

/** `KubeObject` in its JSON wire shape (fields the simulator uses). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** `Container` in its JSON wire shape (fields the simulator uses). */
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  [key: string]: unknown;
}

/** `PodSpec` in its JSON wire shape (fields the simulator uses). */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  serviceAccountName?: string;
  [key: string]: unknown;
}

/** `PodTemplateSpec` in its JSON wire shape (fields the simulator uses). */
export interface PodTemplateSpec {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec: PodSpec;
}

/** `ContainerStateWaiting` in its JSON wire shape (fields the simulator uses). */
export interface ContainerStateWaiting {
  reason: string;
  message?: string;
}

/** `ContainerState` in its JSON wire shape (fields the simulator uses). */
export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string; containerID?: string };
}

/** `ContainerStatus` in its JSON wire shape (fields the simulator uses). */
export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

/** `PodCondition` in its JSON wire shape (fields the simulator uses). */
export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/** `PodStatus` in its JSON wire shape (fields the simulator uses). */
export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  conditions: PodCondition[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  qosClass: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

/** `Pod` in its JSON wire shape (fields the simulator uses). */
export interface Pod extends KubeObject {
  kind: 'Pod';
  spec: PodSpec;
  status: PodStatus;
}

/** `LabelSelector` in its JSON wire shape (fields the simulator uses). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

/** `WorkloadCondition` in its JSON wire shape (fields the simulator uses). */
export interface WorkloadCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** `DeploymentSpec` in its JSON wire shape (fields the simulator uses). */
export interface DeploymentSpec {
  replicas: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  paused?: boolean;
  [key: string]: unknown;
}

/** `DeploymentStatus` in its JSON wire shape (fields the simulator uses). */
export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: WorkloadCondition[];
  [key: string]: unknown;
}

/** `Deployment` in its JSON wire shape (fields the simulator uses). */
export interface Deployment extends KubeObject {
  kind: 'Deployment';
  spec: DeploymentSpec;
  status: DeploymentStatus;
}

/** `ReplicaSet` in its JSON wire shape (fields the simulator uses). */
export interface ReplicaSet extends KubeObject {
  kind: 'ReplicaSet';
  spec: { replicas: number; selector: LabelSelector; template: PodTemplateSpec; [key: string]: unknown };
  status: {
    replicas: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
  };
}

/** `StatefulSet` in its JSON wire shape (fields the simulator uses). */
export interface StatefulSet extends KubeObject {
  kind: 'StatefulSet';
  spec: {
    replicas: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    serviceName: string;
    [k: string]: unknown;
  };
  status: {
    observedGeneration?: number;
    replicas: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
    [key: string]: unknown;
  };
}

/** `DaemonSet` in its JSON wire shape (fields the simulator uses). */
export interface DaemonSet extends KubeObject {
  kind: 'DaemonSet';
  spec: { selector: LabelSelector; template: PodTemplateSpec; [key: string]: unknown };
  status: {
    observedGeneration?: number;
    currentNumberScheduled: number;
    desiredNumberScheduled: number;
    numberMisscheduled: number;
    numberReady: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    [key: string]: unknown;
  };
}

/** Any workload whose pods the simulator manages directly. */
export type Workload = Deployment | StatefulSet | DaemonSet;

/** `NodeImage` in its JSON wire shape (fields the simulator uses). */
export interface NodeImage {
  names: string[];
  sizeBytes: number;
}

/** `Node` in its JSON wire shape (fields the simulator uses). */
export interface Node extends KubeObject {
  kind: 'Node';
  spec: { providerID: string; podCIDR: string; podCIDRs: string[]; [key: string]: unknown };
  status: {
    conditions: {
      type: string;
      status: string;
      reason: string;
      message: string;
      lastHeartbeatTime: string;
      lastTransitionTime: string;
    }[];
    addresses: { type: string; address: string }[];
    nodeInfo: Record<string, string>;
    images: NodeImage[];
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
  };
}

/** `ServiceAccount` in its JSON wire shape (fields the simulator uses). */
export interface ServiceAccount extends KubeObject {
  kind: 'ServiceAccount';
}

/** `Namespace` in its JSON wire shape (fields the simulator uses). */
export interface Namespace extends KubeObject {
  kind: 'Namespace';
  spec: { finalizers: string[] };
  status: { phase: 'Active' };
}

/** `ObjectReference` in its JSON wire shape (fields the simulator uses). */
export interface ObjectReference {
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  apiVersion: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** `KubeEvent` in its JSON wire shape (fields the simulator uses). */
export interface KubeEvent extends KubeObject {
  kind: 'Event';
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: 'Normal' | 'Warning';
  eventTime: null;
  reportingComponent: string;
  reportingInstance: string;
}
