/**
 * The simulator's own reading of an image reference, the way containerd resolves it. Deliberately independent of
 * the bot's parser in `src/diagnosis`: the sandbox must not share code with what it tests.
 */

/** Where an image is served from, as far as the kubelet simulator cares. */
export interface PulledImageName {
  /** The reference as written in the pod spec. */
  readonly raw: string;
  /** Registry host (with port), `docker.io` when none was written. */
  readonly host: string;
  /** Repository path inside the registry (`library/nginx`, `acme-prod-417/services/checkout`). */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  /** `host/path[:tag][@digest]`, what containerd prints in its errors. */
  readonly normalized: string;
  /** The manifest reference containerd asks for: the digest when pinned, else the tag. */
  readonly manifestRef: string;
  /** Set when the host is Artifact Registry (`LOC-docker.pkg.dev`) or a gcr.io domain served by it. */
  readonly ar?: {
    readonly project: string;
    readonly location: string;
    readonly repository: string;
    /** Package id inside the repository (may contain `/`). */
    readonly packageName: string;
    /** `projects/P/locations/L/repositories/R`. */
    readonly resourceName: string;
  };
}

/** gcr.io hosts and the Artifact Registry location/repository that serves each (docs/diagnosis.md, "Image references"). */
const GCR_HOSTS: Readonly<Record<string, { location: string; repository: string }>> = {
  'gcr.io': { location: 'us', repository: 'gcr.io' },
  'us.gcr.io': { location: 'us', repository: 'us.gcr.io' },
  'eu.gcr.io': { location: 'europe', repository: 'eu.gcr.io' },
  'asia.gcr.io': { location: 'asia', repository: 'asia.gcr.io' },
};

// Artifact Registry Docker hosts, e.g. `us-central1-docker.pkg.dev` (fixtures/pull-errors/dev.jsonl s01, s06).
const AR_HOST = /^([a-z0-9-]+)-docker\.pkg\.dev$/;
// A reference: name, optional `:tag`, optional `@sha256:hex` (containerd reference grammar, simplified).
const REFERENCE = /^([^@\s]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

/** Parses an image reference; `undefined` when containerd would refuse it as an invalid reference. */
export function parseImageName(raw: string): PulledImageName | undefined {
  const m = REFERENCE.exec(raw.trim());
  if (!m?.[1]) return undefined;
  const name = m[1];
  const first = name.split('/')[0] ?? '';
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'docker.io';
  let path = hasHost ? name.slice(first.length + 1) : name;
  if (host === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (path !== path.toLowerCase() || path === '') return undefined;
  const digest = m[3];
  const tag = m[2] ?? (digest ? undefined : 'latest');
  const normalized = `${host}/${path}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { raw, host, path, tag, digest, normalized, manifestRef: digest ?? tag ?? 'latest', ar: arPart(host, path) };
}

function arPart(host: string, path: string): PulledImageName['ar'] {
  const parts = path.split('/');
  const arHost = AR_HOST.exec(host);
  if (arHost?.[1] && parts.length >= 3) {
    const [project = '', repository = '', ...pkg] = parts;
    const location = arHost[1];
    return {
      project,
      location,
      repository,
      packageName: pkg.join('/'),
      resourceName: `projects/${project}/locations/${location}/repositories/${repository}`,
    };
  }
  const gcr = GCR_HOSTS[host];
  if (gcr && parts.length >= 2) {
    const [project = '', ...pkg] = parts;
    return {
      project,
      location: gcr.location,
      repository: gcr.repository,
      packageName: pkg.join('/'),
      resourceName: `projects/${project}/locations/${gcr.location}/repositories/${gcr.repository}`,
    };
  }
  return undefined;
}
