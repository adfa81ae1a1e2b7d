/**
 * Container image references, parsed the way the container runtime does (DESIGN §3.2).
 *
 * Implementation: see `parseImageRef` below. This module is pure.
 */

/** Which kind of registry serves an image. `gcr` = a gcr.io domain, served by Artifact Registry today. */
export type RegistryKind = 'artifact-registry' | 'gcr' | 'docker-hub' | 'other';

/** The Artifact Registry repository that serves an image (for `*-docker.pkg.dev` and the gcr.io domains). */
export interface ArtifactRepository {
  readonly project: string;
  /** AR location: a region (`us-central1`) or multi-region (`us`, `europe`, `asia`). */
  readonly location: string;
  /** Repository id (`services`, or `gcr.io` / `us.gcr.io` / `eu.gcr.io` / `asia.gcr.io`). */
  readonly repository: string;
  /** Package (image) path inside the repository, e.g. `checkout` or `team/app`. */
  readonly packageName: string;
  /** `projects/P/locations/L/repositories/R`. */
  readonly resourceName: string;
  /** The Docker host that serves it, e.g. `us-central1-docker.pkg.dev` or `gcr.io`. */
  readonly host: string;
}

export interface ImageRef {
  /** The reference as written. */
  readonly raw: string;
  /** Registry host, with port if any; `docker.io` when none was written. */
  readonly registry: string;
  /** Path inside the registry, with `library/` added for single Docker Hub names. */
  readonly path: string;
  /** Tag; `latest` when neither tag nor digest was written. */
  readonly tag?: string;
  /** `sha256:…` when pinned by digest. */
  readonly digest?: string;
  /** Fully qualified form: `registry/path[:tag][@digest]`. */
  readonly normalized: string;
  readonly kind: RegistryKind;
  /** Present for `artifact-registry` and `gcr`. */
  readonly ar?: ArtifactRepository;
}

export type ParseImageRefResult =
  | { readonly ok: true; readonly ref: ImageRef }
  | { readonly ok: false; readonly reason: string };
