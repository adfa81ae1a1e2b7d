import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import { FIX_KINDS } from '../../../src/diagnosis/diagnosis.ts';
import { fixOf } from '../../../src/fixes/index.ts';
import { SEED, seedInput } from '../diagnosis/fixtures.ts';
import { APPROVER, lifecycle, SECOND_APPROVER, STRANGER, settle } from './harness.ts';

/**
 * Every branch of the fix lifecycle (docs/incidents-and-fixes.md): with in-memory ports and a mocked clock, so the
 * waits (IAM propagation, retries' backoff, stale runs) take no real time.
 */
const MEMBER = `serviceAccount:${SEED.sa}`;
const START = new Date('2026-12-01T03:00:00Z');
const tick = (ms: number) => mock.timers.tick(ms);

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: START }));
afterEach(() => mock.timers.reset());

describe('the fix registry', () => {
  it('has a fix for every kind a diagnosis can plan', () => {
    for (const kind of FIX_KINDS) assert.ok(fixOf(kind), `a fix for ${kind}`);
  });
});

describe('Grant & restart', () => {
  it('grants reader on the one repository, waits for IAM, restarts, verifies, and says so', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    assert.deepEqual([reply.ok, reply.code], [true, 'accepted']);
    await settle(reply.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'fixed');
    assert.ok(lc.iam.has(MEMBER), 'the node SA is on the policy');
    assert.ok(
      lc.iam.policy.bindings.some((b) => b.role === 'roles/artifactregistry.writer'),
      'the other binding is kept',
    );
    assert.deepEqual(
      r.fix?.steps.map((s) => [s.id, s.state]),
      [
        ['recheck', 'done'],
        ['grant', 'done'],
        ['propagate', 'done'],
        ['restart:Deployment/prod/checkout', 'done'],
        ['verify', 'done'],
      ],
    );
    assert.match(
      r.fix?.summary ?? '',
      /^granted `roles\/artifactregistry.reader` to `serviceAccount:.*`; restarted 1 workload\(s\); 3\/3 new pod\(s\) ready in/,
    );
    assert.deepEqual(
      r.grants?.map((g) => [g.member, g.added, g.pending ?? false, g.etagAfter]),
      [[MEMBER, true, false, lc.iam.policy.etag]],
    );
    assert.equal(lc.cluster.restarts.length, 1);
    assert.deepEqual(
      lc.notifier.notes.map((n) => `${n.action}:${n.result}`),
      ['approve:accepted', 'apply:granted', 'apply:restarted 1/1', 'finish:succeeded'],
    );
  });

  it('refuses a stranger, privately, with a code, and changes nothing', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', STRANGER);
    assert.deepEqual([reply.ok, reply.code], [false, 'not-approver']);
    assert.equal(lc.iam.sets, 0);
    assert.equal((await lc.current(inc.id)).status, 'open');
    assert.deepEqual(
      lc.notifier.notes.map((n) => `${n.action}:${n.result}`),
      ['refuse:not-approver'],
    );
  });
});

describe('an ambiguous setIamPolicy outcome', () => {
  it('the write was applied but its answer lost: recorded as added, and Undo removes it', async () => {
    const lc = lifecycle();
    lc.iam.script.push('applied-then-unavailable');
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'failed');
    assert.match(r.fix?.summary ?? '', /Stopped: setIamPolicy: deadline exceeded/);
    assert.deepEqual(
      r.grants?.map((g) => [g.added, g.pending ?? false, g.etagAfter]),
      [[true, false, lc.iam.policy.etag]],
      'known to be added, with the etag read afterwards',
    );
    const undo = await lc.actions.undo(inc.id, APPROVER);
    assert.deepEqual([undo.ok, undo.code], [true, 'succeeded']);
    assert.equal(lc.iam.has(MEMBER), false);
  });

  it('the outcome cannot be read back: the grant stays pending, and Undo removes the member if it is there', async () => {
    const lc = lifecycle();
    lc.iam.script.push('applied-then-unavailable');
    lc.iam.getFails = true;
    lc.iam.readsBeforeFailing = 1; // the read before the write works, the read after it does not
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'failed');
    assert.deepEqual(
      r.grants?.map((g) => [g.added, g.pending]),
      [[true, true]],
    );
    lc.iam.getFails = false;
    const undo = await lc.actions.undo(inc.id, APPROVER);
    assert.deepEqual([undo.ok, undo.text], [true, `Undone: removed ${MEMBER} from roles/artifactregistry.reader.`]);
    assert.ok((await lc.current(inc.id)).grants?.[0]?.undone, 'marked undone');
  });

  it('the write failed before anything changed: nothing is recorded, nothing to undo', async () => {
    const lc = lifecycle();
    lc.iam.script.push('unavailable');
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'failed');
    assert.deepEqual(r.grants ?? [], []);
    assert.equal(lc.iam.has(MEMBER), false);
    assert.equal((await lc.actions.undo(inc.id, APPROVER)).code, 'nothing-to-undo');
  });
});

