import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { eventually } from '../helpers.ts';
import { buildDist, type ServeProcess, startServe } from '../serve-process.ts';

const MB = 1024 * 1024;

/** The process' resident memory now and at its peak (VmRSS, VmHWM), in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * Bounded memory (docs/alerts.md, "Bounded memory"): a wave of 9 MB Pub/Sub messages — the size that once took the bot
 * to 363–403 MB — between ordinary alerts. Flow control bounds the bytes held at once (PUBSUB_MAX_BYTES), a body over
 * 1 MiB is refused before it is decoded or parsed (and collected soon after), and the bot as its own process (the
 * image's code, V8 flags and environment) stays within its 250 MB budget, keeps answering, and still records every
 * real alert.
 */
describe('a wave of 9 MB messages', () => {
  let sb: Sandbox;
  let bot: ServeProcess | undefined;

  before(async () => {
    sb = await startSandbox({ scenario: 'seed' });
  });
  after(async () => {
    await bot?.kill();
    await sb?.stop();
  });

  it('holds the bot within its memory budget; every one is acknowledged, every real alert recorded', async (t) => {
    // What the image runs: the compiled code, its heap flags and environment.
    bot = await startServe({ ...sb.env, LOG_LEVEL: 'debug' }, { ready: true, entry: buildDist() });
    const pid = bot.child.pid as number;
    await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
    const idle = memory(pid);
    const real = sb.google.logEntries({ perPod: 5 });
    const big = (i: number): Buffer => {
      const kind = i % 3;
      if (kind === 0) return randomBytes(9 * MB); // binary garbage
      const entry = real[i % real.length] as { jsonPayload?: { message?: string } };
      const padded = { ...entry, insertId: `big-${i}`, jsonPayload: { ...entry.jsonPayload } };
      // A real-looking LogEntry whose message is backslashes (kind 1; each is two characters in JSON) or text (kind 2):
      // 9 MB either way, under Pub/Sub's 10 MB limit.
      padded.jsonPayload.message = `${entry.jsonPayload?.message ?? ''} ${kind === 1 ? '\\'.repeat(4.5 * MB) : 'x'.repeat(9 * MB)}`;
      return Buffer.from(JSON.stringify(padded));
    };
    let worstHealthMs = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = Date.now();
        const r = await bot?.get('/healthz', 5000);
        worstHealthMs = Math.max(worstHealthMs, r?.status === 200 ? Date.now() - started : 5000);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const waves = 24;
    const received = () => bot?.lines.filter((l) => /"message":"alert (processed|ignored)"/.test(l)).length ?? 0;
    const unreadable = () => bot?.lines.filter((l) => /too large/.test(l)).length ?? 0;
    const channel = sb.env.INCIDENT_CHANNEL as string;
    try {
      for (let i = 0; i < waves; i++) {
        await sb.publish(big(i));
        const alert = real[i % real.length];
        if (alert) await sb.publish(alert as object);
      }
      await eventually(() => unreadable() >= waves, `all ${waves} large messages refused`, 120_000);
      await sb.slack.waitFor(() => sb.slack.messages(channel).length > 0, 30_000);
    } finally {
      probing = false;
      await probe;
    }
    const after = memory(pid);
    t.diagnostic(
      `${waves} × 9 MB messages between ${waves} alerts: RSS idle ${idle.rss.toFixed(0)} MB, peak ${after.peak.toFixed(0)} MB, ` +
        `after ${after.rss.toFixed(0)} MB; slowest /healthz ${worstHealthMs} ms; ${received()} messages handled`,
    );
    assert.ok(after.peak <= 250, `peak RSS ${after.peak.toFixed(0)} MB within the 250 MB budget`);
    // The wave's own cost: 54–75 MB with a collection soon after the refused bodies (src/shared/collect.ts), 75–110 MB
    // without (three streams, 10 runs each); 46–77 MB with the default four streams and --optimize-for-size (13 runs).
    assert.ok(after.peak - idle.rss <= 95, `the wave cost ${(after.peak - idle.rss).toFixed(0)} MB over idle`);
    assert.ok(worstHealthMs < 1000, `/healthz kept answering (slowest ${worstHealthMs} ms)`);
    assert.equal(sb.slack.messages(channel).length, 1, 'the real alerts still made their one incident');
    assert.equal(bot.child.exitCode, null, 'still running');
  });
});
