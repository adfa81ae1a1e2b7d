import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildScenario } from '../../../src/scenarios/index.ts';
import { TroubleshootError, troubleshoot } from '../../../src/world/troubleshoot.ts';

const SERVICES = '//artifactregistry.googleapis.com/projects/acme-prod-417/locations/us-central1/repositories/services';
const DEFAULT_SA = '123456789012-compute@developer.gserviceaccount.com';
const DOWNLOAD = 'artifactregistry.repositories.downloadArtifacts';

type Verdict = {
  overallAccessState: string;
  accessTuple: { permissionFqdn: string };
  allowPolicyExplanation: {
    allowAccessState: string;
    explainedPolicies: {
      allowAccessState: string;
      fullResourceName?: string;
      bindingExplanations?: {
        role: string;
        rolePermission: string;
        memberships: Record<string, { membership: string }>;
      }[];
      policy?: { version: number; etag: string };
    }[];
  };
  denyPolicyExplanation: {
    denyAccessState: string;
    explainedResources: {
      explainedPolicies?: {
        denyAccessState: string;
        policy: { name: string };
        ruleExplanations: { combinedDeniedPrincipal: { membership: string } }[];
      }[];
    }[];
  };
};

const check = (scenario: string, principal = DEFAULT_SA, permission = DOWNLOAD): Verdict =>
  troubleshoot(buildScenario(scenario).world, {
    principal,
    fullResourceName: SERVICES,
    permission,
  }) as unknown as Verdict;

describe('Policy Troubleshooter verdicts computed from the world', () => {
  it('explains the seed: the repo and project policies are read, no binding includes the node SA', () => {
    const v = check('seed');
    assert.equal(v.overallAccessState, 'CANNOT_ACCESS');
    const [repo, project] = v.allowPolicyExplanation.explainedPolicies;
    assert.equal(repo?.fullResourceName, SERVICES);
    assert.equal(project?.fullResourceName, '//cloudresourcemanager.googleapis.com/projects/acme-prod-417');
    assert.equal(repo?.policy?.version, 3);
    const writer = repo?.bindingExplanations?.find((b) => b.role === 'roles/artifactregistry.writer');
    assert.equal(writer?.rolePermission, 'ROLE_PERMISSION_INCLUDED');
    assert.equal(Object.values(writer?.memberships ?? {})[0]?.membership, 'MEMBERSHIP_NOT_MATCHED');
    assert.equal(v.denyPolicyExplanation.denyAccessState, 'DENY_ACCESS_STATE_NOT_DENIED');
  });

  it('accepts v2 permission names and reports the v2 form', () => {
    const v = check('seed', DEFAULT_SA, 'artifactregistry.googleapis.com/repositories.downloadArtifacts');
    assert.equal(v.accessTuple.permissionFqdn, 'artifactregistry.googleapis.com/repositories.downloadArtifacts');
    assert.equal(v.overallAccessState, 'CANNOT_ACCESS');
  });

  it('says UNKNOWN_CONDITIONAL for a principal granted only through a conditional binding', () => {
    assert.equal(
      check('seed', 'staging-nodes@acme-staging-233.iam.gserviceaccount.com').overallAccessState,
      'UNKNOWN_CONDITIONAL',
    );
  });

  it('names the deny policy that denies', () => {
    const v = check('deny-policy');
    assert.equal(v.overallAccessState, 'CANNOT_ACCESS');
    assert.equal(v.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_GRANTED');
    assert.equal(v.denyPolicyExplanation.denyAccessState, 'DENY_ACCESS_STATE_DENIED');
    const policy = v.denyPolicyExplanation.explainedResources[0]?.explainedPolicies?.[0];
    assert.equal(policy?.denyAccessState, 'DENY_ACCESS_STATE_DENIED');
    assert.match(policy?.policy.name ?? '', /\/denypolicies\/deny-default-sa-artifact-downloads$/);
    assert.equal(policy?.ruleExplanations[0]?.combinedDeniedPrincipal.membership, 'MEMBERSHIP_MATCHED');
  });

  it('answers CAN_ACCESS for grants on the repository or the project', () => {
    assert.equal(check('already-granted').overallAccessState, 'CAN_ACCESS');
    const v = check('project-level-reader');
    assert.equal(v.overallAccessState, 'CAN_ACCESS');
    assert.equal(v.allowPolicyExplanation.explainedPolicies[1]?.allowAccessState, 'ALLOW_ACCESS_STATE_GRANTED');
  });

  it('answers UNKNOWN_INFO, without the policy, when the bot cannot read the repository policy', () => {
    const v = check('bot-lacks-permission');
    assert.equal(v.overallAccessState, 'UNKNOWN_INFO');
    assert.deepEqual(v.allowPolicyExplanation.explainedPolicies[0], {
      allowAccessState: 'ALLOW_ACCESS_STATE_UNKNOWN_INFO',
    });
  });

  it('refuses a request without a principal', () => {
    assert.throws(
      () =>
        troubleshoot(buildScenario('seed').world, { principal: '', fullResourceName: SERVICES, permission: DOWNLOAD }),
      TroubleshootError,
    );
  });
});
