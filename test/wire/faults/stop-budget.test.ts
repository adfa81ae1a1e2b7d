import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Sandbox, startSandbox } from '@imagepull/sandbox';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import { loadConfig } from '../../../src/config.ts';
import { type Bot, startBot } from '../../../src/main.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import '../helpers.ts';

/**
 * A stop phase that hangs (here the state store never finishes closing) must not hold the process past its grace
 * period: it is logged by name and the stop goes on (docs/operations.md, "Stopping").
 */
describe('a stop phase that hangs', () => {
  let sb: Sandbox;
  let bot: Bot | undefined;
  const lines: string[] = [];

  before(async () => {
    sb = await startSandbox({ scenario: 'seed' });
  });
  after(async () => {
    await sb?.stop();
  });

  it('is given up on at the budget, named in the log, and the stop completes', { timeout: 20_000 }, async () => {
    const store = new MemoryStore();
    store.close = () => new Promise<void>(() => undefined);
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    );
    bot = await startBot(loadConfig(sb.env), { logger, store, sweepIntervalMs: 0, stopBudgetMs: 1500 });
    await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
    const began = Date.now();
    await bot.stop();
    const took = Date.now() - began;
    assert.ok(took < 4000, `stopped in ${took} ms despite the store`);
    const overrun = lines.map((l) => JSON.parse(l)).find((l) => /overran the stop budget/.test(l.message));
    assert.equal(overrun?.phase, 'state store', 'the hanging phase is named');
    assert.equal(bot.stopping, 'stopped');
    assert.equal(sb.slack.socketConnections().open, 0, 'the phases before it ran: Slack disconnected');
  });
});
