import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { CAUSES, type Cause } from '../../../src/diagnosis/cause.ts';
import { classifyMessage, explainJson } from '../../../src/diagnosis/classify.ts';
import { imageNamedIn } from '../../../src/diagnosis/message-text.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** Fixtures kept in the repository (test/fixtures/pull-errors/README.md says where each set comes from). */
function fixturePath(relative: string): string {
  return resolve(repoRoot, 'test/fixtures', relative);
}

interface Sample {
  readonly id: string;
  readonly message: string;
  readonly cause: Cause;
  readonly accept: readonly Cause[];
  readonly source: string;
}

function readSamples(path: string): Sample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Sample);
}

const devSamples = readSamples(fixturePath('pull-errors/dev.jsonl'));
const extraSamples = readSamples(resolve(repoRoot, 'test/fixtures/pull-errors/extra.jsonl'));
// Collected and labelled blind (without reading the classifier) by a second engineer; 72/81 accepted on first
// contact, the misses then fixed by general rules. Kept as a regression set.
const heldoutSamples = readSamples(resolve(repoRoot, 'test/fixtures/pull-errors/heldout.jsonl'));
// A second blind set (160 messages, gathered and labelled by someone who had not read the classifier): 142/160
// (88.8%) accepted on first contact; the misses (schema 1 refusals, credential helpers, token-endpoint and
// `http code` statuses, node-side unpack failures, the docker-era hedge with details) then fixed by general rules.
const blindSamples = readSamples(resolve(repoRoot, 'test/fixtures/pull-errors/blind-2026-12.jsonl'));

for (const [name, samples] of [
  ['dev.jsonl', devSamples],
  ['extra.jsonl', extraSamples],
  ['heldout.jsonl', heldoutSamples],
  ['blind-2026-12.jsonl', blindSamples],
] as const) {
  describe(`every ${name} message gets an accepted cause`, () => {
    for (const sample of samples) {
      test(`${sample.id} → ${sample.accept.join(' | ')}`, () => {
        const got = classifyMessage(sample.message);
        assert.ok(
          sample.accept.includes(got.cause),
          `${sample.id}: got ${got.cause} (matched ${JSON.stringify(got.matched)}), accepted ${sample.accept.join(', ')}`,
        );
      });
    }
    test('reports accuracy', (t) => {
      const accepted = samples.filter((s) => s.accept.includes(classifyMessage(s.message).cause)).length;
      const primary = samples.filter((s) => classifyMessage(s.message).cause === s.cause).length;
      t.diagnostic(`${name}: accepted ${accepted}/${samples.length}, primary cause ${primary}/${samples.length}`);
      assert.equal(accepted, samples.length);
    });
  });
}

test('extra.jsonl is a real corpus: ≥60 distinct messages, each with a source and a valid accept list', () => {
  assert.ok(extraSamples.length >= 60, `only ${extraSamples.length} samples`);
  assert.equal(new Set(extraSamples.map((s) => s.message)).size, extraSamples.length, 'duplicate messages');
  assert.equal(new Set(extraSamples.map((s) => s.id)).size, extraSamples.length, 'duplicate ids');
  for (const s of extraSamples) {
    assert.match(s.source, /^https:\/\/github\.com\/[^/]+\/[^/]+\/(?:issues|pull)\/\d+$/, s.id);
    assert.ok(s.accept.includes(s.cause), `${s.id}: cause not in accept`);
    for (const c of s.accept) assert.ok((CAUSES as readonly string[]).includes(c), `${s.id}: bad cause ${c}`);
  }
  const covered = new Set(extraSamples.map((s) => s.cause));
  for (const cause of CAUSES) {
    if (cause !== 'vpc-sc-denied') assert.ok(covered.has(cause), `no extra sample for ${cause}`);
  }
});

