import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectSoon } from '../../../src/shared/collect.ts';

describe('collectSoon', () => {
  it('collects soon after a refused large message, at most once per 100 ms however many ask', async () => {
    const at: number[] = [];
    const gc = () => at.push(Date.now());
    const start = Date.now();
    // A wave: 60 refusals over ~300 ms.
    for (let i = 0; i < 60; i++) {
      collectSoon(gc);
      await sleep(5);
    }
    await sleep(250);
    assert.ok(at.length >= 2, `collected during the wave: ${at.length} times`);
    assert.ok(
      at.length <= Math.ceil((Date.now() - start) / 100) + 1,
      `${at.length} collections in ${Date.now() - start} ms`,
    );
    for (let i = 1; i < at.length; i++)
      assert.ok((at[i] as number) - (at[i - 1] as number) >= 95, `collections ${at[i - 1]} and ${at[i]} too close`);
    assert.ok((at[0] as number) - start < 100, 'the first one within the interval of the first ask');
  });

  it('does nothing when the process exposes no collector (started without --expose-gc)', () => {
    assert.doesNotThrow(() => collectSoon(undefined));
  });
});
