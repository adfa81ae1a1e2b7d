import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Json, strategicMerge } from '../../../src/kube/patch.ts';

const deployment = (): Json => ({
  metadata: { name: 'checkout', annotations: { keep: 'me', drop: 'me' } },
  spec: {
    replicas: 3,
    template: {
      metadata: { labels: { app: 'checkout' } },
      spec: {
        containers: [
          { name: 'checkout', image: 'img:1', env: [{ name: 'A', value: '1' }] },
          { name: 'sidecar', image: 'side:1' },
        ],
      },
    },
  },
});

describe('strategic merge patch', () => {
  it("applies kubectl rollout restart's body without touching anything else", () => {
    const out = strategicMerge(deployment(), {
      spec: {
        template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } } },
      },
    }) as {
      spec: {
        replicas: number;
        template: { metadata: { labels: object; annotations: object }; spec: { containers: unknown[] } };
      };
    };
    assert.deepEqual(out.spec.template.metadata.annotations, {
      'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z',
    });
    assert.deepEqual(out.spec.template.metadata.labels, { app: 'checkout' });
    assert.equal(out.spec.replicas, 3);
    assert.equal(out.spec.template.spec.containers.length, 2);
  });

  it('deletes map keys set to null', () => {
    const out = strategicMerge(deployment(), { metadata: { annotations: { drop: null, added: 'x' } } }) as {
      metadata: { annotations: object };
    };
    assert.deepEqual(out.metadata.annotations, { keep: 'me', added: 'x' });
  });

  it('merges containers by name and deletes with $patch: delete', () => {
    const out = strategicMerge(deployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'checkout', image: 'img:2' },
              { name: 'sidecar', $patch: 'delete' },
            ],
          },
        },
      },
    }) as { spec: { template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } } };
    assert.deepEqual(
      out.spec.template.spec.containers.map((c) => [c.name, c.image, c.env?.length]),
      [['checkout', 'img:2', 1]],
    );
  });

  it('replaces a map with $patch: replace', () => {
    const out = strategicMerge(deployment(), { metadata: { annotations: { $patch: 'replace', only: 'this' } } }) as {
      metadata: { annotations: object };
    };
    assert.deepEqual(out.metadata.annotations, { only: 'this' });
  });
});
