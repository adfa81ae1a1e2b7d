import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAlert } from '../../../src/alerts/parse-alert.ts';
import { classifyMessage } from '../../../src/diagnosis/classify.ts';

/**
 * Bounded work per message (docs/alerts.md, "Garbage"): whatever an alert says, parsing it and classifying its
 * message block the event loop for less than 50 ms. Anyone who can make a pod event say something (an image name in a
 * pod spec is enough) controls this text, so the inputs are built to hurt: the pieces every pattern is made of,
 * repeated and mixed, up to the size Pub/Sub allows.
 */
const BUDGET_MS = 50;

// The pieces the classifier's and the parser's patterns are made of: quotes and escapes, the words rules anchor on,
// URL and resource-name parts, label syntax, brackets.
const PIECES = [
  '\\',
  '\\\\',
  '"',
  "'",
  ' ',
  '  ',
  '\n',
  '\t',
  'n',
  'a',
  '0',
  '.',
  ':',
  '=',
  ',',
  ', ',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '<',
  '>',
  '&quot;',
  '&amp;',
  'denied',
  'denied ',
  'permission denied',
  'lookup ',
  'a.',
  'on ',
  'status',
  'Status ',
  'status code',
  'HTTP',
  'HTTP code ',
  '403',
  '404',
  '429',
  '500',
  'Forbidden',
  'not found',
  'http://',
  'https://a.b/v2/',
  '/manifests/',
  'sha256:',
  'failed to pull image "',
  'Failed to pull image "',
  'image pull failed for ',
  'Back-off pulling image "',
  'pull access denied for ',
  'manifest for ',
  'reading manifest ',
  ' in ',
  'x509:',
  'dial tcp ',
  '199.36.153.4',
  'i/o timeout',
  'projects/',
  '/locations/',
  '/repositories/',
  'Error: ',
  'ImagePullBackOff',
  'API error (500):',
  '(HTTP code 500)',
  'Log match condition with labels {',
  '} fired for',
  'message=',
  'pod=',
  'key=',
  '- **message**: ',
  '${log.extracted_label.message}',
];

function logEntry(message: string): string {
  return JSON.stringify({
    insertId: 'i1',
    logName: 'projects/acme-prod-417/logs/events',
    resource: {
      type: 'k8s_pod',
      labels: { project_id: 'acme-prod-417', location: 'us-central1', cluster_name: 'prod' },
    },
    jsonPayload: {
      kind: 'Event',
      reason: 'Failed',
      message: `Failed to pull image "${message}`,
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'prod' },
    },
  });
}

function monitoring(text: string): string {
  return JSON.stringify({
    version: '1.2',
    incident: {
      incident_id: 'm1',
      state: 'open',
      resource: { type: 'k8s_pod', labels: { project_id: 'acme-prod-417', pod_name: 'p', namespace_name: 'prod' } },
      condition: { conditionMatchedLog: {} },
      summary: `Log match condition with labels {message=${text}, pod=p} fired for k8s_pod`,
      documentation: { content: `- **message**: ${text}\n${text}` },
    },
  });
}

/**
 * Runs every parse of `text` (the payloads are built beforehand: only the bot's own work is timed) and returns the
 * longest time one of them blocked. Each is timed three times and the fastest kept: on a shared machine other load
 * only ever adds time, so the minimum is the cost of the input itself.
 */
function worst(text: string): number {
  const entry = logEntry(text);
  const notification = monitoring(text);
  let max = 0;
  for (const run of [() => classifyMessage(text), () => parseAlert(entry), () => parseAlert(notification)]) {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      run();
      best = Math.min(best, performance.now() - t);
    }
    max = Math.max(max, best);
  }
  return max;
}

/** Repeats `s` to about `chars` characters. */
function fill(s: string, chars: number): string {
  return s.repeat(Math.max(1, Math.ceil(chars / Math.max(1, s.length))));
}

describe('bounded work per message', () => {
  it(`every piece of every pattern, repeated to 600 KB, blocks < ${BUDGET_MS} ms`, () => {
    const slow: string[] = [];
    for (const piece of PIECES) {
      for (const text of [fill(piece, 600_000), `${piece}${fill('\\', 300_000)}${piece}`, fill(`${piece}a`, 300_000)]) {
        const ms = worst(text);
        if (ms >= BUDGET_MS) slow.push(`${JSON.stringify(piece)}×${text.length}: ${ms.toFixed(0)} ms`);
      }
    }
    assert.deepEqual(slow, []);
  });

  it(`2,000 random mixes of the pieces, up to 256 KB each, block < ${BUDGET_MS} ms each`, () => {
    let worstMs = 0;
    let worstText = '';
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4000 }),
        (pieces, times) => {
          const text = pieces
            .join('')
            .repeat(times)
            .slice(0, 256 * 1024);
          const ms = worst(text);
          if (ms > worstMs) {
            worstMs = ms;
            worstText = text.slice(0, 120);
          }
          return ms < BUDGET_MS;
        },
      ),
      { numRuns: 2000, seed: 20261201 },
    );
    assert.ok(worstMs < BUDGET_MS, `worst ${worstMs.toFixed(1)} ms on ${JSON.stringify(worstText)}…`);
  });

  it('reads at most the first 16 KB of a message: what lies beyond cannot change the cause', () => {
    const padded = `${'x'.repeat(20_000)} 403 Forbidden`;
    assert.equal(classifyMessage(padded).cause, 'unknown');
    assert.equal(classifyMessage(`403 Forbidden ${'x'.repeat(20_000)}`).cause, 'permission-denied');
  });
});
