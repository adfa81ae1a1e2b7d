import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import type { Alert } from '../../../src/alerts/alert.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { AlertIntake } from '../../../src/usecases/alert-intake.ts';
import type { ClusterAccess } from '../../../src/usecases/cluster-access.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import type { Investigation, Investigator } from '../../../src/usecases/investigate.ts';
import { seedInput } from '../diagnosis/fixtures.ts';

const d = diagnose(seedInput());

/** One replica: its own intake and incident service over a store it may share with others. */
function replica(store: MemoryStore) {
  const reads: string[] = [];
  const investigator = {
    investigate: async (target: { pod: string }): Promise<Investigation> => {
      reads.push(target.pod);
      return { target, diagnoses: [d] } as unknown as Investigation;
    },
  } as unknown as Investigator;
  const incidents = new IncidentService({
    store,
    notifier: { changed: async () => undefined, note: async () => undefined },
    access: {} as ClusterAccess,
    logger: silentLogger(),
    metrics: new Metrics({ defaults: false }),
    planTtlMs: 86_400_000,
  });
  // No sharing of investigations between deliveries: each read below is one the intake chose to make.
  const intake = new AlertIntake({
    investigator,
    incidents,
    logger: silentLogger(),
    metrics: new Metrics({ defaults: false }),
    coalesceMs: 0,
  });
  return { intake, reads };
}

const alert = (insertId: string, pod = 'checkout-7d9f8b6c5d-x2x9k'): Alert => ({
  kind: 'log-entry',
  state: 'open',
  project: 'acme-prod-417',
  location: 'us-central1',
  cluster: 'prod',
  namespace: 'prod',
  pod,
  dedupeKey: `log:${insertId}`,
});

describe('alert intake: redeliveries', () => {
  it('a redelivery to the same replica is dropped before any read; to another, it is read but counts nothing', async () => {
    const store = new MemoryStore();
    const a = replica(store);
    const b = replica(store);
    assert.equal((await a.intake.handle(alert('1'))).reason, 'recorded 1 diagnosis(es)');
    assert.equal((await a.intake.handle(alert('1'), 2)).reason, 'duplicate delivery');
    assert.equal(a.reads.length, 1, 'the same replica remembers what it handled');
    assert.equal((await b.intake.handle(alert('1'), 3)).reason, 'duplicate delivery');
    assert.equal(b.reads.length, 1, 'another replica reads the cluster, then finds the delivery recorded');
    assert.equal((await b.intake.handle(alert('2', 'checkout-7d9f8b6c5d-q8w2e'))).reason, 'recorded 1 diagnosis(es)');
    const [incident, ...more] = await store.listIncidents();
    assert.equal(more.length, 0, 'one root cause, one incident');
    assert.equal(incident?.alertCount, 2, 'two alerts, each counted once');
  });

  it('copies arriving together are counted once', async () => {
    const store = new MemoryStore();
    const a = replica(store);
    const outcomes = await Promise.all([1, 2, 3].map((n) => a.intake.handle(alert('9'), n)));
    assert.deepEqual(
      outcomes.map((o) => o.ack),
      [true, true, true],
      'all acknowledged: none sent round again',
    );
    assert.equal(outcomes.filter((o) => o.reason === 'duplicate delivery').length, 2);
    assert.equal((await store.listIncidents())[0]?.alertCount, 1);
  });
});