describe('ordering traps', () => {
  const cases: ReadonlyArray<readonly [string, string, Cause]> = [
    [
      'code = NotFound wrapping a platform mismatch is platform-mismatch (s52 shape)',
      'Failed to pull image "arm-only/app:1": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/arm-only/app:1": no match for platform in manifest: not found',
      'platform-mismatch',
    ],
    [
      'a 403 whose body says "or it may not exist" is permission-denied, not not-found',
      'denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/p/locations/us/repositories/r" (or it may not exist): not found',
      'permission-denied',
    ],
    [
      'VPC-SC beats the 403 it arrives in',
      "pulling from host us-docker.pkg.dev failed with status code [manifests 1]: 403 Forbidden: Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: abc",
      'vpc-sc-denied',
    ],
    [
      '"no such host" on an Artifact Registry host is network, not not-found',
      'failed to do request: Head "https://us-centrall-docker.pkg.dev/v2/p/r/i/manifests/1": dial tcp: lookup us-centrall-docker.pkg.dev on 169.254.169.254:53: no such host',
      'network',
    ],
    [
      'a 5xx from the registry is registry-unavailable',
      'failed to resolve reference "us-docker.pkg.dev/p/r/i:1": pulling from host us-docker.pkg.dev failed with status code [manifests 1]: 502 Bad Gateway',
      'registry-unavailable',
    ],
    [
      "Docker's own API error (500) wrapper is not a registry 5xx (x023)",
      'Error syncing pod, skipping: failed to "StartContainer" for "zre" with ErrImagePull: "API error (500): Get https://1.dkr.ecr.eu-west-1.amazonaws.com/v2/zre/manifests/latest: no basic auth credentials"',
      'unauthenticated',
    ],
    [
      '"pull access denied, repository does not exist" is not-found-or-unauthorized, not permission-denied',
      "Error response from daemon: pull access denied for foo/bar, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      'not-found-or-unauthorized',
    ],
    [
      'a filesystem "permission denied" is not an IAM denial',
      'failed to extract layer sha256:abc: mkdir /var/lib/containerd/tmpmounts/x: permission denied: unknown',
      'unknown',
    ],
    [
      'Docker Hub\'s "unauthenticated pull rate limit" is rate-limited (x066)',
      'toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit',
      'rate-limited',
    ],
    [
      '"TLS handshake timeout" is a network timeout, not a certificate problem',
      'Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout',
      'network',
    ],
    [
      'a Back-off message that carries its cause is classified by the cause (x122 shape)',
      'Back-off pulling image "ghcr.io/a/b:1": ErrImagePull: failed to pull and unpack image "ghcr.io/a/b:1": failed to resolve reference "ghcr.io/a/b:1": unexpected status from HEAD request to https://ghcr.io/v2/a/b/manifests/1: 401 Unauthorized',
      'unauthenticated',
    ],
    [
      'the old kubelet pull-secret warning is pull-secret-missing although it says "not found" (x117)',
      'Unable to retrieve pull secret prod/regcred for prod/web-1 due to secrets "regcred" not found.  The image pull may not succeed.',
      'pull-secret-missing',
    ],
    [
      'an explicit IAM denial inside Docker\'s "pull access denied" wrapper is permission-denied (s13)',
      'pull access denied for gcr.io/p/i, repository does not exist or may require \'docker login\': denied: Permission denied for "1.0" from request "/v2/p/i/manifests/1.0"',
      'permission-denied',
    ],
    [
      'a dead container runtime socket is not a network fault to the registry',
      'Failed to pull image "nginx": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial unix /run/containerd/containerd.sock: connect: connection refused"',
      'unknown',
    ],
    [
      "the kubelet's own pull throttle is rate-limited",
      'Failed to pull image "nginx:1.25": pull QPS exceeded',
      'rate-limited',
    ],
    [
      "Google's anonymous-caller 403 is unauthenticated (no credentials were sent)",
      'GET https://us-docker.pkg.dev/v2/token?scope=x: DENIED: Unauthenticated request. Unauthenticated requests do not have permission "artifactregistry.repositories.downloadArtifacts" on resource "projects/p/locations/us/repositories/r" (or it may not exist)',
      'unauthenticated',
    ],
  ];
  for (const [name, message, cause] of cases) {
    test(name, () => assert.equal(classifyMessage(message).cause, cause));
  }
});

