import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_PEOPLE } from '@imagepull/sandbox';
import { ACTIONS } from '../../../src/slack/ids.ts';
import { visibleText } from '../../../src/slack/preview/visible-text.ts';
import { buttons, eventually, type Harness, startHarness } from '../helpers.ts';

const PAYMENTS = 'C0PAYMENTS';

/**
 * One root cause hitting two teams (`two-teams`: checkout in prod, ledger in payments), with `payments` routed to its
 * owners' channel and the state in Firestore: one incident, one copy per owner channel, kept in step; a button in
 * either copy acts on the same incident; App Home lists it with its stored permalink, without asking Slack.
 */
describe('owner routing, end to end (Firestore state)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      scenario: 'two-teams',
      firestore: true,
      propagationDelayMs: 300,
      podStartMs: 50,
      slackChannels: [{ id: PAYMENTS, name: 'payments' }],
      botEnv: { OWNER_CHANNELS: `payments=${PAYMENTS}` },
    });
  });
  after(() => h?.stop());

  const top = (channel: string) => h.sb.slack.messages(channel).find((m) => !m.threadTs);

  it('posts the incident to each owner’s channel, with live counts for both teams', async () => {
    const cluster = h.sb.google.world.cluster('projects/acme-prod-417/locations/us-central1/clusters/prod');
    const ledger = (cluster?.kube.list('Pod', 'payments') ?? []).map((p) => p.metadata.name);
    assert.equal(ledger.length, 3);
    for (const entry of h.sb.google.logEntries({ pods: [h.sb.google.scenario.target.pod, ...ledger], perPod: 1 }))
      await h.sb.publish(entry);
    await eventually(() => top(h.channel) && top(PAYMENTS), 'a copy in #incidents and in #payments');
    const shown = (channel: string) => visibleText(h.sb.slack.message(channel, top(channel)?.ts ?? '')?.blocks ?? []);
    for (const channel of [h.channel, PAYMENTS])
      await eventually(
        // Whichever alert was handled first names its workload first.
        () =>
          /deployment\/(checkout|ledger) and 1 more in (prod, payments|payments, prod) .*— 6 of 6 pods failing in 2 workloads/.test(
            shown(channel),
          ),
        `both workloads and their 6 failing pods in the ${channel} copy`,
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; it shows:\n${shown(channel)}`);
      });
    // Slack has the copies a moment before the store has recorded both posts.
    const incident = await eventually(async () => {
      const [r] = await h.bot.store.listIncidents();
      return r?.posts?.length === 2 && r.posts.every((p) => p.permalink && p.detailsTs) ? r : undefined;
    }, 'both posts recorded');
    assert.deepEqual(incident.posts?.map((p) => p.channel).sort(), [h.channel, PAYMENTS].sort());
    assert.ok(
      incident?.posts?.every((p) => p.permalink && p.detailsTs),
      'permalink and details reply stored per copy',
    );
    assert.equal(h.sb.slack.messages(h.channel).filter((m) => !m.threadTs).length, 1, 'one message per channel');
  });

  it('a button in the payments copy fixes the incident, and both copies say so', async () => {
    const copy = top(PAYMENTS);
    assert.ok(copy);
    assert.ok(buttons(copy.blocks).some((b) => b.action_id === ACTIONS.grantRestart));
    await h.sb.slack.clickButton({
      user: SANDBOX_PEOPLE.approver,
      channel: PAYMENTS,
      ts: copy.ts,
      actionId: ACTIONS.grantRestart,
    });
    for (const channel of [h.channel, PAYMENTS]) {
      const ts = top(channel)?.ts ?? '';
      await eventually(
        () => /^✅ Fixed: /.test(visibleText(h.sb.slack.message(channel, ts)?.blocks ?? [])),
        `the ${channel} copy to say Fixed`,
        40_000,
      );
      await eventually(
        () =>
          h.sb.slack
            .message(channel, ts)
            ?.replies.some((r) => /Fix approved by <@U0ALICE> succeeded/.test(r.text ?? '')),
        `the audit reply under the ${channel} copy`,
      );
    }
  });

  it('App Home lists it with the stored permalink and makes no chat.getPermalink call', async () => {
    const before = h.sb.slack.calls('chat.getPermalink').length;
    await h.sb.slack.openAppHome(SANDBOX_PEOPLE.approver);
    const view = await eventually(() => h.sb.slack.homeViews(SANDBOX_PEOPLE.approver), 'the App Home view');
    assert.match(
      JSON.stringify(view),
      /<https?:[^|>]+\|Node service account lacks read access to repository services>/,
    );
    assert.equal(h.sb.slack.calls('chat.getPermalink').length, before, 'no permalink lookups on App Home open');
  });
});
