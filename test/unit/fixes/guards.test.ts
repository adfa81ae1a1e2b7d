import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import {
  authorize,
  fixingIsStale,
  fixModeAllows,
  grantStillNeeded,
  HEARTBEAT_MS,
  inScope,
  planCurrent,
  staleRunMs,
} from '../../../src/fixes/guards.ts';
import type { IncidentRecord, PlanRecord } from '../../../src/incidents/model.ts';
import { ok, SEED, seedInput } from '../diagnosis/fixtures.ts';

const now = new Date('2026-11-24T03:00:00Z');
const seed = diagnose(seedInput());
const plan: PlanRecord = {
  id: 'plan1',
  grant: {
    kind: 'grant-repo-reader',
    repository: SEED.repo,
    member: `serviceAccount:${SEED.sa}`,
    role: 'roles/artifactregistry.reader',
  },
  restarts: [
    {
      kind: 'restart-workload',
      cluster: { project: SEED.project, location: 'us-central1', name: 'prod' },
      workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' },
    },
  ],
  createdAt: '2026-11-24T02:50:00Z',
  expiresAt: '2026-11-25T02:50:00Z',
};
const incident: IncidentRecord = {
  id: 'inc1',
  key: seed.key,
  status: 'open',
  createdAt: '2026-11-24T02:41:00Z',
  updatedAt: '2026-11-24T02:41:00Z',
  diagnosis: seed,
  affected: [],
  alertCount: 1,
  alertIncidentIds: [],
  origin: 'command',
  requestedBy: 'U0REQUESTER',
  plan,
  version: 1,
};

describe('fix guards', () => {
  it('only approvers (users or group members) may approve; four-eyes stops the requester', () => {
    const policy = {
      users: new Set(['U0APPROVER', 'U0REQUESTER']),
      groupMembers: new Set(['U0ONCALL']),
      fourEyes: true,
    };
    assert.deepEqual(authorize('U0APPROVER', policy, incident), { ok: true });
    assert.deepEqual(authorize('U0ONCALL', policy, incident), { ok: true });
    assert.equal(authorize('U0STRANGER', policy, incident).ok, false);
    const self = authorize('U0REQUESTER', policy, incident);
    assert.ok(!self.ok && /four-eyes/.test(self.reason));
    assert.deepEqual(authorize('U0REQUESTER', { ...policy, fourEyes: false }, incident), { ok: true });
  });

  it('FIX_MODE=off refuses', () => {
    assert.equal(fixModeAllows('off').ok, false);
    assert.equal(fixModeAllows('dry-run').ok, true);
  });

  it('scope guards name the project or namespace that is out of bounds', () => {
    assert.deepEqual(inScope(plan, ['acme-prod-417'], ['prod'], true), { ok: true });
    const p = inScope(plan, ['other'], [], true);
    assert.ok(!p.ok && /acme-prod-417/.test(p.reason));
    assert.deepEqual(
      inScope({ ...plan, restarts: [] }, ['other'], [], false),
      { ok: true },
      'restart only with nothing in scope to restart touches nothing',
    );
    const n = inScope(plan, [], ['staging'], false);
    assert.ok(!n.ok && /prod/.test(n.reason));
  });

  it('stale, expired or superseded plans are refused; a run abandoned by a dead replica no longer blocks', () => {
    const max = 30 * 60_000;
    assert.deepEqual(planCurrent(incident, 'plan1', now, max), { ok: true });
    assert.equal(planCurrent(incident, 'old-plan', now, max).ok, false);
    assert.equal(planCurrent(incident, 'plan1', new Date('2026-11-26T00:00:00Z'), max).ok, false);
    const running = {
      ...incident,
      status: 'fixing' as const,
      fix: {
        planId: 'plan1',
        action: 'grant-restart' as const,
        approvedBy: 'U0APPROVER',
        startedAt: '2026-11-24T02:55:00Z',
        steps: [],
      },
    };
    assert.equal(planCurrent(running, 'plan1', now, max).ok, false, 'a live run blocks');
    assert.deepEqual(
      planCurrent(running, 'plan1', new Date('2026-11-24T03:30:00Z'), max),
      { ok: true },
      'a stale one does not',
    );
    assert.equal(planCurrent({ ...incident, status: 'fixed' }, 'plan1', now, max).ok, false);
  });

  it('a run is judged by its heartbeat, not by how long it has run', () => {
    const long = {
      ...incident,
      status: 'fixing' as const,
      fix: {
        planId: 'plan1',
        action: 'grant-restart' as const,
        approvedBy: 'U0APPROVER',
        startedAt: '2026-11-24T01:00:00Z',
        heartbeatAt: '2026-11-24T02:59:00Z',
        steps: [],
      },
    };
    assert.equal(fixingIsStale(long, now, 5 * 60_000), false, 'beating two hours in: alive');
    assert.equal(
      fixingIsStale(long, new Date('2026-11-24T03:10:00Z'), 5 * 60_000),
      true,
      'silent for 11 minutes: gone',
    );
    assert.equal(staleRunMs(), 3 * HEARTBEAT_MS, 'three missed heartbeats');
  });

  it('ALLOWED_PROJECTS also bounds restarts to clusters of allowed projects', () => {
    const r = inScope(plan, ['acme-shared-artifacts'], [], false);
    assert.ok(!r.ok && /restart workloads in its clusters/.test(r.reason));
  });

  it('after re-reading: a grant someone else made means restart only', () => {
    assert.deepEqual(grantStillNeeded(plan, seed), { ok: true });
    const granted = diagnose(
      seedInput({
        projectPolicy: ok({
          version: 1,
          etag: 'x',
          bindings: [{ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${SEED.sa}`] }],
        }),
        access: ok({
          overall: 'CAN_ACCESS',
          allow: 'ALLOW_ACCESS_STATE_GRANTED',
          deny: 'DENY_ACCESS_STATE_NOT_DENIED',
          denyPolicies: [],
        }),
      }),
    );
    const r = grantStillNeeded(plan, granted);
    assert.ok(!r.ok && /Restart only/.test(r.reason));
  });

  it('after re-reading: a stored plan whose grant was altered (another member, another role) is refused', () => {
    assert.ok(plan.grant);
    // What a record read back from the store holds is not checked by the type system.
    const altered: (typeof plan.grant)[] = [
      { ...plan.grant, member: 'serviceAccount:intruder@evil-417.iam.gserviceaccount.com' },
      { ...plan.grant, role: 'roles/artifactregistry.repoAdmin' } as unknown as typeof plan.grant,
    ];
    for (const grant of altered) {
      const r = grantStillNeeded({ ...plan, grant }, seed);
      assert.ok(!r.ok && r.code === 'grant-target-changed', JSON.stringify(grant));
      assert.match(r.reason, /roles\/artifactregistry\.reader for serviceAccount:.*-compute@/);
    }
  });
});
