import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../../../src/config.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');

/** The rows of the first table under a `## heading`, as cells. */
function table(heading: string): string[][] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/operations.md has a "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  const rows = doc
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  // Header and separator first; the body until the first blank line is the table.
  return rows.slice(2);
}

/** The backticked names in a cell (`NAME`). */
const names = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** Every metric the bot registers: `metrics.counter('name'`, `.gauge(`, `.histogram(` anywhere in src/. */
function registeredMetrics(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/\.(counter|gauge|histogram)\(\s*'(\w+)'/g))
          found.set(m[2] as string, m[1] as string);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return found;
}

describe('docs/operations.md stays true to the code', () => {
  it('the configuration table has one row for each variable the bot reads (CONFIG_VARIABLES), no more', () => {
    const rows = table('Configure');
    const documented = rows.map((r) => names(r[0]));
    for (const n of documented) assert.equal(n.length, 1, `one variable per row: ${n.join(', ')}`);
    const flat = documented.flat();
    assert.equal(new Set(flat).size, flat.length, 'no variable twice');
    assert.deepEqual([...flat].sort(), [...CONFIG_VARIABLES].sort());
    for (const r of rows) assert.ok((r[1] ?? '') !== '' && (r[2] ?? '') !== '', `${r[0]} has a default and a meaning`);
  });

  it('the metrics table lists every metric registered in src/, with its type', () => {
    const registered = registeredMetrics();
    assert.ok(registered.size >= 10, `the scan finds the bot's metrics (found ${registered.size})`);
    const rows = table('Metrics');
    const documented = new Map(rows.map((r) => [names(r[0])[0] as string, r[1] as string]));
    assert.deepEqual([...documented.keys()].sort(), [...registered.keys()].sort());
    for (const [name, type] of registered) assert.equal(documented.get(name), type, `${name} is a ${type}`);
  });
});
