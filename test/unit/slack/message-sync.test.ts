import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { IncidentCounts } from '../../../src/incidents/counts.ts';
import { ChatError, type ChatMessage, type ChatPort, type PostedRef } from '../../../src/ports/chat.port.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { type MessageSyncDeps, SlackMessageSync } from '../../../src/slack/message-sync.ts';
import { visibleText } from '../../../src/slack/preview/visible-text.ts';
import type { ClusterAccess } from '../../../src/usecases/cluster-access.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import { seedInput } from '../diagnosis/fixtures.ts';

/** A chat that records what would reach Slack, with timestamps, per channel. */
class RecordingChat implements ChatPort {
  readonly posts: { at: number; channel: string; ts: string; message: ChatMessage }[] = [];
  readonly updates: { at: number; ref: PostedRef; message: ChatMessage }[] = [];
  readonly replies: { ref: PostedRef; ts: string; message: ChatMessage }[] = [];
  #n = 0;
  #ts(): string {
    return `1700000000.${String(++this.#n).padStart(6, '0')}`;
  }
  async post(channel: string, message: ChatMessage): Promise<PostedRef> {
    const ts = this.#ts();
    this.posts.push({ at: Date.now(), channel, ts, message });
    return { channel, ts };
  }
  async update(ref: PostedRef, message: ChatMessage): Promise<void> {
    this.updates.push({ at: Date.now(), ref, message });
  }
  async reply(ref: PostedRef, message: ChatMessage): Promise<PostedRef> {
    const ts = this.#ts();
    this.replies.push({ ref, ts, message });
    return { channel: ref.channel, ts };
  }
  async usergroupMembers(): Promise<readonly string[]> {
    return [];
  }
  async permalink(ref: PostedRef): Promise<string | undefined> {
    return `https://sandbox.slack.com/archives/${ref.channel}/p${ref.ts.replace('.', '')}`;
  }
  /** Top-level updates of one copy (thread replies are edited too, with their own ts). */
  updatesOf(ts: string) {
    return this.updates.filter((u) => u.ref.ts === ts);
  }
}

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

/** The incident service with the Slack message sync over a recording chat: what a storm makes reach Slack. */
function service(
  chat: ChatPort,
  updateIntervalMs: number,
  options: { owners?: Record<string, string>; counts?: MessageSyncDeps['counts']; store?: MemoryStore } = {},
) {
  // A store shared by several calls is several replicas of the bot.
  const store = options.store ?? new MemoryStore();
  const metrics = new Metrics({ defaults: false });
  const messages = new SlackMessageSync({
    store,
    chat,
    logger: silentLogger(),
    metrics,
    routing: { owners: new Map(Object.entries(options.owners ?? {})), defaultChannel: 'C0INCIDENTS' },
    fixMode: 'approve',
    updateIntervalMs,
    ...(options.counts ? { counts: options.counts } : {}),
  });
  const incidents = new IncidentService({
    store,
    notifier: messages,
    access: {} as ClusterAccess, // not reached by these tests
    logger: silentLogger(),
    metrics,
    planTtlMs: 86_400_000,
  });
  return {
    store,
    incidents,
    messages,
    record: incidents.record.bind(incidents),
    close: () => messages.close(),
  };
}

