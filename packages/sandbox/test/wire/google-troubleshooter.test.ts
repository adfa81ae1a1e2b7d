import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GoogleSandbox, startGoogleSandbox } from '../../src/google/index.ts';
import { authClient } from './google-helpers.ts';

const SERVICES = 'projects/acme-prod-417/locations/us-central1/repositories/services';
const NODE_SA = '123456789012-compute@developer.gserviceaccount.com';
const DOWNLOAD = 'artifactregistry.repositories.downloadArtifacts';

interface Verdict {
  overallAccessState: string;
  allowPolicyExplanation: { allowAccessState: string };
  denyPolicyExplanation: {
    denyAccessState: string;
    explainedResources: { explainedPolicies?: { denyAccessState: string; policy: { name: string } }[] }[];
  };
}

const running: GoogleSandbox[] = [];
async function sandboxFor(scenario: string, propagationDelayMs = 0): Promise<GoogleSandbox> {
  const s = await startGoogleSandbox({ scenario, propagationDelayMs });
  running.push(s);
  return s;
}

/** Calls the troubleshooter the way the bot does: google-auth-library's request helper with a Bearer token. */
async function troubleshoot(sandbox: GoogleSandbox, principal = NODE_SA): Promise<Verdict> {
  const res = await authClient().request<Verdict>({
    url: `http://${sandbox.endpoint}/v3/iam:troubleshoot`,
    method: 'POST',
    data: {
      accessTuple: {
        principal,
        fullResourceName: `//artifactregistry.googleapis.com/${SERVICES}`,
        permission: DOWNLOAD,
      },
    },
  });
  assert.equal(res.status, 200);
  return res.data;
}

describe('Policy Troubleshooter v3 fake, through google-auth-library', () => {
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });

  it('says CANNOT_ACCESS for the seed, then CAN_ACCESS once reader is granted', async () => {
    const sandbox = await sandboxFor('seed');
    const before = await troubleshoot(sandbox);
    assert.equal(before.overallAccessState, 'CANNOT_ACCESS');
    assert.equal(before.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_NOT_GRANTED');
    assert.equal(before.denyPolicyExplanation.denyAccessState, 'DENY_ACCESS_STATE_NOT_DENIED');
    sandbox.addBinding(SERVICES, 'roles/artifactregistry.reader', `serviceAccount:${NODE_SA}`);
    const after = await troubleshoot(sandbox);
    assert.equal(after.overallAccessState, 'CAN_ACCESS');
    assert.equal(after.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_GRANTED');
    assert.equal(sandbox.calls.count('troubleshooter.troubleshoot'), 2);
  });

  it('says UNKNOWN_CONDITIONAL for a principal only granted through a conditional binding', async () => {
    const sandbox = await sandboxFor('seed');
    const v = await troubleshoot(sandbox, 'staging-nodes@acme-staging-233.iam.gserviceaccount.com');
    assert.equal(v.overallAccessState, 'UNKNOWN_CONDITIONAL');
    assert.equal(v.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL');
  });

  it('says CANNOT_ACCESS with DENY_ACCESS_STATE_DENIED naming the deny policy', async () => {
    const v = await troubleshoot(await sandboxFor('deny-policy'));
    assert.equal(v.overallAccessState, 'CANNOT_ACCESS');
    assert.equal(v.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_GRANTED');
    assert.equal(v.denyPolicyExplanation.denyAccessState, 'DENY_ACCESS_STATE_DENIED');
    const names = v.denyPolicyExplanation.explainedResources.flatMap((r) =>
      (r.explainedPolicies ?? [])
        .filter((p) => p.denyAccessState === 'DENY_ACCESS_STATE_DENIED')
        .map((p) => p.policy.name),
    );
    assert.deepEqual(names, [
      'policies/cloudresourcemanager.googleapis.com%2Fprojects%2Facme-prod-417/denypolicies/deny-default-sa-artifact-downloads',
    ]);
  });

  it('ignores a grant younger than the propagation delay', async () => {
    const sandbox = await sandboxFor('seed', 400);
    sandbox.addBinding(SERVICES, 'roles/artifactregistry.reader', `serviceAccount:${NODE_SA}`);
    assert.equal((await troubleshoot(sandbox)).overallAccessState, 'CANNOT_ACCESS');
    await sleep(450);
    assert.equal((await troubleshoot(sandbox)).overallAccessState, 'CAN_ACCESS');
  });

  it('says CAN_ACCESS when reader was granted a minute ago (already-granted)', async () => {
    assert.equal((await troubleshoot(await sandboxFor('already-granted'))).overallAccessState, 'CAN_ACCESS');
  });

  it('says UNKNOWN_INFO when the bot cannot read the repository policy', async () => {
    const v = await troubleshoot(await sandboxFor('bot-lacks-permission'));
    assert.equal(v.overallAccessState, 'UNKNOWN_INFO');
    assert.equal(v.allowPolicyExplanation.allowAccessState, 'ALLOW_ACCESS_STATE_UNKNOWN_INFO');
  });

  it('answers a call without credentials as the operator (who may read what the bot may not), and 400 for a bad tuple', async () => {
    const sandbox = await sandboxFor('bot-lacks-permission');
    const url = `http://${sandbox.endpoint}/v3/iam:troubleshoot`;
    const body = JSON.stringify({
      accessTuple: {
        principal: NODE_SA,
        fullResourceName: `//artifactregistry.googleapis.com/${SERVICES}`,
        permission: DOWNLOAD,
      },
    });
    // gcloud with auth/disable_credentials sends no token: the person at the terminal, refused nothing.
    const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(anonymous.status, 200);
    assert.equal(((await anonymous.json()) as Verdict).overallAccessState, 'CANNOT_ACCESS');
    // The bot (Bearer token) still cannot read the repository policy.
    assert.equal((await troubleshoot(sandbox)).overallAccessState, 'UNKNOWN_INFO');
    const bad = await authClient().request({
      url,
      method: 'POST',
      data: { accessTuple: {} },
      validateStatus: () => true,
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.data as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
  });

  it('reports an injected HTTP 503 once', async () => {
    const sandbox = await sandboxFor('seed');
    sandbox.failNext('troubleshooter.troubleshoot', 503);
    const url = `http://${sandbox.endpoint}/v3/iam:troubleshoot`;
    const failed = await authClient().request({ url, method: 'POST', data: {}, validateStatus: () => true });
    assert.equal(failed.status, 503);
    assert.equal((await troubleshoot(sandbox)).overallAccessState, 'CANNOT_ACCESS');
  });
});
