import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { BOT_RBAC } from '../../../src/usecases/bot-permissions.ts';
import { runCli } from '../run-cli.ts';

/** `node src/cli/main.ts doctor ARGS` with the sandbox's environment (plus `env`): exit code and output. */
async function doctor(
  base: Readonly<Record<string, string>>,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<{ code: number; out: string; err: string }> {
  // Only the sandbox's variables (and PATH): nothing of the developer's shell configures the bot.
  const r = await runCli(['doctor', ...args], { env: { PATH: process.env.PATH ?? '', ...base, ...env } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** The failed lines of the checklist, each with the fix lines under it. */
function failures(out: string): string[] {
  const blocks: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('✗ ')) blocks.push(line);
    else if (line.startsWith('    ') && blocks.length > 0) blocks[blocks.length - 1] += `\n${line}`;
  }
  return blocks;
}

describe('imagepull doctor against the sandbox (the real CLI, Slack fake, Pub/Sub emulator, Google and GKE fakes)', () => {
  let sb: Sandbox;
  let project: string;
  let cluster: string;

  before(async () => {
    sb = await startSandbox({ scenario: 'seed' });
    const t = sb.google.scenario.target;
    project = t.project;
    cluster = `${t.project}/${t.location}/${t.cluster}`;
  });
  after(async () => {
    await sb?.stop();
  });

  it('passes every check of a deployment wired as the sandbox is, and exits 0', async () => {
    const r = await doctor(sb.env);
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(failures(r.out), []);
    for (const item of [
      /^✓ Configuration valid — Socket Mode, FIX_MODE=approve/m,
      /^✓ Slack token valid — bot @imagepull-bot \(U0IMAGEPULL\)/m,
      /^✓ Slack scopes — chat:write, commands, usergroups:read, channels:read, groups:read$/m,
      /^✓ Bot is in the channel of INCIDENT_CHANNEL — #incidents \(C0INCIDENTS\)$/m,
      /^✓ Pub\/Sub subscription exists — projects\/.+\/subscriptions\/imagepull-bot-\w+ \(topic /m,
      // The emulator has no IAM: said, not passed off as checked.
      /^– Pub\/Sub subscription can be pulled — the Pub\/Sub emulator has no IAM/m,
      new RegExp(`^✓ Cluster ${cluster} reachable`, 'm'),
      new RegExp(`^✓ Cluster ${cluster} RBAC — all ${BOT_RBAC.length} RBAC permissions allowed`, 'm'),
      new RegExp(`^✓ Google permissions in project ${project} — the 15 permissions of role imagepullBot`, 'm'),
    ]) {
      assert.match(r.out, item);
    }
    assert.match(r.out, /all 8 checks passed \(1 skipped\)$/m);
  });

  it('--json: the same checks with stable ids and statuses', async () => {
    const r = await doctor(sb.env, {}, ['--json']);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as { ok: boolean; items: { id: string; status: string; subject?: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.items.map((i) => `${i.id}:${i.status}`),
      [
        'config:pass',
        'slack.token:pass',
        'slack.scopes:pass',
        'slack.channel:pass',
        'pubsub.subscription:pass',
        'pubsub.permissions:skip',
        'cluster.reach:pass',
        'cluster.rbac:pass',
        'gcp.project:pass',
      ],
    );
    assert.equal(report.items.find((i) => i.id === 'cluster.rbac')?.subject, cluster);
  });

  it('a bad Slack token: ✗ with the variable to set, exit 1', async () => {
    const r = await doctor(sb.env, { SLACK_BOT_TOKEN: 'xoxb-not-the-one' });
    assert.equal(r.code, 1, r.out + r.err);
    const [slack, ...others] = failures(r.out);
    assert.match(
      slack ?? '',
      /^✗ Slack token valid — auth.test: invalid_auth\n {4}fix: set SLACK_BOT_TOKEN to the app’s Bot User OAuth Token/,
    );
    assert.deepEqual(others, [], 'the Google and cluster checks still run and pass');
    assert.match(r.out, new RegExp(`^✓ Cluster ${cluster} RBAC`, 'm'));
  });

  it('a token without a scope manifest.yml asks for: ✗ Slack scopes naming the scope to add', async () => {
    sb.slack.setScopes(['chat:write', 'commands', 'usergroups:read', 'groups:read']);
    try {
      const r = await doctor(sb.env);
      assert.equal(r.code, 1, r.out + r.err);
      const [scopes, channel, ...others] = failures(r.out);
      assert.match(scopes ?? '', /^✗ Slack scopes — missing channels:read/);
      assert.match(scopes ?? '', /fix: add under oauth_config.scopes.bot in the app’s manifest/);
      assert.match(scopes ?? '', /^ +- channels:read # /m);
      assert.match(scopes ?? '', /reinstall the app/);
      // Without it Slack refuses conversations.info: the channel check says why instead of guessing.
      assert.match(
        channel ?? '',
        /^✗ Bot is in the channel of INCIDENT_CHANNEL — conversations.info C0INCIDENTS: missing_scope/,
      );
      assert.deepEqual(others, []);
    } finally {
      sb.slack.setScopes(['chat:write', 'commands', 'usergroups:read', 'channels:read', 'groups:read']);
    }
  });

  it('the bot not in the incident channel: ✗ with the /invite to type there', async () => {
    sb.slack.setBotMember('C0INCIDENTS', false);
    try {
      const r = await doctor(sb.env);
      assert.equal(r.code, 1, r.out + r.err);
      assert.deepEqual(failures(r.out), [
        '✗ Bot is in the channel of INCIDENT_CHANNEL — the bot is not a member of #incidents (C0INCIDENTS): its posts there fail with not_in_channel\n    fix: in #incidents: /invite @imagepull-bot',
      ]);
    } finally {
      sb.slack.setBotMember('C0INCIDENTS', true);
    }
  });

  it('a subscription that does not exist: ✗ with the gcloud command that creates it', async () => {
    const r = await doctor(sb.env, { PUBSUB_SUBSCRIPTION: `projects/${project}/subscriptions/imagepull-bot-gone` });
    assert.equal(r.code, 1, r.out + r.err);
    const [sub, ...others] = failures(r.out);
    assert.match(sub ?? '', /^✗ Pub\/Sub subscription exists — Pub\/Sub subscriptions.get .*NOT_FOUND/);
    assert.match(
      sub ?? '',
      new RegExp(
        `fix: create it \\(deploy/gcp/setup.sh does\\): gcloud pubsub subscriptions create imagepull-bot-gone --project=${project} --topic=gke-image-pull`,
      ),
    );
    assert.deepEqual(others, []);
  });

  it('a ClusterRole without a verb the bot needs: ✗ RBAC with the rule to add and how to apply it', async () => {
    sb.google.world.bot.kubeDenied.push({ verb: 'patch', resource: 'deployments' });
    try {
      const r = await doctor(sb.env);
      assert.equal(r.code, 1, r.out + r.err);
      const [rbac, ...others] = failures(r.out);
      const t = sb.google.scenario.target;
      assert.equal(
        rbac,
        [
          `✗ Cluster ${cluster} RBAC — denied: patch apps/deployments`,
          '    fix: add to the ClusterRole imagepull-bot (deploy/rbac/clusterrole.yaml, rules):',
          '           - { apiGroups: [apps], resources: [deployments], verbs: [patch] }',
          `         then apply it in that cluster: gcloud container clusters get-credentials ${t.cluster} --location=${t.location} --project=${t.project} && kubectl apply -k deploy/rbac`,
        ].join('\n'),
      );
      assert.deepEqual(others, []);
    } finally {
      sb.google.world.bot.kubeDenied.pop();
    }
  });

  it('a Google permission missing from the role: ✗ with the gcloud command that adds it', async () => {
    sb.google.world.bot.denied.push({ permission: 'artifactregistry.repositories.getIamPolicy' });
    try {
      const r = await doctor(sb.env);
      assert.equal(r.code, 1, r.out + r.err);
      assert.deepEqual(failures(r.out), [
        [
          `✗ Google permissions in project ${project} — the bot lacks artifactregistry.repositories.getIamPolicy`,
          `    fix: gcloud iam roles update imagepullBot --project=${project} --add-permissions=artifactregistry.repositories.getIamPolicy`,
          '         (deploy/gcp/setup.sh sets the role to deploy/gcp/bot-role.yaml too)',
        ].join('\n'),
      ]);
    } finally {
      sb.google.world.bot.denied.pop();
    }
  });

  it('an invalid configuration: ✗ listing every problem, nothing else attempted, exit 1', async () => {
    const r = await doctor(sb.env, { SLACK_BOT_TOKEN: '', FIX_MODE: 'yolo' });
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^✗ Configuration valid — 2 problem\(s\); nothing else was checked$/m);
    assert.match(r.out, /fix: SLACK_BOT_TOKEN is required/);
    assert.match(r.out, /FIX_MODE must be one of off, dry-run, approve/);
    assert.doesNotMatch(r.out, /Slack token/);
  });

  it('a bad option is a usage error: exit 2', async () => {
    const r = await doctor(sb.env, {}, ['--clusterr', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err, /imagepull doctor: Unknown option '--clusterr'/);
  });
});