describe('network sub-kinds', () => {
  const cases: ReadonlyArray<readonly [string, string, string | undefined]> = [
    // gcpdiag image_pull.py matches "Failed to pull image.*dial tcp.*199.36.153.\d:443: i/o timeout".
    [
      'restricted/private Google APIs VIP',
      'Failed to pull image "us-docker.pkg.dev/p/r/i:1": rpc error: code = Unknown desc = failed to pull and unpack image "us-docker.pkg.dev/p/r/i:1": failed to resolve reference "us-docker.pkg.dev/p/r/i:1": failed to do request: Head "https://us-docker.pkg.dev/v2/p/r/i/manifests/1": dial tcp 199.36.153.4:443: i/o timeout',
      'restricted-vip',
    ],
    ['no such host', 'dial tcp: lookup registry-1.docker.io on 192.168.65.1:53: no such host', 'dns'],
    ['server misbehaving', 'dial tcp: lookup index.docker.io on 192.168.65.1:53: server misbehaving', 'dns'],
    [
      'a timed-out lookup is dns',
      'dial tcp: lookup registry-1.docker.io on 10.0.2.3:53: read udp 10.0.2.15:54567->10.0.2.3:53: i/o timeout',
      'dns',
    ],
    ['connection refused', 'dial tcp [::1]:7439: connect: connection refused', 'refused'],
    ['i/o timeout', 'dial tcp 173.194.205.82:443: i/o timeout', 'timeout'],
    [
      'Client.Timeout',
      'Get https://us.gcr.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
      'timeout',
    ],
    ['context deadline exceeded', 'Get "https://gcr.io/v2/": context deadline exceeded', 'timeout'],
    ['connection reset has no sub-kind', 'read tcp 10.0.0.1:1->1.2.3.4:443: read: connection reset by peer', undefined],
  ];
  for (const [name, message, subKind] of cases) {
    test(name, () => {
      const c = classifyMessage(message);
      assert.equal(c.cause, 'network');
      assert.equal(c.subKind, subKind);
    });
  }
  test('only network carries a sub-kind', () => {
    for (const s of [...devSamples, ...extraSamples]) {
      const c = classifyMessage(s.message);
      if (c.cause !== 'network') assert.equal(c.subKind, undefined, s.id);
    }
  });
});

describe('image extraction', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    [
      'kubelet Failed to pull image',
      'Failed to pull image "nginx:1.25": rpc error: code = Unknown desc = x',
      'nginx:1.25',
    ],
    ['kubelet Back-off', 'Back-off pulling image "gcr.io/p/a:1"', 'gcr.io/p/a:1'],
    ['never-pull', 'Container image "nginx:1.25" is not present with pull policy of Never', 'nginx:1.25'],
    [
      'registry unavailable',
      'image pull failed for us-central1-docker.pkg.dev/p/r/i:2 because the registry is unavailable.',
      'us-central1-docker.pkg.dev/p/r/i:2',
    ],
    [
      'docker-era "no credentials" wrapper',
      'image pull failed for gcr.io/td-middleware/tdb, this may be because there are no credentials on this request.',
      'gcr.io/td-middleware/tdb',
    ],
    [
      'pull access denied for',
      'Error response from daemon: pull access denied for foo/bar, repository does not exist',
      'foo/bar',
    ],
    [
      "couldn't parse image reference",
      'couldn\'t parse image reference "None:None": invalid reference format',
      'None:None',
    ],
    ['manifest for X not found', 'Error response from daemon: manifest for a/b:1 not found: manifest unknown', 'a/b:1'],
    [
      'CRI-O "reading manifest TAG in REPO"',
      'Error reading manifest latest in docker.io/obsidiandynamics/kafdrop: toomanyrequests: x',
      'docker.io/obsidiandynamics/kafdrop:latest',
    ],
    [
      'CRI-O digest form',
      'Error reading manifest sha256:88d0125837d5a57cb24bb3ed81e6a8f4119a5043b7926bd2bd01710854c44f10 in quay.io/e/f: manifest unknown',
      'quay.io/e/f@sha256:88d0125837d5a57cb24bb3ed81e6a8f4119a5043b7926bd2bd01710854c44f10',
    ],
    [
      'rebuilt from a /v2/…/manifests/ URL when nothing is quoted (s01)',
      'Error response from daemon: Head "https://europe-west2-docker.pkg.dev/v2/acme/ml/app/manifests/4.19.5": denied: x',
      'europe-west2-docker.pkg.dev/acme/ml/app:4.19.5',
    ],
    [
      'escaped kubelet journal form (x149)',
      'E0325 18:59:44.857798 1790 pod_workers.go:951] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"d\\" with ImagePullBackOff: \\"Back-off pulling image \\\\\\"us-docker.pkg.dev/p/r/d:b4\\\\\\"\\""',
      'us-docker.pkg.dev/p/r/d:b4',
    ],
    [
      'kubectl describe line',
      'Warning  Failed     11s (x2 over 24s)  kubelet            Failed to pull image "thisisfine:v1": rpc error: code = Unknown desc = x',
      'thisisfine:v1',
    ],
    [
      'markdown-linked image (x081)',
      'Failed to pull image "[registry.k8s.io/a/b:v1](http://registry.k8s.io/a/b:v1)": rpc error',
      'registry.k8s.io/a/b:v1',
    ],
  ];
  for (const [name, message, image] of cases) {
    test(name, () => assert.equal(classifyMessage(message).image, image));
  }
  test("the alert parsers' image reader (no cause rules) names the same image as the classifier, on every fixture", () => {
    const all = ['dev', 'heldout', 'extra', 'blind-2026-12'].flatMap((f) =>
      readSamples(fixturePath(`pull-errors/${f}.jsonl`)),
    );
    assert.ok(all.length > 300);
    for (const s of all) assert.equal(imageNamedIn(s.message), classifyMessage(s.message).image, s.id);
    for (const [, message] of cases) assert.equal(imageNamedIn(message), classifyMessage(message).image);
  });
  test('no image when none is named, and a redacted URL host is not mistaken for Docker Hub (s50)', () => {
    assert.equal(classifyMessage('Error: ImagePullBackOff').image, undefined);
    assert.equal(
      classifyMessage('failed to do request: Head "https://xxx/v2/minzhi/nginx/manifests/1.0": x509: certificate')
        .image,
      undefined,
    );
  });
});

