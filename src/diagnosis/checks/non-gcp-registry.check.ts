import type { Cause } from '../cause.ts';
import { DOC_LINKS } from '../commands.ts';
import type { ImageRef } from '../image-ref.ts';
import { type Check, SKIP } from './check.ts';

/**
 * `non-gcp-registry`: the image is not served by Artifact Registry (Docker Hub, quay.io, ECR, GHCR, a private
 * registry…). Node IAM plays no part; advice depends on the message cause. For these registries — and only for
 * them — imagePullSecrets are the right tool for credentials.
 */
export const nonGcpRegistryCheck: Check = {
  id: 'non-gcp-registry',
  run({ classification, image, subject }) {
    if (!image || image.kind === 'artifact-registry' || image.kind === 'gcr') return SKIP;
    const advice = adviceFor(classification.cause, image, subject.namespace ?? 'NAMESPACE');
    if (!advice) return SKIP;
    const where = image.kind === 'docker-hub' ? 'Docker Hub' : `\`${image.registry}\``;
    return {
      status: 'found',
      finding: {
        id: 'non-gcp-registry',
        title: `${advice.title} (${where})`,
        summary: `The image comes from ${where}, not Artifact Registry, so the node service account and IAM do not matter here. ${advice.summary}`,
        evidence: [
          { label: 'Image', value: image.normalized },
          ...(classification.matched ? [{ label: 'Kubelet message', value: classification.matched }] : []),
        ],
        nextSteps: advice.steps,
        commands: advice.commands.map((command) => ({
          tool: 'kubectl' as const,
          purpose: 'Create the credentials',
          command,
        })),
        links: image.kind === 'docker-hub' ? [DOC_LINKS.remoteRepos] : [DOC_LINKS.imagePulls],
      },
    };
  },
};

interface Advice {
  title: string;
  summary: string;
  steps: string[];
  commands: string[];
}

function adviceFor(cause: Cause, image: ImageRef, namespace: string): Advice | undefined {
  const hub = image.kind === 'docker-hub';
  const ecr = /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/.test(image.registry);
  const secret = `kubectl create secret docker-registry regcred -n ${namespace} --docker-server=${hub ? 'https://index.docker.io/v1/' : image.registry} --docker-username=USER --docker-password=TOKEN`;
  switch (cause) {
    case 'rate-limited':
      return {
        title: 'Registry rate limit reached',
        summary: hub
          ? 'Docker Hub limits pulls per source IP (anonymous pulls are counted per IP, and a whole cluster behind Cloud NAT shares a few IPs).'
          : 'The registry refused more pulls for now (429 Too Many Requests).',
        steps: hub
          ? [
              'Mirror Docker Hub through an Artifact Registry remote repository and point the image at it (`LOCATION-docker.pkg.dev/PROJECT/dockerhub/library/IMAGE`): pulls then use the node service account and are cached.',
              'Or authenticate pulls with a Docker Hub account: a `docker-registry` secret referenced in `imagePullSecrets`.',
              'Pin images by digest and avoid `imagePullPolicy: Always` for images that rarely change.',
            ]
          : ['Wait for the limit window to pass, authenticate pulls, or mirror the image into Artifact Registry.'],
        commands: hub ? [secret] : [],
      };
    case 'unauthenticated':
    case 'not-found-or-unauthorized':
    case 'permission-denied':
    case 'pull-secret-missing':
      return {
        title:
          cause === 'pull-secret-missing'
            ? 'The pull secret named by the pod does not exist'
            : 'The registry wants credentials',
        summary: ecr
          ? 'ECR tokens expire after 12 hours: the pull secret must be refreshed by a job, or the image mirrored into Artifact Registry.'
          : "A private repository on this registry needs credentials in an `imagePullSecrets` secret in the pod's namespace (or it does not exist under that name).",
        steps: [
          'Check the image name and that the repository exists on that registry.',
          `Create a \`docker-registry\` secret in namespace \`${namespace}\` and reference it in the pod spec's \`imagePullSecrets\` (or the service account's).`,
          'Or copy the image into Artifact Registry, where the node service account pulls without secrets.',
        ],
        commands: [secret],
      };
    case 'not-found':
      return {
        title: 'Image or tag not found on the registry',
        summary: 'The registry has no such repository or tag.',
        steps: ['Check the image name and tag for typos; check the tag was pushed.'],
        commands: [],
      };
    case 'network':
    case 'tls':
    case 'registry-unavailable':
      return {
        title:
          cause === 'tls'
            ? 'The registry certificate is not trusted by the nodes'
            : 'The registry could not be reached',
        summary:
          cause === 'tls'
            ? 'Nodes do not trust the certificate the registry presents (a private CA or a TLS-intercepting proxy).'
            : 'Nodes could not complete the pull from this registry; the problem is on the path to it or on its side.',
        steps:
          cause === 'tls'
            ? [
                'Install the registry CA on the nodes (GKE: containerd private registry CA configuration), or serve the registry with a publicly trusted certificate.',
              ]
            : [
                'Check the registry status and that nodes have egress to it (Cloud NAT for private nodes, firewall rules).',
              ],
        commands: [],
      };
    case 'unknown':
    case 'no-detail':
      return {
        title: 'The pull from a registry outside Google failed',
        summary: 'The message does not say why; the registry’s own answer is in the pod events.',
        steps: [
          `Read the events: \`kubectl describe pod -n ${namespace}\` (the Failed event carries the registry's answer).`,
          'Check the image name, the registry status, and the credentials the registry expects.',
        ],
        commands: [],
      };
    default:
      return undefined;
  }
}
