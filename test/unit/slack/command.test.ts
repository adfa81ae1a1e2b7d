import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from '../../../src/slack/command.ts';

describe('/imagepull parsing', () => {
  const cases: [string, object][] = [
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['status', { kind: 'status' }],
    ['audit', { kind: 'audit' }],
    [
      'audit --cluster acme-prod-417/us-central1/prod',
      { kind: 'audit', cluster: { project: 'acme-prod-417', location: 'us-central1', name: 'prod' } },
    ],
    ['audit --project=acme-prod-417', { kind: 'audit', project: 'acme-prod-417' }],
    [
      'diagnose prod/checkout-7d9c8b6f4-q2xnv',
      { kind: 'diagnose', share: false, namespace: 'prod', pod: 'checkout-7d9c8b6f4-q2xnv' },
    ],
    [
      'diagnose prod/deployment/checkout --share',
      {
        kind: 'diagnose',
        share: true,
        namespace: 'prod',
        workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' },
      },
    ],
    [
      'diagnose prod/sts/db',
      {
        kind: 'diagnose',
        share: false,
        namespace: 'prod',
        workload: { kind: 'StatefulSet', namespace: 'prod', name: 'db' },
      },
    ],
    [
      'diagnose us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2 --cluster acme-prod-417/us-central1/prod',
      {
        kind: 'diagnose',
        share: false,
        cluster: { project: 'acme-prod-417', location: 'us-central1', name: 'prod' },
        image: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      },
    ],
    ['diagnose nginx:1.25', { kind: 'diagnose', share: false, image: 'nginx:1.25' }],
  ];
  for (const [text, want] of cases) {
    it(`"${text}"`, () => assert.deepEqual(parseCommand(text), want));
  }

  it('gives a clear error for each kind of bad input', () => {
    const errors = [
      'frobnicate',
      'diagnose',
      'diagnose a/b c/d',
      'diagnose prod/cronjob/x',
      'diagnose prod/pod --cluster x/y',
      'diagnose Prod/Pod',
      'diagnose --force prod/x',
      'status now',
      'audit prod',
      'audit --cluster prod',
      'audit --project Not_A_Project',
      'audit --cluster a/b/c --project p',
    ];
    for (const text of errors) {
      const r = parseCommand(text);
      assert.equal(r.kind, 'error', text);
      assert.ok(r.kind === 'error' && r.error.length > 10, `error for "${text}" explains itself`);
    }
  });
});
