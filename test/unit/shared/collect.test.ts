import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCollector } from '../../../src/shared/collect.ts';

const MB = 1024 * 1024;

/** A collector on a hand-driven clock: `advance` runs what came due. */
function collector(gc: (() => void) | undefined) {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const refused = createCollector(gc, {
    now: () => now,
    schedule: (fn, ms) => timers.push({ at: now + ms, fn }),
  });
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = until;
  };
  return { refused, advance, now: () => now };
}

describe('createCollector', () => {
  it('collects once 8 MB of refused bodies add up, soon after', () => {
    const at: number[] = [];
    const c = collector(() => at.push(c.now()));
    c.refused(5 * MB);
    c.advance(1000);
    assert.equal(at.length, 0, 'one 5 MB body: not yet');
    c.refused(5 * MB);
    c.advance(50);
    assert.equal(at.length, 1, 'the second one makes 10 MB: collected');
    assert.ok((at[0] as number) - 1000 <= 20, `within ~10 ms of the ask: at ${at[0]}`);
  });

  it('collects at most once per 100 ms however fast the bodies come, and counts afresh after each', () => {
    const at: number[] = [];
    const c = collector(() => at.push(c.now()));
    // A wave: a 9 MB body every 5 ms for 1 s (1.8 GB, more than Pub/Sub could hand over).
    for (let t = 0; t < 1000; t += 5) {
      c.refused(9 * MB);
      c.advance(5);
    }
    c.advance(200);
    assert.ok(at.length >= 9 && at.length <= 11, `${at.length} collections in 1.2 s`);
    for (let i = 1; i < at.length; i++)
      assert.ok((at[i] as number) - (at[i - 1] as number) >= 100, `collections at ${at[i - 1]} and ${at[i]} ms`);
  });

  it('does nothing in a process that exposes no collector (started without --expose-gc)', () => {
    const c = collector(undefined);
    assert.doesNotThrow(() => {
      for (let i = 0; i < 10; i++) c.refused(9 * MB);
      c.advance(1000);
    });
  });
});
