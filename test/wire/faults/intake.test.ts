import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { PubSub, type Subscription, type Topic } from '@google-cloud/pubsub';
import { type Emulator, type Sandbox, startPubsubEmulator, startSandbox } from '@imagepull/sandbox';
import { loadConfig } from '../../../src/config.ts';
import { type Bot, startBot } from '../../../src/main.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';
import { eventually } from '../helpers.ts';

/**
 * Intake recovers by itself (docs/alerts.md, "Acknowledging"): the bot pulls through a proxy the test can cut, from an
 * emulator the test can delete subscriptions in or replace. While it cannot pull, `/readyz` says so; once it can,
 * every alert published meanwhile is recorded, none twice.
 */
const PROJECT = 'acme-prod-417';

interface World {
  sb: Sandbox;
  emulator: Emulator;
  proxy: TcpProxy;
  admin: PubSub;
  topic: Topic;
  sub: Subscription;
  bot: Bot;
  /** Ten distinct alerts (insertIds) for the seed's failing pods. */
  alerts: object[];
}

async function ready(w: World): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${w.sb.env.PORT}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(
    () => undefined,
  );
  return r?.status ?? 0;
}

async function alertCount(w: World): Promise<number> {
  const [incident] = await w.bot.store.listIncidents();
  return incident?.alertCount ?? 0;
}

describe('alert intake under faults', () => {
  let w: World;
  const extra: { stop(): Promise<unknown> }[] = [];

  beforeEach(async () => {
    const sb = await startSandbox({ scenario: 'seed', pubsub: false });
    const emulator = await startPubsubEmulator({ projectId: PROJECT });
    const proxy = await startTcpProxy(emulator.host);
    const admin = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    const [topic] = await admin.createTopic('gke-image-pull');
    const [sub] = await topic.createSubscription('imagepull-bot', { ackDeadlineSeconds: 30 });
    const bot = await startBot(
      loadConfig({
        ...sb.env,
        PUBSUB_SUBSCRIPTION: sub.name,
        PUBSUB_EMULATOR_HOST: proxy.host,
        PUBSUB_HEALTH_CHECK_SECONDS: '0.5',
      }),
      { logger: silentLogger(), sweepIntervalMs: 0 },
    );
    await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
    const alerts = sb.google.logEntries({ perPod: 4 }).slice(0, 10);
    assert.equal(alerts.length, 10);
    w = { sb, emulator, proxy, admin, topic, sub, bot, alerts };
  });

  afterEach(async () => {
    await w?.bot.stop();
    await w?.admin.close();
    await w?.proxy.stop();
    await w?.emulator.stop();
    await w?.sb.stop();
    for (const e of extra.splice(0)) await e.stop();
  });
  after(async () => {
    for (const e of extra.splice(0)) await e.stop();
  });

  const publish = async (topic: Topic, alerts: readonly object[]) => {
    for (const a of alerts) await topic.publishMessage({ data: Buffer.from(JSON.stringify(a)) });
  };

  it('the subscription deleted and recreated: not ready meanwhile, then every alert recorded once', async (t) => {
    await publish(w.topic, w.alerts.slice(0, 2));
    await eventually(async () => (await alertCount(w)) === 2, 'two alerts recorded');
    assert.equal(await ready(w), 200);
    await w.sub.delete();
    await eventually(async () => (await ready(w)) === 503, '/readyz 503 while the subscription is missing', 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await ready(w), 503, 'still not ready');
    const [again] = await w.topic.createSubscription('imagepull-bot', { ackDeadlineSeconds: 30 });
    w.sub = again;
    const recreatedAt = Date.now();
    await publish(w.topic, w.alerts.slice(2));
    await eventually(async () => (await alertCount(w)) === 10, 'all ten alerts recorded', 60_000);
    const took = Date.now() - recreatedAt;
    await eventually(async () => (await ready(w)) === 200, '/readyz 200 again', 30_000);
    assert.equal(w.sb.slack.messages(w.sb.env.INCIDENT_CHANNEL as string).length, 1, 'one incident message');
    assert.ok(took < 60_000, `recorded ${took} ms after the subscription came back`);
    t.diagnostic(`all alerts recorded ${took} ms after the subscription was recreated`);
  });

  it('the connection cut for 10 s: not ready meanwhile, then every alert published during the cut recorded', async (t) => {
    await publish(w.topic, w.alerts.slice(0, 1));
    await eventually(async () => (await alertCount(w)) === 1, 'the first alert recorded');
    const cutAt = Date.now();
    w.proxy.cut();
    await eventually(async () => (await ready(w)) === 503, '/readyz 503 while the connection is cut', 10_000);
    await publish(w.topic, w.alerts.slice(1));
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - cutAt))));
    assert.equal(await alertCount(w), 1, 'nothing got through the cut');
    w.proxy.restore();
    const restoredAt = Date.now();
    await eventually(async () => (await alertCount(w)) === 10, 'the nine alerts published during the cut', 60_000);
    const took = Date.now() - restoredAt;
    await eventually(async () => (await ready(w)) === 200, '/readyz 200 again', 30_000);
    assert.ok(took < 60_000, `recorded ${took} ms after the connection came back`);
    t.diagnostic(`the nine alerts of the cut recorded ${took} ms after the connection came back`);
  });

  it('the emulator restarted mid-stream: the bot reconnects, no incident lost or doubled', async (t) => {
    await publish(w.topic, w.alerts.slice(0, 3));
    await eventually(async () => (await alertCount(w)) === 3, 'three alerts recorded');
    // A fresh emulator process (the restarted one: empty, until the topic and subscription are created again).
    const fresh = await startPubsubEmulator({ projectId: PROJECT });
    extra.push(fresh);
    const admin2 = new PubSub({ projectId: PROJECT, apiEndpoint: fresh.host, emulatorMode: true });
    extra.push({ stop: () => admin2.close() });
    w.proxy.retarget(fresh.host);
    await w.emulator.stop();
    const [topic2] = await admin2.createTopic('gke-image-pull');
    await topic2.createSubscription('imagepull-bot', { ackDeadlineSeconds: 30 });
    const restartedAt = Date.now();
    await publish(topic2, w.alerts.slice(3));
    await eventually(async () => (await alertCount(w)) === 10, 'every alert recorded once', 60_000);
    t.diagnostic(`the alerts after the restart recorded within ${Date.now() - restartedAt} ms`);
    const messages = w.sb.slack.messages(w.sb.env.INCIDENT_CHANNEL as string);
    assert.equal(messages.length, 1, 'one incident message');
    await eventually(async () => (await ready(w)) === 200, '/readyz 200', 30_000);
  });
});
