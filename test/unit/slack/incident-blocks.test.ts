import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validateBlocks } from '@imagepull/sandbox';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { IncidentRecord } from '../../../src/incidents/model.ts';
import { withPlan } from '../../../src/incidents/plan.ts';
import { detailsMessage } from '../../../src/slack/blocks/details.blocks.ts';
import { incidentMessage } from '../../../src/slack/blocks/incident.blocks.ts';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { gallery, type PreviewScene } from '../../../src/slack/preview/gallery.ts';
import { TOP_LEVEL_BUDGET, visibleText } from '../../../src/slack/preview/visible-text.ts';
import { SEED, seedInput } from '../diagnosis/fixtures.ts';

const now = new Date('2026-11-24T02:45:00.000Z');
const seed = diagnose(seedInput());
const scenes = gallery({ diagnosis: seed, now });
const byId = (id: string) => {
  const s = scenes.find((x) => x.id === id);
  assert.ok(s, `scene ${id}`);
  return s;
};
const GOLDEN = new URL('../../fixtures/blocks/', import.meta.url);

/** Every button of a message, with its label and confirm dialog. */
function buttons(blocks: readonly unknown[]) {
  return (blocks as { type: string; elements?: { action_id: string; text: { text: string }; confirm?: unknown }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}
const text = (m: { blocks: readonly unknown[] } | undefined) => (m ? visibleText(m.blocks) : '');

describe('golden Block Kit for every state (UPDATE_GOLDEN=1 rewrites them: review the diff before committing)', () => {
  const expected = [
    'open-approve',
    'open-dry-run',
    'open-off',
    'refused',
    'dry-run',
    'fixing',
    'fixed',
    'failed',
    'undone',
    'resolved',
    'dismissed',
    'superseded',
    'slash-command',
    'app-home',
    'cannot-investigate',
  ];
  it('the gallery has every state of the seed incident', () => {
    assert.deepEqual(
      scenes.map((s) => s.id),
      expected,
    );
  });
  for (const id of expected) {
    it(id, () => {
      const scene = byId(id);
      const file = new URL(`${id}.json`, GOLDEN);
      const actual = { top: scene.top, thread: scene.thread, ephemeral: scene.ephemeral, home: scene.home };
      const json = JSON.parse(JSON.stringify(actual)) as unknown;
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
      }
      assert.ok(existsSync(file), `golden file ${id}.json missing: run once with UPDATE_GOLDEN=1 and review it`);
      assert.deepEqual(json, JSON.parse(readFileSync(file, 'utf8')), `${id} differs from its golden file`);
    });
  }
});

describe('every message is valid Block Kit by Slack’s rules', () => {
  for (const scene of scenes) {
    it(scene.id, () => {
      const all: [string, PreviewScene['top'], 'message' | 'home'][] = [
        ['top', scene.top, 'message'],
        ...scene.thread.map((m, i) => [`thread ${i}`, m, 'message'] as [string, PreviewScene['top'], 'message']),
        ...scene.ephemeral.map((m, i) => [`ephemeral ${i}`, m, 'message'] as [string, PreviewScene['top'], 'message']),
        ['home', scene.home, 'home'],
      ];
      for (const [what, m, surface] of all) {
        if (!m) continue;
        if (m.blocks.length > 0) assert.deepEqual(validateBlocks(m.blocks, surface).messages, [], `${what}`);
        assert.ok(m.text.length > 0, `${what} has notification text`);
      }
    });
  }
});

describe('the first screen: verdict, where and how bad, the change, the buttons', () => {
  it(`keeps every state's top-level message under ${TOP_LEVEL_BUDGET} visible characters`, () => {
    for (const s of scenes.filter((x) => x.top)) {
      const n = text(s.top).length;
      assert.ok(n <= TOP_LEVEL_BUDGET, `${s.id}: ${n} characters`);
    }
  });

  it('opens with the verdict and one line of where and how bad (read from the cluster), then the change and its diff', () => {
    const t = text(byId('open-approve').top);
    const lines = t.split('\n');
    assert.match(lines[0] ?? '', /^🚨 Node service account lacks read access to repository services$/);
    assert.match(
      lines[1] ?? '',
      /^deployment\/checkout in prod · cluster prod \(us-central1\) · project acme-prod-417 — 3 of 3 pods failing in 1 workload · since /,
    );
    assert.match(t, /The change — this repository only, then restart deployment\/checkout:/);
    assert.match(
      t,
      new RegExp(`\\n  roles/artifactregistry\\.reader\\n\\+   serviceAccount:${SEED.sa.replaceAll('.', '\\.')}`),
    );
    assert.match(t, /Grant & restart Restart only Re-check Dismiss/);
    // The rest is one tap away, not on the first screen.
    for (const detail of [/Evidence/, /Next steps/, /gcloud /, /Kubelet:/, /google_artifact_registry/])
      assert.doesNotMatch(t, detail);
  });

  it('puts the evidence checklist, next steps, commands, the kubelet message and Terraform in the details reply', () => {
    const details = text(byId('open-approve').thread[0]);
    assert.match(details, /Evidence\n• Node identity: pool default-pool runs as/);
    assert.match(details, /Next steps\n1\. Grant roles\/artifactregistry\.reader/);
    assert.match(details, /gcloud artifacts repositories add-iam-policy-binding services/);
    assert.match(details, /Kubelet: Failed to pull image/);
    assert.match(
      details,
      /resource "google_artifact_registry_repository_iam_member" "services_reader_123456789012_compute" \{/,
    );
    assert.match(details, /member {5}= "serviceAccount:123456789012-compute@developer\.gserviceaccount\.com"/);
    assert.match(details, /Not _iam_binding: it is authoritative for roles\/artifactregistry\.reader/);
    assert.match(details, /Not _iam_policy: it replaces the whole policy/);
  });

  it('asks for confirmation on every button that changes something, saying what', () => {
    for (const s of scenes.filter((x) => x.top)) {
      for (const b of buttons(s.top?.blocks ?? [])) {
        if (b.action_id === ACTIONS.recheck) continue;
        assert.ok(b.confirm, `${s.id}: ${b.text.text} asks first`);
      }
    }
  });

  it('says what each state means in its header and offers only what can be done', () => {
    const header = (id: string) => text(byId(id).top).split('\n')[0] ?? '';
    const labels = (id: string) => buttons(byId(id).top?.blocks ?? []).map((b) => b.text.text);
    assert.match(header('fixing'), /^⏳ Fixing: /);
    assert.deepEqual(labels('fixing'), []);
    assert.match(text(byId('fixing').top), /⏳ Wait for IAM to propagate — waiting for IAM to propagate \(1m 35s/);
    assert.match(header('fixed'), /^✅ Fixed: /);
    assert.deepEqual(labels('fixed'), ['Undo', 'Re-check']);
    assert.match(text(byId('fixed').top), /0 of 3 pods failing in 1 workload/);
    assert.match(header('failed'), /^❌ Fix failed: /);
    assert.match(text(byId('failed').top), /What happened: Granted, but IAM did not confirm access within 15m/);
    assert.match(
      text(byId('failed').top),
      /What to do: access is granted but IAM has not confirmed it yet: press Restart only/,
    );
    assert.match(header('undone'), /^↩️ Undone: /);
    assert.deepEqual(labels('undone'), ['Grant again', 'Re-check', 'Dismiss']);
    assert.match(text(byId('undone').top), /Undone by @U0ALICE — the bot’s grant is removed/);
    assert.match(header('resolved'), /^✅ Resolved: /);
    assert.match(text(byId('dismissed').top), /Dismissed by @U0ALICE/);
    assert.match(text(byId('superseded').top), /another root cause: Tag 1\.8\.2 not found in repository services/);
    assert.deepEqual(labels('open-off'), ['Re-check', 'Dismiss']);
    assert.deepEqual(labels('open-dry-run'), [
      'Grant & restart (dry run)',
      'Restart only (dry run)',
      'Re-check',
      'Dismiss',
    ]);
    assert.match(
      text(byId('refused').ephemeral[0]),
      /⛔ Not applied: you are not an approver.*\nOnly you can see this · refused: not-approver/,
    );
  });

  it('says when the counts come from alerts because the cluster could not be read', () => {
    const base = byId('open-approve');
    assert.ok(base.top);
    const rec = JSON.parse(JSON.stringify(scenesRecord())) as IncidentRecord;
    const t = visibleText(incidentMessage(rec, { fixMode: 'approve', now }).blocks);
    assert.match(t, /3 pods seen failing in 1 workload \(the cluster could not be read just now\)/);
  });
});

describe('alert fields never ping and never break the markup', () => {
  it('escapes namespace, pod, cluster and project in every text, top-level and details', () => {
    const evil = '<!channel> <@U0BOSS> *x* &amp;';
    const d = diagnose(seedInput());
    const rec = scenesRecord();
    const hostile: IncidentRecord = {
      ...rec,
      diagnosis: {
        ...d,
        subject: {
          ...d.subject,
          namespace: evil,
          pod: evil,
          workload: { kind: 'Deployment', namespace: evil, name: evil },
          cluster: { project: evil, location: evil, name: evil },
        },
      },
      affected: rec.affected.map((a) => ({
        ...a,
        namespace: evil,
        pods: [evil],
        workload: { kind: 'Deployment', namespace: evil, name: evil },
        cluster: { project: evil, location: evil, name: evil },
      })),
    };
    for (const m of [incidentMessage(hostile, { fixMode: 'approve', now }), detailsMessage(hostile)]) {
      const json = JSON.stringify(m.blocks);
      assert.doesNotMatch(json, /<!channel>|<@U0BOSS>/, 'no mention survives');
      assert.match(json, /&lt;!channel&gt; &lt;@U0BOSS&gt;/);
      assert.deepEqual(validateBlocks(m.blocks, 'message').messages, []);
    }
  });

  it('stays within Slack limits for a huge incident (long names, 40 workloads, long messages)', () => {
    const long = 'x'.repeat(5000);
    const rec = scenesRecord();
    const big: IncidentRecord = {
      ...rec,
      diagnosis: {
        ...seed,
        headline: long,
        message: long,
        findings: seed.findings.map((f) => ({
          ...f,
          summary: long,
          nextSteps: [long, long],
          evidence: Array.from({ length: 30 }, (_, i) => ({ label: `e${i}`, value: long })),
        })),
      },
      affected: Array.from({ length: 40 }, (_, i) => ({
        ...rec.affected[0]!,
        workload: { kind: 'Deployment' as const, namespace: `ns-${i}`, name: `svc-${i}-${'y'.repeat(200)}` },
      })),
    };
    for (const m of [incidentMessage(big, { fixMode: 'approve', now }), detailsMessage(big)]) {
      assert.deepEqual(validateBlocks(m.blocks, 'message').messages, []);
      assert.ok(m.text.length <= 4000);
    }
    assert.ok(
      visibleText(incidentMessage(big, { fixMode: 'approve', now }).blocks).length < 1000,
      'the first screen stays short',
    );
  });
});

/** The open incident of the gallery, as a record (the scenes carry rendered messages only). */
function scenesRecord(): IncidentRecord {
  const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };
  return {
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
    version: 4,
  };
}

describe('the two-person rule on the message', () => {
  it('shows who has approved and who may still, and nothing changes until then', () => {
    const base = withPlan(scenesRecord(), { now, ttlMs: 86_400_000 });
    const planId = base.plan?.id ?? '';
    assert.ok(planId, 'the seed has a plan');
    const rec: IncidentRecord = {
      ...base,
      status: 'open',
      approvals: [{ user: 'U0ALICE', at: now.toISOString(), planId, action: 'grant-restart' }],
    };
    const m = incidentMessage(rec, {
      fixMode: 'approve',
      now,
      approvalsRequired: 2,
      approvers: ['U0ALICE', 'U0BOB', 'S0ONCALL'],
    });
    const t = JSON.stringify(m.blocks);
    assert.match(
      t,
      /Grant & restart\* approved by <@U0ALICE> \(1 of 2\): nothing changes until 1 more approver\(s\) press it; may still approve: <@U0BOB>, <!subteam\^S0ONCALL>/,
    );
    assert.deepEqual(validateBlocks(m.blocks, 'message').messages, []);
    const one = incidentMessage(rec, { fixMode: 'approve', now });
    assert.doesNotMatch(
      JSON.stringify(one.blocks),
      /approved by <@U0ALICE> \(1 of/,
      'no line with one approval enough',
    );
  });

  it('never renders a forged user id as a mention', () => {
    const rec: IncidentRecord = { ...scenesRecord(), status: 'dismissed', dismissedBy: 'U0X> <!channel' };
    const t = JSON.stringify(incidentMessage(rec, { fixMode: 'approve', now }).blocks);
    assert.doesNotMatch(t, /<!channel/);
    assert.doesNotMatch(t, /<@U0X/);
  });
});
