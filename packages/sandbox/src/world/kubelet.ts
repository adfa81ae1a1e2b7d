/**
 * The kubelet + containerd simulator: decides whether a node (its pool's service account and OAuth scopes) can
 * pull an image from the world right now, and if not, writes the message a GKE containerd kubelet would write.
 * Independent of the bot's classifier; the messages follow real samples in fixtures/pull-errors/dev.jsonl and
 * the fixture alerts, so what the bot reads here is what it would read from GKE.
 */

import { effectiveAccess } from './iam.ts';
import { fakeDigest } from './ids.ts';
import { type PulledImageName, parseImageName } from './image-name.ts';
import type { NodeImage } from './kube-types.ts';
import type { Cluster, NodePoolState } from './types.ts';
import type { World } from './world.ts';

/** Why a pull failed, as far as the simulator knows (not the bot's cause ids). */
export type PullFailureKind =
  | 'forbidden'
  | 'not-found'
  | 'repository-not-found'
  | 'scopes'
  | 'vpc-sc'
  | 'rate-limited'
  | 'unreachable'
  | 'invalid-reference'
  | 'never-pull';

/** The outcome of one simulated pull: the pulled image, or the failure with the kubelet's exact texts. */
export type PullResult =
  | {
      readonly ok: true;
      /** True when the image was already on the node and the pull policy allowed reusing it. */
      readonly cached: boolean;
      readonly digest: string;
      readonly sizeBytes: number;
      /** `host/path@sha256:…`, the container status `imageID`. */
      readonly imageId: string;
      /** `host/path:tag`, what the node lists in `status.images`. */
      readonly normalized: string;
    }
  | {
      readonly ok: false;
      readonly kind: PullFailureKind;
      /** The runtime error (`rpc error: code = … desc = …`): the container status `waiting.message` for ErrImagePull. */
      readonly detail: string;
      /** The Warning event message: `Failed to pull image "IMG": <detail>` (or the InspectFailed / Never text). */
      readonly message: string;
      /** The container waiting reason the kubelet reports right after this failure. */
      readonly waitingReason: 'ErrImagePull' | 'InvalidImageName' | 'ErrImageNeverPull';
      /** The Warning event reason: `Failed`, `InspectFailed` or `ErrImageNeverPull`. */
      readonly eventReason: 'Failed' | 'InspectFailed' | 'ErrImageNeverPull';
    };

/** One pull: which cluster and node pool pulls what, with which policy and which images already cached. */
export interface PullRequest {
  readonly cluster: Cluster;
  readonly pool: NodePoolState;
  /** The image exactly as written in the container spec. */
  readonly image: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** What the node already has (`status.images`). */
  readonly cachedImages?: readonly NodeImage[];
}

/** OAuth scopes that let a node's token read Artifact Registry (docs/diagnosis.md, "Facts"). */
const STORAGE_READ_SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/devstorage.read_write',
  'https://www.googleapis.com/auth/devstorage.full_control',
];

/** True when the pool's scopes allow reading Artifact Registry. */
export function scopesAllowRegistryRead(scopes: readonly string[]): boolean {
  return scopes.some((s) =>
    STORAGE_READ_SCOPES.includes(s.startsWith('https://') ? s : `https://www.googleapis.com/auth/${s}`),
  );
}

/** The pull policy Kubernetes defaults to: `Always` for `:latest` or untagged, else `IfNotPresent`. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const parsed = parseImageName(image);
  return !parsed || (parsed.tag === 'latest' && !parsed.digest) ? 'Always' : 'IfNotPresent';
}

const DEFAULT_SIZE = 31_457_280;

/** Runs one image pull on a node of `pool`, against the world as it is now. */
export function simulatePull(world: World, req: PullRequest): PullResult {
  const parsed = parseImageName(req.image);
  if (!parsed) {
    // kubelet InspectFailed text (fixtures/pull-errors/dev.jsonl s55, s57).
    const message = `Failed to apply default image tag "${req.image}": couldn't parse image reference "${req.image}": invalid reference format`;
    return {
      ok: false,
      kind: 'invalid-reference',
      detail: message,
      message,
      waitingReason: 'InvalidImageName',
      eventReason: 'InspectFailed',
    };
  }
  const policy = req.pullPolicy ?? defaultPullPolicy(req.image);
  const cached = (req.cachedImages ?? []).find(
    (i) => i.names.includes(parsed.normalized) || i.names.includes(req.image),
  );
  if (cached && policy !== 'Always') {
    const digestName = cached.names.find((n) => n.includes('@sha256:'));
    const digest = digestName?.slice(digestName.indexOf('@') + 1) ?? fakeDigest(parsed.normalized);
    return {
      ok: true,
      cached: true,
      digest,
      sizeBytes: cached.sizeBytes,
      imageId: `${parsed.host}/${parsed.path}@${digest}`,
      normalized: parsed.normalized,
    };
  }
  if (policy === 'Never') {
    // kubelet format string (fixtures/pull-errors/dev.jsonl d03).
    const message = `Container image "${req.image}" is not present with pull policy of Never`;
    return {
      ok: false,
      kind: 'never-pull',
      detail: message,
      message,
      waitingReason: 'ErrImageNeverPull',
      eventReason: 'ErrImageNeverPull',
    };
  }
  return parsed.ar ? pullFromArtifactRegistry(world, req, parsed) : pullFromElsewhere(world, req, parsed);
}

function failed(image: string, kind: PullFailureKind, detail: string): PullResult {
  return {
    ok: false,
    kind,
    detail,
    message: `Failed to pull image "${image}": ${detail}`,
    waitingReason: 'ErrImagePull',
    eventReason: 'Failed',
  };
}