describe('repository hint', () => {
  test('names the AR repository of an IAM denial', () => {
    const c = classifyMessage(
      'DENIED: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/irn-71889-adm-dev-ope-68/locations/europe/repositories/docker-gke-irn70740" (or it may not exist)',
    );
    assert.equal(
      c.repositoryHint,
      'projects/irn-71889-adm-dev-ope-68/locations/europe/repositories/docker-gke-irn70740',
    );
  });
  test('cleans markdown-link noise around gcr.io (s10)', () => {
    const s10 = devSamples.find((s) => s.id === 's10');
    assert.ok(s10, 's10 is in dev.jsonl');
    assert.equal(classifyMessage(s10.message).repositoryHint, 'projects/fuzzbench/locations/us/repositories/gcr.io');
  });
  test('absent when the message names no repository', () => {
    assert.equal(classifyMessage('unauthorized: authentication required').repositoryHint, undefined);
  });
});

describe('wrapped and escaped forms', () => {
  test('kubelet "Error syncing pod" with escaped quotes keeps the cause and the image', () => {
    const c = classifyMessage(
      'Error syncing pod, skipping: failed to \\"StartContainer\\" for \\"web\\" with ErrImagePull: \\"Failed to pull image \\\\\\"gcr.io/p/web:2\\\\\\": rpc error: code = Unknown desc = Error response from daemon: manifest for gcr.io/p/web:2 not found: manifest unknown\\"',
    );
    assert.equal(c.cause, 'not-found');
    assert.equal(c.image, 'gcr.io/p/web:2');
  });
  test('registry JSON error bodies', () => {
    assert.equal(
      classifyMessage('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}').cause,
      'not-found',
    );
    assert.equal(
      classifyMessage('{"errors":[{"code":"NAME_UNKNOWN","message":"Repository \\"x\\" not found"}]}').cause,
      'not-found',
    );
    assert.equal(
      classifyMessage('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}').cause,
      'unauthenticated',
    );
    assert.equal(
      classifyMessage('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}').cause,
      'rate-limited',
    );
  });
  test('CRI-O "unable to pull image or OCI artifact" (format from cri-o server/image_pull.go)', () => {
    const c = classifyMessage(
      'rpc error: code = Unknown desc = unable to pull image or OCI artifact: pull image err: initializing source docker://registry.k8s.io/conformance:v9.9.9: reading manifest v9.9.9 in registry.k8s.io/conformance: manifest unknown; artifact err: get manifest: build image source: reading manifest v9.9.9 in registry.k8s.io/conformance: manifest unknown',
    );
    assert.equal(c.cause, 'not-found');
    assert.equal(c.image, 'registry.k8s.io/conformance:v9.9.9');
  });
  test('Windows hcs operating-system mismatch is platform-mismatch', () => {
    assert.equal(
      classifyMessage(
        'hcs::CreateComputeSystem 1: The container operating system does not match the host operating system.',
      ).cause,
      'platform-mismatch',
    );
  });
  test('HTML-escaped quotes are undone before matching', () => {
    assert.equal(classifyMessage('Failed to pull image &quot;a/b:1&quot;: manifest unknown').image, 'a/b:1');
  });
});

