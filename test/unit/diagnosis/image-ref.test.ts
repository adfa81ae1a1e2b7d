import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatImageRef, type ImageRef, parseImageRef } from '../../../src/diagnosis/image-ref.ts';

function parsed(raw: string): ImageRef {
  const result = parseImageRef(raw);
  assert.ok(result.ok, `expected ${raw} to parse, got: ${result.ok ? '' : result.reason}`);
  return result.ref;
}

describe('runtime normalization (distribution/reference)', () => {
  const cases: ReadonlyArray<readonly [string, string, string, string | undefined, string | undefined, string]> = [
    // raw, registry, path, tag, digest, normalized
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined, 'docker.io/library/nginx:1.25'],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined, 'docker.io/bitnami/redis:7'],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx:1', 'docker.io', 'library/nginx', '1', undefined, 'docker.io/library/nginx:1'],
    ['registry-1.docker.io/a/b', 'docker.io', 'a/b', 'latest', undefined, 'docker.io/a/b:latest'],
    ['localhost/app', 'localhost', 'app', 'latest', undefined, 'localhost/app:latest'],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev', undefined, 'localhost:5000/app:dev'],
    ['10.0.0.1:5000/team/app:v1', '10.0.0.1:5000', 'team/app', 'v1', undefined, '10.0.0.1:5000/team/app:v1'],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined, '[::1]:5000/app:latest'],
    [
      'quay.io/jetstack/cert-manager-controller:v1.16.3',
      'quay.io',
      'jetstack/cert-manager-controller',
      'v1.16.3',
      undefined,
      'quay.io/jetstack/cert-manager-controller:v1.16.3',
    ],
    ['my_registry/app', 'docker.io', 'my_registry/app', 'latest', undefined, 'docker.io/my_registry/app:latest'],
    ['a__b/c--d/e.f', 'docker.io', 'a__b/c--d/e.f', 'latest', undefined, 'docker.io/a__b/c--d/e.f:latest'],
    [
      'busybox@sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
      'docker.io',
      'library/busybox',
      undefined,
      'sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
      'docker.io/library/busybox@sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
    ],
    [
      'ghcr.io/a/b:1.0@sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
      'ghcr.io',
      'a/b',
      '1.0',
      'sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
      'ghcr.io/a/b:1.0@sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf62f2ef04854597cf8',
    ],
    [
      'app:Release_1.2-rc.3',
      'docker.io',
      'library/app',
      'Release_1.2-rc.3',
      undefined,
      'docker.io/library/app:Release_1.2-rc.3',
    ],
    [
      'Registry.Example.com/team/app',
      'Registry.Example.com',
      'team/app',
      'latest',
      undefined,
      'Registry.Example.com/team/app:latest',
    ],
  ];
  for (const [raw, registry, path, tag, digest, normalized] of cases) {
    test(raw, () => {
      const ref = parsed(raw);
      assert.equal(ref.raw, raw);
      assert.equal(ref.registry, registry);
      assert.equal(ref.path, path);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
      assert.equal(ref.normalized, normalized);
      assert.equal(formatImageRef(ref), normalized);
    });
  }
  test('a digest-only reference gets no default tag', () => {
    const ref = parsed(`a@sha512:${'ab'.repeat(64)}`);
    assert.equal(ref.tag, undefined);
    assert.ok(!('tag' in ref));
  });
});

describe('registry kinds', () => {
  test('Docker Hub, other registries', () => {
    assert.equal(parsed('nginx').kind, 'docker-hub');
    assert.equal(parsed('quay.io/a/b').kind, 'other');
    assert.equal(parsed('123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1').kind, 'other');
    assert.equal(parsed('k8s.gcr.io/pause:3.9').kind, 'other', 'k8s.gcr.io is not an AR-served gcr.io repository');
    assert.equal(parsed('registry.k8s.io/pause:3.9').kind, 'other');
  });
});

