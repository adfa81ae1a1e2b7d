import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCENARIOS, startGoogleSandbox, validateBlocks } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { Diagnosis } from '../../../src/diagnosis/diagnosis.ts';
import { gallery } from '../../../src/slack/preview/gallery.ts';
import { TOP_LEVEL_BUDGET, visibleText } from '../../../src/slack/preview/visible-text.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';
import { runCli } from '../run-cli.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

interface Expect {
  cause: string;
  subKind?: string;
  findings: string[];
  fixes: string[];
  /** Something the person must be told, in the finding text or evidence. */
  says?: RegExp;
  /** Which container, when the pod has several. */
  container?: string;
}

// What the bot must conclude for each sandbox scenario (docs/testing.md), written from the finding table (docs/diagnosis.md), not
// copied from the scenarios' own notes. `storm` is the benchmark's world (bench/), not a diagnosis case.
const EXPECT: Record<string, Expect> = {
  seed: {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /123456789012-compute@developer\.gserviceaccount\.com/,
  },
  'cross-project': {
    cause: 'permission-denied',
    findings: ['cross-project-reader-missing'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /another project|cross-project/i,
  },
  scopes: {
    cause: 'permission-denied',
    findings: ['node-scopes-insufficient'],
    fixes: [],
    says: /node-pools create .*--scopes=cloud-platform/,
  },
  'deny-policy': { cause: 'permission-denied', findings: ['deny-policy'], fixes: [], says: /denypolicies\// },
  'vpc-sc': { cause: 'vpc-sc-denied', findings: ['vpc-sc'], fixes: [] },
  'repo-missing': { cause: 'permission-denied', findings: ['repository-not-found'], fixes: [] },
  'wrong-region': {
    cause: 'permission-denied',
    findings: ['repository-not-found'],
    fixes: [],
    says: /us-central1-docker\.pkg\.dev/,
  },
  'tag-missing': { cause: 'not-found', findings: ['image-not-found'], fixes: [], says: /Recent tags/ },
  'already-granted': {
    cause: 'permission-denied',
    findings: ['access-already-granted'],
    fixes: ['restart-workload'],
    says: /propagat/,
  },
  'custom-sa-wrong-pool': {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /pool `pool-a` runs as/,
  },
  'workload-identity': {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader', 'workload-identity-misconception'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /Workload Identity/,
  },
  'docker-hub-rate-limit': {
    cause: 'rate-limited',
    findings: ['non-gcp-registry'],
    fixes: [],
    says: /remote repository/,
  },
  'bot-lacks-permission': {
    cause: 'permission-denied',
    findings: ['cannot-verify'],
    fixes: [],
    says: /artifactregistry\.repositories\.getIamPolicy/,
  },
  'gcr-io': {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /repositories\/gcr\.io/,
  },
  'project-level-reader': {
    cause: 'permission-denied',
    findings: ['access-already-granted'],
    fixes: ['restart-workload'],
  },
  'init-container': {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    container: 'migrate',
  },
  statefulset: {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
    says: /statefulset/i,
  },
  'two-teams': {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
  paused: {
    cause: 'permission-denied',
    findings: ['node-sa-missing-reader'],
    fixes: ['grant-repo-reader', 'restart-workload'],
  },
};

describe('every sandbox scenario, through the real client libraries and the wire fakes', () => {
  it('has an expectation for every scenario but the benchmark storm', () => {
    assert.deepEqual(
      SCENARIOS.filter((s) => !s.latent)
        .map((s) => s.name)
        .filter((n) => n !== 'storm')
        .sort(),
      Object.keys(EXPECT).sort(),
    );
  });

  // The latent scenarios (docs/prevention.md) are about what would fail: today the diagnosis finds nothing.
  for (const info of SCENARIOS.filter((s) => s.latent)) {
    it(`${info.name}: nothing fails today, so the diagnosis of its running pod finds nothing`, async () => {
      const sandbox = await startGoogleSandbox({ scenario: info.name });
      const google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
      try {
        const investigator = new Investigator({
          google,
          clusters: new KubernetesConnector(() => google.accessToken()),
          reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
        });
        const t = info.target;
        const inv = await investigator.investigate({
          cluster: { project: t.project, location: t.location, name: t.cluster },
          namespace: t.namespace,
          pod: t.pod,
        });
        assert.deepEqual(inv.diagnoses, []);
        assert.match(inv.note ?? '', /No container .* is failing to pull/);
      } finally {
        await google.close();
        await sandbox.stop();
      }
    });
  }

  for (const [name, want] of Object.entries(EXPECT)) {
    it(name, async () => {
      const sandbox = await startGoogleSandbox({ scenario: name });
      const google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
      try {
        const investigator = new Investigator({
          google,
          clusters: new KubernetesConnector(() => google.accessToken()),
          reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
        });
        const t = sandbox.scenario.target;
        const inv = await investigator.investigate({
          cluster: { project: t.project, location: t.location, name: t.cluster },
          namespace: t.namespace,
          pod: t.pod,
        });
        const d = inv.diagnoses.find((x) => !want.container || x.subject.container === want.container) as Diagnosis;
        assert.ok(d, `a diagnosis (note: ${inv.note ?? 'none'})`);
        assert.equal(d.cause, want.cause, `cause of ${d.message}`);
        assert.deepEqual(
          d.findings.map((f) => f.id),
          want.findings,
        );
        assert.deepEqual(
          d.fixes.map((f) => f.kind),
          want.fixes,
        );
        assert.equal(d.subject.workload?.name, t.workload.name);
        assert.equal(d.subject.workload?.kind, t.workload.kind);
        if (want.says) assert.match(JSON.stringify(d.findings), want.says);
        for (const f of d.findings) {
          assert.ok(f.summary.length > 40 && f.nextSteps.length > 0, `${f.id} explains itself and says what to do`);
          if (f.id !== 'non-gcp-registry')
            assert.doesNotMatch(
              JSON.stringify(f),
              /imagePullSecrets/,
              `${f.id}: no pull secrets for Artifact Registry`,
            );
        }
        // Every state of this scenario's messages: valid Block Kit, and a first screen within the budget.
        for (const scene of gallery({ diagnosis: d, now: new Date('2026-11-24T02:45:00.000Z') })) {
          for (const m of [scene.top, ...scene.thread, ...scene.ephemeral])
            if (m && m.blocks.length > 0)
              assert.deepEqual(validateBlocks(m.blocks, 'message').messages, [], `${name}/${scene.id}`);
          if (scene.home) assert.deepEqual(validateBlocks(scene.home.blocks, 'home').messages, [], `${name}/home`);
          const chars = scene.top ? visibleText(scene.top.blocks).length : 0;
          assert.ok(chars <= TOP_LEVEL_BUDGET, `${name}/${scene.id}: ${chars} visible characters on the first screen`);
        }
        if (want.fixes.includes('grant-repo-reader')) {
          const g = d.fixes.find((f) => f.kind === 'grant-repo-reader');
          assert.equal(g?.kind === 'grant-repo-reader' && g.role, 'roles/artifactregistry.reader');
          assert.equal(
            g?.kind === 'grant-repo-reader' && g.repository,
            d.image?.ar?.resourceName,
            'on the image repository only',
          );
          assert.equal(
            g?.kind === 'grant-repo-reader' && g.member,
            `serviceAccount:${d.identity?.serviceAccount}`,
            'for the node SA',
          );
        }
      } finally {
        await google.close();
        await sandbox.stop();
      }
    });
  }
});

describe('imagepull diagnose --sandbox (the CLI contract)', () => {
  it('prints cause, findings[].id and fixes[].kind as JSON and exits 0', async () => {
    const { code, stdout } = await runCli(['diagnose', '--sandbox', 'seed', '--json']);
    assert.equal(code, 0);
    const json = JSON.parse(stdout) as { cause: string; findings: { id: string }[]; fixes: { kind: string }[] };
    assert.equal(json.cause, 'permission-denied');
    assert.deepEqual(
      json.findings.map((f) => f.id),
      ['node-sa-missing-reader'],
    );
    assert.deepEqual(
      json.fixes.map((f) => f.kind),
      ['grant-repo-reader', 'restart-workload'],
    );
  });

  it('exits 2 with a clear message for an unknown scenario', async () => {
    const r = await runCli(['diagnose', '--sandbox', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scenario "nope"; scenarios: seed/);
  });
});
