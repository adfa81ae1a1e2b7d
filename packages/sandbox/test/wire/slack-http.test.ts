import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { App, type BlockButtonAction, LogLevel } from '@slack/bolt';
import {
  computeSignature,
  forgedHeaders,
  type SlackFake,
  STALE_AGE_SECONDS,
  signedHeaders,
  staleHeaders,
  startSlackFake,
} from '../../src/slack/index.ts';

const CHANNEL = 'C0INCIDENTS';

describe('Slack fake delivering signed HTTP requests to a real Bolt HTTP receiver', () => {
  let fake: SlackFake;
  let app: App;
  let server: Server;
  const commands: string[] = [];
  const clicks: BlockButtonAction[] = [];
  const homes: string[] = [];

  before(async () => {
    fake = await startSlackFake();
    app = new App({
      signingSecret: fake.signingSecret,
      token: fake.botToken,
      botId: fake.botId,
      botUserId: fake.botUserId,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command('/imagepull', async ({ ack, command }) => {
      commands.push(command.text);
      await ack({ response_type: 'in_channel', text: `Diagnosis of ${command.text} follows` });
    });
    app.action<BlockButtonAction>('recheck', async ({ ack, body }) => {
      clicks.push(body);
      await ack();
    });
    app.event('app_home_opened', async ({ event }) => {
      homes.push(event.user);
    });
    server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    fake.setHttpTarget(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  });

  after(async () => {
    await app?.stop();
    await fake?.stop();
  });

  it('delivers a correctly signed slash command as form fields and shows an in_channel ack to everyone', async () => {
    const delivery = await fake.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'prod/deployment/checkout' });
    assert.equal(delivery.transport, 'http');
    assert.equal(delivery.status, 200);
    assert.deepEqual(delivery.body, {
      response_type: 'in_channel',
      text: 'Diagnosis of prod/deployment/checkout follows',
    });
    assert.deepEqual(commands, ['prod/deployment/checkout']);
    const shown = fake.messages(CHANNEL).at(-1);
    assert.equal(shown?.text, 'Diagnosis of prod/deployment/checkout follows');
    assert.equal(shown?.via, 'ack');
  });

  it('refuses a forged signature with 401 and never runs the listener', async () => {
    const delivery = await fake.slashCommand({
      user: 'U0BOB',
      channel: CHANNEL,
      text: 'forged',
      tamper: 'forged-signature',
    });
    assert.equal(delivery.status, 401);
    assert.ok(!commands.includes('forged'));
  });

  it('refuses a six-minute-old timestamp with 401 (replay)', async () => {
    const delivery = await fake.slashCommand({
      user: 'U0BOB',
      channel: CHANNEL,
      text: 'stale',
      tamper: 'stale-timestamp',
    });
    assert.equal(delivery.status, 401);
    assert.ok(!commands.includes('stale'));
  });

  it('delivers a signed button click as payload=<json> and a signed event as JSON', async () => {
    const posted = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: 'incident',
      blocks: [
        {
          type: 'section',
          block_id: 'summary',
          text: { type: 'mrkdwn', text: 'incident' },
          accessory: {
            type: 'button',
            action_id: 'recheck',
            text: { type: 'plain_text', text: 'Re-check' },
            value: 'inc-7',
          },
        },
      ],
    });
    const click = await fake.clickButton({
      user: 'U0ALICE',
      channel: CHANNEL,
      ts: posted.ts ?? '',
      actionId: 'recheck',
    });
    assert.equal(click.status, 200);
    assert.equal(clicks.length, 1);
    assert.equal(clicks[0]?.actions[0]?.value, 'inc-7');
    assert.equal(clicks[0]?.actions[0]?.block_id, 'summary');
    assert.equal(clicks[0]?.message?.ts, posted.ts);

    const forgedClick = await fake.clickButton({
      user: 'U0ALICE',
      channel: CHANNEL,
      ts: posted.ts ?? '',
      actionId: 'recheck',
      tamper: 'forged-signature',
    });
    assert.equal(forgedClick.status, 401);
    assert.equal(clicks.length, 1);

    const home = await fake.openAppHome('U0CAROL');
    assert.equal(home.status, 200);
    await fake.waitFor(() => homes.includes('U0CAROL'));
    assert.deepEqual(fake.failures(), [], 'no delivery failed');
  });
});

describe('signing helpers', () => {
  it("compute Slack's v0 signature, and forged/stale variants that differ from it", () => {
    const body = 'token=x&text=hi';
    // Known answer from `printf 'v0:1700000000:token=x&text=hi' | openssl dgst -sha256 -hmac secret`.
    assert.equal(
      computeSignature('secret', 1_700_000_000, body),
      'v0=256afda5567c7f68fe785f773ffac73c66f6012dc8c809533e97b1018585670c',
    );
    const now = 1_700_000_000;
    const good = signedHeaders('secret', body, now);
    assert.equal(good['x-slack-request-timestamp'], String(now));
    assert.match(good['x-slack-signature'], /^v0=[0-9a-f]{64}$/);
    assert.notEqual(forgedHeaders('secret', body, now)['x-slack-signature'], good['x-slack-signature']);
    const stale = staleHeaders('secret', body, now);
    assert.equal(stale['x-slack-request-timestamp'], String(now - STALE_AGE_SECONDS));
    assert.equal(stale['x-slack-signature'], computeSignature('secret', now - STALE_AGE_SECONDS, body));
  });
});
