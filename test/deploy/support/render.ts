import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';

const run = promisify(execFile);

/** The repository's deploy/ directory. */
export const DEPLOY_DIR = new URL('../../../deploy/', import.meta.url).pathname;

/** A rendered Kubernetes object (kind, apiVersion, metadata and the rest as YAML had them). */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/**
 * Renders a kustomization with the real `kubectl kustomize` (offline: it reads files only) and parses every object.
 * A missing kubectl fails with how to install it.
 */
export async function kustomize(dir: string): Promise<K8sObject[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('kubectl is needed to render deploy/: apt-get install -y kubectl (Kubernetes apt repository)');
    }
    throw e;
  }
  return parseYamlObjects(stdout);
}

/** Every object of a multi-document YAML stream, as plain data (no client model classes). */
export function parseYamlObjects(text: string): K8sObject[] {
  return loadAll(text).filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** The one object of `kind` (and `name`, when given); fails when there is none or more than one. */
export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}
