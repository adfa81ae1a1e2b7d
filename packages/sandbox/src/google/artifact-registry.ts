/**
 * The Artifact Registry v1 fake (`google.devtools.artifactregistry.v1.ArtifactRegistry`) and AR's
 * `google.cloud.location.Locations` mixin, serving the world's repositories. Each method checks the permission the
 * real API checks, so a permission withheld from the bot surfaces as the real PERMISSION_DENIED.
 */
import type * as grpc from '@grpc/grpc-js';
import type { WireRuntime } from '../world/call-log.ts';
import type { Caller, PackageState, Repository } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { notFound, paginate, permissionDenied, timestamp, unary } from './grpc.ts';
import {
  type GetIamPolicyRequest,
  getPolicy,
  type SetIamPolicyRequest,
  setPolicy,
  type TestIamPermissionsRequest,
  testPermissions,
} from './iam-wire.ts';

const AR = '//artifactregistry.googleapis.com/';

/** Artifact Registry locations, with the display names the console shows. */
export const AR_LOCATIONS: Readonly<Record<string, string>> = {
  asia: 'Asia',
  'asia-east1': 'Taiwan',
  'asia-northeast1': 'Tokyo',
  europe: 'Europe',
  'europe-west1': 'Belgium',
  'europe-west2': 'London',
  'europe-west3': 'Frankfurt',
  us: 'United States',
  'us-central1': 'Iowa',
  'us-east1': 'South Carolina',
  'us-east4': 'Northern Virginia',
  'us-west1': 'Oregon',
};

const GCR_HOST_OF: Readonly<Record<string, string>> = {
  'gcr.io': 'gcr.io',
  'us.gcr.io': 'us.gcr.io',
  'eu.gcr.io': 'eu.gcr.io',
  'asia.gcr.io': 'asia.gcr.io',
};

/** The Docker registry URI of a repository (`LOC-docker.pkg.dev/P/R`, or `gcr.io/P` for gcr.io repositories). */
export function registryUri(repo: Repository): string {
  const gcr = GCR_HOST_OF[repo.repositoryId];
  return gcr ? `${gcr}/${repo.projectId}` : `${repo.location}-docker.pkg.dev/${repo.projectId}/${repo.repositoryId}`;
}

/** Package ids are escaped in resource names: `team/app` → `team%2Fapp` (Artifact Registry's REST reference: package resource names). */
function escapePackage(pkg: string): string {
  return pkg.replaceAll('/', '%2F');
}

function unescapePackage(pkg: string): string {
  return decodeURIComponent(pkg);
}

function wireRepository(repo: Repository): object {
  const sizeBytes = [...repo.packages.values()].flatMap((p) => p.images).reduce((n, i) => n + i.sizeBytes, 0);
  return {
    name: repo.name,
    format: repo.format,
    mode: repo.mode,
    description: repo.description,
    labels: repo.labels,
    createTime: timestamp(repo.createTime),
    updateTime: timestamp(repo.updateTime),
    sizeBytes: String(sizeBytes),
    dockerConfig: { immutableTags: false },
    cleanupPolicyDryRun: true,
    satisfiesPzs: false,
    satisfiesPzi: false,
    registryUri: registryUri(repo),
  };
}

function wirePackage(repo: Repository, pkg: PackageState): object {
  return {
    name: `${repo.name}/packages/${escapePackage(pkg.name)}`,
    displayName: pkg.name,
    createTime: timestamp(pkg.createTime),
    updateTime: timestamp(pkg.updateTime),
    annotations: {},
  };
}

function tagsOf(pkg: PackageState, digest: string): string[] {
  return [...pkg.tags.entries()].filter(([, d]) => d === digest).map(([t]) => t);
}

function wireDockerImages(repo: Repository): { name: string; upload: number; wire: object }[] {
  const uri = registryUri(repo);
  return [...repo.packages.values()].flatMap((pkg) =>
    pkg.images.map((img) => ({
      name: `${repo.name}/dockerImages/${escapePackage(pkg.name)}@${img.digest}`,
      upload: img.uploadTime,
      wire: {
        name: `${repo.name}/dockerImages/${escapePackage(pkg.name)}@${img.digest}`,
        uri: `${uri}/${pkg.name}@${img.digest}`,
        tags: tagsOf(pkg, img.digest),
        imageSizeBytes: String(img.sizeBytes),
        uploadTime: timestamp(img.uploadTime),
        mediaType: img.mediaType,
        buildTime: timestamp(img.buildTime),
        updateTime: timestamp(img.uploadTime),
        artifactType: '',
        imageManifests: [],
      },
    })),
  );
}

