import { ArtifactRegistryClient } from '@google-cloud/artifact-registry/build/src/v1/index.js';
import type { RepositoryFacts, TagFacts } from '../../diagnosis/facts.ts';
import type { IamPolicy } from '../../diagnosis/iam-policy.ts';
import type { ImageLocator, RegistryReader, RepositoryIam } from '../../ports/gcp.port.ts';
import { byInstant } from '../../shared/time.ts';
import type { ClientOptions } from './client-options.ts';
import { toReadError, withRetry } from './google-errors.ts';
import { type PolicyProto, policyFromProto, policyToProto } from './iam-proto.ts';

const MODES = ['MODE_UNSPECIFIED', 'STANDARD_REPOSITORY', 'VIRTUAL_REPOSITORY', 'REMOTE_REPOSITORY'];
const FORMATS = [
  'FORMAT_UNSPECIFIED',
  'DOCKER',
  'MAVEN',
  'NPM',
  'APT',
  'YUM',
  'GOOGET',
  'PYTHON',
  'KFP',
  'GO',
  'GENERIC',
  'RUBY',
];

function enumName(value: unknown, names: readonly string[]): string {
  return typeof value === 'number' ? (names[value] ?? String(value)) : String(value ?? 'UNSPECIFIED');
}

/** Package ids containing `/` are escaped in resource names (docs/library-traps.md, "Google clients"). */
export function packageResource(image: ImageLocator): string {
  return `${image.resourceName}/packages/${encodeURIComponent(image.packageName)}`;
}

/**
 * Artifact Registry through `@google-cloud/artifact-registry` (gRPC): repositories, tags and the repository allow
 * policy. Reads retry on UNAVAILABLE/DEADLINE_EXCEEDED; `setPolicy` never retries by itself (the use case re-reads).
 */
export class ArtifactRegistryAdapter implements RegistryReader, RepositoryIam {
  readonly #client: ArtifactRegistryClient;
  readonly #timeout: number;

  constructor(options: ClientOptions) {
    this.#client = new ArtifactRegistryClient(options.grpc);
    this.#timeout = options.timeoutMs;
  }

