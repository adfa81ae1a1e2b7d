import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldSelector, labelSelector } from '../../../src/kube/selectors.ts';

describe('label selectors', () => {
  const labels = { app: 'checkout', 'pod-template-hash': '7d9c8b6f4', tier: 'web' };
  const cases: [string, boolean][] = [
    ['app=checkout', true],
    ['app==checkout,tier=web', true],
    ['app!=checkout', false],
    ['app in (cart,checkout)', true],
    ['app notin (cart,checkout)', false],
    ['tier,pod-template-hash=7d9c8b6f4', true],
    ['!tier', false],
    ['missing', false],
  ];
  for (const [selector, expected] of cases) {
    it(`${selector} → ${expected}`, () => assert.equal(labelSelector(selector)(labels), expected));
  }
  it('rejects malformed selectors with a 400', () => {
    assert.throws(
      () => labelSelector('app=(x'),
      (e: { code?: number }) => e.code === 400,
    );
  });
});

describe('field selectors', () => {
  const event = { involvedObject: { name: 'checkout-7d9c8b6f4-q2xnv', kind: 'Pod' }, reason: 'Failed' };
  it('matches the events of one pod', () => {
    assert.equal(fieldSelector('involvedObject.name=checkout-7d9c8b6f4-q2xnv,involvedObject.kind=Pod')(event), true);
    assert.equal(fieldSelector('involvedObject.name=other,involvedObject.kind=Pod')(event), false);
    assert.equal(fieldSelector('reason!=Failed')(event), false);
  });
});