/** containerd's prefix for errors while resolving a reference (fixture logentry-failed-to-pull.json). */
function resolvePrefix(code: 'Unknown' | 'NotFound', ref: PulledImageName): string {
  return `rpc error: code = ${code} desc = failed to pull and unpack image "${ref.normalized}": failed to resolve reference "${ref.normalized}"`;
}

function pullFromArtifactRegistry(world: World, req: PullRequest, ref: PulledImageName): PullResult {
  const ar = ref.ar;
  if (!ar) return pullFromElsewhere(world, req, ref);
  if (!scopesAllowRegistryRead(req.pool.oauthScopes)) {
    // The node's token lacks a storage/cloud-platform scope: the registry token exchange is refused
    // (shape of fixtures/pull-errors/dev.jsonl s24 and s07, against the Artifact Registry host).
    const scope = encodeURIComponent(`repository:${ref.path}:pull`);
    return failed(
      req.image,
      'scopes',
      `${resolvePrefix('Unknown', ref)}: failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://${ref.host}/v2/token?scope=${scope}&service=${ref.host}: 403 Forbidden`,
    );
  }
  const clusterPerimeter = world.perimeters.find((p) => p.projects.includes(req.cluster.projectId));
  const repoPerimeter = world.perimeterFor(ar.project, 'artifactregistry.googleapis.com');
  if (repoPerimeter && repoPerimeter !== clusterPerimeter) {
    // The VPC-SC denial text (fixtures/pull-errors/dev.jsonl s44) behind containerd's resolve error.
    const id = vpcScIdentifier(`${req.cluster.resourceName}|${repoPerimeter.name}`);
    return failed(
      req.image,
      'vpc-sc',
      `${resolvePrefix('Unknown', ref)}: unexpected status from GET request to https://${ref.host}/v2/${ref.path}/manifests/${ref.manifestRef}: 403 Forbidden: denied: Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: ${id}`,
    );
  }
  const sa = world.nodeServiceAccount(req.cluster, req.pool);
  const access = effectiveAccess(world, sa, ar.resourceName, 'artifactregistry.repositories.downloadArtifacts');
  const repo = world.repository(ar.resourceName);
  // A 403 covers "no permission", "denied by a deny policy" and "repository does not exist" alike
  // (test/fixtures: the kubelet's own wording, "(or it may not exist)").
  const forbidden = `${resolvePrefix('Unknown', ref)}: pulling from host ${ref.host} failed with status code [manifests ${ref.manifestRef}]: 403 Forbidden`;
  if (!access.allowed) return failed(req.image, repo ? 'forbidden' : 'repository-not-found', forbidden);
  // containerd's not-found text (fixtures/pull-errors/dev.jsonl s28).
  const notFound = `${resolvePrefix('NotFound', ref)}: ${ref.normalized}: not found`;
  if (!repo) return failed(req.image, 'repository-not-found', notFound);
  const pkg = repo.packages.get(ar.packageName);
  const digest = ref.digest ?? (ref.tag ? pkg?.tags.get(ref.tag) : undefined);
  const image = pkg?.images.find((i) => i.digest === digest);
  if (!pkg || !digest || !image) return failed(req.image, 'not-found', notFound);
  return {
    ok: true,
    cached: false,
    digest,
    sizeBytes: image.sizeBytes,
    imageId: `${ref.host}/${ref.path}@${digest}`,
    normalized: ref.normalized,
  };
}

function pullFromElsewhere(world: World, req: PullRequest, ref: PulledImageName): PullResult {
  const registry = world.registries.get(ref.host);
  if (!registry) {
    // The sandbox has no route to other hosts: the node's resolver (metadata server) says no such host
    // (shape of fixtures/pull-errors/dev.jsonl s38 with a DNS failure).
    return failed(
      req.image,
      'unreachable',
      `${resolvePrefix('Unknown', ref)}: failed to do request: Head "https://${ref.host}/v2/${ref.path}/manifests/${ref.manifestRef}": dial tcp: lookup ${ref.host} on 169.254.169.254:53: no such host`,
    );
  }
  const digest = ref.digest ?? fakeDigest(ref.normalized);
  const apiHost = ref.host === 'docker.io' ? 'registry-1.docker.io' : ref.host;
  if (registry.rateLimited) {
    // Docker Hub's anonymous pull limit (fixtures/pull-errors/dev.jsonl s47).
    return failed(
      req.image,
      'rate-limited',
      `rpc error: code = Unknown desc = failed to pull and unpack image "${ref.normalized}": failed to copy: httpReadSeeker: failed open: unexpected status code https://${apiHost}/v2/${ref.path}/manifests/${digest}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
    );
  }
  const known = [...registry.images].some((i) => i.startsWith(`${ref.path}:`) || i.startsWith(`${ref.path}@`));
  if (!known) {
    // A repository the registry does not have (fixtures/pull-errors/dev.jsonl d01).
    return failed(
      req.image,
      'not-found',
      `${resolvePrefix('Unknown', ref)}: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    );
  }
  if (!registry.images.has(`${ref.path}:${ref.tag ?? ''}`) && !registry.images.has(`${ref.path}@${ref.digest ?? ''}`)) {
    return failed(req.image, 'not-found', `${resolvePrefix('NotFound', ref)}: ${ref.normalized}: not found`);
  }
  return {
    ok: true,
    cached: false,
    digest,
    sizeBytes: DEFAULT_SIZE,
    imageId: `${ref.host}/${ref.path}@${digest}`,
    normalized: ref.normalized,
  };
}

/** A stable, opaque VPC-SC unique identifier for a (cluster, perimeter) pair. */
function vpcScIdentifier(seed: string): string {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const a = h.toString(36).toUpperCase();
  return `${a}${(h ^ 0x5bd1e995).toString(36).toUpperCase()}zQ8_vRt2Lm`.slice(0, 22);
}
