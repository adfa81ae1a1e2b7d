import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { webApi } from '@slack/bolt';
import { type SlackFake, startSlackFake } from '../../src/slack/index.ts';

const CHANNEL = 'C0INCIDENTS';
const { WebClient } = webApi;

/** Keeps the WebClient from printing the validation errors these tests provoke on purpose. */
const quiet: webApi.Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};

const clientFor = (token: string | undefined, extra: webApi.WebClientOptions = {}) =>
  new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quiet, ...extra });

const section = (text: string, blockId?: string) => ({
  type: 'section',
  ...(blockId === undefined ? {} : { block_id: blockId }),
  text: { type: 'mrkdwn', text },
});

const button = (actionId: string, text = 'Go', extra: Record<string, unknown> = {}) =>
  ({ type: 'button', action_id: actionId, text: { type: 'plain_text', text }, ...extra }) as webApi.Button;

/** The Slack error code of a rejected WebClient call. */
async function slackError(call: Promise<unknown>): Promise<{ error: string; errors?: string[] }> {
  try {
    await call;
  } catch (err) {
    const data = (err as { data?: { error: string; errors?: string[] } }).data;
    assert.ok(data, `expected a Slack platform error, got ${String(err)}`);
    return data;
  }
  assert.fail('the call succeeded');
}

let fake: SlackFake;