describe('the incident message under an alert storm', () => {
  it('posts one message per root cause and coalesces updates to one per interval', async () => {
    const chat = new RecordingChat();
    const incidents = service(chat, 200);
    const d = diagnose(seedInput());
    const start = Date.now();
    // 300 sightings of 60 pods in 4 deployments over ~1 s, all the same root cause.
    for (let i = 0; i < 300; i++) {
      const w = i % 4;
      await incidents.record(
        d,
        {
          cluster,
          namespace: 'prod',
          pod: `svc${w}-abc-${i % 60}`,
          workload: { kind: 'Deployment', namespace: 'prod', name: `svc${w}` },
          alerts: 1,
        },
        { kind: 'alert' },
      );
      if (i % 30 === 0) await new Promise((r) => setTimeout(r, 100));
    }
    await incidents.close();
    const elapsed = Date.now() - start;
    assert.equal(chat.posts.length, 1, 'one message');
    const top = chat.updatesOf(chat.posts[0]?.ts ?? '');
    const gaps = top.slice(1).map((u, i) => u.at - (top[i] as { at: number }).at);
    assert.ok(
      gaps.every((g) => g >= 190),
      `updates at least 200 ms apart (gaps ${gaps.join(', ')})`,
    );
    assert.ok(top.length <= Math.ceil(elapsed / 200) + 1, `${top.length} updates in ${elapsed} ms`);
    const last = top.at(-1)?.message ?? chat.posts[0]?.message;
    // No counts reader here: the message says it shows what the alerts saw.
    assert.match(
      visibleText(last?.blocks ?? []),
      /60 pods seen failing in 4 workloads \(the cluster could not be read/,
    );
  });

  it('keeps different root causes apart', async () => {
    const chat = new RecordingChat();
    const incidents = service(chat, 0);
    const seed = diagnose(seedInput());
    const other = diagnose(seedInput({}, undefined, 'us-docker.pkg.dev/acme-shared-artifacts/base/checkout:1.8.2'));
    assert.notEqual(seed.key, other.key);
    await incidents.record(seed, { cluster, namespace: 'prod', pod: 'a', alerts: 1 }, { kind: 'alert' });
    await incidents.record(other, { cluster, namespace: 'prod', pod: 'b', alerts: 1 }, { kind: 'alert' });
    await incidents.record(seed, { cluster, namespace: 'prod', pod: 'c', alerts: 1 }, { kind: 'alert' });
    await incidents.close();
    assert.equal(chat.posts.length, 2);
  });
});

describe('two replicas editing one message', () => {
  it('keep its edits an interval apart even when one replica is slow to read the counts', async () => {
    const chat = new RecordingChat();
    const store = new MemoryStore();
    const interval = 500;
    const replica = (countsDelayMs: number) => {
      let n = 0;
      // Each render shows new counts (so each is a real edit); one replica takes its time reading them.
      return service(chat, interval, {
        store,
        counts: async () => {
          await new Promise((r) => setTimeout(r, countsDelayMs));
          n++;
          return { failingPods: n, pods: 100, failingWorkloads: 1, workloads: 1 };
        },
      });
    };
    const fast = replica(0);
    const slow = replica(400);
    const d = diagnose(seedInput());
    const sighting = (i: number) => ({
      cluster,
      namespace: 'prod',
      pod: `checkout-abc-${i}`,
      workload: checkout,
      alerts: 1,
    });
    await fast.record(d, sighting(0), { kind: 'alert' });
    const until = Date.now() + 4000;
    for (let i = 1; Date.now() < until; i++) {
      await (i % 2 ? slow : fast).record(d, sighting(i), { kind: 'alert' });
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all([fast.close(), slow.close()]);
    assert.equal(chat.posts.length, 1, 'one message');
    const top = chat.updatesOf(chat.posts[0]?.ts ?? '');
    assert.ok(top.length >= 4, `the message was edited along the way (${top.length} edits)`);
    const gaps = top.slice(1).map((u, i) => u.at - (top[i] as { at: number }).at);
    assert.ok(
      gaps.every((g) => g >= interval - 10),
      `edits at least ${interval} ms apart across replicas (gaps ${gaps.join(', ')})`,
    );
  });
});

describe('the first post of a new incident', () => {
  it('goes out under the post lease taken with the incident’s creation, and no other replica posts it', async () => {
    // The first replica's post is held up, so the second sees the incident before any post is stored.
    const { promise: gate, resolve: open } = Promise.withResolvers<void>();
    const chat = new (class extends RecordingChat {
      override async post(channel: string, message: ChatMessage): Promise<PostedRef> {
        await gate;
        return super.post(channel, message);
      }
    })();
    const store = new MemoryStore();
    const acquired: string[] = [];
    const counting = new Proxy(store, {
      get(target, key) {
        if (key === 'acquireLock')
          return (name: string, owner: string, ttlMs: number) => {
            acquired.push(name);
            return target.acquireLock(name, owner, ttlMs);
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const replica = () => service(chat, 0, { store: counting });
    const a = replica();
    const b = replica();
    const d = diagnose(seedInput());
    const sighting = (pod: string) => ({ cluster, namespace: 'prod', pod, alerts: 1 });
    const first = a.record(d, sighting('checkout-1'), { kind: 'alert' });
    let id = '';
    while (!id) {
      await new Promise((r) => setTimeout(r, 5));
      id = (await store.listIncidents())[0]?.id ?? '';
    }
    await b.record(d, sighting('checkout-2'), { kind: 'alert' });
    await b.messages.flush(id);
    assert.deepEqual(acquired, [`post:${id}:C0INCIDENTS`], 'only the other replica asked for the post lease');
    open();
    await first;
    await Promise.all([a.close(), b.close()]);
    assert.equal(chat.posts.length, 1, 'one post, by the replica that created the incident');
  });
});

const checkout = { kind: 'Deployment' as const, namespace: 'prod', name: 'checkout' };
const payments = { kind: 'Deployment' as const, namespace: 'payments', name: 'ledger' };

describe('owner routing: one copy per owner channel, kept in step', () => {
  it('posts to each owner’s channel with the details as the first reply, and edits every copy', async () => {
    const chat = new RecordingChat();
    const s = service(chat, 0, { owners: { payments: 'C0PAYMENTS' } });
    const d = diagnose(seedInput());
    await s.record(
      d,
      { cluster, namespace: 'prod', pod: 'checkout-a', workload: checkout, alerts: 1 },
      { kind: 'alert' },
    );
    assert.deepEqual(
      chat.posts.map((p) => p.channel),
      ['C0INCIDENTS'],
      'prod has no owner: the default channel',
    );
    const r = await s.record(
      d,
      { cluster, namespace: 'payments', pod: 'ledger-b', workload: payments, alerts: 1 },
      { kind: 'alert' },
    );
    await s.messages.flush(r.id);
    assert.deepEqual(
      chat.posts.map((p) => p.channel),
      ['C0INCIDENTS', 'C0PAYMENTS'],
      'a workload in payments brings its owners in',
    );
    const stored = await s.store.getIncident(r.id);
    assert.deepEqual(
      stored?.posts?.map((p) => p.channel),
      ['C0INCIDENTS', 'C0PAYMENTS'],
    );
    for (const post of stored?.posts ?? []) {
      assert.match(post.permalink ?? '', new RegExp(post.channel), 'the permalink is stored when posting');
      const first = chat.replies.find((x) => x.ref.ts === post.ts);
      assert.equal(first?.ts, post.detailsTs, 'the details are the first reply in each thread');
      assert.match(visibleText(first?.message.blocks ?? []), /Evidence/);
    }
    // Both copies show both workloads.
    const prodCopy = chat.updatesOf(stored?.posts?.[0]?.ts ?? '').at(-1)?.message;
    assert.match(visibleText(prodCopy?.blocks ?? []), /deployment\/checkout and 1 more in prod, payments/);
    const payCopy = chat.posts[1]?.message;
    assert.match(visibleText(payCopy?.blocks ?? []), /deployment\/checkout and 1 more in prod, payments/);
    // The audit trail goes under every copy.
    await s.messages.note({
      at: new Date().toISOString(),
      incidentId: r.id,
      action: 'dismiss',
      user: 'U0ALICE',
      result: 'dismissed',
    });
    const dismissals = chat.replies.filter((x) => /Dismissed by <@U0ALICE>/.test(x.message.text));
    assert.deepEqual(dismissals.map((x) => x.ref.channel).sort(), ['C0INCIDENTS', 'C0PAYMENTS']);
    await s.close();
  });

  it('posts again only the copy someone deleted', async () => {
    const chat = new RecordingChat();
    const s = service(chat, 0, { owners: { payments: 'C0PAYMENTS' } });
    const d = diagnose(seedInput());
    await s.record(d, { cluster, namespace: 'prod', pod: 'a', workload: checkout, alerts: 1 }, { kind: 'alert' });
    const r = await s.record(
      d,
      { cluster, namespace: 'payments', pod: 'b', workload: payments, alerts: 1 },
      { kind: 'alert' },
    );
    await s.messages.flush(r.id);
    const deleted = chat.posts[0]?.ts;
    chat.update = async (ref, message) => {
      if (ref.ts === deleted) throw new ChatError('message_not_found', true, 'chat.update: message_not_found');
      chat.updates.push({ at: Date.now(), ref, message });
    };
    await s.record(d, { cluster, namespace: 'prod', pod: 'c', workload: checkout, alerts: 1 }, { kind: 'alert' });
    await s.messages.flush(r.id);
    await s.messages.flush(r.id);
    assert.deepEqual(
      chat.posts.map((p) => p.channel),
      ['C0INCIDENTS', 'C0PAYMENTS', 'C0INCIDENTS'],
    );
    const stored = await s.store.getIncident(r.id);
    assert.equal(stored?.posts?.length, 2);
    assert.ok(!stored?.posts?.some((p) => p.ts === deleted));
    await s.close();
  });
});

describe('how bad, read from the cluster on each update', () => {
  it('shows the live counts, falls back to the alerts when the cluster cannot be read, and sends nothing unchanged', async () => {
    const chat = new RecordingChat();
    let counts: IncidentCounts | Error = { failingPods: 3, pods: 3, failingWorkloads: 1, workloads: 1 };
    const s = service(chat, 0, {
      counts: async () => {
        if (counts instanceof Error) throw counts;
        return counts;
      },
    });
    const d = diagnose(seedInput());
    const r = await s.record(
      d,
      { cluster, namespace: 'prod', pod: 'a', workload: checkout, alerts: 1 },
      { kind: 'alert' },
    );
    assert.match(visibleText(chat.posts[0]?.message.blocks ?? []), /3 of 3 pods failing in 1 workload/, 'not "1 pod"');
    const ts = chat.posts[0]?.ts ?? '';
    await s.messages.flush(r.id);
    assert.equal(chat.updatesOf(ts).length, 0, 'same counts, same message: no chat.update');
    counts = { failingPods: 1, pods: 3, failingWorkloads: 1, workloads: 1 };
    await s.messages.flush(r.id);
    assert.match(visibleText(chat.updatesOf(ts).at(-1)?.message.blocks ?? []), /1 of 3 pods failing/);
    counts = new Error('connect ETIMEDOUT');
    await s.messages.flush(r.id);
    assert.match(
      visibleText(chat.updatesOf(ts).at(-1)?.message.blocks ?? []),
      /1 pod seen failing in 1 workload \(the cluster could not be read just now\)/,
    );
    await s.close();
  });
});
