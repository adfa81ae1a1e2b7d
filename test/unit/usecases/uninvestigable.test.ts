import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UninvestigableSummary } from '../../../src/ports/notifier.port.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { cannotInvestigate, UninvestigableAlerts } from '../../../src/usecases/uninvestigable.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 60 * 60_000;

function setup(options: { lease?: boolean } = {}) {
  const shown: UninvestigableSummary[] = [];
  let now = Date.parse('2026-12-01T10:00:00Z');
  const locks: string[] = [];
  const u = new UninvestigableAlerts({
    notifier: { show: async (s) => void shown.push(s) },
    store: {
      acquireLock: async (name) => {
        locks.push(name);
        return options.lease ?? true;
      },
    },
    logger: silentLogger(),
    firstDelayMs: 10,
    updateIntervalMs: 60,
    now: () => new Date(now),
  });
  return {
    u,
    shown,
    locks,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const notFound = { code: 'not-found' as const, message: 'Not found: projects/p/locations/l/clusters/x.' };
const cluster = (name: string) => ({ project: 'p', location: 'l', name });

describe('alerts that cannot be investigated', () => {
  it('a burst is one message, its updates spaced, every alert counted', async () => {
    const { u, shown } = setup();
    for (let i = 0; i < 50; i++) u.record(cluster(`c${i % 5}`), notFound);
    await sleep(30);
    assert.equal(shown.length, 1);
    assert.equal(shown[0]?.total, 50);
    for (let i = 0; i < 50; i++) u.record(cluster('c0'), notFound);
    await sleep(20);
    assert.equal(shown.length, 1, 'no update before the interval');
    await sleep(80);
    assert.equal(shown.length, 2);
    const r = shown[1]?.reasons[0];
    assert.equal(shown[1]?.total, 100);
    assert.equal(r?.clusterCount, 5);
    assert.deepEqual(r?.clusters[0], { cluster: 'p/l/c0', alerts: 60 }, 'most alerts first');
    await u.close();
  });

  it('reasons are kept apart, with the permission the API named', async () => {
    const { u, shown } = setup();
    u.record(cluster('a'), notFound);
    u.record(cluster('b'), { code: 'permission-denied', message: 'denied', permission: 'container.clusters.get' });
    u.record(cluster('b'), { code: 'permission-denied', message: 'denied', permission: 'container.clusters.get' });
    await u.close();
    assert.deepEqual(
      shown.at(-1)?.reasons.map((r) => [r.code, r.alerts, r.permission]),
      [
        ['permission-denied', 2, 'container.clusters.get'],
        ['not-found', 1, undefined],
      ],
    );
  });

  it('a new hour starts a new message (its own lease); the replica without the lease shows nothing', async () => {
    const { u, shown, locks, advance } = setup();
    u.record(cluster('a'), notFound);
    await sleep(30);
    advance(HOUR);
    u.record(cluster('a'), notFound);
    await u.close();
    assert.deepEqual(
      shown.map((s) => [s.window, s.total]),
      [
        ['2026-12-01T10:00:00.000Z', 1],
        ['2026-12-01T11:00:00.000Z', 1],
      ],
    );
    assert.equal(new Set(locks).size, 2);
    const other = setup({ lease: false });
    other.u.record(cluster('a'), notFound);
    await other.u.close();
    assert.equal(other.shown.length, 0);
  });

  it('only errors no retry fixes count as "cannot investigate"; timeouts are retried instead', () => {
    assert.equal(cannotInvestigate(notFound), true);
    assert.equal(cannotInvestigate({ code: 'permission-denied', message: '' }), true);
    assert.equal(cannotInvestigate({ code: 'timeout', message: '' }), false);
    assert.equal(cannotInvestigate({ code: 'unavailable', message: '' }), false);
  });
});
