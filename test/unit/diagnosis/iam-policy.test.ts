import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deletedMemberGrants,
  diffPolicies,
  hasUnconditionalPull,
  type IamPolicy,
  pullGrantsFor,
  withMemberAdded,
  withMemberRemoved,
} from '../../../src/diagnosis/iam-policy.ts';

const SA = '123456789012-compute@developer.gserviceaccount.com';
const MEMBER = `serviceAccount:${SA}`;

// A realistic repository policy: CI can push, one person reads under an expiring condition (version 3).
const policy: IamPolicy = {
  version: 3,
  etag: 'BwYABC=',
  bindings: [
    { role: 'roles/artifactregistry.writer', members: ['serviceAccount:ci@acme-prod-417.iam.gserviceaccount.com'] },
    {
      role: 'roles/artifactregistry.reader',
      members: ['user:alice@acme.example'],
      condition: { title: 'until-2026', expression: 'request.time < timestamp("2026-01-01T00:00:00Z")' },
    },
  ],
};

describe('withMemberAdded', () => {
  it('adds a new unconditional reader binding and keeps every other binding, condition and the etag', () => {
    const { policy: next, changed } = withMemberAdded(policy, 'roles/artifactregistry.reader', MEMBER);
    assert.equal(changed, true);
    assert.equal(next.etag, policy.etag);
    assert.equal(next.version, 3, 'a policy with conditions must stay version 3');
    assert.deepEqual(next.bindings.slice(0, 2), policy.bindings);
    assert.deepEqual(next.bindings[2], { role: 'roles/artifactregistry.reader', members: [MEMBER] });
    assert.deepEqual(diffPolicies(policy, next), {
      added: [{ role: 'roles/artifactregistry.reader', member: MEMBER }],
      removed: [],
    });
  });

  it('joins an existing unconditional binding for the role instead of creating a second one', () => {
    const p: IamPolicy = {
      version: 1,
      etag: 'x',
      bindings: [{ role: 'roles/artifactregistry.reader', members: ['group:devs@acme.example'] }],
    };
    const { policy: next } = withMemberAdded(p, 'roles/artifactregistry.reader', MEMBER);
    assert.deepEqual(next.bindings, [
      { role: 'roles/artifactregistry.reader', members: ['group:devs@acme.example', MEMBER] },
    ]);
  });

  it('is a no-op when the member is already there (double click, second replica)', () => {
    const once = withMemberAdded(policy, 'roles/artifactregistry.reader', MEMBER).policy;
    const twice = withMemberAdded(once, 'roles/artifactregistry.reader', MEMBER);
    assert.equal(twice.changed, false);
    assert.equal(twice.policy, once);
  });
});

describe('withMemberRemoved', () => {
  it('removes exactly the member the bot added, leaving conditional bindings for the same role alone', () => {
    const added = withMemberAdded(policy, 'roles/artifactregistry.reader', MEMBER).policy;
    const { policy: back, changed } = withMemberRemoved(added, 'roles/artifactregistry.reader', MEMBER);
    assert.equal(changed, true);
    assert.deepEqual(back.bindings, policy.bindings);
  });

  it('does nothing when the member is absent', () => {
    assert.equal(withMemberRemoved(policy, 'roles/artifactregistry.reader', MEMBER).changed, false);
  });
});

describe('who can pull', () => {
  it('finds direct, public and conditional grants, and ignores roles without downloadArtifacts', () => {
    const p: IamPolicy = {
      version: 3,
      etag: 'e',
      bindings: [
        { role: 'roles/container.defaultNodeServiceAccount', members: [MEMBER] },
        {
          role: 'roles/artifactregistry.reader',
          members: [MEMBER],
          condition: { expression: 'request.time < timestamp("2020-01-01T00:00:00Z")' },
        },
      ],
    };
    const grants = pullGrantsFor(p, SA);
    assert.equal(grants.length, 1);
    assert.ok(grants[0]?.condition, 'the only grant is conditional');
    assert.equal(hasUnconditionalPull(p, SA), false);
    const pub: IamPolicy = {
      version: 1,
      etag: 'e',
      bindings: [{ role: 'roles/artifactregistry.reader', members: ['allUsers'] }],
    };
    assert.equal(hasUnconditionalPull(pub, SA), true);
    const editor: IamPolicy = {
      version: 1,
      etag: 'e',
      bindings: [{ role: 'roles/editor', members: [MEMBER.toUpperCase().replace('SERVICEACCOUNT', 'serviceAccount')] }],
    };
    assert.equal(hasUnconditionalPull(editor, SA.toUpperCase()), true, 'emails compare case-insensitively');
  });

  it('spots bindings left by a deleted account of the same name', () => {
    const p: IamPolicy = {
      version: 1,
      etag: 'e',
      bindings: [{ role: 'roles/artifactregistry.reader', members: [`deleted:${MEMBER}?uid=1234567890`] }],
    };
    assert.equal(hasUnconditionalPull(p, SA), false);
    assert.equal(deletedMemberGrants(p, SA).length, 1);
  });
});
