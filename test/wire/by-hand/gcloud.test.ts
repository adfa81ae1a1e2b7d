/**
 * Every gcloud command the bot prints, for every scenario, run with the real gcloud against a fresh sandbox of that
 * scenario: each must exit 0, show what the message says it shows, and reach nothing but loopback (each run is
 * confined to a loopback-only network namespace and traced). A grant made by hand lands in the world the bot
 * reads: its next diagnosis says `access-already-granted`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { describe, it } from 'node:test';
import type { GoogleSandbox } from '@imagepull/sandbox';
import type { Diagnosis } from '../../../src/diagnosis/diagnosis.ts';
import type { ConfinedRun } from '../../support/egress-trace.ts';
import {
  evidence,
  type GcloudWorkspace,
  gcloudWorkspace,
  investigate,
  requireGcloud,
  runByHand,
  shown,
} from './gcloud-helpers.ts';
import { diagnoseScenario, PRINTING_SCENARIOS, printedCommands } from './printed-commands.ts';

const GCLOUD_VERSION = requireGcloud();

interface Ctx {
  readonly sandbox: GoogleSandbox;
  readonly diagnoses: readonly Diagnosis[];
  readonly ws: GcloudWorkspace;
  readonly run: ConfinedRun;
  readonly m: RegExpExecArray;
  readonly out: string;
  /** Every conditional binding of every repository before the command ran, as `repository binding-JSON`. */
  readonly conditionalBefore: readonly string[];
}

function conditionalBindings(sandbox: GoogleSandbox): string[] {
  return [...sandbox.world.repositories.values()].flatMap((r) =>
    r.iam.bindings.filter((b) => b.condition).map((b) => `${r.name} ${JSON.stringify(b)}`),
  );
}

interface Check {
  readonly pattern: RegExp;
  /** Changes the world: runs after every read-only command of the scenario. */
  readonly mutates?: boolean;
  verify(ctx: Ctx): void | Promise<void>;
}

const STATES = ['CAN_ACCESS', 'CANNOT_ACCESS', 'UNKNOWN_INFO', 'UNKNOWN_CONDITIONAL'];

/** What a person sees from the general troubleshoot command where no finding quotes the troubleshooter. */
const TROUBLESHOOT_BY_HAND: Readonly<Record<string, string>> = {
  // IAM lets the node SA pull; the scopes are what is wrong.
  scopes: 'CAN_ACCESS',
  // The bot could not read the repository policy; the operator can, and sees the missing grant.
  'bot-lacks-permission': 'CANNOT_ACCESS',
};

function nodeEmail(d: readonly Diagnosis[]): string {
  const email = d[0]?.identity?.serviceAccount;
  assert.ok(email, 'the diagnosis names the node identity');
  return email;
}

