import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fenceposts, rolloutReplicas } from '../../../src/kube/rollout.ts';

describe('deployment rollout arithmetic', () => {
  it('resolves maxSurge up and maxUnavailable down, and never lets both be 0', () => {
    assert.deepEqual(fenceposts(undefined, 3), { surge: 1, unavailable: 0 });
    assert.deepEqual(fenceposts(undefined, 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(fenceposts({ rollingUpdate: { maxSurge: '50%', maxUnavailable: '50%' } }, 3), {
      surge: 2,
      unavailable: 1,
    });
    assert.deepEqual(fenceposts({ rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } }, 3), {
      surge: 0,
      unavailable: 1,
    });
  });

  it('with the new pods unable to pull, a 3-replica rollout stops at one surge pod and keeps every old pod', () => {
    assert.deepEqual(
      rolloutReplicas(3, undefined, { replicas: 0, available: 0 }, [{ replicas: 3, available: 0 }], false),
      {
        current: 1,
        old: [3],
      },
    );
    assert.deepEqual(
      rolloutReplicas(3, undefined, { replicas: 1, available: 0 }, [{ replicas: 3, available: 0 }], false),
      {
        current: 1,
        old: [3],
      },
    );
  });

  it('once a new pod is available, an unhealthy old pod goes and the next new one is created', () => {
    assert.deepEqual(
      rolloutReplicas(3, undefined, { replicas: 1, available: 1 }, [{ replicas: 3, available: 0 }], false),
      {
        current: 2,
        old: [2],
      },
    );
    assert.deepEqual(
      rolloutReplicas(3, undefined, { replicas: 3, available: 3 }, [{ replicas: 1, available: 0 }], false),
      {
        current: 3,
        old: [0],
      },
    );
  });

  it('a healthy rollout keeps availability: old pods go one by one as new ones become available', () => {
    const step = (cur: number, avail: number, old: number) =>
      rolloutReplicas(2, undefined, { replicas: cur, available: avail }, [{ replicas: old, available: old }], false);
    assert.deepEqual(step(0, 0, 2), { current: 1, old: [2] });
    assert.deepEqual(step(1, 1, 2), { current: 2, old: [1] });
    assert.deepEqual(step(2, 2, 1), { current: 2, old: [0] });
  });

  it('unhealthy old replicas of the oldest ReplicaSets go first, across several old ReplicaSets', () => {
    const out = rolloutReplicas(
      3,
      undefined,
      { replicas: 0, available: 0 },
      [
        { replicas: 3, available: 0 },
        { replicas: 1, available: 0 },
      ],
      false,
    );
    assert.deepEqual(
      out,
      { current: 1, old: [2, 1] },
      'an unhealthy pod of the oldest goes, making room for one new pod',
    );
  });

  it('Recreate scales every old ReplicaSet to 0 first, and the new one up only once their pods are gone', () => {
    const recreate = { type: 'Recreate' };
    assert.deepEqual(
      rolloutReplicas(3, recreate, { replicas: 0, available: 0 }, [{ replicas: 3, available: 3 }], false),
      {
        current: 0,
        old: [0],
      },
    );
    assert.deepEqual(
      rolloutReplicas(3, recreate, { replicas: 0, available: 0 }, [{ replicas: 0, available: 0 }], true),
      {
        current: 3,
        old: [0],
      },
    );
  });

  it('scaling down a Deployment without a rollout shrinks the current ReplicaSet', () => {
    assert.deepEqual(rolloutReplicas(2, undefined, { replicas: 3, available: 3 }, [], true), { current: 2, old: [] });
  });
});
