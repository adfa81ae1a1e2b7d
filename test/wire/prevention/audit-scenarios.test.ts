import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCENARIOS } from '@imagepull/sandbox';
import { auditCommand } from '../../../src/cli/commands/audit.ts';
import type { Io } from '../../../src/cli/io.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const P = 'acme-prod-417';
const D = '123456789012-compute@developer.gserviceaccount.com';
const repo = (project: string, location: string, id: string) =>
  `projects/${project}/locations/${location}/repositories/${id}`;
const SERVICES = repo(P, 'us-central1', 'services');
const WEB = repo(P, 'us-central1', 'web');
const BASE = repo('acme-shared-artifacts', 'us', 'base');
const access = (repository: string, sa: string) => `node-access|${repository}|${sa}`;

interface Gap {
  readonly finding: string;
  readonly key: string;
  readonly pools: readonly string[];
  /** `Kind/name` of every workload behind it. */
  readonly workloads: readonly string[];
  readonly images: number;
  /** Whether the fix is a grant the bot can make (and the command says it). */
  readonly grant: boolean;
}

interface Want {
  readonly gaps: readonly Gap[];
  /** Something the answer must say it did not check. */
  readonly notChecked?: RegExp;
}

const seedGap: Gap = {
  finding: 'node-sa-missing-reader',
  key: access(SERVICES, D),
  pools: ['default-pool'],
  workloads: ['Deployment/checkout'],
  images: 1,
  grant: true,
};
const range = (prefix: string) => Array.from({ length: 10 }, (_, i) => `Deployment/${prefix}-0${i}`);
const fleet = (from: number[]) => from.map((i) => `Deployment/api-${String(i).padStart(2, '0')}`);
const indices = (keep: (i: number) => boolean) => Array.from({ length: 50 }, (_, i) => i).filter(keep);

/**
 * What `imagepull audit --sandbox S --json` must name for each scenario, and nothing else: written from what each
 * world holds (packages/sandbox/src/scenarios/), not from the audit's output. Workloads whose image the node
 * service account may read are not gaps; images outside Artifact Registry are "not checked"; so are VPC-SC
 * perimeters (the vpc-sc scenario fails today, but IAM lets the nodes pull).
 */
const EXPECT: Record<string, Want> = {
  seed: { gaps: [seedGap], notChecked: /outside Artifact Registry: `docker\.io\/library\/redis:7\.2`/ },
  'cross-project': {
    gaps: [{ ...seedGap, finding: 'cross-project-reader-missing', key: access(BASE, D) }],
  },
  scopes: {
    gaps: [
      {
        finding: 'node-scopes-insufficient',
        key: `scopes|${P}/us-central1/prod|default-pool`,
        pools: ['default-pool'],
        workloads: ['Deployment/cart', 'Deployment/checkout', 'Deployment/frontend'],
        images: 3,
        grant: false,
      },
    ],
  },
  // The deny policy denies the default SA everywhere in the project: web's images too, cached on the nodes today.
  'deny-policy': {
    gaps: [
      { ...seedGap, finding: 'deny-policy', key: `deny-policy|${SERVICES}|${D}`, grant: false },
      {
        ...seedGap,
        finding: 'deny-policy',
        key: `deny-policy|${WEB}|${D}`,
        workloads: ['Deployment/cart', 'Deployment/frontend'],
        images: 2,
        grant: false,
      },
    ],
  },
  'vpc-sc': { gaps: [], notChecked: /VPC Service Controls perimeters/ },
  'repo-missing': {
    gaps: [
      {
        ...seedGap,
        finding: 'repository-not-found',
        key: `repository-not-found|${repo(P, 'us-central1', 'service')}`,
        grant: false,
      },
    ],
  },
  'wrong-region': {
    gaps: [
      {
        ...seedGap,
        finding: 'repository-not-found',
        key: `repository-not-found|${repo(P, 'us-east1', 'services')}`,
        grant: false,
      },
    ],
  },
  'tag-missing': {
    gaps: [
      {
        ...seedGap,
        finding: 'image-not-found',
        key: `image-not-found|us-central1-docker.pkg.dev/${P}/services/checkout:1.8.3`,
        grant: false,
      },
    ],
  },
  // Reader was granted a minute ago: the pods still back off, but a new node could pull.
  'already-granted': { gaps: [] },
  'custom-sa-wrong-pool': { gaps: [{ ...seedGap, pools: ['pool-b'] }] },
  'workload-identity': { gaps: [seedGap] },
  // checkout runs from its nodes' cache; nothing grants the node SA reader on services.
  'docker-hub-rate-limit': { gaps: [seedGap], notChecked: /`docker\.io\/library\/nginx:1\.25`/ },
  'bot-lacks-permission': { gaps: [], notChecked: /artifactregistry\.repositories\.getIamPolicy/ },
  'gcr-io': {
    gaps: [seedGap, { ...seedGap, key: access(repo(P, 'us', 'gcr.io'), D), workloads: ['Deployment/legacy-api'] }],
  },
  'project-level-reader': { gaps: [] },
  'init-container': { gaps: [{ ...seedGap, images: 2 }], notChecked: /fluent-bit/ },
  statefulset: { gaps: [{ ...seedGap, workloads: ['StatefulSet/checkout'] }] },
  paused: { gaps: [seedGap] },
  // One root cause for two teams: checkout (prod) and ledger (payments), both from services on default-pool.
  'two-teams': { gaps: [{ ...seedGap, workloads: ['Deployment/checkout', 'Deployment/ledger'], images: 2 }] },
  storm: {
    gaps: [
      {
        ...seedGap,
        finding: 'cross-project-reader-missing',
        key: access(BASE, D),
        workloads: range('base'),
        images: 10,
      },
      { ...seedGap, workloads: range('svc'), images: 10 },
    ],
  },
  'new-node-pool': {
    gaps: [
      {
        ...seedGap,
        key: access(WEB, `gke-pool-b@${P}.iam.gserviceaccount.com`),
        pools: ['pool-b'],
        workloads: ['Deployment/cart', 'Deployment/frontend'],
        images: 2,
      },
    ],
  },
  // Without the taint, gpu-pool would be a gap for every workload: checkout (services), frontend and ml-inference (web).
  'tainted-pool': {
    gaps: [
      {
        ...seedGap,
        key: access(WEB, `gke-gpu-pool@${P}.iam.gserviceaccount.com`),
        pools: ['gpu-pool'],
        workloads: ['Deployment/ml-inference'],
        images: 1,
      },
    ],
  },
  'binding-removed': { gaps: [seedGap] },
  'daemonset-cross-project': {
    gaps: [
      { ...seedGap, finding: 'cross-project-reader-missing', key: access(BASE, D), workloads: ['DaemonSet/log-agent'] },
    ],
  },
  'cronjob-not-run': {
    gaps: [{ ...seedGap, key: access(repo(P, 'us-central1', 'reports'), D), workloads: ['CronJob/nightly-report'] }],
  },
  // 50 Deployments over 10 images: 8 in services (api-i for i % 10 < 8), 2 in web; only pool-d has no reader.
  fleet: {
    gaps: [
      {
        ...seedGap,
        key: access(SERVICES, `gke-pool-d@${P}.iam.gserviceaccount.com`),
        pools: ['pool-d'],
        workloads: fleet(indices((i) => i % 10 < 8)),
        images: 8,
      },
      {
        ...seedGap,
        key: access(WEB, `gke-pool-d@${P}.iam.gserviceaccount.com`),
        pools: ['pool-d'],
        workloads: fleet(indices((i) => i % 10 >= 8)),
        images: 2,
      },
    ],
  },
};

