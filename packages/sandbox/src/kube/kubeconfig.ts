/**
 * A kubeconfig for the real `kubectl` against a sandbox cluster, shaped like the one
 * `gcloud container clusters get-credentials` writes (cluster, user and context all named
 * `gke_PROJECT_LOCATION_CLUSTER`, current-context set) except that the user carries a static token instead of the
 * `gke-gcloud-auth-plugin` exec entry: the fake API server accepts any Bearer token.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The token the kubeconfig's user presents (any Bearer token is accepted; this one is recognisable in logs). */
export const KUBECTL_TOKEN = 'sandbox-kubectl-token';

/** What a kubeconfig points at. */
export interface KubeconfigTarget {
  /** `127.0.0.1:PORT` (what GKE's getCluster returns as `endpoint`). */
  readonly endpoint: string;
  /** The PEM of the CA that signs the API server's certificate. */
  readonly caPem: string;
  readonly project: string;
  readonly location: string;
  readonly cluster: string;
  /** Default namespace of the context (none by default, like get-credentials). */
  readonly namespace?: string;
}

/** The context name `gcloud container clusters get-credentials` gives a cluster. */
export function gkeContextName(project: string, location: string, cluster: string): string {
  return `gke_${project}_${location}_${cluster}`;
}

/** The kubeconfig document (YAML; strings are JSON-quoted, which YAML reads as double-quoted scalars). */
export function renderKubeconfig(t: KubeconfigTarget): string {
  const name = JSON.stringify(gkeContextName(t.project, t.location, t.cluster));
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'preferences: {}',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${q(Buffer.from(t.caPem).toString('base64'))}`,
    `    server: ${q(`https://${t.endpoint}`)}`,
    `  name: ${name}`,
    'contexts:',
    '- context:',
    `    cluster: ${name}`,
    ...(t.namespace ? [`    namespace: ${q(t.namespace)}`] : []),
    `    user: ${name}`,
    `  name: ${name}`,
    `current-context: ${name}`,
    'users:',
    `- name: ${name}`,
    '  user:',
    `    token: ${q(KUBECTL_TOKEN)}`,
    '',
  ].join('\n');
}

/**
 * Writes `kubeconfig` into `dir` (created private, 0700, if missing) with mode 0600 and returns its path. The file
 * holds a token, so it is never world-readable.
 */
export function writeKubeconfig(dir: string, target: KubeconfigTarget): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, renderKubeconfig(target), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
