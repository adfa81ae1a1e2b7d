import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAlert } from '../../../src/alerts/parse-alert.ts';

/** A sink LogEntry for a pod, with the names given. */
function entry(labels: Record<string, string>, involved: { namespace: string; name: string }): string {
  return JSON.stringify({
    insertId: 'x1',
    logName: 'projects/acme-prod-417/logs/events',
    resource: {
      type: 'k8s_pod',
      labels: { project_id: 'acme-prod-417', location: 'us-central1', cluster_name: 'prod', ...labels },
    },
    jsonPayload: {
      kind: 'Event',
      reason: 'Failed',
      type: 'Warning',
      message: 'Failed to pull image "us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2": 403 Forbidden',
      involvedObject: { kind: 'Pod', fieldPath: 'spec.containers{checkout}', ...involved },
    },
  });
}

describe('names an alert carries are checked at the edge', () => {
  it('accepts the names of a real cluster', () => {
    const a = parseAlert(entry({}, { namespace: 'prod', name: 'checkout-7d9c8b6f4-q2xnv' }));
    assert.equal(a.kind, 'log-entry');
    assert.equal(a.pod, 'checkout-7d9c8b6f4-q2xnv');
  });

  it('accepts a domain-scoped project id and a zonal location', () => {
    const a = parseAlert(
      entry({ project_id: 'example.com:acme-prod', location: 'europe-west1-b' }, { namespace: 'prod', name: 'p-1' }),
    );
    assert.equal(a.kind, 'log-entry');
  });

  const hostile: [string, Record<string, string>, { namespace: string; name: string }, RegExp][] = [
    [
      'a namespace that climbs out of its path segment',
      {},
      { namespace: '../../../api/v1/namespaces/prod/pods/checkout-7d9c8b6f4-q2xnv#', name: 'x' },
      /namespace .* is not a Kubernetes namespace/,
    ],
    [
      'a pod name that pings the channel',
      {},
      { namespace: 'prod', name: '<!channel>' },
      /pod .* is not a Kubernetes pod name/,
    ],
    ['a cluster name with a mention', { cluster_name: 'prod <@U0ALICE>' }, { namespace: 'prod', name: 'p' }, /cluster/],
    ['a project with a slash', { project_id: 'acme/../other' }, { namespace: 'prod', name: 'p' }, /project/],
    ['an upper-case namespace', {}, { namespace: 'Prod', name: 'p' }, /namespace/],
    ['a location that is a URL', { location: 'https://evil.example/' }, { namespace: 'prod', name: 'p' }, /location/],
  ];
  for (const [what, labels, involved, reason] of hostile) {
    it(`ignores ${what}, with the reason`, () => {
      const a = parseAlert(entry(labels, involved));
      assert.equal(a.kind, 'ignored');
      assert.match(a.reason ?? '', /^alert refused: /);
      assert.match(a.reason ?? '', reason);
    });
  }
});
