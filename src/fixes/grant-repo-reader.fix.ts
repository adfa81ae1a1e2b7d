import { grantReaderCommand, parseRepositoryName } from '../diagnosis/commands.ts';
import { withMemberAdded, withMemberRemoved } from '../diagnosis/iam-policy.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import type { GrantRecord } from '../incidents/model.ts';
import { errorMessage } from '../shared/errors.ts';
import { duration } from '../shared/time.ts';
import type { Fix, FixRunContext } from './fix.ts';
import { type PolicyWrite, type PolicyWriteDeps, writePolicy } from './iam-write.ts';

/**
 * `grant-repo-reader`: adds the node service account to `roles/artifactregistry.reader` on the one repository
 * (every other binding kept), recording the grant in the incident's ledger before the write and settling it after,
 * then waits until the Policy Troubleshooter says the node can pull — IAM takes minutes to reach the registry, and a
 * restart before that would only fail again.
 */
export const grantRepoReaderFix: Fix = {
  kind: 'grant-repo-reader',
  appliesTo: (plan, action) => action === 'grant-restart' && plan.grant !== undefined,
  steps: () => ['grant', 'propagate'],
  commands(plan) {
    const repo = plan.grant ? parseRepositoryName(plan.grant.repository) : undefined;
    return plan.grant && repo ? [grantReaderCommand(repo, plan.grant.member).command] : [];
  },
  async apply(run) {
    const g = run.plan.grant;
    if (!g) return { ok: true, summary: '' };
    await run.step('grant', 'running');
    const granted =
      (await resumedGrant(run, g.repository, g.member, g.role)) ?? (await grant(run, g.repository, g.member, g.role));
    await run.audit({
      action: 'apply',
      result: granted.added ? 'granted' : 'already-present',
      detail: {
        repository: g.repository,
        member: g.member,
        role: g.role,
        etagBefore: granted.etagBefore,
        etagAfter: granted.etagAfter ?? granted.etagBefore,
      },
    });
    await run.step('grant', 'done', granted.added ? `added ${g.member}` : 'the member was already there');
    const what = `${granted.added ? 'granted' : 'kept'} \`${g.role}\` to \`${g.member}\``;

    const email = g.member.replace(/^serviceAccount:/, '');
    const resource = `//artifactregistry.googleapis.com/${g.repository}`;
    const propagated = await run.poll(
      run.timing.propagationTimeoutMs,
      async (elapsed) => {
        try {
          const v = await run.world.access.troubleshoot(email, resource, DOWNLOAD_PERMISSION);
          return v.overall === 'CAN_ACCESS'
            ? { done: true, detail: `Policy Troubleshooter: CAN_ACCESS after ${elapsed}` }
            : { done: false, detail: `waiting for IAM to propagate (${elapsed}, Troubleshooter says ${v.overall})` };
        } catch (e) {
          return {
            done: false,
            detail: `waiting for IAM to propagate (${elapsed}; Troubleshooter: ${errorMessage(e)})`,
          };
        }
      },
      (detail) => run.step('propagate', 'running', detail),
    );
    if (!propagated.ok) {
      await run.step('propagate', 'failed', propagated.detail);
      const within = duration(new Date(0), new Date(run.timing.propagationTimeoutMs));
      return {
        ok: false,
        summary: `Granted, but IAM did not confirm access within ${within} (${propagated.detail}): press Restart only in a few minutes, or Undo.`,
      };
    }
    await run.step('propagate', 'done', propagated.detail);
    return { ok: true, summary: what };
  },
};

/**
 * Adds the member, with the ledger written around the IAM write: a pending record before it is sent (so a crash or a
 * lost answer cannot hide it), the settled record after. When the write fails without a clear answer, the policy is
 * read again: a member now present is recorded as added, one absent is forgotten, and otherwise the record stays
 * pending (Undo then removes the member if it is there). A member someone else had put there is recorded as kept.
 */
