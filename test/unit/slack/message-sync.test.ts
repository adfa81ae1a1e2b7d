import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { ChatMessage, ChatPort, PostedRef } from '../../../src/ports/chat.port.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { SlackMessageSync } from '../../../src/slack/message-sync.ts';
import type { ClusterAccess } from '../../../src/usecases/cluster-access.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import { seedInput } from '../diagnosis/fixtures.ts';

/** A chat that records what would reach Slack, with timestamps. */
class RecordingChat implements ChatPort {
  readonly posts: { at: number; message: ChatMessage }[] = [];
  readonly updates: { at: number; message: ChatMessage }[] = [];
  async post(channel: string, message: ChatMessage): Promise<PostedRef> {
    this.posts.push({ at: Date.now(), message });
    return { channel, ts: `1700000000.${String(this.posts.length).padStart(6, '0')}` };
  }
  async update(_ref: PostedRef, message: ChatMessage): Promise<void> {
    this.updates.push({ at: Date.now(), message });
  }
  async reply(): Promise<void> {}
  async usergroupMembers(): Promise<readonly string[]> {
    return [];
  }
  async permalink(): Promise<string | undefined> {
    return undefined;
  }
}

const cluster = { project: 'acme-prod-417', location: 'us-central1', name: 'prod' };

/** The incident service with the Slack message sync over a recording chat: what a storm makes reach Slack. */
function service(chat: ChatPort, updateIntervalMs: number) {
  const store = new MemoryStore();
  const metrics = new Metrics({ defaults: false });
  const messages = new SlackMessageSync({
    store,
    chat,
    logger: silentLogger(),
    metrics,
    channel: 'C0INCIDENTS',
    fixMode: 'approve',
    updateIntervalMs,
  });
  const incidents = new IncidentService({
    store,
    notifier: messages,
    access: {} as ClusterAccess, // not reached by these tests
    logger: silentLogger(),
    metrics,
    planTtlMs: 86_400_000,
  });
  return { record: incidents.record.bind(incidents), close: () => messages.close() };
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
    const gaps = chat.updates.slice(1).map((u, i) => u.at - (chat.updates[i] as { at: number }).at);
    assert.ok(
      gaps.every((g) => g >= 190),
      `updates at least 200 ms apart (gaps ${gaps.join(', ')})`,
    );
    assert.ok(chat.updates.length <= Math.ceil(elapsed / 200) + 1, `${chat.updates.length} updates in ${elapsed} ms`);
    const last = chat.updates.at(-1)?.message ?? chat.posts[0]?.message;
    assert.match(JSON.stringify(last?.blocks), /\*60\* pod\(s\) in \*4\* workload\(s\) · 300 alert\(s\)/);
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
