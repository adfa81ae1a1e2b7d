import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig } from '../../config.ts';
import { stepLabel } from '../../fixes/steps.ts';
import { startBot } from '../../main.ts';
import { silentLogger } from '../../shared/logger.ts';
import { ACTIONS } from '../../slack/ids.ts';
import { gallery, type PreviewScene } from '../../slack/preview/gallery.ts';
import { previewPage } from '../../slack/preview/page.ts';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { slackMessageText } from '../render-slack.ts';
import { loadSandbox } from '../sandbox-loader.ts';

type PostedMessage = { readonly text?: string; readonly blocks?: readonly unknown[] };

/**
 * `npm run demo`: the seed story end to end on real parts — the Pub/Sub emulator, the real Bolt app in Socket Mode,
 * the real Google client libraries against the wire fakes, HTTPS to the Kubernetes fake — narrated in the terminal.
 */
export async function demo(io: Io): Promise<number> {
  const { values } = parse(io.args, { scenario: { type: 'string' }, out: { type: 'string' } }, false);
  const scenario = values.scenario ?? 'seed';
  const out = resolve(values.out ?? 'imagepull-demo.html');
  const say = (s: string) => io.out(`\x1b[36m▸ ${s}\x1b[0m`);
  const { SANDBOX_PEOPLE, SCENARIOS, startSandbox } = await loadSandbox();
  if (SCENARIOS.find((s) => s.name === scenario)?.latent) {
    throw new UsageError(
      `scenario "${scenario}" has nothing failing yet (it is for the pull audit): try \`imagepull audit --sandbox ${scenario}\``,
    );
  }
  const show = (m: PostedMessage) => io.out(`\n${indent(slackMessageText(m.blocks, m.text ?? ''))}\n`);

  say(
    `Starting the sandbox for scenario "${scenario}": simulated GCP + GKE (gRPC/HTTPS fakes), fake Slack, real Pub/Sub emulator…`,
  );
  const sb = await startSandbox({ scenario, propagationDelayMs: 1500, podStartMs: 300 });
  const t = sb.google.scenario.target;
  let bot: Awaited<ReturnType<typeof startBot>> | undefined;
  try {
    io.out(`  ${sb.google.scenario.description}`);
    bot = await startBot(loadConfig(sb.env), { logger: silentLogger(), sweepIntervalMs: 0 });
    say(
      `Bot started (Socket Mode, FIX_MODE=approve, approvers: <@${SANDBOX_PEOPLE.approver}> and group ${SANDBOX_PEOPLE.approverGroup}).`,
    );

    const entry = sb.google.logEntries({ pods: [t.pod], perPod: 1 })[0];
    say(`Cloud Logging exports the kubelet's "Failed to pull image" event for ${t.namespace}/${t.pod} to Pub/Sub…`);
    const started = Date.now();
    await sb.publish(entry ?? sb.google.monitoringIncident());
    const channel = sb.env.INCIDENT_CHANNEL as string;
    const posted = await sb.slack.waitFor(() => sb.slack.messages(channel)[0], 20_000);
    say(`The bot posted one incident message to #incidents after ${Date.now() - started} ms:`);
    show(posted);
    const details = await sb.slack.waitFor(() => sb.slack.message(channel, posted.ts)?.replies[0], 10_000);
    say('Its first thread reply holds the details (evidence, next steps, commands, the kubelet message, Terraform):');
    show(details);

    say(`Carol (not an approver) presses "Grant & restart"…`);
    await sb.slack.clickButton({
      user: SANDBOX_PEOPLE.stranger,
      channel,
      ts: posted.ts,
      actionId: ACTIONS.grantRestart,
    });
    const refusal = await sb.slack.waitFor(
      () => sb.slack.responses().find((r) => /Not applied/.test(String(r.body.text))),
      10_000,
    );
    io.out(`  (only Carol sees) ${String(refusal.body.text)}`);

    say(`Alice (an approver) presses "Grant & restart" and confirms…`);
    const [incident] = await bot.store.listIncidents();
    await sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel,
      ts: posted.ts,
      actionId: ACTIONS.grantRestart,
    });
    const printed = new Map<string, string>();
    await until(async () => {
      const rec = incident ? await bot?.store.getIncident(incident.id) : undefined;
      for (const step of rec?.fix?.steps ?? []) {
        const line = `${STEP_MARK[step.state]} ${stepLabel(step.id)}${step.detail ? ` — ${step.detail}` : ''}`;
        if (step.state !== 'pending' && printed.get(step.id) !== line) {
          printed.set(step.id, line);
          io.out(`  ${line}`);
        }
      }
      return rec?.status === 'fixed' || rec?.status === 'failed' ? rec : undefined;
    }, 90_000);
    await bot.messages.flush(incident?.id ?? '');
    // The counts come from the cluster: give the old ReplicaSet's pods the moment they take to go.
    await until(async () => {
      const text = slackMessageText(sb.slack.message(channel, posted.ts)?.blocks, '');
      return / 0 of \d+ pods? failing/.test(text) ? true : undefined;
    }, 10_000).catch(() => undefined);
    const final = sb.slack.message(channel, posted.ts) ?? posted;
    say(`The incident message, updated in place (${final.updates.length} updates):`);
    show(final);
    const replies = final.replies.map((r) => `  ↳ ${slackMessageText(undefined, r.text ?? '')}`).join('\n');
    if (replies) {
      say('Audit trail in the thread:');
      io.out(replies);
    }
    const repoName = incident?.diagnosis.image?.ar?.resourceName;
    const repo = repoName ? sb.google.world.repository(repoName) : undefined;
    if (repo) {
      say('The repository policy now (every other binding untouched):');
      for (const b of repo.iam.bindings)
        io.out(
          `  ${b.role}: ${b.members.join(', ')}${b.condition ? ` [if ${b.condition.title ?? b.condition.expression}]` : ''}`,
        );
    }
    const ok = /\*Fixed\*/.test(JSON.stringify(final.blocks ?? []));
    if (incident) {
      // The same messages as Slack draws them: this run's, then every other state of this incident.
      const ran: PreviewScene = {
        id: 'this-run',
        title: 'This demo run, as posted',
        note: 'The incident message after the fix, its thread, and the refusal Carol saw.',
        top: { text: final.text ?? '', blocks: (final.blocks ?? []) as object[] },
        thread: final.replies.map((r) => ({ text: r.text ?? '', blocks: (r.blocks ?? []) as object[] })),
        ephemeral: [
          { text: String(refusal.body.text ?? ''), blocks: (refusal.body.blocks as object[] | undefined) ?? [] },
        ],
      };
      const scenes = gallery({
        diagnosis: incident.diagnosis,
        affected: incident.affected,
        now: new Date(),
        people: { approver: SANDBOX_PEOPLE.approver, stranger: SANDBOX_PEOPLE.stranger },
      });
      await writeFile(out, previewPage(scenes, { title: `imagepull-bot demo — ${scenario}`, extra: [ran] }));
      say(`The messages as Slack draws them, every state: ${out}`);
    }
    say(
      ok
        ? `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: the pods run again.`
        : 'The fix did not verify (see above).',
    );
    return ok ? EXIT.ok : EXIT.failure;
  } finally {
    await bot?.stop();
    await sb.stop();
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    │ ${l}`)
    .join('\n');
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STEP_MARK = { pending: ' ', running: '…', done: '✓', failed: '✗', skipped: '⤼' } as const;
