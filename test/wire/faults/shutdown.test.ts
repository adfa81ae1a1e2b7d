import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import type { StateStore } from '../../../src/ports/store.port.ts';
import { eventually, sandboxStore } from '../helpers.ts';
import { type ServeProcess, startServe } from '../serve-process.ts';

/**
 * SIGTERM with alerts in flight (docs/alerts.md, "Acknowledging"): the bot stops pulling, lets what it holds finish or
 * hands it back, and exits 0; the next process gets the rest. Nothing is lost, nothing is counted twice, and the
 * incident is posted once — redeliveries are deduplicated by the alert's id.
 */
describe('SIGTERM with alerts in flight', () => {
  let sb: Sandbox;
  let first: ServeProcess | undefined;
  let second: ServeProcess | undefined;
  let store: StateStore;

  before(async () => {
    // 250 ms per Google and Kubernetes call: the first investigation (and the alerts held behind it) is still
    // running when the signal comes.
    sb = await startSandbox({ scenario: 'seed', firestore: true, latencyMs: 250 });
    store = sandboxStore(sb);
  });
  after(async () => {
    await first?.kill();
    await second?.kill();
    await store?.close();
    await sb?.stop();
  });

  const recorded = async () => (await store.listIncidents()).reduce((n, i) => n + i.alertCount, 0);

  it('loses nothing and counts nothing twice; the next process takes the rest', async (t) => {
    // Flow control at 1,000 messages, so that some are still in Pub/Sub at the signal.
    first = await startServe({ ...sb.env, LOG_LEVEL: 'debug', PUBSUB_MAX_MESSAGES: '1000' }, { ready: true });
    await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
    // More than flow control lets one process hold.
    const alerts = sb.google.logEntries({ perPod: 500 });
    assert.ok(alerts.length >= 1200, `${alerts.length} distinct alerts`);
    await Promise.all(alerts.map((a) => sb.publish(a as object)));
    // The signal comes while the bot is working on them: as the incident is created and the alerts held behind its
    // investigation are being recorded.
    await eventually(() => first?.lines.some((l) => /"message":"incident created"/.test(l)), 'the incident created');
    const stopping = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited();
    const stopSeconds = (Date.now() - stopping) / 1000;
    if (process.env.DEBUG_SHUTDOWN) for (const l of first.lines.filter((l) => /phase|overran/.test(l))) t.diagnostic(l);
    assert.equal(code, 0, `a clean exit; the last lines:\n${first.lines.slice(-12).join('\n')}`);
    assert.ok(stopSeconds < 25, `stopped in ${stopSeconds.toFixed(1)} s, within the grace period`);
    const processed = first.lines.filter((l) => /"message":"alert processed"/.test(l));
    const handedBack = processed.filter((l) => /"ack":false/.test(l)).length;
    const byFirst = await recorded();
    assert.ok(byFirst < alerts.length, `the first process had not recorded them all (${byFirst})`);

    second = await startServe({ ...sb.env }, { ready: true });
    await eventually(async () => (await recorded()) >= alerts.length, 'every alert recorded', 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await recorded(), alerts.length, 'each alert counted once: redeliveries deduplicated');
    const channel = sb.env.INCIDENT_CHANNEL as string;
    assert.equal(sb.slack.messages(channel).length, 1, 'one incident message, not one per process');
    t.diagnostic(
      `${alerts.length} alerts; SIGTERM → exit 0 in ${stopSeconds.toFixed(1)} s; the first process recorded ` +
        `${byFirst} and handed ${handedBack} back; the second recorded the other ${alerts.length - byFirst}; ` +
        `1 incident post`,
    );
  });
});
