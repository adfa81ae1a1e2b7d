/**
 * Container image references, parsed the way the container runtime does (docs/diagnosis.md, "Image references").
 *
 * The grammar is the one of the distribution reference package that containerd, CRI-O and
 * Docker share (github.com/distribution/reference, `reference.go` / `normalize.go`):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]          (a first component is a domain only if it has "." or ":" or is "localhost")
 *
 * On top of it we recognise Artifact Registry hosts (`LOCATION-docker.pkg.dev`) and the
 * gcr.io domains that Artifact Registry serves. This module is pure.
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
  /** Present for `artifact-registry` and `gcr` when the path names a project, a repository and an image. */
  readonly ar?: ArtifactRepository;
}

export type ParseImageRefResult =
  | { readonly ok: true; readonly ref: ImageRef }
  | { readonly ok: false; readonly reason: string };

/** Longest repository name (domain + path) the runtime accepts (distribution `NameTotalLengthMax`). */
const NAME_TOTAL_LENGTH_MAX = 255;

// distribution/reference regexp.go: domain component, port, path component, tag, digest.
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\]$/;
const PORT = /^[0-9]+$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const DIGEST_ENCODED = /^[a-zA-Z0-9=_-]+$/;
const HEX = /^[a-f0-9]+$/;

/** Lengths of the registered digest algorithms (opencontainers/go-digest `algorithm.go`). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

// Artifact Registry Docker hosts: `LOCATION-docker.pkg.dev` (https://cloud.google.com/artifact-registry/docs/docker/names).
const AR_HOST = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)-docker\.pkg\.dev$/;

/** gcr.io hosts served by Artifact Registry and the repository behind each (docs/diagnosis.md, "Image references"). */
const GCR_HOSTS: Readonly<Record<string, { readonly location: string }>> = {
  'gcr.io': { location: 'us' },
  'us.gcr.io': { location: 'us' },
  'eu.gcr.io': { location: 'europe' },
  'asia.gcr.io': { location: 'asia' },
};

/** Docker Hub aliases the runtime rewrites to `docker.io` (distribution `normalize.go`, Docker's `registry-1` endpoint). */
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

function fail(reason: string): ParseImageRefResult {
  return { ok: false, reason };
}

function validateDigest(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0 || colon === digest.length - 1) {
    return `invalid digest "${digest}": expected algorithm:hex`;
  }
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm) || !DIGEST_ENCODED.test(encoded)) {
    return `invalid digest "${digest}": expected algorithm:hex`;
  }
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected === undefined) {
    return `unsupported digest algorithm "${algorithm}"`;
  }
  if (!HEX.test(encoded)) {
    return `invalid digest "${digest}": ${algorithm} must be lowercase hex`;
  }
  if (encoded.length !== expected) {
    return `invalid digest length: ${algorithm} needs ${expected} hex characters, got ${encoded.length}`;
  }
  return undefined;
}

function isDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function validateDomain(domain: string): string | undefined {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return `invalid registry host "${domain}"`;
    host = domain.slice(0, close + 1);
    const rest = domain.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `invalid registry host "${domain}"`;
      port = rest.slice(1);
    }
    if (!IPV6_HOST.test(host)) return `invalid registry host "${domain}"`;
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '' || !host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) {
      return `invalid registry host "${domain}"`;
    }
  }
  if (port !== undefined && !PORT.test(port)) {
    return `invalid registry port in "${domain}"`;
  }
  return undefined;
}

/**
 * The Artifact Registry repository that serves `registry/path`, if the host is an AR host or a gcr.io domain
 * served by AR. Domain-scoped projects (`example.com:my-project`) are written `example.com/my-project` in image
 * paths; a project id never contains a dot, so a dot in the first component marks them.
 */
