import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, SANDBOX_PEOPLE, type Sandbox, startSandbox } from '@imagepull/sandbox';
import { parseAlert } from '../../../src/alerts/parse-alert.ts';
import { loadConfig } from '../../../src/config.ts';
import { type Bot, startBot } from '../../../src/main.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { eventually } from '../helpers.ts';

const REPO = 'projects/acme-prod-417/locations/us-central1/repositories/services';

/**
 * Two replicas sharing one subscription and one Firestore (emulator): exactly one of them posts each incident and
 * applies each fix, however the alerts and the clicks are spread between them (docs/architecture.md, "State").
 */
describe('two replicas, one subscription, Firestore state', () => {
  let sb: Sandbox;
  const bots: Bot[] = [];

  before(async () => {
    sb = await startSandbox({ scenario: 'seed', firestore: true, propagationDelayMs: 200 });
    for (let i = 0; i < 2; i++) {
      const env = { ...sb.env, PORT: String(await freePort()) };
      bots.push(await startBot(loadConfig(env), { logger: silentLogger(), sweepIntervalMs: 0 }));
    }
    await sb.slack.waitFor(() => sb.slack.socketConnections().open >= 2, 10_000);
  });
  after(async () => {
    for (const b of bots) await b.stop();
    await sb?.stop();
  });

  it('posts one message for many alerts about the same root cause, whichever replica receives them', async () => {
    const entries = sb.google.logEntries({ perPod: 4 });
    assert.ok(entries.length >= 12, `several pods, several entries each (got ${entries.length})`);
    // Half through Pub/Sub (whichever replica's stream gets them), half straight into replica 2's intake, as if its
    // own stream had received them: the two replicas race on the same root cause.
    const half = Math.floor(entries.length / 2);
    await Promise.all([
      ...entries.slice(0, half).map((e) => sb.publish(e)),
      ...entries.slice(half).map((e) => bots[1]!.intake.handle(parseAlert(JSON.stringify(e)))),
    ]);
    const channel = sb.env.INCIDENT_CHANNEL as string;
    await eventually(
      async () => {
        const [incident] = await bots[0]!.store.listIncidents();
        return incident && incident.alertCount === entries.length ? incident : undefined;
      },
      'every alert counted on the incident',
      30_000,
    );
    assert.equal(sb.slack.messages(channel).filter((m) => !m.threadTs).length, 1, 'exactly one incident message');
  });

  it('applies a fix once, even when the approver double-clicks and the clicks land on different replicas', async () => {
    const channel = sb.env.INCIDENT_CHANNEL as string;
    const [message] = sb.slack.messages(channel);
    assert.ok(message);
    await Promise.all([
      sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel, ts: message.ts, actionId: ACTIONS.grantRestart }),
      sb.slack.clickButton({ user: SANDBOX_PEOPLE.approver, channel, ts: message.ts, actionId: ACTIONS.grantRestart }),
    ]);
    await eventually(
      () => /\*Fixed\*/.test(JSON.stringify(sb.slack.message(channel, message.ts)?.blocks)),
      'Fixed',
      30_000,
    );
    assert.equal(sb.google.world.repository(REPO)?.iam.writes, 1, 'one IAM write');
    const cluster = sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
    assert.equal(cluster?.kube.patches.filter((p) => p.name === 'checkout').length, 1, 'one restart');
    const second = await eventually(
      // Told the truth: still running, or (when the other replica's click arrives after the run) already fixed.
      () => sb.slack.responses().find((r) => /already running|the incident is fixed/.test(String(r.body.text))),
      'the answer to the second click',
    ).catch(() => undefined);
    assert.ok(
      second,
      `the second click is told a fix is already running or done (got: ${sb.slack
        .responses()
        .map((r) => String(r.body.text))
        .join(' / ')})`,
    );
  });
});
