import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SANDBOX_PEOPLE, type Sandbox, startSandbox } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { eventually } from '../helpers.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

/** Credentials no log line could contain by chance. */
const secrets = {
  botToken: `xoxb-${randomBytes(12).toString('hex')}`,
  appToken: `xapp-${randomBytes(12).toString('hex')}`,
  signingSecret: randomBytes(16).toString('hex'),
};

/** Every log line that holds a credential, or a 12-character piece of one (a truncated or quoted leak). */
function leaks(lines: readonly string[]): string[] {
  const pieces = Object.values(secrets).flatMap((s) => [s, s.slice(-12), s.slice(5, 17)]);
  return lines.filter((l) => pieces.some((p) => l.includes(p)));
}

const isError = (line: string) => /"level":50/.test(line);

async function run(mode: 'http' | 'socket', flows: (sb: Sandbox, bot: ServeProcess) => Promise<void>) {
  const sb = await startSandbox({ scenario: 'seed', slackMode: mode, slackCredentials: secrets });
  let bot: ServeProcess | undefined;
  try {
    bot = await startServe({ ...sb.env, LOG_LEVEL: 'debug' }, { ready: true });
    if (mode === 'http') sb.slack.setHttpTarget(`http://127.0.0.1:${bot.port}/slack/events`);
    else await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 15_000);
    await flows(sb, bot);
    const lines = bot.lines;
    bot.child.kill('SIGTERM');
    await bot.exited();
    return lines;
  } finally {
    await bot?.kill();
    await sb.stop();
  }
}

/**
 * Secrets never logged: the bot as its own process at LOG_LEVEL=debug, with credentials of our choosing, through every
 * flow that logs — an alert and its post, Slack failing (500s, then an error no retry fixes), a forged request, a
 * command, a refused click, an approved fix and its undo, shutdown — then every line it wrote is searched for them.
 */
describe('no credential in any log line', () => {
  it('HTTP mode: signing secret and bot token', async () => {
    const lines = await run('http', async (sb, bot) => {
      const channel = sb.env.INCIDENT_CHANNEL as string;
      sb.slack.failNext('chat.postMessage', 500, 2);
      const [entry] = sb.google.logEntries({ perPod: 1, pods: [sb.google.scenario.target.pod] });
      await sb.publish(entry as object);
      const top = await sb.slack.waitFor(() => sb.slack.messages(channel).find((m) => !m.threadTs), 40_000);
      await sb.slack.slashCommand({
        user: SANDBOX_PEOPLE.approver,
        channel,
        text: 'diagnose',
        tamper: 'forged-signature',
      });
      await sb.slack.slashCommand({ user: SANDBOX_PEOPLE.approver, channel, text: 'diagnose --image nope' });
      await sb.slack.clickButton({
        user: SANDBOX_PEOPLE.stranger,
        channel,
        ts: top.ts,
        actionId: ACTIONS.grantRestart,
      });
      sb.slack.failNext('chat.update', 500, 1);
      await sb.slack.clickButton({
        user: SANDBOX_PEOPLE.approver,
        channel,
        ts: top.ts,
        actionId: ACTIONS.grantRestart,
      });
      await eventually(
        () => /Fixed/.test(JSON.stringify(sb.slack.message(channel, top.ts)?.blocks ?? [])),
        'the fix to finish',
        60_000,
      );
      // An error no retry fixes: Slack refuses the token for the undo's message edit and thread reply.
      for (const m of ['chat.update', 'chat.postMessage']) sb.slack.failNext(m, 401, 2);
      await sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel, ts: top.ts, actionId: ACTIONS.undo });
      await eventually(() => bot.lines.some(isError), 'the refused update logged as an error', 30_000);
      await eventually(
        () => /Undone|undone/.test(JSON.stringify(sb.slack.message(channel, top.ts)?.blocks ?? [])),
        'the undo shown once Slack takes the token again',
        60_000,
      );
      await sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel, ts: top.ts, actionId: ACTIONS.recheck });
    });
    assert.ok(lines.length > 20, `the flows logged (${lines.length} lines)`);
    assert.ok(lines.some(isError), 'errors were logged (the failure paths ran)');
    assert.deepEqual(leaks(lines), []);
  });

  it('Socket Mode: app token and bot token', async () => {
    const lines = await run('socket', async (sb) => {
      const channel = sb.env.INCIDENT_CHANNEL as string;
      const [entry] = sb.google.logEntries({ perPod: 1, pods: [sb.google.scenario.target.pod] });
      await sb.publish(entry as object);
      await sb.slack.waitFor(() => sb.slack.messages(channel).find((m) => !m.threadTs), 40_000);
      await sb.slack.slashCommand({ user: SANDBOX_PEOPLE.stranger, channel, text: 'diagnose' });
      sb.slack.failNext('chat.postEphemeral', 500, 2);
      await sb.slack.slashCommand({ user: SANDBOX_PEOPLE.approver, channel, text: 'status' });
    });
    assert.ok(lines.length > 20, `the flows logged (${lines.length} lines)`);
    assert.deepEqual(leaks(lines), []);
  });
});
