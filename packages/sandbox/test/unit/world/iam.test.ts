import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addMember,
  denyPrincipalMatches,
  effectiveAccess,
  newPolicyState,
  permissionPatternMatches,
  readPolicy,
  removeMember,
} from '../../../src/world/iam.ts';
import { roleIncludes, toV1Permission, toV2Permission } from '../../../src/world/roles.ts';
import { World } from '../../../src/world/world.ts';

const REPO = 'projects/p/locations/us-central1/repositories/r';
const SA = '123-compute@developer.gserviceaccount.com';
const DOWNLOAD = 'artifactregistry.repositories.downloadArtifacts';

function worldWithRepo(now: () => number) {
  const world = new World({ seed: 'iam-test', clock: now });
  world.projects.set('p', {
    projectId: 'p',
    number: '123',
    displayName: 'p',
    parent: world.organization,
    createTime: 0,
    labels: {},
    iam: newPolicyState('projects/p', []),
    denyPolicies: [],
  });
  world.repositories.set(REPO, {
    name: REPO,
    projectId: 'p',
    location: 'us-central1',
    repositoryId: 'r',
    format: 'DOCKER',
    mode: 'STANDARD_REPOSITORY',
    description: '',
    labels: {},
    createTime: 0,
    updateTime: 0,
    iam: newPolicyState(REPO, [
      {
        role: 'roles/artifactregistry.reader',
        members: ['serviceAccount:other@p.iam.gserviceaccount.com'],
        condition: { title: 'until-2027', expression: 'request.time < timestamp("2027-01-01T00:00:00Z")' },
      },
    ]),
    packages: new Map(),
  });
  return world;
}

describe('IAM policies', () => {
  it('returns conditional bindings only at version 3, and _withcond_ roles at version 1', () => {
    const state = worldWithRepo(() => 0).repository(REPO)!.iam;
    const v3 = readPolicy(state, 3);
    assert.equal(v3.version, 3);
    assert.equal(v3.bindings[0]?.condition?.title, 'until-2027');
    const v1 = readPolicy(state, 1);
    assert.equal(v1.version, 1);
    assert.match(v1.bindings[0]?.role ?? '', /^roles\/artifactregistry\.reader_withcond_[0-9a-f]{20}$/);
    assert.equal(v1.bindings[0]?.condition, null);
  });

  it('changes the etag on every write and keeps other bindings', () => {
    const state = worldWithRepo(() => 0).repository(REPO)!.iam;
    const before = Buffer.from(state.etag);
    assert.equal(addMember(state, REPO, 'roles/artifactregistry.reader', `serviceAccount:${SA}`, 1), true);
    assert.notDeepEqual(state.etag, before);
    assert.equal(addMember(state, REPO, 'roles/artifactregistry.reader', `serviceAccount:${SA}`, 2), false);
    assert.equal(state.bindings.length, 2);
    assert.equal(state.bindings[0]?.condition?.title, 'until-2027');
    assert.equal(removeMember(state, REPO, 'roles/artifactregistry.reader', `serviceAccount:${SA}`, 3), true);
    assert.equal(state.bindings.length, 1);
  });

  it('enforces a grant only after the propagation delay', () => {
    let now = 1_000_000;
    const world = worldWithRepo(() => now);
    world.propagationDelayMs = 120_000;
    addMember(world.repository(REPO)!.iam, REPO, 'roles/artifactregistry.reader', `serviceAccount:${SA}`, now);
    assert.equal(effectiveAccess(world, SA, REPO, DOWNLOAD).allowed, false);
    now += 120_000;
    assert.equal(effectiveAccess(world, SA, REPO, DOWNLOAD).allowed, true);
  });

  it('counts a project-level grant and lets a deny policy win over it', () => {
    const world = worldWithRepo(() => 0);
    const project = world.project('p')!;
    addMember(project.iam, 'projects/p', 'roles/artifactregistry.reader', `serviceAccount:${SA}`, -1);
    assert.equal(effectiveAccess(world, SA, REPO, DOWNLOAD).allowed, true);
    project.denyPolicies.push({
      name: 'policies/x/denypolicies/d',
      uid: 'u',
      displayName: 'd',
      createTime: 0,
      etag: 'e',
      rules: [
        {
          denyRule: {
            deniedPrincipals: [`principal://iam.googleapis.com/projects/-/serviceAccounts/${SA}`],
            deniedPermissions: ['artifactregistry.googleapis.com/repositories.*'],
          },
        },
      ],
    });
    const access = effectiveAccess(world, SA, REPO, DOWNLOAD);
    assert.equal(access.allowed, false);
    assert.equal(access.denyingPolicy?.name, 'policies/x/denypolicies/d');
  });

  it('never enforces a conditional grant (the sandbox has no request context)', () => {
    const world = worldWithRepo(() => 0);
    assert.equal(effectiveAccess(world, 'other@p.iam.gserviceaccount.com', REPO, DOWNLOAD).allow, 'CONDITIONAL');
  });
});

describe('roles and permission names', () => {
  it('knows which predefined roles contain downloadArtifacts (docs/diagnosis.md, "Roles that can pull")', () => {
    for (const role of ['reader', 'writer', 'repoAdmin', 'admin', 'viewer', 'editor', 'createOnPushWriter']) {
      assert.equal(roleIncludes(`roles/artifactregistry.${role}`, DOWNLOAD), true, role);
    }
    for (const role of ['roles/owner', 'roles/editor', 'roles/viewer', 'roles/cloudbuild.builds.builder']) {
      assert.equal(roleIncludes(role, DOWNLOAD), true, role);
    }
    for (const role of ['roles/container.defaultNodeServiceAccount', 'roles/browser', 'roles/logging.logWriter']) {
      assert.equal(roleIncludes(role, DOWNLOAD), false, role);
    }
    assert.equal(roleIncludes('projects/p/roles/unknownCustom', DOWNLOAD), undefined);
    assert.equal(roleIncludes('roles/editor', 'artifactregistry.repositories.setIamPolicy'), false);
  });

  it('converts between v1 and v2 permission names', () => {
    assert.equal(toV2Permission(DOWNLOAD), 'artifactregistry.googleapis.com/repositories.downloadArtifacts');
    assert.equal(toV1Permission('artifactregistry.googleapis.com/repositories.downloadArtifacts'), DOWNLOAD);
    assert.equal(toV2Permission('resourcemanager.projects.get'), 'cloudresourcemanager.googleapis.com/projects.get');
    assert.equal(toV1Permission('cloudresourcemanager.googleapis.com/projects.get'), 'resourcemanager.projects.get');
  });

  it('matches deny principals and permission patterns', () => {
    assert.equal(denyPrincipalMatches('principalSet://goog/public:all', SA), true);
    assert.equal(denyPrincipalMatches(`principal://iam.googleapis.com/projects/-/serviceAccounts/${SA}`, SA), true);
    assert.equal(denyPrincipalMatches('principal://iam.googleapis.com/projects/-/serviceAccounts/x@y', SA), false);
    assert.equal(permissionPatternMatches('artifactregistry.googleapis.com/*', DOWNLOAD), true);
    assert.equal(
      permissionPatternMatches('artifactregistry.googleapis.com/repositories.uploadArtifacts', DOWNLOAD),
      false,
    );
  });
});