const CHECKS: readonly Check[] = [
  {
    pattern: /^gcloud artifacts repositories get-iam-policy (\S+) --project=(\S+) --location=(\S+)$/,
    verify({ sandbox, diagnoses, m, out }) {
      const repo = sandbox.world.repository(`projects/${m[2]}/locations/${m[3]}/repositories/${m[1]}`);
      assert.ok(repo, 'the repository exists');
      const count = Number(/^(\d+) binding/.exec(evidence(diagnoses, 'Repository policy') ?? '')?.[1]);
      assert.equal(out.match(/^\s*role: /gm)?.length, count, `the ${count} bindings the evidence counts${out}`);
      for (const b of repo.iam.bindings)
        for (const member of b.members) assert.ok(out.includes(`- ${member}\n`), member + out);
      assert.ok(!out.includes(nodeEmail(diagnoses)), `the node SA holds nothing here${out}`);
    },
  },
  {
    pattern: /^gcloud projects get-iam-policy (\S+) .*--filter=bindings\.members:serviceAccount:(\S+) /,
    verify({ sandbox, diagnoses, m, out }) {
      const project = sandbox.world.project(m[1] ?? '');
      assert.ok(project);
      const held = project.iam.bindings.filter((b) => b.members.includes(`serviceAccount:${m[2]}`)).map((b) => b.role);
      const rows = out
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/)[0])
        .filter(Boolean);
      assert.deepEqual(rows.sort(), [...held].sort(), `exactly the roles it holds on the project${out}`);
      const unhelpful = /^`([^`]+)`/.exec(evidence(diagnoses, 'Role that does not help') ?? '')?.[1];
      if (unhelpful) assert.ok(rows.includes(unhelpful), `the role the evidence calls unhelpful${out}`);
      assert.ok(!rows.includes('roles/artifactregistry.reader'), out);
    },
  },
  {
    pattern: /^gcloud policy-intelligence troubleshoot-policy iam (\S+) --principal-email=(\S+) --permission=(\S+)$/,
    verify({ sandbox, diagnoses, out }) {
      const state = /^overallAccessState: (\w+)$/m.exec(out)?.[1];
      assert.ok(state && STATES.includes(state), `an overall access state${out}`);
      const quoted = /^(\w+)/.exec(evidence(diagnoses, 'Policy Troubleshooter') ?? '')?.[1];
      const expected = quoted ?? TROUBLESHOOT_BY_HAND[sandbox.scenario.name];
      if (expected) assert.equal(state, expected, `the access state the diagnosis relies on${out}`);
      if (evidence(diagnoses, 'Policy Troubleshooter')?.includes('DENY_ACCESS_STATE_DENIED')) {
        assert.match(out, /^ {2}denyAccessState: DENY_ACCESS_STATE_DENIED$/m);
        const policy = evidence(diagnoses, 'Deny policy')?.split(' ')[0] ?? '';
        assert.ok(out.includes(policy), `names the deny policy ${policy}${out}`);
      }
    },
  },
  {
    pattern: /^gcloud artifacts docker tags list (\S+)$/,
    verify({ diagnoses, out }) {
      const recent = [...(evidence(diagnoses, 'Recent tags') ?? '').matchAll(/([\w.-]+) \(/g)].map((x) => x[1]);
      assert.ok(recent.length > 0, 'the evidence lists recent tags');
      const listed = out.split('\n').map((l) => l.split(/\s+/)[0]);
      for (const tag of recent) assert.ok(listed.includes(tag), `tag ${tag}${out}`);
      const requested = /:([\w.-]+)$/.exec(evidence(diagnoses, 'Requested') ?? '')?.[1] ?? '';
      assert.ok(!listed.includes(requested), `not the missing tag ${requested}${out}`);
    },
  },
  {
    pattern: /^gcloud artifacts repositories list --project=(\S+)$/,
    verify({ diagnoses, out }) {
      const missing = /\/repositories\/([^/\s]+) does not exist/.exec(evidence(diagnoses, 'Repository') ?? '')?.[1];
      const named = (evidence(diagnoses, 'Repositories in') ?? evidence(diagnoses, 'Same repository elsewhere') ?? '')
        .split(', ')
        .map((n) => n.split('/').pop());
      const listed = out.split('\n').map((l) => l.split(/\s+/)[0]);
      for (const r of named) assert.ok(listed.includes(r), `repository ${r}${out}`);
      const location = (evidence(diagnoses, 'Repository') ?? '').split('/')[3];
      const rows = out.split('\n').filter((l) => l.startsWith(`${missing} `));
      assert.ok(!rows.some((l) => l.includes(` ${location} `)), `no ${missing} in ${location}${out}`);
    },
  },
  {
    pattern: /^gcloud container clusters get-credentials (\S+) --location=(\S+) --project=(\S+)$/,
    async verify({ sandbox, ws, m }) {
      const kubeconfig = await readFile(ws.kubeconfig, 'utf8');
      const endpoint = sandbox.kubeEndpoints.get(`projects/${m[3]}/locations/${m[2]}/clusters/${m[1]}`);
      assert.match(kubeconfig, new RegExp(`server: https://${endpoint}\\n`));
      const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? '', 'base64').toString();
      assert.equal(ca, sandbox.caPem);
      assert.match(kubeconfig, /command: gke-gcloud-auth-plugin/);
      // What kubectl does with it: ask the exec plugin for a token, then call the API with the CA.
      const plugin = await runByHand(ws, 'gke-gcloud-auth-plugin');
      assert.equal(plugin.code, 0, shown('gke-gcloud-auth-plugin', plugin));
      assert.deepEqual(plugin.violations, []);
      const token = (JSON.parse(plugin.stdout) as { status: { token: string } }).status.token;
      const t = sandbox.scenario.target;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          `https://${endpoint}/api/v1/namespaces/${t.namespace}/pods/${t.pod}`,
          { ca, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200, 'the kubeconfig gcloud wrote reaches the cluster and finds the failing pod');
    },
  },
  {
    pattern: /^gcloud container node-pools describe (\S+) --cluster=(\S+) --location=(\S+) --project=(\S+) --format=/,
    verify({ sandbox, diagnoses, m, out }) {
      const cluster = sandbox.world.cluster(`projects/${m[4]}/locations/${m[3]}/clusters/${m[2]}`);
      const pool = cluster?.nodePools.find((p) => p.name === m[1]);
      assert.ok(pool);
      assert.equal(out, `${pool.serviceAccount}\t${pool.oauthScopes.join(';')}\n`);
      const identity = diagnoses[0]?.identity;
      if (identity?.nodePool === pool.name) {
        assert.deepEqual(
          out.trim().split('\t')[1]?.split(';'),
          [...identity.oauthScopes],
          'the scopes the message names',
        );
        assert.equal(out.split('\t')[0], identity.isDefaultComputeAccount ? 'default' : identity.serviceAccount);
      }
    },
  },
  {
    pattern:
      /^gcloud container node-pools create (\S+) --cluster=(\S+) --location=(\S+) --project=(\S+) --service-account=(\S+) --scopes=cloud-platform$/,
    mutates: true,
    verify({ sandbox, m, out }) {
      const cluster = sandbox.world.cluster(`projects/${m[4]}/locations/${m[3]}/clusters/${m[2]}`);
      const pool = cluster?.nodePools.find((p) => p.name === m[1]);
      assert.ok(pool, `the pool exists${out}`);
      assert.equal(pool.serviceAccount, m[5]);
      assert.deepEqual(pool.oauthScopes, ['https://www.googleapis.com/auth/cloud-platform']);
      const nodes = cluster?.kube
        .list('Node')
        .filter((n) => n.metadata.labels?.['cloud.google.com/gke-nodepool'] === m[1]);
      assert.equal(nodes?.length, pool.nodes.length, 'its nodes are in the cluster');
      assert.ok(pool.nodes.length > 0);
    },
  },
  {
    pattern:
      /^gcloud artifacts repositories add-iam-policy-binding (\S+) --project=(\S+) --location=(\S+) --member=(\S+) --role=(\S+)$/,
    mutates: true,
    async verify({ sandbox, m, out, conditionalBefore }) {
      const repo = sandbox.world.repository(`projects/${m[2]}/locations/${m[3]}/repositories/${m[1]}`);
      assert.ok(
        repo?.iam.bindings.some((b) => b.role === m[5] && !b.condition && b.members.includes(m[4] ?? '')),
        out,
      );
      // gcloud reads and writes the policy at version 1: the conditional bindings it saw as `_withcond_` survive.
      assert.ok(!repo?.iam.bindings.some((b) => b.role.includes('_withcond_')), out);
      assert.deepEqual(conditionalBindings(sandbox), [...conditionalBefore]);
      const after = await investigate(sandbox);
      assert.deepEqual(
        after.flatMap((d) => d.findings.map((f) => f.id)).filter((id) => id === 'access-already-granted'),
        ['access-already-granted'],
        'the bot now sees the grant made by hand',
      );
    },
  },
];

