import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { eventually } from '../helpers.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

/**
 * No request can kill the process (docs/architecture.md, "Slack"): the bot as its own process in HTTP mode, sent
 * malformed but correctly signed requests — what only someone holding the signing secret, or a Slack bug, could send.
 * Each gets a 4xx/5xx within seconds; afterwards the process still runs and still answers a real command.
 */
describe('signed but malformed Slack requests', () => {
  let sb: Sandbox;
  let bot: ServeProcess;
  before(async () => {
    sb = await startSandbox({ scenario: 'seed', slackMode: 'http', pubsub: false });
    bot = await startServe({ ...sb.env });
    sb.slack.setHttpTarget(`http://127.0.0.1:${bot.port}/slack/events`);
  });
  after(async () => {
    await bot?.kill();
    await sb?.stop();
  });

  const send = async (body: string, contentType = 'application/x-www-form-urlencoded') => {
    const ts = Math.floor(Date.now() / 1000);
    const secret = sb.env.SLACK_SIGNING_SECRET as string;
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const r = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
      body,
      signal: AbortSignal.timeout(5000),
    });
    return r.status;
  };

  const form = (payload: string) => `payload=${encodeURIComponent(payload)}`;
  const MALFORMED: [string, string, string?][] = [
    ['payload=null', 'payload=null'],
    ['payload=[]', form('[]')],
    ['payload=1', form('1')],
    ['payload="text"', form('"text"')],
    ['payload is not JSON', form('{not json')],
    ['payload given twice', `${form('{}')}&${form('{}')}`],
    ['block_actions without actions', form('{"type":"block_actions"}')],
    ['block_actions with actions null', form('{"type":"block_actions","actions":null}')],
    [
      'block_actions with a null user',
      form('{"type":"block_actions","user":null,"actions":[{"action_id":"imagepull_undo"}]}'),
    ],
    ['view_submission without a view', form('{"type":"view_submission"}')],
    ['a JSON null body', 'null', 'application/json'],
    ['a JSON array body', '[]', 'application/json'],
    ['an event callback with a null event', '{"type":"event_callback","event":null}', 'application/json'],
    ['an event callback without event', '{"type":"event_callback"}', 'application/json'],
    ['a command without text', 'command=%2Fimagepull'],
    ['a body over 1 MiB', `text=${'x'.repeat(1_100_000)}`],
  ];

  for (const [what, body, type] of MALFORMED) {
    it(`${what}: answered with an error status, and the process lives`, async () => {
      const status = await send(body, type);
      assert.ok(status >= 400 && status < 600, `status ${status}`);
      assert.equal(
        bot.child.exitCode,
        null,
        `the process is still running (last lines: ${bot.lines.slice(-3).join(' | ')})`,
      );
      assert.equal((await bot.get('/healthz'))?.status, 200);
    });
  }

  it('still answers a real slash command afterwards', async () => {
    await sb.slack.slashCommand({ user: 'U0ALICE', channel: sb.env.INCIDENT_CHANNEL as string, text: 'help' });
    await eventually(() => sb.slack.failures().length === 0, 'no delivery failure');
    assert.equal(bot.child.exitCode, null);
    assert.ok(
      bot.lines.some((l) => /malformed Slack request refused/.test(l)),
      'the refusals were logged',
    );
  });
});
