import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GoogleSandbox } from '@imagepull/sandbox';
import type { Diagnosis } from '../../../src/diagnosis/diagnosis.ts';
import { staysLocal } from '../../support/egress-trace.ts';
import { explain, Kubectl, type KubectlResult, requireKubectlAndStrace } from './kubectl-run.ts';
import { diagnoseScenario, PRINTING_SCENARIOS, type PrintedCommand, printedCommands } from './printed-commands.ts';

/**
 * Every `kubectl` command the diagnosis prints, for every scenario, run with the real kubectl against a freshly
 * started sandbox (the data from `printedCommands`, not the rendered text). Each must exit 0, show what the message
 * says it shows, and change the sandbox world the bot reads; and kubectl must connect to nothing but loopback.
 */

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown> & {
    paused?: boolean;
    unschedulable?: boolean;
    nodeName?: string;
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
  status?: Record<string, unknown> & { conditions?: { type: string; status: string; reason?: string }[] };
  ownerReferences?: unknown;
  type?: string;
  data?: Record<string, string>;
}

const KINDS: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
};

/** Live reads of the world the bot reads, for the cluster a diagnosis is about. */
function worldOf(sandbox: GoogleSandbox, d: Diagnosis) {
  const c = d.subject.cluster;
  assert.ok(c, 'the diagnosis names its cluster');
  const cluster = sandbox.world.cluster(`projects/${c.project}/locations/${c.location}/clusters/${c.name}`);
  assert.ok(cluster, 'the diagnosed cluster exists in the sandbox');
  return {
    get: (kind: string, ns: string | undefined, name: string) => cluster.kube.get(kind, ns, name) as Obj | undefined,
    list: (kind: string, ns?: string) => cluster.kube.list(kind, ns) as unknown as Obj[],
  };
}

function assertRan(command: string, r: KubectlResult): void {
  assert.equal(r.code, 0, `the printed command must exit 0\n${explain(command, r)}`);
  const away = r.connects.filter((c) => !staysLocal(c));
  assert.deepEqual(away, [], `kubectl connected beyond loopback\n${explain(command, r)}`);
  assert.ok(r.connects.length > 0, 'strace saw kubectl connect to the sandbox');
}

interface Ctx {
  readonly scenario: string;
  readonly sandbox: GoogleSandbox;
  readonly diagnoses: readonly Diagnosis[];
  readonly kubectl: Kubectl;
}

