import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { visibleText } from '../../../src/slack/preview/visible-text.ts';
import { eventually, type Harness, startHarness } from '../helpers.ts';

interface Entry {
  insertId: string;
  resource: { labels: Record<string, string> };
}

/**
 * Alerts are input from whoever can publish to the topic. 100 alerts naming 100 clusters that do not exist were 100
 * incident posts; now they are one message that says which clusters could not be read and why, and a real alert
 * beside them still gets its incident.
 */
describe('alerts for clusters the bot cannot read', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario: 'seed', botEnv: { UPDATE_INTERVAL_SECONDS: '1' } });
  });
  after(() => h?.stop());

  const tops = () => h.sb.slack.messages(h.channel).filter((m) => !m.threadTs);

  it('100 made-up clusters: one message, counting all 100 alerts, and no incident post', async () => {
    const [template] = h.sb.google.logEntries({ perPod: 1, pods: [h.sb.google.scenario.target.pod] }) as Entry[];
    assert.ok(template);
    for (let i = 0; i < 100; i++) {
      const e = structuredClone(template);
      e.insertId = `made-up-${i}`;
      e.resource.labels.cluster_name = `ghost-${String(i).padStart(3, '0')}`;
      await h.sb.publish(e);
    }
    const shown = () => visibleText(tops()[0]?.blocks ?? []);
    await eventually(
      () => /100 alerts from 100 clusters could not be investigated/.test(shown()),
      'the message to count all 100 alerts',
      30_000,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}; the channel shows:\n${tops()
          .map((m) => visibleText(m.blocks ?? []))
          .join('\n---\n')}`,
      );
    });
    const text = shown();
    assert.match(text, /Cluster not found — 100 alerts/);
    assert.match(text, /ghost-0\d\d/, 'names clusters');
    assert.match(text, / and 96 more\n/, 'names a few and counts the rest');
    assert.equal(tops().length, 1, 'one message, no incident per cluster');
    assert.deepEqual(await h.bot.store.listIncidents(), [], 'no incident stored for them');
  });

  it('a real alert beside them still posts its incident, and the count message is not posted again', async () => {
    const [entry] = h.sb.google.logEntries({ perPod: 1, pods: [h.sb.google.scenario.target.pod] });
    await h.sb.publish(entry as object);
    await eventually(() => tops().length === 2, 'the incident post');
    const [, incident] = tops();
    assert.doesNotMatch(visibleText(incident?.blocks ?? []), /could not be investigated/);
    assert.equal((await h.bot.store.listIncidents()).length, 1);
    // More made-up clusters in the same hour edit the one message.
    const [template] = h.sb.google.logEntries({ perPod: 1, pods: [h.sb.google.scenario.target.pod] }) as Entry[];
    assert.ok(template);
    const e = structuredClone(template);
    e.insertId = 'made-up-late';
    e.resource.labels.project_id = 'not-a-project-of-ours';
    await h.sb.publish(e);
    await eventually(
      () => /101 alerts from 101 clusters/.test(visibleText(tops()[0]?.blocks ?? [])),
      'the message edited to 101 alerts',
    );
    assert.equal(tops().length, 2);
  });
});