function artifactRepository(registry: string, path: string): { kind: RegistryKind; ar?: ArtifactRepository } {
  const components = path.split('/');
  const projectAt = (): { project: string; rest: string[] } | undefined => {
    const first = components[0];
    if (first === undefined) return undefined;
    if (first.includes('.')) {
      const second = components[1];
      if (second === undefined) return undefined;
      return { project: `${first}:${second}`, rest: components.slice(2) };
    }
    return { project: first, rest: components.slice(1) };
  };

  const arHost = AR_HOST.exec(registry);
  if (arHost) {
    const location = arHost[1] ?? '';
    const scoped = projectAt();
    const repository = scoped?.rest[0];
    const packageName = scoped?.rest.slice(1).join('/');
    if (!scoped || repository === undefined || !packageName) return { kind: 'artifact-registry' };
    return {
      kind: 'artifact-registry',
      ar: {
        project: scoped.project,
        location,
        repository,
        packageName,
        resourceName: `projects/${scoped.project}/locations/${location}/repositories/${repository}`,
        host: registry,
      },
    };
  }

  const gcr = GCR_HOSTS[registry];
  if (gcr) {
    const scoped = projectAt();
    const packageName = scoped?.rest.join('/');
    if (!scoped || !packageName) return { kind: 'gcr' };
    return {
      kind: 'gcr',
      ar: {
        project: scoped.project,
        location: gcr.location,
        repository: registry,
        packageName,
        resourceName: `projects/${scoped.project}/locations/${gcr.location}/repositories/${registry}`,
        host: registry,
      },
    };
  }

  return { kind: registry === 'docker.io' ? 'docker-hub' : 'other' };
}

/**
 * Parses an image reference the way containerd/CRI-O/Docker do.
 *
 * Guarantees: never throws; on success `normalized` is fully qualified (`docker.io/library/nginx:latest`),
 * `tag` is `latest` when neither tag nor digest was written, and `ar` names the Artifact Registry repository
 * for `*-docker.pkg.dev` and AR-served gcr.io hosts. On failure `reason` says precisely what is wrong
 * (`repository name must be lowercase`, `tag is empty`, `invalid digest …`).
 */
export function parseImageRef(raw: string): ParseImageRefResult {
  if (typeof raw !== 'string' || raw === '') return fail('empty image reference');
  if (/\s/.test(raw)) return fail('image reference contains whitespace');
  if (raw.includes('://')) return fail('image reference must not include a URL scheme');

  let remainder = raw;
  let digest: string | undefined;
  const at = remainder.indexOf('@');
  if (at >= 0) {
    digest = remainder.slice(at + 1);
    remainder = remainder.slice(0, at);
    if (digest === '') return fail('digest is empty (trailing "@")');
    const problem = validateDigest(digest);
    if (problem) return fail(problem);
  }

  let tag: string | undefined;
  const lastColon = remainder.lastIndexOf(':');
  if (lastColon > remainder.lastIndexOf('/')) {
    tag = remainder.slice(lastColon + 1);
    remainder = remainder.slice(0, lastColon);
    if (tag === '') return fail('tag is empty (trailing ":")');
    if (!TAG.test(tag)) {
      return fail(
        tag.length > 128
          ? `tag is longer than 128 characters`
          : `invalid tag "${tag}": a tag is [A-Za-z0-9_] then up to 127 of [A-Za-z0-9_.-]`,
      );
    }
  }

  const name = remainder;
  if (name === '') return fail('repository name is empty');
  if (name.startsWith('/')) return fail('repository name must not start with "/"');
  if (name.endsWith('/')) return fail('repository name must not end with "/"');
  if (name.includes('//')) return fail('repository name has an empty path component');
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    return fail(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }

  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : name;
  let registry: string;
  let path: string;
  if (slash >= 0 && isDomain(first)) {
    const problem = validateDomain(first);
    if (problem) return fail(problem);
    registry = first;
    path = name.slice(slash + 1);
  } else {
    registry = 'docker.io';
    path = name;
  }

  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      if (PATH_COMPONENT.test(component.toLowerCase())) return fail('repository name must be lowercase');
      return fail(`invalid repository path component "${component}"`);
    }
  }

  if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) {
    registry = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  if (tag === undefined && digest === undefined) tag = 'latest';

  const { kind, ar } = artifactRepository(registry.toLowerCase(), path);
  const normalized = `${registry}/${path}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  const ref: ImageRef = {
    raw,
    registry,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    normalized,
    kind,
    ...(ar ? { ar } : {}),
  };
  return { ok: true, ref };
}

/** The fully qualified form of a parsed reference (`registry/path[:tag][@digest]`); the same as `ref.normalized`. */
export function formatImageRef(ref: Pick<ImageRef, 'registry' | 'path' | 'tag' | 'digest'>): string {
  return `${ref.registry}/${ref.path}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
