import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { path } from '../../../src/adapters/kube/cluster.adapter.ts';

describe('Kubernetes API paths', () => {
  it('percent-encode every name, so a name stays one segment', () => {
    const ns = 'prod/pods/other#';
    assert.equal(path`/api/v1/namespaces/${ns}/pods/${'p'}`, '/api/v1/namespaces/prod%2Fpods%2Fother%23/pods/p');
    assert.equal(new URL(path`/api/v1/namespaces/${ns}/pods/${'p'}`, 'https://k').pathname.split('/').length, 7);
  });

  it('refuse `.` and `..`, which percent-encoding keeps and URL parsing resolves', () => {
    assert.throws(() => path`/api/v1/namespaces/${'..'}/pods/${'p'}`, /invalid name/);
    assert.throws(() => path`/api/v1/nodes/${''}`, /invalid name/);
  });
});