async function grant(run: FixRunContext, repository: string, member: string, role: string): Promise<GrantRecord> {
  const base = { repository, member, role, by: run.user, at: run.now().toISOString(), runId: run.runId };
  let pending: GrantRecord | undefined;
  const deps = writeDeps(run);
  try {
    const r = await writePolicy(deps, repository, (p) => withMemberAdded(p, role, member), {
      beforeWrite: async (before) => {
        pending = { ...base, added: true, pending: true, etagBefore: before.etag };
        await run.ledger(pending, 'put'); // if this fails, nothing was written: nothing to undo
      },
      afterConflict: async () => {
        // ABORTED: the write was refused and nothing changed. Forget the pending record before re-reading.
        if (pending) await run.ledger(pending, 'remove');
        pending = undefined;
      },
    });
    if (!r.changed) {
      const kept: GrantRecord = { ...base, added: false, etagBefore: r.before.etag };
      await run.ledger(kept, 'put');
      return kept;
    }
    const done: GrantRecord = { ...base, added: true, etagBefore: r.before.etag, etagAfter: r.after.etag };
    await run.ledger(done, 'put').catch((e: unknown) =>
      // The pending record stays: Undo still removes the member.
      run.logger.error({ incident: run.incident.id, err: e }, 'grant written; its record stays pending'),
    );
    return done;
  } catch (e) {
    if (pending) await settleAmbiguous(run, pending, e);
    throw e;
  }
}

/**
 * A resumed run: the grant its earlier attempt recorded in the ledger (not undone). A pending one is settled by reading
 * the policy: present, it is known to be added; absent, it is forgotten and the grant is made again.
 */
async function resumedGrant(
  run: FixRunContext,
  repository: string,
  member: string,
  role: string,
): Promise<GrantRecord | undefined> {
  if (!run.previous) return undefined;
  const mine = (run.incident.grants ?? []).find(
    (x) =>
      x.repository === repository &&
      x.member === member &&
      x.role === role &&
      x.added &&
      !x.undone &&
      x.by === run.user,
  );
  if (!mine) return undefined;
  if (!mine.pending) return mine;
  const now = await run.world.repositoryIam.getPolicy(repository);
  const present = now.bindings.some((b) => b.role === role && !b.condition && b.members.includes(member));
  if (!present) {
    await run.ledger(mine, 'remove');
    return undefined;
  }
  const { pending: _unknown, ...known } = mine;
  const settled: GrantRecord = { ...known, etagAfter: now.etag };
  await run.ledger(settled, 'put');
  return settled;
}

async function settleAmbiguous(run: FixRunContext, pending: GrantRecord, error: unknown): Promise<void> {
  const now = await run.world.repositoryIam.getPolicy(pending.repository).catch(() => undefined);
  if (!now) return; // cannot tell: the record stays pending
  const present = now.bindings.some(
    (b) => b.role === pending.role && !b.condition && b.members.includes(pending.member),
  );
  if (present && now.etag !== pending.etagBefore) {
    const { pending: _unknown, ...known } = pending;
    await run.ledger({ ...known, etagAfter: now.etag }, 'put').catch(() => undefined);
    run.logger.warn(
      { incident: run.incident.id, repository: pending.repository, err: error },
      'setIamPolicy failed but the member is now on the policy: recorded as added',
    );
  } else if (!present) {
    await run.ledger(pending, 'remove').catch(() => undefined);
  }
}

function writeDeps(run: FixRunContext): PolicyWriteDeps {
  return {
    iam: run.world.repositoryIam,
    logger: run.logger,
    invalidate: (p) => run.world.invalidate(p),
    sleep: (ms) => run.sleep(ms),
  };
}

/** Removes exactly the member a grant added (Undo), with the same etag-guarded write. */
export function revokeGrant(deps: PolicyWriteDeps, grant: GrantRecord): Promise<PolicyWrite> {
  return writePolicy(deps, grant.repository, (p) => withMemberRemoved(p, grant.role, grant.member));
}