/** `kubectl describe pod P -n NS`: the pull events, with the kubelet message the diagnosis quotes. */
async function checkDescribe(ctx: Ctx, c: PrintedCommand, pod: string, ns: string): Promise<void> {
  const r = await ctx.kubectl.run(c.command);
  assertRan(c.command, r);
  assert.match(r.stdout, new RegExp(`^Name:\\s+${pod}$`, 'm'), explain(c.command, r));
  assert.match(r.stdout, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
  const events = r.stdout.slice(r.stdout.indexOf('\nEvents:'));
  assert.match(events, /Warning\s+Failed\s+.*kubelet\s+Failed to pull image "/, explain(c.command, r));
  assert.match(events, /(Warning\s+Failed\s+.*Error: ImagePullBackOff|Normal\s+BackOff\s+.*Back-off pulling image)/);
  const d = ctx.diagnoses.find((x) => x.subject.pod === pod);
  assert.ok(d?.message, `a diagnosis about ${pod} quotes the kubelet message`);
  assert.ok(events.includes(d.message), `describe shows the message the diagnosis quotes:\n${d.message}\n${events}`);
}

/** Applies the diagnosis' grant through the world, standing in for the printed `gcloud … add-iam-policy-binding`. */
function applyGrants(ctx: Ctx): void {
  for (const d of ctx.diagnoses) {
    for (const f of d.fixes) {
      if (f.kind === 'grant-repo-reader') ctx.sandbox.addBinding(f.repository, f.role, f.member);
    }
  }
}

/**
 * `kubectl rollout restart K/N -n NS` (after `rollout resume` for a paused Deployment): kubectl says `restarted`,
 * the world's template carries `kubectl.kubernetes.io/restartedAt`, and once the printed grant is in (applied
 * through the world here) `kubectl rollout status` returns 0 with every pod of the workload running.
 */
async function checkRestart(ctx: Ctx, c: PrintedCommand, kindWord: string, name: string, ns: string): Promise<void> {
  const kind = KINDS[kindWord];
  assert.ok(kind, `a workload kind kubectl knows: ${kindWord}`);
  const d = ctx.diagnoses.find((x) => x.subject.workload?.name === name) ?? ctx.diagnoses[0];
  assert.ok(d);
  const world = worldOf(ctx.sandbox, d);
  const before = world.get(kind, ns, name)?.spec?.template?.metadata?.annotations?.[
    'kubectl.kubernetes.io/restartedAt'
  ];
  applyGrants(ctx);
  const r = await ctx.kubectl.run(c.command);
  assertRan(c.command, r);
  assert.match(r.stdout, new RegExp(`^${kindWord}\\.apps/${name} restarted$`, 'm'), explain(c.command, r));
  if (c.command.includes('rollout resume')) {
    assert.match(r.stdout, new RegExp(`^${kindWord}\\.apps/${name} resumed$`, 'm'));
    assert.notEqual(world.get(kind, ns, name)?.spec?.paused, true, 'the Deployment is no longer paused');
  }
  const after = world.get(kind, ns, name)?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
  assert.ok(after, 'the pod template carries kubectl.kubernetes.io/restartedAt');
  assert.notEqual(after, before);
  const status = `kubectl rollout status ${kindWord}/${name} -n ${ns} --timeout=60s`;
  const s = await ctx.kubectl.run(status, 90_000);
  assertRan(status, s);
  // A StatefulSet with the defaulted `partition: 0` reports "partitioned roll out complete", as on a real cluster.
  assert.match(s.stdout, /successfully rolled out|roll(ing update| out) complete/, explain(status, s));
  const pods = world.list('Pod', ns).filter((p) => p.metadata.labels?.app === name && !p.metadata.deletionTimestamp);
  assert.ok(pods.length > 0);
  for (const p of pods) {
    const ready = p.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'True', `${p.metadata.name} runs after the restart`);
  }
}

/** `kubectl cordon -l POOL && kubectl drain -l POOL …`: the pool's nodes cordoned and emptied through evictions. */
async function checkCordonDrain(ctx: Ctx, c: PrintedCommand, selector: string): Promise<void> {
  const d = ctx.diagnoses[0];
  assert.ok(d);
  const world = worldOf(ctx.sandbox, d);
  const [key, value] = selector.split('=') as [string, string];
  const nodes = world.list('Node').filter((n) => n.metadata.labels?.[key] === value);
  assert.ok(nodes.length > 0, `nodes labelled ${selector} exist`);
  const onPool = (p: Obj) => nodes.some((n) => n.metadata.name === p.spec?.nodeName);
  const evictable = world.list('Pod').filter((p) => onPool(p) && !p.metadata.deletionTimestamp);
  assert.ok(evictable.length > 0, 'the pool runs pods to move');
  const r = await ctx.kubectl.run(c.command, 120_000);
  assertRan(c.command, r);
  for (const n of nodes) {
    assert.match(r.stdout, new RegExp(`^node/${n.metadata.name} cordoned$`, 'm'), explain(c.command, r));
    assert.match(r.stdout, new RegExp(`^node/${n.metadata.name} drained$`, 'm'), explain(c.command, r));
    assert.equal(world.get('Node', undefined, n.metadata.name)?.spec?.unschedulable, true);
  }
  for (const p of evictable) {
    assert.match(r.stdout, new RegExp(`^pod/${p.metadata.name} evicted$`, 'm'));
    assert.equal(world.get('Pod', p.metadata.namespace, p.metadata.name)?.metadata.uid === p.metadata.uid, false);
  }
  assert.deepEqual(
    world
      .list('Pod')
      .filter(onPool)
      .map((p) => p.metadata.name),
    [],
    'no pod is left on the drained pool',
  );
  // With no other pool yet, the controllers' replacements wait for a node, as on a real cluster.
  const pending = world.list('Pod').filter((p) => !p.spec?.nodeName);
  assert.ok(pending.length > 0);
  for (const p of pending) {
    const scheduled = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    assert.equal(scheduled?.reason, 'Unschedulable');
  }
}

/** `kubectl create secret docker-registry NAME -n NS …`: the Secret exists with the registry credentials. */
async function checkCreateSecret(ctx: Ctx, c: PrintedCommand, name: string, ns: string, server: string, user: string) {
  const r = await ctx.kubectl.run(c.command);
  assertRan(c.command, r);
  assert.match(r.stdout, new RegExp(`^secret/${name} created$`, 'm'), explain(c.command, r));
  const d = ctx.diagnoses[0];
  assert.ok(d);
  const secret = worldOf(ctx.sandbox, d).get('Secret', ns, name);
  assert.equal(secret?.type, 'kubernetes.io/dockerconfigjson');
  const config = JSON.parse(Buffer.from(secret?.data?.['.dockerconfigjson'] ?? '', 'base64').toString()) as {
    auths: Record<string, { username: string }>;
  };
  assert.equal(config.auths[server]?.username, user);
  const again = await ctx.kubectl.run(c.command);
  assert.equal(again.code, 1, 'a second create is refused');
  assert.match(again.stderr, new RegExp(`secrets "${name}" already exists`));
}

/**
 * The checks, by the order a person would run them in: reads first (describe shows the pod the diagnosis is about,
 * which a restart or a drain replaces), then the changes.
 */
const CHECKS: readonly {
  readonly pattern: RegExp;
  readonly check: (ctx: Ctx, c: PrintedCommand, m: RegExpExecArray) => Promise<void>;
}[] = [
  { pattern: /^kubectl describe pod (\S+) -n (\S+)$/, check: (ctx, c, m) => checkDescribe(ctx, c, m[1]!, m[2]!) },
  {
    pattern: /^kubectl rollout restart (\w+)\/(\S+) -n (\S+)$/,
    check: (ctx, c, m) => checkRestart(ctx, c, m[1]!, m[2]!, m[3]!),
  },
  {
    pattern: /^kubectl rollout resume (\w+)\/(\S+) -n (\S+) && kubectl rollout restart \1\/\2 -n \3$/,
    check: (ctx, c, m) => checkRestart(ctx, c, m[1]!, m[2]!, m[3]!),
  },
  {
    pattern: /^kubectl cordon -l (\S+) && kubectl drain -l \1 --ignore-daemonsets --delete-emptydir-data$/,
    check: (ctx, c, m) => checkCordonDrain(ctx, c, m[1]!),
  },
  {
    pattern:
      /^kubectl create secret docker-registry (\S+) -n (\S+) --docker-server=(\S+) --docker-username=(\S+) --docker-password=\S+$/,
    check: (ctx, c, m) => checkCreateSecret(ctx, c, m[1]!, m[2]!, m[3]!, m[4]!),
  },
];

describe('every kubectl command the bot prints runs with the real kubectl against the sandbox', () => {
  let dir: string;
  before(async () => {
    await requireKubectlAndStrace();
    dir = mkdtempSync(join(tmpdir(), 'imagepull-kubeconfig-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const scenario of PRINTING_SCENARIOS) {
    it(scenario, async () => {
      const { sandbox, diagnoses, stop } = await diagnoseScenario(scenario);
      const kubectl = new Kubectl(sandbox.writeKubeconfig(join(dir, scenario)));
      try {
        const all = printedCommands(scenario, diagnoses);
        for (const c of all) {
          assert.equal(
            c.tool === 'kubectl',
            c.command.startsWith('kubectl '),
            `tool matches the command: ${c.command}`,
          );
        }
        const commands = all.filter((c) => c.tool === 'kubectl');
        assert.ok(commands.length > 0, `${scenario} prints kubectl commands`);
        const planned = commands.map((c) => {
          const index = CHECKS.findIndex((k) => k.pattern.test(c.command));
          assert.ok(index >= 0, `no check for the printed command \`${c.command}\`: add one to kubectl.test.ts`);
          return { c, index };
        });
        for (const { c, index } of planned.sort((a, b) => a.index - b.index)) {
          const k = CHECKS[index]!;
          await k.check({ scenario, sandbox, diagnoses, kubectl }, c, k.pattern.exec(c.command)!);
        }
      } finally {
        kubectl.close();
        await stop();
      }
    });
  }
});
