import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadAheadBudget } from '../../../src/usecases/read-ahead-budget.ts';

describe('ReadAheadBudget', () => {
  it('admits a real storm’s few subjects once, then every alert about them for free', () => {
    const budget = new ReadAheadBudget({ perWindow: 3, now: () => 0 });
    for (let i = 0; i < 500; i++) {
      assert.equal(budget.allow('prod', 'namespace|shop'), true);
      assert.equal(budget.allow('prod', `node|n-${i % 2}`), true);
    }
    assert.equal(budget.refused, 0);
  });

  it('refuses new subjects past the budget, per cluster, and counts the refusals', () => {
    const budget = new ReadAheadBudget({ perWindow: 2, now: () => 0 });
    assert.equal(budget.allow('prod', 'namespace|a'), true);
    assert.equal(budget.allow('prod', 'namespace|b'), true);
    assert.equal(budget.allow('prod', 'namespace|c'), false);
    assert.equal(budget.allow('prod', 'namespace|a'), true, 'an admitted subject stays admitted');
    assert.equal(budget.allow('staging', 'namespace|c'), true, 'another cluster has its own budget');
    assert.equal(budget.refused, 1);
  });

  it('starts afresh each window', () => {
    let now = 0;
    const budget = new ReadAheadBudget({ perWindow: 1, windowMs: 60_000, now: () => now });
    assert.equal(budget.allow('prod', 'namespace|a'), true);
    assert.equal(budget.allow('prod', 'namespace|b'), false);
    now = 60_000;
    assert.equal(budget.allow('prod', 'namespace|b'), true);
    assert.equal(budget.allow('prod', 'namespace|a'), false);
  });
});
