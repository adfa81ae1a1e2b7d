import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validateBlocks } from '@imagepull/sandbox';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { IncidentRecord } from '../../../src/incidents/model.ts';
import { investigationBlocks } from '../../../src/slack/blocks/command.blocks.ts';
import { homeView, statusBlocks } from '../../../src/slack/blocks/home.blocks.ts';
import { incidentMessage } from '../../../src/slack/blocks/incident.blocks.ts';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { SEED, seedInput } from '../diagnosis/fixtures.ts';

const now = new Date('2026-11-24T02:45:00.000Z');
const seed = diagnose(seedInput());
const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };
const incident: IncidentRecord = {
  id: 'c35e8467569158f6',
  key: seed.key,
  status: 'open',
  createdAt: '2026-11-24T02:41:41.000Z',
  updatedAt: '2026-11-24T02:41:41.000Z',
  diagnosis: seed,
  affected: [
    {
      cluster,
      namespace: 'prod',
      workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' },
      pods: ['checkout-7d9c8b6f4-q2xnv', 'checkout-7d9c8b6f4-8fj2k', 'checkout-7d9c8b6f4-zz91m'],
      podCount: 3,
      firstSeen: '2026-11-24T02:41:41.000Z',
      lastSeen: '2026-11-24T02:44:10.000Z',
    },
  ],
  alertCount: 12,
  alertIncidentIds: [],
  origin: 'alert',
  plan: {
    id: 'a1b2c3d4e5',
    grant: {
      kind: 'grant-repo-reader',
      repository: SEED.repo,
      member: `serviceAccount:${SEED.sa}`,
      role: 'roles/artifactregistry.reader',
    },
    restarts: [
      { kind: 'restart-workload', cluster, workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' } },
    ],
    createdAt: '2026-11-24T02:41:41.000Z',
    expiresAt: '2026-11-25T02:41:41.000Z',
  },
  version: 4,
};

const GOLDEN = new URL('../../fixtures/blocks/seed-incident.json', import.meta.url);

describe('incident message renderer', () => {
  it('matches the golden Block Kit JSON for the seed incident (UPDATE_GOLDEN=1 to rewrite)', () => {
    const message = incidentMessage(incident, { fixMode: 'approve', now });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(message, null, 2)}\n`);
    assert.ok(existsSync(GOLDEN), 'golden file missing: run with UPDATE_GOLDEN=1 once and review it');
    assert.deepEqual(message, JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });

  it('is valid Block Kit by Slack’s rules, with a confirm dialog on every button that changes something', () => {
    const { blocks } = incidentMessage(incident, { fixMode: 'approve', now });
    assert.deepEqual(validateBlocks(blocks, 'message').messages ?? [], []);
    const actions = blocks.filter((b) => (b as { type: string }).type === 'actions') as {
      elements: { action_id: string; confirm?: unknown }[];
    }[];
    const grant = actions[0]?.elements.find((e) => e.action_id === ACTIONS.grantRestart);
    assert.ok(grant?.confirm, 'Grant & restart asks for confirmation');
  });

  it('stays within Slack limits for a huge incident (long names, 40 workloads, long messages)', () => {
    const long = 'x'.repeat(5000);
    const big: IncidentRecord = {
      ...incident,
      diagnosis: {
        ...seed,
        headline: long,
        message: long,
        findings: seed.findings.map((f) => ({
          ...f,
          summary: long,
          evidence: Array.from({ length: 30 }, (_, i) => ({ label: `e${i}`, value: long })),
        })),
      },
      affected: Array.from({ length: 40 }, (_, i) => ({
        ...incident.affected[0]!,
        workload: { kind: 'Deployment' as const, namespace: 'prod', name: `svc-${i}-${'y'.repeat(200)}` },
      })),
      plan: {
        ...incident.plan!,
        restarts: Array.from({ length: 40 }, (_, i) => ({
          kind: 'restart-workload' as const,
          cluster,
          workload: { kind: 'Deployment' as const, namespace: 'prod', name: `svc-${i}-${'y'.repeat(200)}` },
        })),
      },
    };
    const { blocks, text } = incidentMessage(big, { fixMode: 'approve', now });
    assert.deepEqual(validateBlocks(blocks, 'message').messages ?? [], []);
    assert.ok(text.length <= 4000);
  });

  it('shows no fix buttons with FIX_MODE=off, and labels them in dry-run', () => {
    const off = JSON.stringify(incidentMessage(incident, { fixMode: 'off', now }).blocks);
    assert.doesNotMatch(off, new RegExp(ACTIONS.grantRestart));
    const dry = JSON.stringify(incidentMessage(incident, { fixMode: 'dry-run', now }).blocks);
    assert.match(dry, /Grant & restart \(dry run\)/);
  });

  it('renders the /imagepull answer and App Home within limits', () => {
    const blocks = investigationBlocks({ target: { cluster }, diagnoses: [seed, seed] });
    assert.deepEqual(validateBlocks(blocks, 'message').messages ?? [], []);
    const model = {
      incidents: [incident],
      health: [{ name: 'Read cluster', ok: false, detail: 'denied', permission: 'container.clusters.get' }],
      fixMode: 'approve' as const,
      permalinks: new Map(),
    };
    assert.deepEqual(validateBlocks(homeView(model).blocks, 'home').messages ?? [], []);
    assert.match(JSON.stringify(statusBlocks(model)), /needs `container\.clusters\.get`/);
  });
});