  async getRepository(name: string): Promise<RepositoryFacts> {
    const [repo] = await this.#call('repositories.get', 'artifactregistry.repositories.get', () =>
      this.#client.getRepository({ name }, { timeout: this.#timeout }),
    );
    return { name: repo.name ?? name, format: enumName(repo.format, FORMATS), mode: enumName(repo.mode, MODES) };
  }

  async listRepositories(projectId: string): Promise<RepositoryFacts[]> {
    const locations: string[] = [];
    await this.#call('locations.list', 'artifactregistry.locations.list', async () => {
      for await (const loc of this.#client.listLocationsAsync({ name: `projects/${projectId}` })) {
        if (loc.locationId) locations.push(loc.locationId);
      }
    });
    const lists = await mapLimit(locations, 8, (location) =>
      this.#call('repositories.list', 'artifactregistry.repositories.list', () =>
        this.#client.listRepositories(
          { parent: `projects/${projectId}/locations/${location}`, pageSize: 1000 },
          { timeout: this.#timeout, autoPaginate: true },
        ),
      ),
    );
    return lists
      .flatMap(([repos]) => repos)
      .filter((r) => enumName(r.format, FORMATS) === 'DOCKER')
      .map((r) => ({ name: r.name ?? '', format: 'DOCKER', mode: enumName(r.mode, MODES) }));
  }

  async getTag(image: ImageLocator): Promise<TagFacts> {
    if (image.digest) {
      const found = await this.#exists(
        () =>
          this.#client.getDockerImage(
            { name: `${image.resourceName}/dockerImages/${encodeURIComponent(image.packageName)}@${image.digest}` },
            { timeout: this.#timeout },
          ),
        'dockerImages.get',
        'artifactregistry.dockerimages.get',
      );
      if (found) return { exists: true, packageExists: true, recentTags: [] };
    } else {
      const tag = image.tag ?? 'latest';
      const found = await this.#exists(
        () =>
          this.#client.getTag(
            { name: `${packageResource(image)}/tags/${encodeURIComponent(tag)}` },
            { timeout: this.#timeout },
          ),
        'tags.get',
        'artifactregistry.tags.get',
      );
      if (found) return { exists: true, packageExists: true, recentTags: [] };
    }
    return this.#recentTags(image);
  }

  async getPolicy(resourceName: string): Promise<IamPolicy> {
    const [policy] = await this.#call('repositories.getIamPolicy', 'artifactregistry.repositories.getIamPolicy', () =>
      this.#client.getIamPolicy(
        { resource: resourceName, options: { requestedPolicyVersion: 3 } },
        { timeout: this.#timeout },
      ),
    );
    return policyFromProto(policy as PolicyProto);
  }

  async setPolicy(resourceName: string, policy: IamPolicy): Promise<IamPolicy> {
    try {
      const [written] = await this.#client.setIamPolicy(
        { resource: resourceName, policy: policyToProto(policy) },
        { timeout: this.#timeout },
      );
      return policyFromProto(written as PolicyProto);
    } catch (e) {
      throw toReadError(
        e,
        `Artifact Registry repositories.setIamPolicy ${resourceName}`,
        'artifactregistry.repositories.setIamPolicy',
      );
    }
  }

  async testPermissions(resourceName: string, permissions: readonly string[]): Promise<readonly string[]> {
    try {
      const [r] = await withRetry(() =>
        this.#client.testIamPermissions(
          { resource: resourceName, permissions: [...permissions] },
          { timeout: this.#timeout },
        ),
      );
      return r.permissions ?? [];
    } catch (e) {
      throw toReadError(e, `Artifact Registry repositories.testIamPermissions ${resourceName}`);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** Newest images of the package and their tags (listDockerImages, newest first). */
  async #recentTags(image: ImageLocator): Promise<TagFacts> {
    const [images] = await this.#call('dockerImages.list', 'artifactregistry.dockerimages.list', () =>
      this.#client.listDockerImages(
        { parent: image.resourceName, pageSize: 200, orderBy: 'update_time desc' },
        { timeout: this.#timeout, autoPaginate: false },
      ),
    );
    // gcr.io repositories report URIs without the repository segment (`gcr.io/PROJECT/IMAGE@…`).
    const prefix = image.host.endsWith('gcr.io')
      ? `${image.host}/${image.project}/${image.packageName}@`
      : `${image.host}/${image.project}/${image.repository}/${image.packageName}@`;
    const mine = images.filter((i) => (i.uri ?? '').startsWith(prefix));
    const recentTags = mine
      .map((i) => ({ tags: i.tags ?? [], updated: timestamp(i.updateTime ?? i.uploadTime) }))
      .sort((a, b) => byInstant(b.updated, a.updated))
      .flatMap((i) => i.tags.map((tag) => ({ tag, ...(i.updated ? { updated: i.updated } : {}) })))
      .slice(0, 10);
    return { exists: false, packageExists: mine.length > 0, recentTags };
  }

  async #exists(fn: () => Promise<unknown>, call: string, permission: string): Promise<boolean> {
    try {
      await withRetry(fn);
      return true;
    } catch (e) {
      const err = toReadError(e, `Artifact Registry ${call}`, permission);
      if (err.code === 'not-found') return false;
      throw err;
    }
  }

  async #call<T>(call: string, permission: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn);
    } catch (e) {
      throw toReadError(e, `Artifact Registry ${call}`, permission);
    }
  }
}

function timestamp(t: { seconds?: unknown } | null | undefined): string | undefined {
  const s = Number(t?.seconds ?? Number.NaN);
  return Number.isFinite(s) && s > 0 ? new Date(s * 1000).toISOString() : undefined;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
