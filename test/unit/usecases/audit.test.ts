import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import type { AuditRecord } from '../../../src/incidents/model.ts';
import type { IncidentNotifier } from '../../../src/ports/notifier.port.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { AuditTrail, REFUSAL_WINDOW_MS } from '../../../src/usecases/audit.ts';

/** Refusals cannot flood an incident's thread (docs/incidents-and-fixes.md, "Audit"). */
describe('the audit trail under a flood of refused clicks', () => {
  it('shows one refusal per person per window in the thread, and stores every one', async () => {
    const notes: AuditRecord[] = [];
    const notifier: IncidentNotifier = { changed: async () => {}, note: async (r) => void notes.push(r) };
    const store = new MemoryStore();
    let now = Date.parse('2026-12-01T03:00:00Z');
    const trail = new AuditTrail(store, silentLogger(), notifier, () => new Date(now));
    const refuse = (user: string) =>
      trail.record({ incidentId: 'inc1', action: 'refuse', user, result: 'not-approver', summary: 'not an approver' });
    // 771 clicks in 25 s by a stranger, and two by a second one.
    for (let i = 0; i < 771; i++) {
      await refuse('U0CAROL');
      now += 32;
    }
    await refuse('U0DAVE');
    await refuse('U0DAVE');
    assert.deepEqual(
      notes.map((n) => n.user),
      ['U0CAROL', 'U0DAVE'],
      'one thread line per person',
    );
    assert.equal((await store.listAudit(10_000)).length, 773, 'every refusal is an audit record');
    // After the window, the next refusal is shown again, with what was held back.
    now += REFUSAL_WINDOW_MS;
    await refuse('U0CAROL');
    assert.equal(notes.length, 3);
    assert.match(notes[2]?.summary ?? '', /770 more refused clicks since the last notice/);
    assert.equal(notes[2]?.detail?.heldBack, 770);
  });

  it('never holds back anything but refusals', async () => {
    const notes: AuditRecord[] = [];
    const trail = new AuditTrail(new MemoryStore(), silentLogger(), {
      changed: async () => {},
      note: async (r) => void notes.push(r),
    });
    for (let i = 0; i < 3; i++)
      await trail.record({ incidentId: 'inc1', action: 'approve', user: 'U0ALICE', result: 'accepted' });
    assert.equal(notes.length, 3);
  });
});
