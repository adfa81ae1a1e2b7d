import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import { mergeSightings } from '../../../src/incidents/merge.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import type { ClusterAccess } from '../../../src/usecases/cluster-access.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import { seedInput } from '../diagnosis/fixtures.ts';

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };
const checkout = { kind: 'Deployment' as const, namespace: 'prod', name: 'checkout' };

function service() {
  const shown: string[] = [];
  const incidents = new IncidentService({
    store: new MemoryStore(),
    notifier: {
      changed: async (id) => {
        shown.push(id);
      },
      note: async () => undefined,
    },
    access: {} as ClusterAccess,
    logger: silentLogger(),
    metrics: new Metrics({ defaults: false }),
    planTtlMs: 86_400_000,
  });
  return { incidents, shown };
}

const sighting = { cluster, namespace: 'prod', pod: 'checkout-a', workload: checkout, alerts: 1 };

describe('undone and superseded incidents', () => {
  it('Undo makes the incident undone and offers the grant again, without a restart', async () => {
    const { incidents } = service();
    const d = diagnose(seedInput());
    const r = await incidents.record(d, sighting, { kind: 'alert' });
    assert.equal(r.plan?.restarts.length, 1);
    await incidents.update(r.id, (cur) => ({ ...cur, status: 'fixed' }));
    const undone = await incidents.markUndone(r.id, {
      by: 'U0ALICE',
      at: new Date().toISOString(),
      outcome: 'succeeded',
    });
    assert.equal(undone?.status, 'undone');
    assert.ok(undone?.plan?.grant, 'the grant is offered again');
    assert.deepEqual(undone?.plan?.restarts, [], 'nothing to restart: the pods that pulled still run');
    assert.notEqual(undone?.plan?.id, r.plan?.id, 'a new plan id: the old buttons are refused as outdated');
    // A failed Undo leaves the state as it was.
    await incidents.update(r.id, (cur) => ({ ...cur, status: 'fixed' }));
    const failed = await incidents.markUndone(r.id, { by: 'U0ALICE', at: new Date().toISOString(), outcome: 'failed' });
    assert.equal(failed?.status, 'fixed');
  });

  it('a new failure after Undo opens the incident again with a restart in its plan', () => {
    const d = diagnose(seedInput());
    const base = {
      id: 'x',
      key: d.key,
      status: 'undone' as const,
      createdAt: '',
      updatedAt: '',
      diagnosis: d,
      affected: [],
      alertCount: 1,
      alertIncidentIds: [],
      origin: 'alert' as const,
      version: 1,
    };
    const next = mergeSightings(base, [{ diagnosis: d, sighting, at: new Date().toISOString() }]);
    assert.equal(next.status, 'open');
  });

  it('Re-check with another root cause: a new incident for it, this one superseded and pointing at it', async () => {
    const { incidents, shown } = service();
    const seed = diagnose(seedInput());
    const other = diagnose(seedInput({}, undefined, 'us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2'));
    const old = await incidents.record(seed, sighting, { kind: 'alert' });
    const marked = await incidents.supersede(old, other);
    assert.equal(marked?.status, 'superseded');
    const next = await incidents.get(marked?.supersededBy?.id ?? '');
    assert.equal(next?.key, other.key);
    assert.equal(next?.status, 'open');
    assert.deepEqual(
      next?.affected.map((a) => a.workload?.name),
      ['checkout'],
      'with the old incident’s workloads',
    );
    assert.equal(next?.alertCount, 0, 'no alert was counted twice');
    assert.ok(shown.includes(next?.id ?? ''), 'the new incident is posted');
    // The old cause back: the superseded incident opens again.
    const back = await incidents.record(seed, { ...sighting, pod: 'checkout-b' }, { kind: 'alert' });
    assert.equal(back.status, 'open');
    assert.equal(back.supersededBy, undefined);
  });
});
