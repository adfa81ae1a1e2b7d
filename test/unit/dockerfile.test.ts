import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// The Dockerfile, read as text: `npm run test:image` builds and runs it; this keeps its promises checked in `npm test`.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

describe('Dockerfile', () => {
  it('starts the bot with the same heap flags as `npm start`, on the compiled code', () => {
    const cmd = finalStage.match(/^CMD (\[.*\])$/m)?.[1];
    assert.ok(cmd, 'the final stage has an exec-form CMD');
    const start = (manifest.scripts.start ?? '').split(/\s+/);
    assert.deepEqual(
      JSON.parse(cmd),
      start.map((a) => (a === 'src/cli/main.ts' ? 'dist/cli/main.js' : a)),
    );
    assert.ok(
      start.some((a) => a.startsWith('--max-old-space-size=')),
      '`npm start` limits the heap',
    );
    assert.ok(start.includes('--expose-gc'), '`npm start` lets the bot collect after a refused large message');
  });

  it('bounds glibc malloc arenas, and bots started by tests and the benchmark get the same environment', async () => {
    const { imageEnv } = await import('../support/image-env.ts');
    assert.deepEqual(imageEnv(), {
      NODE_ENV: 'production',
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
    });
  });

  it('runs as numeric uid 1000, so that Kubernetes runAsNonRoot can verify it', () => {
    assert.match(finalStage, /^USER 1000:1000$/m);
  });

  it('builds on node:24-bookworm-slim unless told otherwise, in every stage', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const froms = dockerfile.match(/^FROM .*$/gm) ?? [];
    assert.ok(froms.length >= 2);
    for (const from of froms) assert.match(from, /^FROM \$\{NODE_IMAGE\}( AS [\w-]+)?$/);
  });
});
