import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadAheadBudget } from '../../../src/usecases/read-ahead-budget.ts';

describe('ReadAheadBudget', () => {
  it('admits a real storm’s few subjects once, then every alert about them for free', () => {
    const budget = new ReadAheadBudget({ namespaces: 1, nodes: 2, now: () => 0 });
    for (let i = 0; i < 500; i++) {
      assert.equal(budget.allow('prod', 'namespace', 'shop'), true);
      assert.equal(budget.allow('prod', 'node', `n-${i % 2}`), true);
    }
    assert.equal(budget.refused, 0);
  });

  it('refuses new subjects past the budget, per cluster, and counts the refusals', () => {
    const budget = new ReadAheadBudget({ namespaces: 2, nodes: 1, now: () => 0 });
    assert.equal(budget.allow('prod', 'namespace', 'a'), true);
    assert.equal(budget.allow('prod', 'namespace', 'b'), true);
    assert.equal(budget.allow('prod', 'namespace', 'c'), false);
    assert.equal(budget.allow('prod', 'namespace', 'a'), true, 'an admitted subject stays admitted');
    assert.equal(budget.allow('prod', 'node', 'c'), true, 'nodes have their own budget');
    assert.equal(budget.allow('prod', 'node', 'd'), false);
    assert.equal(budget.allow('staging', 'namespace', 'c'), true, 'another cluster has its own budget');
    assert.equal(budget.refused, 2);
  });

  it('never refuses a namespace or node seen real, whatever the flood, in any window', () => {
    let now = 0;
    const budget = new ReadAheadBudget({ namespaces: 1, nodes: 1, now: () => now });
    budget.known('prod', 'namespace', 'shop');
    budget.known('prod', 'node', 'gke-prod-pool-1-abcd');
    assert.equal(budget.allow('prod', 'namespace', 'made-up-1'), true);
    assert.equal(budget.allow('prod', 'namespace', 'made-up-2'), false, 'the budget is used up');
    assert.equal(budget.allow('prod', 'namespace', 'shop'), true);
    assert.equal(budget.allow('prod', 'node', 'gke-prod-pool-1-abcd'), true);
    now = 120_000;
    assert.equal(budget.allow('prod', 'namespace', 'shop'), true, 'still known in a later window');
    assert.equal(budget.allow('staging', 'namespace', 'x'), true);
    assert.equal(budget.allow('staging', 'namespace', 'shop'), false, 'known in prod, not in staging');
  });

  it('starts afresh each window', () => {
    let now = 0;
    const budget = new ReadAheadBudget({ namespaces: 1, windowMs: 60_000, now: () => now });
    assert.equal(budget.allow('prod', 'namespace', 'a'), true);
    assert.equal(budget.allow('prod', 'namespace', 'b'), false);
    now = 60_000;
    assert.equal(budget.allow('prod', 'namespace', 'b'), true);
    assert.equal(budget.allow('prod', 'namespace', 'a'), false);
  });
});
