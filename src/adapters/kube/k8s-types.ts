/** The few Kubernetes object fields the bot reads (core/v1, apps/v1), as the API server returns them in JSON. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generation?: number;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

export interface ContainerSpec {
  name: string;
  image?: string;
}

export interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: object };
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: {
    nodeName?: string;
    serviceAccountName?: string;
    imagePullSecrets?: { name?: string }[];
    initContainers?: ContainerSpec[];
    containers?: ContainerSpec[];
  };
  status?: { phase?: string; initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}

export interface List<T> {
  items: T[];
}

export interface CoreEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: ObjectMeta;
  involvedObject?: { fieldPath?: string; name?: string };
}

export interface Workload {
  metadata?: ObjectMeta;
  spec?: {
    paused?: boolean;
    replicas?: number;
    selector?: LabelSelector;
  };
  status?: { observedGeneration?: number; desiredNumberScheduled?: number };
}

export interface NodeObject {
  metadata?: ObjectMeta;
  /** `images`: what the node's container runtime holds (each image under its `repo@digest` and `repo:tag` names). */
  status?: { images?: { names?: string[] }[] };
  spec?: { taints?: { key?: string; value?: string; effect?: string }[] };
}

export interface ServiceAccount {
  metadata?: ObjectMeta;
}

export interface SelfSubjectAccessReview {
  status?: { allowed?: boolean };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
