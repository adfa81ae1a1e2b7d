import type { Cause, Classification } from './cause.ts';

/**
 * What each message cause means and what to do, for when no finding refines it. Plain text with `code` spans; the
 * renderers format it. Never advice that is wrong for GKE: no imagePullSecrets for Artifact Registry.
 */
export interface CauseText {
  readonly title: string;
  readonly explanation: string;
}

const TEXT: Record<Cause, CauseText> = {
  'permission-denied': {
    title: 'The registry refused the pull (403)',
    explanation:
      'The registry answered 403 Forbidden: the identity the node pulls with may not read this image, or the repository does not exist (Artifact Registry gives 403 for both). On GKE that identity is the node pool service account.',
  },
  unauthenticated: {
    title: 'The pull was not authenticated (401)',
    explanation:
      'The registry saw no usable credentials. For Artifact Registry on GKE, nodes authenticate with their service account through the metadata server: check the node pool scopes and service account.',
  },
  'not-found': {
    title: 'Image not found',
    explanation: 'The registry has no manifest for this reference: the repository, image or tag does not exist.',
  },
  'not-found-or-unauthorized': {
    title: 'Image not found, or access denied',
    explanation:
      'The registry will not say which: the repository may not exist, or the node may not read it ("pull access denied, repository does not exist or may require authorization").',
  },
  'vpc-sc-denied': {
    title: 'Blocked by VPC Service Controls',
    explanation:
      'An organization policy (a VPC Service Controls perimeter) refused the request. IAM grants do not change this.',
  },
  'rate-limited': {
    title: 'Registry rate limit',
    explanation: 'The registry refused more pulls for now (429 Too Many Requests).',
  },
  network: {
    title: 'Nodes cannot reach the registry',
    explanation:
      'The pull failed before the registry answered: DNS, a timeout or a refused connection on the path from the nodes.',
  },
  tls: {
    title: 'TLS certificate not trusted',
    explanation: 'Nodes do not trust the certificate the registry (or a proxy in between) presented.',
  },
  'platform-mismatch': {
    title: 'No image for this node architecture',
    explanation:
      'The image has no variant for the node platform (for example an amd64-only image on Arm nodes). Build a multi-arch image or schedule the pod on matching nodes.',
  },
  'unsupported-manifest': {
    title: 'The node refuses this image format',
    explanation:
      'The container runtime does not pull this manifest format: containerd 2.0 (GKE 1.33 and later) no longer pulls Docker schema 1 images (`application/vnd.docker.distribution.manifest.v1+prettyjws`). Rebuild or re-push the image with a current Docker or OCI manifest (`docker pull` then `docker push` with a current client, or `crane copy`).',
  },
  'invalid-reference': {
    title: 'Invalid image reference',
    explanation:
      'The image name in the pod spec is not a valid reference (uppercase letters, empty parts, bad tag or digest). Fix the spec.',
  },
  'pull-secret-missing': {
    title: 'A pull secret named by the pod is missing',
    explanation:
      'The pod references an imagePullSecret that does not exist in its namespace. Artifact Registry on GKE needs no pull secret; for other registries, create the secret.',
  },
  'never-pull': {
    title: 'Image not on the node and pull policy is Never',
    explanation:
      'The pod uses `imagePullPolicy: Never` and the image is not preloaded on the node. Use IfNotPresent or preload the image.',
  },
  'registry-unavailable': {
    title: 'The registry is unavailable',
    explanation:
      'The registry answered with a server error or was unavailable. Check its status; pulls normally recover on retry.',
  },
  'no-detail': {
    title: 'Pull back-off (no detail in the message)',
    explanation:
      'The message only says the kubelet is backing off; the reason is in the pod events, which the bot reads.',
  },
  unknown: {
    title: 'Image pull failed',
    explanation: 'The message did not match a known pull failure; the raw text is kept below.',
  },
};

const NETWORK_DETAIL: Record<string, string> = {
  dns: 'DNS resolution of the registry host failed. Private nodes resolve Google APIs through the metadata server; check Cloud DNS private zones for `pkg.dev` and `googleapis.com`.',
  timeout:
    'The connection timed out. Private nodes need Cloud NAT or Private Google Access to reach the registry; check egress firewall rules.',
  refused:
    'The connection was refused: a proxy or firewall on the path rejected it, or the registry endpoint is wrong.',
  'restricted-vip':
    'Connections to restricted.googleapis.com / private.googleapis.com (199.36.153.4/30, 199.36.153.8/30) timed out: an egress firewall rule likely blocks these ranges.',
};

export function causeText(c: Classification): CauseText {
  const base = TEXT[c.cause];
  if (c.cause === 'network' && c.subKind) {
    return { title: base.title, explanation: `${base.explanation} ${NETWORK_DETAIL[c.subKind] ?? ''}`.trim() };
  }
  return base;
}