interface NameRequest {
  name: string;
}
interface ListRequest {
  parent: string;
  pageSize: number;
  pageToken: string;
  filter?: string;
  orderBy?: string;
}

/** Splits `projects/P/locations/L/repositories/R/packages/PKG[/tags/T | /versions/V]`. */
const PACKAGE_NAME =
  /^(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+)\/packages\/([^/]+)(?:\/(tags|versions)\/(.+))?$/;
const DOCKER_IMAGE_NAME = /^(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+)\/dockerImages\/(.+)$/;
const LOCATION_NAME = /^projects\/([^/]+)\/locations\/([^/]+)$/;

/** Builds the Artifact Registry service implementation over the world. */
export function artifactRegistryService(world: World, rt: WireRuntime): grpc.UntypedServiceImplementation {
  /** The repository named `name` after the bot's `permission` on it is checked (PERMISSION_DENIED first, like AR). */
  const repository = (name: string, permission: string, caller: Caller): Repository => {
    if (world.denied(caller, permission, name)) throw permissionDenied(permission, `${AR}${name}`);
    const repo = world.repository(name);
    if (!repo) throw notFound();
    return repo;
  };
  const packageOf = (
    name: string,
    permission: string,
    caller: Caller,
  ): { repo: Repository; pkg: PackageState; m: RegExpExecArray } => {
    const m = PACKAGE_NAME.exec(name);
    if (!m?.[1] || !m[2]) throw notFound();
    const repo = repository(m[1], permission, caller);
    const pkg = repo.packages.get(unescapePackage(m[2]));
    if (!pkg) throw notFound();
    return { repo, pkg, m };
  };
  const m = (name: string) => `artifactregistry.${name}`;

  return {
    listRepositories: unary<ListRequest>(rt, m('ListRepositories'), (req, caller) => {
      const loc = LOCATION_NAME.exec(req.parent);
      if (!loc?.[1] || !loc[2]) throw permissionDenied('artifactregistry.repositories.list', `${AR}${req.parent}`);
      const project = world.project(loc[1]);
      if (!project || world.denied(caller, 'artifactregistry.repositories.list', `projects/${loc[1]}`)) {
        throw permissionDenied('artifactregistry.repositories.list', `${AR}${req.parent}`);
      }
      const repos = [...world.repositories.values()]
        .filter((r) => r.projectId === project.projectId && (loc[2] === '-' || r.location === loc[2]))
        .sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextPageToken } = paginate(repos, req.pageSize, req.pageToken);
      return { repositories: page.map(wireRepository), nextPageToken };
    }),
    getRepository: unary<NameRequest>(rt, m('GetRepository'), (req, caller) =>
      wireRepository(repository(req.name, 'artifactregistry.repositories.get', caller)),
    ),
    listPackages: unary<ListRequest>(rt, m('ListPackages'), (req, caller) => {
      const repo = repository(req.parent, 'artifactregistry.packages.list', caller);
      const pkgs = [...repo.packages.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextPageToken } = paginate(pkgs, req.pageSize, req.pageToken);
      return { packages: page.map((p) => wirePackage(repo, p)), nextPageToken };
    }),
    getPackage: unary<NameRequest>(rt, m('GetPackage'), (req, caller) => {
      const { repo, pkg } = packageOf(req.name, 'artifactregistry.packages.get', caller);
      return wirePackage(repo, pkg);
    }),
    listTags: unary<ListRequest>(rt, m('ListTags'), (req, caller) => {
      const { repo, pkg } = packageOf(req.parent, 'artifactregistry.tags.list', caller);
      const base = `${repo.name}/packages/${escapePackage(pkg.name)}`;
      // Filters the API documents: name="…/tags/T" or version="…/versions/V".
      const filter = /^\s*(name|version)\s*=\s*"([^"]+)"\s*$/.exec(req.filter ?? '');
      const tags = [...pkg.tags.entries()]
        .map(([tag, digest]) => ({ name: `${base}/tags/${tag}`, version: `${base}/versions/${digest}` }))
        .filter((t) => !filter || (filter[1] === 'name' ? t.name === filter[2] : t.version === filter[2]))
        .sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextPageToken } = paginate(tags, req.pageSize, req.pageToken);
      return { tags: page, nextPageToken };
    }),
    getTag: unary<NameRequest>(rt, m('GetTag'), (req, caller) => {
      const { repo, pkg, m: parts } = packageOf(req.name, 'artifactregistry.tags.get', caller);
      if (parts[3] !== 'tags' || !parts[4]) throw notFound();
      const tag = decodeURIComponent(parts[4]);
      const digest = pkg.tags.get(tag);
      if (!digest) throw notFound();
      const base = `${repo.name}/packages/${escapePackage(pkg.name)}`;
      return { name: `${base}/tags/${tag}`, version: `${base}/versions/${digest}` };
    }),
    listVersions: unary<ListRequest>(rt, m('ListVersions'), (req, caller) => {
      const { repo, pkg } = packageOf(req.parent, 'artifactregistry.versions.list', caller);
      const base = `${repo.name}/packages/${escapePackage(pkg.name)}`;
      const versions = [...pkg.images]
        .sort((a, b) => b.uploadTime - a.uploadTime)
        .map((img) => ({
          name: `${base}/versions/${img.digest}`,
          description: '',
          createTime: timestamp(img.uploadTime),
          updateTime: timestamp(img.uploadTime),
          relatedTags: tagsOf(pkg, img.digest).map((t) => ({
            name: `${base}/tags/${t}`,
            version: `${base}/versions/${img.digest}`,
          })),
          annotations: {},
          fingerprints: [],
        }));
      const { page, nextPageToken } = paginate(versions, req.pageSize, req.pageToken);
      return { versions: page, nextPageToken };
    }),
    listDockerImages: unary<ListRequest>(rt, m('ListDockerImages'), (req, caller) => {
      const repo = repository(req.parent, 'artifactregistry.dockerimages.list', caller);
      const images = wireDockerImages(repo);
      if (/time\s+desc/i.test(req.orderBy ?? '')) images.sort((a, b) => b.upload - a.upload);
      else if (/time/i.test(req.orderBy ?? '')) images.sort((a, b) => a.upload - b.upload);
      else images.sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextPageToken } = paginate(images, req.pageSize, req.pageToken);
      return { dockerImages: page.map((i) => i.wire), nextPageToken };
    }),
    getDockerImage: unary<NameRequest>(rt, m('GetDockerImage'), (req, caller) => {
      const parts = DOCKER_IMAGE_NAME.exec(req.name);
      if (!parts?.[1]) throw notFound();
      const repo = repository(parts[1], 'artifactregistry.dockerimages.get', caller);
      const image = wireDockerImages(repo).find((i) => decodeURIComponent(i.name) === decodeURIComponent(req.name));
      if (!image) throw notFound();
      return image.wire;
    }),
    getIamPolicy: unary<GetIamPolicyRequest>(rt, m('GetIamPolicy'), (req, caller) =>
      getPolicy(repository(req.resource, 'artifactregistry.repositories.getIamPolicy', caller).iam, req),
    ),
    setIamPolicy: unary<SetIamPolicyRequest>(rt, m('SetIamPolicy'), (req, caller) => {
      const repo = repository(req.resource, 'artifactregistry.repositories.setIamPolicy', caller);
      const policy = setPolicy(world, repo.iam, repo.name, req);
      repo.updateTime = world.now();
      return policy;
    }),
    testIamPermissions: unary<TestIamPermissionsRequest>(rt, m('TestIamPermissions'), (req, caller) => {
      if (!world.repository(req.resource)) throw notFound();
      return testPermissions(world, req, caller);
    }),
  };
}

