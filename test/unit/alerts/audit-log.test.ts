import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseAlert } from '../../../src/alerts/parse-alert.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/alerts', name), 'utf8')) as Record<string, unknown>;
}

const SA = 'serviceAccount:123456789012-compute@developer.gserviceaccount.com';
const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';

/** A copy of `entry` with `protoPayload` fields replaced. */
function withPayload(entry: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  return { ...entry, protoPayload: { ...(entry.protoPayload as object), ...over } };
}

describe('Cloud Audit Logs SetIamPolicy entries (the IAM-change trigger)', () => {
  test('a repository SetIamPolicy that removed a reader: the resource, who, what, and a dedupe key', () => {
    assert.deepEqual(parseAlert(fixture('auditlog-setiampolicy-repository.json')), {
      kind: 'iam-change',
      state: 'open',
      project: 'acme-prod-417',
      iamChange: {
        resource: REPO,
        scope: 'repository',
        method: 'google.devtools.artifactregistry.v1.ArtifactRegistry.SetIamPolicy',
        principal: 'jordan.lee@acme.example',
        deltas: [{ action: 'REMOVE', role: 'roles/artifactregistry.reader', member: SA }],
      },
      dedupeKey: 'log:1kq3ve2d8h4w',
      observedAt: '2026-05-14T09:12:03.441207Z',
    });
  });

  test('the same entry in a Pub/Sub push envelope, and as the bytes a pull subscription delivers', () => {
    const inner = parseAlert(fixture('auditlog-setiampolicy-repository.json'));
    assert.deepEqual(parseAlert(fixture('push-envelope-auditlog-setiampolicy.json')), inner);
    const bytes = readFileSync(resolve(repoRoot, 'test/fixtures/alerts/auditlog-setiampolicy-repository.json'));
    assert.deepEqual(parseAlert(bytes), inner);
  });

  test('a project SetIamPolicy (Resource Manager) that added a pull role', () => {
    const alert = parseAlert(fixture('auditlog-setiampolicy-project.json'));
    assert.equal(alert.kind, 'iam-change');
    assert.deepEqual(alert.iamChange, {
      resource: 'projects/acme-prod-417',
      scope: 'project',
      method: 'SetIamPolicy',
      principal: 'jordan.lee@acme.example',
      deltas: [{ action: 'ADD', role: 'roles/artifactregistry.reader', member: SA }],
    });
  });

  test('ignored with a reason: a change of roles that cannot pull, a failed call, other methods and services', () => {
    const project = fixture('auditlog-setiampolicy-project.json');
    const cases: [Record<string, unknown>, RegExp][] = [
      [fixture('auditlog-setiampolicy-project-unrelated.json'), /changed no role that can pull/],
      [withPayload(project, { status: { code: 7, message: 'PERMISSION_DENIED' } }), /failed \(status 7\)/],
      [withPayload(project, { methodName: 'GetIamPolicy' }), /GetIamPolicy, not SetIamPolicy/],
      [withPayload(project, { serviceName: 'storage.googleapis.com' }), /only Artifact Registry and project policies/],
      [withPayload(project, { resourceName: 'projects/acme-prod-417/buckets/b' }), /not a repository or a project/],
    ];
    for (const [entry, reason] of cases) {
      const alert = parseAlert(entry);
      assert.equal(alert.kind, 'ignored');
      assert.match(alert.reason ?? '', reason);
    }
  });

  test('an entry without binding deltas still counts (the re-audit reads the policy itself)', () => {
    const entry = withPayload(fixture('auditlog-setiampolicy-repository.json'), { serviceData: undefined });
    const alert = parseAlert(entry);
    assert.equal(alert.kind, 'iam-change');
    assert.deepEqual(alert.iamChange?.deltas, []);
  });

  test('a full resource name (//SERVICE/…) names the same repository', () => {
    const entry = withPayload(fixture('auditlog-setiampolicy-repository.json'), {
      resourceName: `//artifactregistry.googleapis.com/${REPO}`,
    });
    assert.equal(parseAlert(entry).iamChange?.resource, REPO);
  });

  test('the data-access entry without a protoPayload stays what it was: not an image-pull alert', () => {
    assert.equal(parseAlert(fixture('push-envelope-cloudaudit.json')).kind, 'ignored');
  });
});