describe('matched snippet and robustness', () => {
  test('matched is a snippet of the (normalized) message that decided the cause', () => {
    const c = classifyMessage('pulling from host gcr.io failed with status code [manifests 1.0.0]: 403 Forbidden');
    assert.equal(c.cause, 'permission-denied');
    assert.equal(c.matched, '403 Forbidden');
  });
  test('unknown text keeps no matched snippet', () => {
    const c = classifyMessage('something else entirely');
    assert.deepEqual(c, { cause: 'unknown' });
  });
  test('stays linear on hostile 1 MB messages (no regex blow-up stalls the consumer)', () => {
    for (const hostile of [
      'https://a.b/v2/x/'.repeat(60_000),
      '['.repeat(1_000_000),
      'lookup a.b on '.repeat(70_000),
      'failed to pull image "'.repeat(45_000),
    ]) {
      const started = performance.now();
      classifyMessage(hostile);
      assert.ok(
        performance.now() - started < 5_000,
        `took ${performance.now() - started} ms on ${hostile.slice(0, 20)}`,
      );
    }
  });
  test('never throws on empty, huge or non-string input', () => {
    assert.equal(classifyMessage('').cause, 'unknown');
    assert.equal(classifyMessage('x'.repeat(2_000_000)).cause, 'unknown');
    assert.equal(classifyMessage(undefined as unknown as string).cause, 'unknown');
  });
});

describe('explainJson (imagepull explain --json)', () => {
  test('seed story: AR 403 with the parsed image and its repository', () => {
    const seed = devSamples.find((s) => s.id === 's06');
    assert.ok(seed);
    assert.deepEqual(explainJson(seed.message), {
      cause: 'permission-denied',
      image: {
        raw: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
        registry: 'us-central1-docker.pkg.dev',
        path: 'acme-prod-417/services/checkout',
        tag: '1.8.2',
        normalized: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      },
      registry: 'artifact-registry',
      repository: 'projects/acme-prod-417/locations/us-central1/repositories/services',
    });
  });
  test('network with sub-kind and a Docker Hub image', () => {
    assert.deepEqual(explainJson('Failed to pull image "busybox": dial tcp 1.2.3.4:443: i/o timeout'), {
      cause: 'network',
      subKind: 'timeout',
      image: {
        raw: 'busybox',
        registry: 'docker.io',
        path: 'library/busybox',
        tag: 'latest',
        normalized: 'docker.io/library/busybox:latest',
      },
      registry: 'docker-hub',
    });
  });
  test('repository from the hint when no image is named (s10: gcr.io repository)', () => {
    const s10 = devSamples.find((s) => s.id === 's10');
    assert.ok(s10);
    assert.deepEqual(explainJson(s10.message), {
      cause: 'unauthenticated',
      registry: 'gcr',
      repository: 'projects/fuzzbench/locations/us/repositories/gcr.io',
    });
  });
  test('an unparseable named image is left out rather than guessed (s57 None:None)', () => {
    const s57 = devSamples.find((s) => s.id === 's57');
    assert.ok(s57);
    assert.deepEqual(explainJson(s57.message), { cause: 'invalid-reference' });
  });
  test('digest-pinned AR image keeps the digest and no default tag', () => {
    const json = explainJson(
      'failed to pull and unpack image "us-east1-docker.pkg.dev/p/r/svc@sha256:9755a914bc0ce75f023c44edc500cdce27809471845449a424982660d1dfc65e": dial tcp 1.1.1.1:443: i/o timeout',
    );
    assert.equal(json.image?.digest, 'sha256:9755a914bc0ce75f023c44edc500cdce27809471845449a424982660d1dfc65e');
    assert.equal(json.image?.tag, undefined);
    assert.equal(json.repository, 'projects/p/locations/us-east1/repositories/r');
    assert.ok(!('tag' in (json.image ?? {})), 'absent keys are omitted, not undefined');
  });
});