describe('Artifact Registry', () => {
  const cases: ReadonlyArray<readonly [string, string, string, string, string]> = [
    // raw, project, location, repository, packageName
    [
      'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      'acme-prod-417',
      'us-central1',
      'services',
      'checkout',
    ],
    ['europe-west2-docker.pkg.dev/p1/ml/app', 'p1', 'europe-west2', 'ml', 'app'],
    ['northamerica-northeast1-docker.pkg.dev/p/r/team/app:1', 'p', 'northamerica-northeast1', 'r', 'team/app'],
    ['me-central2-docker.pkg.dev/p/r/a/b/c', 'p', 'me-central2', 'r', 'a/b/c'],
    ['us-docker.pkg.dev/berglas/berglas/berglas:latest', 'berglas', 'us', 'berglas', 'berglas'],
    ['europe-docker.pkg.dev/p/r/i', 'p', 'europe', 'r', 'i'],
    ['asia-docker.pkg.dev/p/r/i', 'p', 'asia', 'r', 'i'],
    // Domain-scoped project "example.com:my-project" is written with "/" in Docker paths.
    [
      'us-west1-docker.pkg.dev/example.com/my-project/my-repo/app:1',
      'example.com:my-project',
      'us-west1',
      'my-repo',
      'app',
    ],
  ];
  for (const [raw, project, location, repository, packageName] of cases) {
    test(raw, () => {
      const ref = parsed(raw);
      assert.equal(ref.kind, 'artifact-registry');
      assert.deepEqual(ref.ar, {
        project,
        location,
        repository,
        packageName,
        resourceName: `projects/${project}/locations/${location}/repositories/${repository}`,
        host: ref.registry,
      });
    });
  }
  test('an AR host without project/repo/image has no repository', () => {
    const ref = parsed('us-docker.pkg.dev/p/image');
    assert.equal(ref.kind, 'artifact-registry');
    assert.equal(ref.ar, undefined);
  });
  test('digest-pinned AR image keeps its repository', () => {
    const ref = parsed(
      'us-east1-docker.pkg.dev/prj-bu1/repo/userservice@sha256:9755a914bc0ce75f023c44edc500cdce27809471845449a424982660d1dfc65e',
    );
    assert.equal(ref.ar?.resourceName, 'projects/prj-bu1/locations/us-east1/repositories/repo');
    assert.equal(ref.tag, undefined);
  });
});

describe('gcr.io served by Artifact Registry', () => {
  const cases: ReadonlyArray<readonly [string, string, string, string, string]> = [
    ['gcr.io/acme/app:1', 'acme', 'us', 'gcr.io', 'app'],
    ['us.gcr.io/acme/team/app', 'acme', 'us', 'us.gcr.io', 'team/app'],
    ['eu.gcr.io/acme/app', 'acme', 'europe', 'eu.gcr.io', 'app'],
    ['asia.gcr.io/acme/app', 'acme', 'asia', 'asia.gcr.io', 'app'],
    ['gcr.io/example.com/proj/app', 'example.com:proj', 'us', 'gcr.io', 'app'],
  ];
  for (const [raw, project, location, repository, packageName] of cases) {
    test(raw, () => {
      const ref = parsed(raw);
      assert.equal(ref.kind, 'gcr');
      assert.equal(ref.ar?.project, project);
      assert.equal(ref.ar?.location, location);
      assert.equal(ref.ar?.repository, repository);
      assert.equal(ref.ar?.packageName, packageName);
      assert.equal(ref.ar?.resourceName, `projects/${project}/locations/${location}/repositories/${repository}`);
    });
  }
});

describe('invalid references are rejected with a precise reason', () => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['', /empty/],
    ['None:None', /must be lowercase/],
    ['Nginx', /must be lowercase/],
    ['gcr.io/Acme/app', /must be lowercase/],
    ['nginx:', /tag is empty/],
    ['redacted.dkr.ecr.us-east-1.amazonaws.com/redacted/redacted:', /tag is empty/],
    ['/cloudfoundry/app:1', /must not start with "\/"/],
    ['gcr.io/lab-jenkins-x/hello-4-1: 0.0.1 ', /whitespace/],
    ['https://harbor.k8s.mybank/release/name:1.1.0', /URL scheme/],
    ['iad.ocir.io/oracle/mysql-agent:6f1a:6f1a', /invalid (?:tag|repository path)|registry port/],
    ['app:-bad', /invalid tag/],
    [`app:${'a'.repeat(129)}`, /longer than 128/],
    ['app@sha256:abc', /invalid digest length/],
    [`app@sha256:${'G'.repeat(64)}`, /lowercase hex|invalid digest/],
    [`app@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['app@', /digest is empty/],
    ['app@sha256', /expected algorithm:hex/],
    ['a//b', /empty path component/],
    ['a/b/', /must not end with/],
    ['-bad.example.com/app', /invalid registry host/],
    ['host.example.com:port/app', /registry port/],
    [`a/${'b'.repeat(260)}`, /more than 255 characters/],
    ['<s1-helper-image>:<s1-helper-tag>', /invalid|lowercase/],
  ];
  for (const [raw, reason] of cases) {
    test(JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw), () => {
      const result = parseImageRef(raw);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }
  test('never throws on non-string input', () => {
    assert.equal(parseImageRef(undefined as unknown as string).ok, false);
  });
});