describe('ABORTED (a stale etag) on every attempt', () => {
  it('re-reads and retries five times with backoff, then fails without a trace in the ledger', async () => {
    const lc = lifecycle();
    lc.iam.script.push('conflict', 'conflict', 'conflict', 'conflict', 'conflict');
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick, 100);
    const r = await lc.current(inc.id);
    assert.equal(lc.iam.sets, 5, 'five writes');
    assert.equal(lc.iam.gets >= 5, true, 'each after a fresh read');
    assert.equal(r.status, 'failed');
    assert.match(r.fix?.summary ?? '', /ABORTED/);
    assert.deepEqual(r.grants ?? [], [], 'no pending record left behind');
    assert.equal(lc.iam.has(MEMBER), false);
  });

  it('succeeds when the conflict clears before the retries run out, keeping the concurrent change', async () => {
    const lc = lifecycle();
    lc.iam.script.push('conflict', 'conflict');
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick, 100);
    assert.equal((await lc.current(inc.id)).status, 'fixed');
    assert.equal(lc.iam.sets, 3);
    assert.deepEqual(
      (await lc.current(inc.id)).grants?.map((g) => g.added),
      [true],
      'one ledger entry',
    );
  });
});

describe('Undo', () => {
  it('that fails says so, with the command to do it by hand, and leaves the grant undoable', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    lc.iam.script.push('unavailable');
    const undo = await lc.actions.undo(inc.id, APPROVER);
    assert.deepEqual([undo.ok, undo.code], [false, 'failed']);
    assert.match(undo.text, /by hand: `gcloud artifacts repositories remove-iam-policy-binding services/);
    assert.ok(lc.iam.has(MEMBER), 'still granted');
    const r = await lc.current(inc.id);
    assert.equal(r.grants?.[0]?.undone, undefined, 'not marked undone');
    assert.equal(r.fix?.undo?.outcome, 'failed');
    assert.equal(lc.notifier.notes.at(-1)?.action, 'undo');
    assert.equal(lc.notifier.notes.at(-1)?.result, 'failed');
    const again = await lc.actions.undo(inc.id, APPROVER);
    assert.deepEqual([again.ok, again.code], [true, 'succeeded'], 'a second Undo works');
  });

  it('is for approvers only, and never removes a member the bot did not add', async () => {
    const lc = lifecycle();
    lc.iam.policy = {
      ...lc.iam.policy,
      bindings: [...lc.iam.policy.bindings, { role: 'roles/artifactregistry.reader', members: [MEMBER] }],
    };
    lc.fresh = () => diagnose(seedInput()); // the re-read still says "missing" (propagation), the policy has it
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    assert.deepEqual(
      (await lc.current(inc.id)).grants?.map((g) => g.added),
      [false],
      'kept, not added',
    );
    assert.equal((await lc.actions.undo(inc.id, STRANGER)).code, 'not-added-by-bot');
    assert.equal((await lc.actions.undo(inc.id, APPROVER)).code, 'not-added-by-bot');
    assert.ok(lc.iam.has(MEMBER));
  });
});

describe('a run interrupted by shutdown (SIGTERM)', () => {
  it('is left to be resumed: another replica carries it on from its ledger, without writing IAM twice', async () => {
    const lc = lifecycle();
    lc.access.never = true; // waiting for propagation when the bot stops
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 20; j++) await new Promise<void>((r) => setImmediate(r));
      tick(1000);
    }
    assert.equal((await lc.current(inc.id)).fix?.steps.find((s) => s.id === 'propagate')?.state, 'running');
    await lc.runner.close();
    await reply.done;
    const left = await lc.current(inc.id);
    assert.equal(left.status, 'fixing', 'not failed: it will be resumed');
    assert.ok(left.fix?.interruptedAt, 'marked interrupted, so it is taken over at once');
    assert.ok(await lc.store.acquireLock(`fix:${inc.id}`, 'probe', 1), 'the lock is free');
    await lc.store.releaseLock(`fix:${inc.id}`, 'probe');
    assert.equal(
      (await lc.actions.approve(inc.id, left.plan?.id, 'grant-restart', APPROVER)).code,
      'shutting-down',
      'no new run while stopping',
    );
    // Another replica takes over.
    lc.access.never = false;
    const other = lc.replica();
    assert.equal(await other.resumeStale(() => lc.store.listIncidents(['fixing'])), 1);
    await settle(
      (async () => {
        for (;;) {
          const r = await lc.current(inc.id);
          if (r.status !== 'fixing') return;
          await new Promise((res) => setTimeout(res, 100));
        }
      })(),
      tick,
    );
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'fixed');
    assert.equal(r.fix?.resumes, 1);
    assert.equal(lc.iam.sets, 1, 'one IAM write in all');
    assert.equal(lc.cluster.restarts.length, 1);
    assert.deepEqual(
      r.grants?.map((g) => [g.added, g.pending ?? false]),
      [[true, false]],
      'the grant is the first run’s, still undoable',
    );
    assert.equal((await lc.actions.undo(inc.id, APPROVER)).code, 'succeeded');
  });
});

describe('a run whose replica died (SIGKILL) between the grant and the restart', () => {
  it('is resumed once its heartbeat is stale: waits for IAM, restarts, verifies; the grant is not written again', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    // What the dead replica left: the grant made and recorded, the incident still fixing, its heartbeat going quiet.
    await lc.iam.setPolicy('', {
      ...lc.iam.policy,
      bindings: [...lc.iam.policy.bindings, { role: 'roles/artifactregistry.reader', members: [MEMBER] }],
    });
    await lc.store.updateIncident(inc.id, (cur) => ({
      ...cur,
      status: 'fixing',
      grants: [
        {
          repository: SEED.repo,
          member: MEMBER,
          role: 'roles/artifactregistry.reader',
          added: true,
          runId: 'dead:1',
          etagBefore: 'BwYAAAAAAAE=',
          etagAfter: lc.iam.policy.etag,
          by: APPROVER,
          at: START.toISOString(),
        },
      ],
      fix: {
        runId: 'dead:1',
        planId: cur.plan?.id ?? '',
        action: 'grant-restart',
        approvedBy: APPROVER,
        startedAt: START.toISOString(),
        heartbeatAt: START.toISOString(),
        steps: [
          { id: 'recheck', state: 'done' },
          { id: 'grant', state: 'done' },
          { id: 'propagate', state: 'running' },
          { id: 'restart:Deployment/prod/checkout', state: 'pending' },
          { id: 'verify', state: 'pending' },
        ],
      },
    }));
    const writes = lc.iam.sets;
    assert.equal(
      (await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER)).code,
      'fix-running',
      'a run that beat recently blocks a second one',
    );
    assert.equal(await lc.runner.resumeStale(() => lc.store.listIncidents(['fixing'])), 0, 'not stale yet');
    tick(16_000);
    assert.equal(await lc.runner.resumeStale(() => lc.store.listIncidents(['fixing'])), 1, 'stale: resumed');
    await settle(
      (async () => {
        for (;;) {
          if ((await lc.current(inc.id)).status !== 'fixing') return;
          await new Promise((res) => setTimeout(res, 100));
        }
      })(),
      tick,
    );
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'fixed');
    assert.equal(lc.iam.sets, writes, 'no second IAM write');
    assert.equal(lc.cluster.restarts.length, 1, 'restarted once');
    assert.equal(r.fix?.steps.find((s) => s.id === 'verify')?.state, 'done');
  });

  it('whose plan changed meanwhile is marked failed with the reason, not resumed blindly', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    await lc.store.updateIncident(inc.id, (cur) => ({
      ...cur,
      status: 'fixing',
      fix: {
        runId: 'dead:1',
        planId: 'an-older-plan',
        action: 'grant-restart',
        approvedBy: APPROVER,
        startedAt: START.toISOString(),
        heartbeatAt: START.toISOString(),
        steps: [{ id: 'recheck', state: 'done' }],
      },
    }));
    tick(16_000);
    assert.equal(await lc.runner.resumeStale(() => lc.store.listIncidents(['fixing'])), 0);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'failed');
    assert.match(r.fix?.summary ?? '', /its plan has changed since/);
    assert.equal(lc.iam.sets, 0);
  });
});

describe('Re-check', () => {
  it('that finds another root cause says so and leaves this incident as it was', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    const other = diagnose(seedInput({}, undefined, 'us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2'));
    lc.fresh = () => other;
    const reply = await lc.actions.recheck(inc.id, STRANGER);
    assert.deepEqual([reply.ok, reply.code], [true, 'other-cause']);
    assert.match(reply.text, /another root cause/);
    const r = await lc.current(inc.id);
    assert.equal(r.key, inc.key);
    assert.equal(r.diagnosis.key, inc.diagnosis.key, 'the diagnosis of this root cause is kept');
    assert.equal(lc.notifier.notes.at(-1)?.result, 'other-cause');
  });

  it('that finds the pods running resolves the incident', async () => {
    const lc = lifecycle();
    const inc = await lc.open();
    lc.cluster.restarts.push({ ref: { kind: 'Deployment', namespace: 'prod', name: 'checkout' }, at: START });
    lc.fresh = () => undefined;
    const reply = await lc.actions.recheck(inc.id, STRANGER);
    assert.equal(reply.code, 'nothing-failing');
    assert.equal((await lc.current(inc.id)).status, 'resolved');
  });
});

describe('a plan that expires', () => {
  it('before the click is refused with plan-expired and changes nothing', async () => {
    const lc = lifecycle({ planTtlMs: 60_000 });
    const inc = await lc.open();
    tick(61_000);
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    assert.deepEqual([reply.ok, reply.code], [false, 'plan-expired']);
    assert.equal(lc.iam.sets, 0);
    assert.equal((await lc.current(inc.id)).status, 'open');
  });

  it('between the checks of the click and the start of the run is refused by the run with plan-expired', async () => {
    const lc = lifecycle({ planTtlMs: 60_000 });
    const inc = await lc.open();
    const plan = inc.plan;
    assert.ok(plan);
    tick(61_000);
    // The click passed its checks a moment ago; the run's own check, inside the store transaction, still refuses.
    const started = await lc.runner.start(inc, plan, 'grant-restart', APPROVER);
    assert.equal(started.ok, false);
    assert.equal(!started.ok && started.code, 'plan-expired');
    assert.equal(lc.iam.sets, 0);
    assert.ok(await lc.store.acquireLock(`fix:${inc.id}`, 'someone', 1000), 'the lock was released');
  });
});

describe('IAM that does not propagate in time', () => {
  it('stops after the timeout without restarting, and offers Undo', async () => {
    const lc = lifecycle();
    lc.access.never = true;
    const inc = await lc.open();
    const reply = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    await settle(reply.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'failed');
    assert.match(r.fix?.summary ?? '', /Granted, but IAM did not confirm access within 1m 0s/);
    assert.equal(lc.cluster.restarts.length, 0, 'no restart before IAM confirms');
    assert.equal((await lc.actions.undo(inc.id, APPROVER)).code, 'succeeded');
  });
});

describe('the two-person rule (APPROVALS_REQUIRED=2)', () => {
  it('changes nothing until a second, distinct approver presses the same button', async () => {
    const lc = lifecycle({ approvalsRequired: 2 });
    const inc = await lc.open();
    const first = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER);
    assert.deepEqual([first.ok, first.code], [true, 'awaiting-approval']);
    assert.match(first.text, /1 of 2/);
    assert.equal(lc.iam.sets, 0, 'no IAM change on one approval');
    assert.equal((await lc.current(inc.id)).status, 'open');
    assert.equal((await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', APPROVER)).code, 'already-approved');
    assert.equal((await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', STRANGER)).code, 'not-approver');
    // An approval of the other button does not count towards this one.
    assert.equal(
      (await lc.actions.approve(inc.id, inc.plan?.id, 'restart', SECOND_APPROVER)).code,
      'awaiting-approval',
    );
    assert.equal(lc.iam.sets, 0);
    const second = await lc.actions.approve(inc.id, inc.plan?.id, 'grant-restart', SECOND_APPROVER);
    assert.deepEqual([second.ok, second.code], [true, 'accepted']);
    await settle(second.done as Promise<void>, tick);
    const r = await lc.current(inc.id);
    assert.equal(r.status, 'fixed');
    assert.deepEqual(r.fix?.approvers, [APPROVER, SECOND_APPROVER]);
    assert.deepEqual(r.approvals, [], 'approvals are spent by the run');
    assert.equal(lc.iam.sets, 1);
    assert.deepEqual(
      lc.notifier.notes.filter((n) => n.action === 'approve').map((n) => `${n.user}:${n.result}`),
      [`${APPROVER}:awaiting-approval`, `${SECOND_APPROVER}:awaiting-approval`, `${SECOND_APPROVER}:accepted`],
    );
  });
});