function wireLocation(project: string, id: string): object {
  return {
    name: `projects/${project}/locations/${id}`,
    locationId: id,
    displayName: AR_LOCATIONS[id] ?? id,
    labels: {},
    metadata: null,
  };
}

/** The `google.cloud.location.Locations` mixin of Artifact Registry. */
export function locationsService(world: World, rt: WireRuntime): grpc.UntypedServiceImplementation {
  return {
    listLocations: unary<{ name: string; pageSize: number; pageToken: string }>(
      rt,
      'locations.ListLocations',
      (req, caller) => {
        const project = /^projects\/([^/]+)$/.exec(req.name)?.[1];
        if (!project || !world.project(project) || world.denied(caller, 'artifactregistry.locations.list', req.name)) {
          throw permissionDenied('artifactregistry.locations.list', `${AR}${req.name}`);
        }
        const ids = Object.keys(AR_LOCATIONS).sort();
        const { page, nextPageToken } = paginate(ids, req.pageSize, req.pageToken);
        return { locations: page.map((id) => wireLocation(project, id)), nextPageToken };
      },
    ),
    getLocation: unary<NameRequest>(rt, 'locations.GetLocation', (req) => {
      const loc = LOCATION_NAME.exec(req.name);
      if (!loc?.[1] || !loc[2] || !AR_LOCATIONS[loc[2]] || !world.project(loc[1])) throw notFound();
      return wireLocation(loc[1], loc[2]);
    }),
  };
}
