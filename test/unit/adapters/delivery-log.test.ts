import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeliveryLog,
  decodeSegment,
  deliveryHash,
  encodeSegment,
  segmentExpiry,
} from '../../../src/adapters/store/delivery-log.ts';

/** The Firestore store's delivery log (adapters/store/delivery-log.ts): which deliveries an incident remembers. */
describe('DeliveryLog', () => {
  const now = Date.parse('2026-12-03T10:00:00Z');
  const hashes = (n: number, from = 0) => Array.from({ length: n }, (_, i) => deliveryHash(`log:${from + i}`));

  it('fills a segment to capacity, then starts the next, and writes only the segments that changed', () => {
    const first = new DeliveryLog('c').with(hashes(5), now + 60_000, now, 3);
    assert.deepEqual(
      first.log.segments.map((s) => s.size),
      [3, 2],
    );
    assert.deepEqual(first.written, [0, 1]);
    const second = first.log.with(hashes(4, 5), now + 60_000, now, 3);
    assert.deepEqual(
      second.log.segments.map((s) => s.size),
      [3, 3, 3],
    );
    assert.deepEqual(second.written, [1, 2], 'the full first segment is not written again');
    assert.equal(second.log.segments[0], first.log.segments[0], 'and is the same segment, shared');
    assert.ok(hashes(9).every((h) => second.log.remembers(h, now)));
    assert.equal(second.log.remembers(deliveryHash('log:9'), now), false);
  });

  it('forgets a delivery once its time is past, and drops it when its segment is rewritten', () => {
    const { log } = new DeliveryLog('c').with(hashes(2), now + 1000, now, 3);
    assert.equal(log.remembers(deliveryHash('log:0'), now + 999), true);
    assert.equal(log.remembers(deliveryHash('log:0'), now + 1000), false);
    const later = log.with(hashes(1, 7), now + 60_000, now + 5000, 3);
    assert.deepEqual(
      later.log.segments.map((s) => s.size),
      [1],
      'the two expired entries made room',
    );
  });

  it('leaves behind the oldest full segments once every entry in them expired, and only those', () => {
    const day = 86_400_000;
    const old = new DeliveryLog('c').with(hashes(6), now + day, now, 3).log;
    const mixed = old.with(hashes(3, 6), now + 2 * day, now + 1000, 3).log;
    assert.deepEqual([mixed.first, mixed.end], [0, 3]);
    const next = mixed.with(hashes(1, 9), now + 3 * day, now + day + 1, 3);
    assert.deepEqual([next.log.first, next.log.end], [2, 4], 'the two segments of the first day are left behind');
    assert.deepEqual(next.written, [3], 'indexes count from the first segment ever');
    assert.ok(next.log.remembers(deliveryHash('log:7'), now + day + 1), 'the second day is still remembered');
    assert.equal(next.log.remembers(deliveryHash('log:0'), now + day + 1), false);
    assert.equal(next.log.segment(3).size, 1);
    assert.equal(next.log.segment(0).size, 0, 'a segment left behind reads as empty');
  });

  it('round-trips a segment through its document bytes, to the millisecond, and reads garbage as empty', () => {
    const { log } = new DeliveryLog('c').with(hashes(50), now + 86_400_123, now);
    const segment = log.segments[0];
    assert.ok(segment);
    const bytes = encodeSegment(segment);
    assert.equal(bytes.length, 50 * 16);
    assert.deepEqual(decodeSegment(new Uint8Array(bytes)), segment);
    assert.equal(segmentExpiry(segment), now + 86_400_123);
    assert.equal(decodeSegment(undefined).size, 0);
    assert.equal(decodeSegment('not bytes').size, 0);
    assert.equal(decodeSegment(new Uint8Array(20)).size, 1, 'a torn entry at the end is left out');
  });
});
