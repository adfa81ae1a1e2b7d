import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../../src/shared/logger.ts';

describe('the log', () => {
  it('redacts tokens, secrets, Authorization headers and response URLs: at the top level, one level down, and in (request) headers', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = createLogger('info', sink as unknown as Parameters<typeof createLogger>[1]);
    const secrets = {
      token: 'xoxb-111-222-secret',
      botToken: 'xoxb-333-444-secret',
      appToken: 'xapp-1-555-secret',
      signingSecret: 'signing-secret-0123456789',
      authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
      response_url: 'https://hooks.slack.com/actions/T0/1/secret',
    };
    log.warn(secrets, 'top level');
    log.warn({ req: { headers: { authorization: secrets.authorization } } }, 'nested headers');
    log.warn({ headers: { authorization: secrets.authorization } }, 'headers');
    log.warn({ body: secrets }, 'one level down');
    const text = lines.join('');
    for (const [k, v] of Object.entries(secrets)) assert.ok(!text.includes(v), `${k} is in the log`);
    assert.match(text, /\[REDACTED\]/);
    assert.equal(JSON.parse(lines[0] ?? '{}').severity, 'WARNING', 'Cloud Logging severity');
  });
});