interface AuditJson {
  gaps: {
    finding: string;
    key: string;
    summary: string;
    pools: { pool: string }[];
    workloads: { kind: string; name: string }[];
    images: string[];
    fix: { grant?: unknown; command?: string };
  }[];
  notChecked: { what: string; why: string }[];
}

/** Runs `imagepull audit ARGS` in this process and returns its exit code and output. */
async function runAudit(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io: Io = {
    args,
    env: { METADATA_SERVER_DETECTION: 'none' },
    stdin: process.stdin,
    out: (t) => out.push(t),
    err: (t) => out.push(t),
  };
  const code = await auditCommand(io);
  return { code, out: out.join('\n') };
}

describe('imagepull audit --sandbox S --json: the expected gaps, and no others, for every scenario', () => {
  it('has an expectation for every scenario', () => {
    assert.deepEqual(SCENARIOS.map((s) => s.name).sort(), Object.keys(EXPECT).sort());
  });

  for (const [name, want] of Object.entries(EXPECT)) {
    it(name, async () => {
      const { code, out } = await runAudit(['--sandbox', name, '--json']);
      const json = JSON.parse(out) as AuditJson;
      const got = json.gaps.map((g) => ({
        finding: g.finding,
        key: g.key,
        pools: g.pools.map((p) => p.pool),
        workloads: g.workloads.map((w) => `${w.kind}/${w.name}`).sort(),
        images: g.images.length,
        grant: g.fix.grant !== undefined && /add-iam-policy-binding/.test(g.fix.command ?? ''),
      }));
      const byKey = (a: Gap, b: Gap) => a.key.localeCompare(b.key);
      assert.deepEqual(got, [...want.gaps].sort(byKey), 'gaps come sorted by key');
      assert.equal(code, want.gaps.length > 0 ? 1 : 0, 'exit 1 when a pool cannot pull');
      for (const g of json.gaps) assert.match(g.summary, /can(not)? pull \d+ images? used by \d+ workloads?; /);
      if (want.notChecked) assert.match(JSON.stringify(json.notChecked), want.notChecked);
    });
  }
});

describe('imagepull audit --project', () => {
  it("audits every cluster of the project (GKE clusters.list), with the same gaps as the cluster's", async () => {
    const { code, out } = await runAudit(['--sandbox', 'seed', '--project', P, '--json']);
    const json = JSON.parse(out) as AuditJson & { clusters: { cluster: string }[] };
    assert.equal(code, 1);
    assert.deepEqual(
      json.clusters.map((c) => c.cluster),
      [`${P}/us-central1/prod`],
    );
    assert.deepEqual(
      json.gaps.map((g) => g.key),
      [seedGap.key],
    );
  });
});
