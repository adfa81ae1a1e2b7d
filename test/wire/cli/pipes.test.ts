import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const FIXTURE = 'test/fixtures/alerts/logentry-failed-to-pull.json';

/**
 * Runs the CLI with its stdout read by something that stops at once (what `| head -0` does): the pipe is closed
 * before the command writes. Resolves to the exit code and everything it wrote on stderr.
 */
function closedPipe(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
      env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('the CLI piped into a reader that stops early (| head)', () => {
  const cases: [string, string[]][] = [
    ['help', ['help']],
    ['sandbox --list', ['sandbox', '--list']],
    ['explain', ['explain', 'Failed to pull image "x": 403 Forbidden']],
    ['explain --json', ['explain', '--json', 'Failed to pull image "x": 403 Forbidden']],
    ['parse-alert', ['parse-alert', FIXTURE]],
    ['diagnose --sandbox', ['diagnose', '--sandbox', 'seed', '--json']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: exits 0 quietly, no EPIPE stack trace`, async () => {
      const r = await closedPipe(args);
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled 'error' event/, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    });
  }
});

describe('imagepull preview', () => {
  it('writes a self-contained page with every state of a scenario’s messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imagepull-preview-cli-'));
    try {
      const out = join(dir, 'p.html');
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['src/cli/main.ts', 'preview', '--scenario', 'cross-project', '--out', out],
          {
            env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += String(d);
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, stdout }));
      });
      assert.equal(r.code, 0);
      const wrote = /Wrote (\d+) states of the "cross-project" incident/.exec(r.stdout);
      assert.ok(wrote, r.stdout);
      const html = readFileSync(out, 'utf8');
      const ids = [...html.matchAll(/id="scene-([\w-]+)"/g)].map((m) => m[1]);
      assert.equal(ids.length, Number(wrote[1]), 'the page holds every state it says it wrote');
      assert.equal(new Set(ids).size, ids.length, 'each state once');
      for (const id of [
        'open-approve',
        'fixing',
        'fixed',
        'failed',
        'undone',
        'superseded',
        'cannot-investigate',
        'app-home',
      ])
        assert.ok(ids.includes(id), `the ${id} state is on the page`);
      assert.match(html, /acme-shared-artifacts/, 'the scenario’s own diagnosis');
      assert.doesNotMatch(html, /<script|<link |src="http/, 'no script, no external resource');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
