import type { AccessVerdict, ClusterFacts, ClusterRef, RepositoryFacts, TagFacts } from '../diagnosis/facts.ts';
import type { IamPolicy } from '../diagnosis/iam-policy.ts';
import type { ArtifactRepository } from '../diagnosis/image-ref.ts';

/**
 * Ports to Google Cloud, shaped by what the diagnosis and the fix need (not by the SDKs). Adapters throw
 * `ReadError` (shared/errors.ts) with a `FactErrorCode`; the use cases turn failures into visible unknowns.
 */

/** A GKE cluster with what it takes to reach its Kubernetes API. */
export interface ClusterInfo extends ClusterFacts {
  /** `host[:port]` of the control plane. */
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA, as GKE returns it. */
  readonly caCertificate: string;
}

export interface GkeReader {
  getCluster(ref: ClusterRef): Promise<ClusterInfo>;
  /** The clusters of a project in every location (the pull audit of a whole project). */
  listClusters(project: string): Promise<ClusterRef[]>;
}

export interface ProjectDirectory {
  /** The numeric project number (Resource Manager `projects.get`). */
  getProjectNumber(projectId: string): Promise<string>;
  /** The project's allow policy, version 3. */
  getIamPolicy(projectId: string): Promise<IamPolicy>;
  /**
   * Which of `permissions` the bot holds on the project (Resource Manager `testIamPermissions`, which needs no
   * permission of its own); for `imagepull doctor` and App Home's permission health.
   */
  testPermissions(projectId: string, permissions: readonly string[]): Promise<readonly string[]>;
}

/** What to look up for an image: the repository plus the tag or digest. */
export interface ImageLocator extends ArtifactRepository {
  readonly tag?: string;
  readonly digest?: string;
}

export interface RegistryReader {
  getRepository(resourceName: string): Promise<RepositoryFacts>;
  /** Docker repositories of a project in every location. */
  listRepositories(projectId: string): Promise<RepositoryFacts[]>;
  /** Whether the tag/digest exists, and the package's recent tags. */
  getTag(image: ImageLocator): Promise<TagFacts>;
}

/** Repository allow policy: the only IAM the bot ever writes. */
export interface RepositoryIam {
  getPolicy(resourceName: string): Promise<IamPolicy>;
  /** Writes with the policy's etag; throws `ReadError` code `conflict` (ABORTED) when it is stale. */
  setPolicy(resourceName: string, policy: IamPolicy): Promise<IamPolicy>;
  /** Which of `permissions` the bot holds on the repository (`testIamPermissions`; needs no permission of its own). */
  testPermissions(resourceName: string, permissions: readonly string[]): Promise<readonly string[]>;
}

/** IAM Policy Troubleshooter v3. */
export interface AccessChecker {
  troubleshoot(principalEmail: string, fullResourceName: string, permission: string): Promise<AccessVerdict>;
}

/** Everything Google the bot uses, bundled for wiring. */
export interface GoogleCloud {
  readonly gke: GkeReader;
  readonly projects: ProjectDirectory;
  readonly registry: RegistryReader;
  readonly repositoryIam: RepositoryIam;
  readonly access: AccessChecker;
  /** Bearer token for the Kubernetes API of GKE clusters. */
  accessToken(): Promise<string>;
  close(): Promise<void>;
}
