/**
 * The simulated Google Cloud: projects, IAM allow and deny policies, Artifact Registry repositories with their
 * images, GKE clusters and node pools, VPC Service Controls perimeters, outside registries, and the bot's own
 * identity with what it is not allowed to do. The fakes serve this state; tests mutate it out of band.
 */
import type { KubeStore } from './kube-store.ts';

/** `google.type.Expr`, stored exactly as given. */
export interface IamCondition {
  title: string;
  expression: string;
  description?: string;
  location?: string;
}

/** A role binding, conditional when `condition` is set. */
export interface IamBinding {
  role: string;
  members: string[];
  condition?: IamCondition;
}

/** An allow policy as IAM stores it, with the bookkeeping the simulation needs. */
export interface IamPolicyState {
  bindings: IamBinding[];
  /** Opaque bytes; every successful write replaces it. */
  etag: Buffer;
  /** Number of successful writes, for assertions. */
  writes: number;
  /**
   * When each grant (`role`, `member`, condition title) was added, epoch ms. Grants missing here are old: they
   * are effective at once. Grants younger than the world's propagation delay are not effective yet.
   */
  grantedAt: Map<string, number>;
}

/** One rule of an IAM v2 deny policy (`google.iam.v2.DenyRule`). */
export interface DenyRule {
  /** `principal://iam.googleapis.com/projects/-/serviceAccounts/EMAIL`, `principalSet://goog/public:all`, … */
  deniedPrincipals: string[];
  exceptionPrincipals?: string[];
  /** v2 permission names: `artifactregistry.googleapis.com/repositories.downloadArtifacts` (wildcards `*` allowed). */
  deniedPermissions: string[];
  exceptionPermissions?: string[];
  denialCondition?: IamCondition;
}

/** An IAM v2 deny policy attached to a project. */
export interface DenyPolicy {
  /** `policies/cloudresourcemanager.googleapis.com%2Fprojects%2FP/denypolicies/ID`. */
  name: string;
  uid: string;
  displayName: string;
  rules: { description?: string; denyRule: DenyRule }[];
  createTime: number;
  etag: string;
}

/** A project: id, number, allow policy and deny policies. */
export interface Project {
  projectId: string;
  /** Project number as a decimal string. */
  number: string;
  displayName: string;
  /** `organizations/N` or `folders/N`. */
  parent: string;
  createTime: number;
  labels: Record<string, string>;
  iam: IamPolicyState;
  denyPolicies: DenyPolicy[];
}

/** One image manifest in a package. */
export interface DockerImageState {
  digest: string;
  sizeBytes: number;
  uploadTime: number;
  buildTime: number;
  mediaType: string;
}

/** A package (image name) in a repository: its manifests and tags. */
export interface PackageState {
  /** Package id, unescaped (`checkout`, `team/app`). */
  name: string;
  createTime: number;
  updateTime: number;
  images: DockerImageState[];
  /** tag → digest. */
  tags: Map<string, string>;
}

/** `Repository.Mode` of Artifact Registry. */
export type RepositoryMode = 'STANDARD_REPOSITORY' | 'REMOTE_REPOSITORY' | 'VIRTUAL_REPOSITORY';

/** An Artifact Registry Docker repository with its allow policy and packages. */
export interface Repository {
  /** `projects/P/locations/L/repositories/R`. */
  name: string;
  projectId: string;
  location: string;
  repositoryId: string;
  format: 'DOCKER';
  mode: RepositoryMode;
  description: string;
  labels: Record<string, string>;
  createTime: number;
  updateTime: number;
  iam: IamPolicyState;
  packages: Map<string, PackageState>;
}

/** A GKE node pool: the identity its nodes run as and their OAuth scopes. */
export interface NodePoolState {
  name: string;
  /** `"default"` (the Compute Engine default SA of the cluster's project) or an email. */
  serviceAccount: string;
  oauthScopes: string[];
  machineType: string;
  version: string;
  /** Zones the pool spans. */
  locations: string[];
  /** Node names, e.g. `gke-prod-default-pool-a1b2c3d4-9xkz`. */
  nodes: string[];
  /** True when the pool runs the GKE metadata server (Workload Identity). */
  gkeMetadata: boolean;
  /** `config.taints`, as Kubernetes writes them; every node of the pool carries them. */
  taints?: NodeTaint[];
}

/** A node taint (`effect` as Kubernetes writes it; GKE's API says `NO_SCHEDULE` and so on). */
export interface NodeTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A GKE cluster and the Kubernetes objects it holds. */
export interface Cluster {
  projectId: string;
  /** A region (regional cluster) or a zone. */
  location: string;
  name: string;
  /** `projects/P/locations/L/clusters/C`. */
  resourceName: string;
  /** Zones of the cluster. */
  zones: string[];
  createTime: number;
  masterVersion: string;
  network: string;
  subnetwork: string;
  /** `PROJECT.svc.id.goog` when Workload Identity is on. */
  workloadPool?: string;
  nodePools: NodePoolState[];
  /** `127.0.0.1:PORT` once the sandbox serves this cluster's API; empty before. */
  endpoint: string;
  kube: KubeStore;
}

/** A VPC Service Controls perimeter (`accessPolicies/N/servicePerimeters/NAME`). */
export interface VpcScPerimeter {
  name: string;
  title: string;
  /** Project ids inside the perimeter. */
  projects: string[];
  /** Services it restricts, e.g. `artifactregistry.googleapis.com`. */
  restrictedServices: string[];
}

/** A registry outside Google (Docker Hub, …). */
export interface ExternalRegistry {
  /** `docker.io`, `quay.io`, … */
  host: string;
  /** True when anonymous pulls currently get `429 Too Many Requests`. */
  rateLimited: boolean;
  /** `path:tag` entries that exist (`library/nginx:1.25`). */
  images: Set<string>;
}

/** A permission withheld from the bot: on `resource` and everything under it, or everywhere. */
export interface BotDenial {
  permission: string;
  /** A resource name (`projects/P/locations/L/repositories/R`, `projects/P`); absent = everywhere. */
  resource?: string;
}

/** A Kubernetes RBAC rule the bot does not have (→ 403 Forbidden). */
export interface KubeDenial {
  verb: string;
  /** Plural resource, e.g. `deployments`. */
  resource: string;
  /** Absent = every namespace. */
  namespace?: string;
}

/**
 * Who makes a call. The bot: every gRPC call, and every REST call with a Bearer token. The operator: a REST call
 * without credentials, the person at a terminal running the commands the bot prints (gcloud with
 * `auth/disable_credentials`); the operator is refused nothing.
 */
export type Caller = 'bot' | 'operator';

/** The bot's identity as the fakes see it (every gRPC call, and any Bearer token, is the bot). */
export interface BotIdentity {
  email: string;
  denied: BotDenial[];
  kubeDenied: KubeDenial[];
}