async function runChecked(
  sandbox: GoogleSandbox,
  diagnoses: readonly Diagnosis[],
  ws: GcloudWorkspace,
  command: string,
): Promise<void> {
  const check = CHECKS.find((c) => c.pattern.test(command));
  assert.ok(check, `no check for the printed command: ${command} (add one to CHECKS)`);
  const conditionalBefore = conditionalBindings(sandbox);
  const run = await runByHand(ws, command);
  assert.equal(run.code, 0, shown(command, run));
  assert.deepEqual(run.violations, [], `reached beyond loopback${shown(command, run)}`);
  const m = check.pattern.exec(command) as RegExpExecArray;
  await check.verify({ sandbox, diagnoses, ws, run, m, out: run.stdout, conditionalBefore });
}

describe(`printed gcloud commands, with the real gcloud ${GCLOUD_VERSION}`, { concurrency: 2 }, () => {
  for (const scenario of PRINTING_SCENARIOS) {
    it(`${scenario}: each printed gcloud command works and shows what the message says`, async () => {
      const { sandbox, diagnoses, stop } = await diagnoseScenario(scenario);
      const ws = await gcloudWorkspace(sandbox);
      try {
        const commands = printedCommands(scenario, diagnoses)
          .filter((c) => c.tool === 'gcloud')
          .map((c) => c.command);
        assert.ok(commands.length > 0, 'the scenario prints gcloud commands');
        const mutating = (c: string) => CHECKS.find((k) => k.pattern.test(c))?.mutates === true;
        // Every run ends before cleanup, even when one fails early.
        const reads = await Promise.allSettled(
          commands.filter((c) => !mutating(c)).map((c) => runChecked(sandbox, diagnoses, ws, c)),
        );
        const failed = reads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        for (const c of commands.filter(mutating)) await runChecked(sandbox, diagnoses, ws, c);
      } finally {
        await ws.remove();
        await stop();
      }
    });
  }
});