describe('Slack fake Web API with the real WebClient', () => {
  let client: InstanceType<typeof WebClient>;

  before(async () => {
    fake = await startSlackFake({ usergroups: { S0APPROVERS: ['U0ALICE', 'U0BOB'] } });
    client = clientFor(fake.botToken);
  });

  after(async () => {
    await fake?.stop();
  });

  it('decodes form-encoded JSON fields and returns a Slack-shaped message', async () => {
    const res = await client.chat.postMessage({
      channel: CHANNEL,
      text: 'fallback',
      blocks: [section('hello', 'b1')],
      metadata: { event_type: 'imagepull_incident', event_payload: { incident: 'inc-1' } },
    });
    assert.equal(res.ok, true);
    assert.equal(res.channel, CHANNEL);
    assert.match(res.ts ?? '', /^\d{10}\.\d{6}$/);
    assert.equal(res.message?.bot_id, fake.botId);
    const call = fake.calls('chat.postMessage').at(-1);
    assert.deepEqual(call?.args.blocks, [section('hello', 'b1')], 'blocks arrive parsed, not as a JSON string');
    assert.equal(call?.args.token, undefined, 'the token is never recorded');
    const stored = fake.message(CHANNEL, res.ts ?? '');
    assert.deepEqual(stored?.metadata, { event_type: 'imagepull_incident', event_payload: { incident: 'inc-1' } });
  });

  it('accepts application/json bodies with a Bearer token', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: 'incidents', text: 'json body', blocks: [section('json')] }),
    });
    assert.equal(res.status, 200);
    const json = (await res.json()) as { ok: boolean; channel: string };
    assert.deepEqual([json.ok, json.channel], [true, CHANNEL], 'a channel name resolves to its id');
  });

  it('answers invalid_auth, not_authed and not_allowed_token_type like Slack', async () => {
    const wrong = clientFor('xoxb-wrong');
    assert.equal((await slackError(wrong.chat.postMessage({ channel: CHANNEL, text: 'x' }))).error, 'invalid_auth');
    const none = clientFor(undefined);
    assert.equal((await slackError(none.chat.postMessage({ channel: CHANNEL, text: 'x' }))).error, 'not_authed');
    assert.equal((await slackError(client.apps.connections.open({}))).error, 'not_allowed_token_type');
    const withApp = clientFor(fake.appToken);
    assert.equal(
      (await slackError(withApp.chat.postMessage({ channel: CHANNEL, text: 'x' }))).error,
      'not_allowed_token_type',
    );
    const me = await client.auth.test();
    assert.deepEqual([me.user_id, me.bot_id, me.team_id], [fake.botUserId, fake.botId, fake.teamId]);
    const opened = await withApp.apps.connections.open({});
    assert.match(String(opened.url), /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    assert.equal(
      (await slackError(client.apiCall('reactions.add', { channel: CHANNEL, name: 'eyes' }))).error,
      'unknown_method',
    );
  });

  it('rejects a section text over 3000 characters with invalid_blocks and a json-pointer', async () => {
    const data = await slackError(
      client.chat.postMessage({ channel: CHANNEL, text: 'too long', blocks: [section('x'.repeat(3001))] }),
    );
    assert.equal(data.error, 'invalid_blocks');
    assert.deepEqual(data.errors, ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
    assert.equal(
      fake.messages(CHANNEL).some((m) => m.text === 'too long'),
      false,
    );
  });

  it('rejects a duplicate action_id within one block but allows it across blocks', async () => {
    const dup = await slackError(
      client.chat.postMessage({
        channel: CHANNEL,
        text: 'dup',
        blocks: [{ type: 'actions', elements: [button('grant'), button('grant')] }],
      }),
    );
    assert.equal(dup.error, 'invalid_blocks');
    assert.match(dup.errors?.[0] ?? '', /duplicate action_id grant .*\/blocks\/0\/elements\/1\/action_id/);

    const ok = await client.chat.postMessage({
      channel: CHANNEL,
      text: 'two incidents',
      blocks: [
        { type: 'actions', block_id: 'a', elements: [button('grant')] },
        { type: 'actions', block_id: 'b', elements: [button('grant')] },
      ],
    });
    assert.equal(ok.ok, true);
  });

  it('enforces the other Block Kit limits a renderer can break', async () => {
    const cases: { name: string; blocks: unknown[]; pointer: string }[] = [
      { name: '51 blocks', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })), pointer: '/blocks' },
      {
        name: 'header over 150',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
        pointer: '/blocks/0/text/text',
      },
      {
        name: 'button text over 75',
        blocks: [{ type: 'actions', elements: [button('a', 'b'.repeat(76))] }],
        pointer: '/blocks/0/elements/0/text/text',
      },
      {
        name: 'button value over 2000',
        blocks: [{ type: 'actions', elements: [button('a', 'Go', { value: 'v'.repeat(2001) })] }],
        pointer: '/blocks/0/elements/0/value',
      },
      {
        name: 'action_id over 255',
        blocks: [{ type: 'actions', elements: [button('a'.repeat(256))] }],
        pointer: '/blocks/0/elements/0/action_id',
      },
      {
        name: 'context text over 3000',
        blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'c'.repeat(3001) }] }],
        pointer: '/blocks/0/elements/0/text',
      },
      {
        name: 'duplicate block_id',
        blocks: [section('a', 'same'), section('b', 'same')],
        pointer: '/blocks/1/block_id',
      },
      {
        name: 'confirm without deny',
        blocks: [
          {
            type: 'actions',
            elements: [
              button('a', 'Go', {
                confirm: {
                  title: { type: 'plain_text', text: 'Sure?' },
                  text: { type: 'plain_text', text: 'Really' },
                  confirm: { type: 'plain_text', text: 'Yes' },
                },
              }),
            ],
          },
        ],
        pointer: '/blocks/0/elements/0/confirm/deny',
      },
      {
        name: 'mrkdwn button text',
        blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'mrkdwn', text: '*b*' } }] }],
        pointer: '/blocks/0/elements/0/text/type',
      },
      { name: 'unknown block type', blocks: [{ type: 'sectoin' }], pointer: '/blocks/0/type' },
    ];
    for (const c of cases) {
      const data = await slackError(
        client.chat.postMessage({ channel: CHANNEL, text: c.name, blocks: c.blocks as [] }),
      );
      assert.equal(data.error, 'invalid_blocks', c.name);
      assert.ok(
        data.errors?.some((e) => e.endsWith(`[json-pointer:${c.pointer}]`)),
        `${c.name}: ${JSON.stringify(data.errors)}`,
      );
    }
  });

  it('flags blocks without a top-level text instead of refusing them', async () => {
    const res = await client.chat.postMessage({ channel: CHANNEL, blocks: [section('no fallback')] });
    assert.equal(res.ok, true);
    assert.equal(fake.message(CHANNEL, res.ts ?? '')?.missingText, true);
    assert.deepEqual(fake.calls('chat.postMessage').at(-1)?.warnings, ['missing_text']);
    assert.equal((await slackError(client.apiCall('chat.postMessage', { channel: CHANNEL }))).error, 'no_text');
  });

  it('updates a message in place keeping history, and refuses unknown messages and channels', async () => {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'v1', blocks: [section('v1')] });
    const ts = posted.ts ?? '';
    await client.chat.update({ channel: CHANNEL, ts, text: 'v2' });
    await client.chat.update({ channel: CHANNEL, ts, text: 'v3', blocks: [section('v3')] });
    const m = fake.message(CHANNEL, ts);
    assert.equal(m?.text, 'v3');
    assert.deepEqual(m?.blocks, [section('v3')]);
    assert.deepEqual(
      m?.updates.map((u) => u.text),
      ['v2', 'v3'],
    );
    assert.deepEqual(m?.updates[0]?.blocks, [section('v1')], 'blocks omitted from chat.update are kept');
    assert.equal(
      (await slackError(client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }))).error,
      'message_not_found',
    );
    assert.equal(
      (await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).error,
      'channel_not_found',
    );
  });

  it('threads replies, lists them with conversations.replies, and gives permalinks', async () => {
    const parent = await client.chat.postMessage({ channel: CHANNEL, text: 'parent' });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: parent.ts ?? '', text: 'reply 1' });
    await client.chat.postMessage({ channel: CHANNEL, thread_ts: parent.ts ?? '', text: 'reply 2' });
    const thread = await client.conversations.replies({ channel: CHANNEL, ts: parent.ts ?? '' });
    assert.deepEqual(
      thread.messages?.map((m) => m.text),
      ['parent', 'reply 1', 'reply 2'],
    );
    const link = await client.chat.getPermalink({ channel: CHANNEL, message_ts: parent.ts ?? '' });
    assert.equal(
      link.permalink,
      `https://sandbox.slack.com/archives/${CHANNEL}/p${(parent.ts ?? '').replace('.', '')}`,
    );
    assert.equal(
      (await slackError(client.chat.postMessage({ channel: CHANNEL, thread_ts: '1.000001', text: 'x' }))).error,
      'thread_not_found',
    );
  });

  it('resolves user groups and users, and posts ephemerals only to members', async () => {
    const group = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    assert.deepEqual(group.users, ['U0ALICE', 'U0BOB']);
    assert.equal((await slackError(client.usergroups.users.list({ usergroup: 'S0NONE' }))).error, 'no_such_subteam');
    const info = await client.users.info({ user: 'U0BOB' });
    assert.equal(info.user?.name, 'bob');
    assert.equal((await slackError(client.users.info({ user: 'U0GHOST' }))).error, 'user_not_found');
    const eph = await client.chat.postEphemeral({ channel: CHANNEL, user: 'U0CAROL', text: 'only you' });
    assert.ok(eph.message_ts);
    assert.deepEqual(
      fake.ephemerals('U0CAROL').map((e) => [e.text, e.ts]),
      [['only you', eph.message_ts]],
    );
    assert.equal(
      (await slackError(client.chat.postEphemeral({ channel: CHANNEL, user: 'U0GHOST', text: 'x' }))).error,
      'user_not_in_channel',
    );
  });

  it('sends the token scopes in x-oauth-scopes and refuses a method whose scope the token lacks', async () => {
    const who = await client.auth.test();
    assert.deepEqual(who.response_metadata?.scopes, [
      'chat:write',
      'commands',
      'usergroups:read',
      'channels:read',
      'groups:read',
    ]);
    fake.setScopes(['chat:write', 'commands']);
    try {
      const refused = await slackError(client.usergroups.users.list({ usergroup: 'S0APPROVERS' }));
      assert.equal(refused.error, 'missing_scope');
      assert.deepEqual((await client.auth.test()).response_metadata?.scopes, ['chat:write', 'commands']);
    } finally {
      fake.setScopes(['chat:write', 'commands', 'usergroups:read', 'channels:read', 'groups:read']);
    }
  });

  it('says whether the bot is in a channel, and refuses its posts where it is not', async () => {
    const info = await client.conversations.info({ channel: CHANNEL });
    assert.equal(info.channel?.is_member, true);
    fake.setBotMember(CHANNEL, false);
    try {
      assert.equal((await client.conversations.info({ channel: CHANNEL })).channel?.is_member, false);
      assert.equal(
        (await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'hi' }))).error,
        'not_in_channel',
      );
    } finally {
      fake.setBotMember(CHANNEL, true);
    }
    assert.equal((await slackError(client.conversations.info({ channel: 'C0NOSUCH' }))).error, 'channel_not_found');
  });

  it('counts chat.update per message in 3-second windows', async () => {
    const busy = await client.chat.postMessage({ channel: CHANNEL, text: 'busy' });
    const calm = await client.chat.postMessage({ channel: CHANNEL, text: 'calm' });
    for (let i = 0; i < 4; i++) await client.chat.update({ channel: CHANNEL, ts: busy.ts ?? '', text: `busy ${i}` });
    await client.chat.update({ channel: CHANNEL, ts: calm.ts ?? '', text: 'calm 1' });
    const report = fake.rateReport();
    assert.deepEqual(report.chatUpdateByMessage[`${CHANNEL}/${busy.ts}`], { calls: 4, maxPer3s: 4 });
    assert.deepEqual(report.chatUpdateByMessage[`${CHANNEL}/${calm.ts}`], { calls: 1, maxPer3s: 1 });
    assert.ok(report.maxChatUpdatesPerMessagePer3s >= 4);
    assert.equal(report.methods['chat.update']?.tier, 'tier3');
    assert.equal(report.methods['chat.update']?.calls, fake.calls('chat.update').length);
    assert.ok((report.postMessageByChannel[CHANNEL]?.maxPerSecond ?? 0) >= 2);
  });
});

describe('Slack fake rate-limit enforcement and latency', () => {
  before(async () => {
    fake = await startSlackFake({ enforceRateLimits: true, latencyMs: 30 });
  });

  after(async () => {
    await fake?.stop();
  });

  it('answers 429 with Retry-After when chat.postMessage bursts past its per-channel allowance', async () => {
    const client = clientFor(fake.botToken, { rejectRateLimitedCalls: true });
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) => client.chat.postMessage({ channel: CHANNEL, text: `storm ${i}` })),
    );
    assert.ok(Date.now() - started >= 30, 'the configured latency is applied');
    const limited = outcomes.filter(
      (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'slack_webapi_rate_limited_error',
    );
    assert.equal(limited.length, 2);
    assert.equal(fake.messages(CHANNEL).length, 5);
    assert.equal(fake.rateReport().rateLimited, 2);
    const refused = fake.calls('chat.postMessage').filter((c) => c.status === 429);
    assert.equal(refused.length, 2);
  });
});
