import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { App, type BlockButtonAction, LogLevel, type SlashCommand } from '@slack/bolt';
import { AckTimeoutError, type SlackFake, startSlackFake } from '../../src/slack/index.ts';

const CHANNEL = 'C0INCIDENTS';

const incidentBlocks = (title: string) => [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: title } },
  {
    type: 'actions',
    block_id: 'fix',
    elements: [
      {
        type: 'button',
        action_id: 'grant',
        text: { type: 'plain_text', text: 'Grant & restart' },
        style: 'primary',
        value: 'plan-1',
        confirm: {
          title: { type: 'plain_text', text: 'Grant reader?' },
          text: { type: 'mrkdwn', text: 'Adds roles/artifactregistry.reader' },
          confirm: { type: 'plain_text', text: 'Grant' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      { type: 'button', action_id: 'dismiss', text: { type: 'plain_text', text: 'Dismiss' }, value: 'plan-1' },
    ],
  },
];

describe('Slack fake with a real Bolt app in Socket Mode', () => {
  let fake: SlackFake;
  let app: App;
  const seenCommands: SlashCommand[] = [];
  const seenActions: BlockButtonAction[] = [];

  before(async () => {
    fake = await startSlackFake({ ackTimeoutMs: 1500, usergroups: { S0APPROVERS: ['U0ALICE'] } });
    app = new App({
      socketMode: true,
      appToken: fake.appToken,
      token: fake.botToken,
      botId: fake.botId,
      botUserId: fake.botUserId,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command('/imagepull', async ({ ack, command, respond, client }) => {
      seenCommands.push(command);
      if (command.text === 'silent') return; // never acks: Slack's 3-second rule must fire
      if (command.text === 'ephemeral-button') {
        await ack();
        await respond({ response_type: 'ephemeral', text: 'Choose', blocks: incidentBlocks('ephemeral choice') });
        return;
      }
      if (command.text === 'bad-ack') {
        await ack({
          text: 'oversized',
          blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
        });
        return;
      }
      if (command.text === 'keep-url') {
        await ack();
        return;
      }
      await ack({ response_type: 'ephemeral', text: `Diagnosing ${command.text}…` });
      await client.chat.postMessage({
        channel: CHANNEL,
        text: 'checkout cannot pull its image',
        blocks: incidentBlocks('*checkout* cannot pull its image'),
      });
      await respond({ response_type: 'ephemeral', text: 'Posted to #incidents' });
    });
    app.action<BlockButtonAction>('grant', async ({ ack, body, client, respond }) => {
      await ack();
      seenActions.push(body);
      if (body.container.is_ephemeral === true) {
        await respond({ replace_original: true, text: 'Granted (ephemeral)' });
        return;
      }
      const members = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
      await client.chat.update({
        channel: body.channel?.id ?? '',
        ts: body.message?.ts ?? '',
        text: `Approved by <@${body.user.id}>`,
        blocks: [
          { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: `Approved by <@${body.user.id}>` } },
        ],
      });
      await client.chat.postMessage({
        channel: body.channel?.id ?? '',
        thread_ts: body.message?.ts ?? '',
        text: `audit: approvers=${(members.users ?? []).join(',')}`,
      });
      await respond({ response_type: 'ephemeral', text: 'Applying the grant…' });
    });
    app.action<BlockButtonAction>('dismiss', async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: 'Dismissing…' });
      await respond({ delete_original: true });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({
        user_id: event.user,
        view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Hello <@${event.user}>` } }] },
      });
    });
    await app.start();
  });

  after(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('delivers a slash command, shows its ack to the user, and records the bot’s post and respond()', async () => {
    const delivery = await fake.slashCommand({ user: 'U0ALICE', channel: CHANNEL, text: 'prod/checkout-abc' });

    assert.equal(delivery.transport, 'socket-mode');
    assert.equal(delivery.status, 200);
    assert.deepEqual(delivery.payload, { response_type: 'ephemeral', text: 'Diagnosing prod/checkout-abc…' });
    const command = seenCommands.at(-1);
    assert.ok(command);
    assert.equal(command.user_id, 'U0ALICE');
    assert.equal(command.user_name, 'alice');
    assert.equal(command.channel_id, CHANNEL);
    assert.equal(command.channel_name, 'incidents');
    assert.equal(command.command, '/imagepull');
    assert.equal(command.team_id, fake.teamId);
    assert.equal(command.api_app_id, fake.appId);
    assert.match(command.response_url, /^http:\/\/127\.0\.0\.1:\d+\/response\//);
    assert.ok(command.trigger_id.length > 10);

    const posted = await fake.waitFor(() => fake.messages(CHANNEL)[0]);
    assert.equal(posted.text, 'checkout cannot pull its image');
    assert.equal(posted.user, fake.botUserId);
    assert.equal(posted.via, 'chat.postMessage');
    assert.equal(posted.missingText, false);
    const said = await fake.waitFor(() => fake.responses().find((r) => r.body.text === 'Posted to #incidents'));
    assert.equal(said.status, 200);
    assert.equal(said.effect, 'new-ephemeral');
    const ephemeralTexts = fake.ephemerals('U0ALICE').map((e) => e.text);
    assert.deepEqual(ephemeralTexts, ['Diagnosing prod/checkout-abc…', 'Posted to #incidents']);
    assert.equal(fake.ephemerals('U0BOB').length, 0);
  });

  it('delivers a button click built from the stored message and shows the chat.update in place', async () => {
    const incident = fake.messages(CHANNEL)[0];
    assert.ok(incident);
    const delivery = await fake.clickButton({ user: 'U0ALICE', channel: CHANNEL, ts: incident.ts, actionId: 'grant' });
    assert.equal(delivery.transport, 'socket-mode');
    assert.ok(delivery.envelope_id);

    const body = seenActions.at(-1);
    assert.ok(body);
    assert.equal(body.type, 'block_actions');
    assert.deepEqual(body.user, { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: fake.teamId });
    assert.deepEqual(body.container, {
      type: 'message',
      message_ts: incident.ts,
      channel_id: CHANNEL,
      is_ephemeral: false,
    });
    assert.equal(body.channel?.id, CHANNEL);
    assert.equal(body.message?.ts, incident.ts);
    assert.equal(body.actions[0]?.action_id, 'grant');
    assert.equal(body.actions[0]?.block_id, 'fix');
    assert.equal(body.actions[0]?.value, 'plan-1');
    assert.equal(body.actions[0]?.text.text, 'Grant & restart');

    const updated = await fake.waitFor(() => {
      const m = fake.message(CHANNEL, incident.ts);
      return m !== undefined && m.updates.length === 1 && m.replies.length === 1 ? m : undefined;
    });
    assert.equal(updated.text, 'Approved by <@U0ALICE>');
    assert.equal(updated.original.text, 'checkout cannot pull its image');
    assert.equal(updated.updates[0]?.via, 'chat.update');
    assert.equal(updated.replies[0]?.text, 'audit: approvers=U0ALICE');
    assert.equal(fake.messages(CHANNEL).length, 1, 'the thread reply is not a top-level message');
    await fake.waitFor(() => fake.ephemerals('U0ALICE').find((e) => e.text === 'Applying the grant…'));
  });

  it('refuses a click on a button that is no longer in the message', async () => {
    const incident = fake.messages(CHANNEL)[0];
    assert.ok(incident);
    await assert.rejects(
      fake.clickButton({ user: 'U0ALICE', channel: CHANNEL, ts: incident.ts, actionId: 'grant' }),
      /no button with action_id grant/,
    );
  });

  it('lets a user click a button in an ephemeral message and replaces it through response_url', async () => {
    await fake.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'ephemeral-button' });
    const choice = await fake.waitFor(() => fake.ephemerals('U0BOB').find((e) => e.text === 'Choose'));
    await assert.rejects(
      fake.clickButton({ user: 'U0ALICE', channel: CHANNEL, ts: choice.ts, actionId: 'grant' }),
      /can see/,
      "another user cannot click bob's ephemeral message",
    );

    await fake.clickButton({ user: 'U0BOB', channel: CHANNEL, ts: choice.ts, actionId: 'grant' });
    const body = seenActions.at(-1);
    assert.equal(body?.container.is_ephemeral, true);
    assert.equal(body?.container.message_ts, choice.ts);
    assert.equal(body?.message, undefined, 'Slack sends no message body for ephemeral messages');
    const replaced = await fake.waitFor(() =>
      fake.ephemerals('U0BOB').find((e) => e.ts === choice.ts && e.updates.length),
    );
    assert.equal(replaced.text, 'Granted (ephemeral)');
    assert.equal(replaced.blocks, undefined);
  });

  it('publishes the App Home when the user opens it', async () => {
    const delivery = await fake.openAppHome('U0CAROL');
    assert.equal(delivery.transport, 'socket-mode');
    assert.equal((delivery.request.event as { type: string }).type, 'app_home_opened');
    const view = (await fake.waitFor(() => fake.homeViews('U0CAROL'))) as { type: string; blocks: unknown[] };
    assert.equal(view.type, 'home');
    assert.deepEqual(view.blocks, [{ type: 'section', text: { type: 'mrkdwn', text: 'Hello <@U0CAROL>' } }]);
  });

  it('stops honouring a response_url after five uses', async () => {
    await fake.slashCommand({ user: 'U0ALICE', channel: CHANNEL, text: 'keep-url' });
    const url = seenCommands.at(-1)?.response_url;
    assert.ok(url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `update ${i}`, replace_original: true }),
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 404]);
    const last = fake.responses().at(-1);
    assert.equal(last?.error, 'used_url');
    const shown = fake.ephemerals('U0ALICE').filter((e) => e.text?.startsWith('update '));
    assert.equal(shown.length, 1, 'replace_original replaced the first response instead of adding new ones');
    assert.equal(shown[0]?.text, 'update 4');
  });

  it('applies delete_original from a click to the clicked message, not to the bot’s ephemeral reply', async () => {
    const posted = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: 'to dismiss',
      blocks: incidentBlocks('x'),
    });
    const ts = posted.ts ?? '';
    await fake.clickButton({ user: 'U0CAROL', channel: CHANNEL, ts, actionId: 'dismiss', value: 'plan-1' });
    await fake.waitFor(() => fake.message(CHANNEL, ts)?.deleted);
    assert.equal(
      fake.messages(CHANNEL).some((m) => m.ts === ts),
      false,
    );
    assert.deepEqual(
      fake.ephemerals('U0CAROL').map((e) => e.text),
      ['Dismissing…'],
    );
    assert.deepEqual(
      fake
        .responses()
        .slice(-2)
        .map((r) => r.effect),
      ['new-ephemeral', 'deleted'],
    );
  });

  it('records an ack body Slack would refuse, and shows nothing', async () => {
    const delivery = await fake.slashCommand({ user: 'U0CAROL', channel: CHANNEL, text: 'bad-ack' });
    assert.equal(delivery.payload?.text, 'oversized');
    const failure = fake.failures().at(-1);
    assert.equal(failure?.reason, 'invalid-ack-payload');
    assert.match(failure?.detail ?? '', /invalid_blocks: must be less than 151 characters/);
    assert.equal(
      fake.ephemerals('U0CAROL').some((e) => e.text === 'oversized'),
      false,
    );
  });

  it('fails a delivery the bot never acks, and records it', async () => {
    await assert.rejects(
      fake.slashCommand({ user: 'U0ALICE', channel: CHANNEL, text: 'silent' }),
      (err: unknown) => err instanceof AckTimeoutError && /did not ack slash_commands/.test(err.message),
    );
    const failure = fake.failures().at(-1);
    assert.equal(failure?.reason, 'ack-timeout');
    assert.equal(failure?.type, 'slash_commands');
  });

  it('lets the client reconnect after Slack asks it to, and keeps delivering', async () => {
    assert.deepEqual(fake.socketConnections(), { open: 1, total: 1 });
    fake.disconnectSocketMode();
    await fake.waitFor(() => {
      const c = fake.socketConnections();
      return c.total === 2 && c.open === 1;
    }, 15_000);
    assert.equal(fake.calls('apps.connections.open').length, 2);
    const delivery = await fake.slashCommand({ user: 'U0ALICE', channel: CHANNEL, text: 'after-reconnect' });
    assert.equal(delivery.payload?.text, 'Diagnosing after-reconnect…');
    // The listener goes on posting after its ack; let it finish before teardown.
    await fake.waitFor(() => fake.responses().filter((r) => r.body.text === 'Posted to #incidents').length === 2);
  });
});
