import { readFileSync } from 'node:fs';

/**
 * The environment the production image sets (the `ENV` lines of the Dockerfile's final stage), so that a bot started
 * as its own process by a test or the benchmark runs as the image does — e.g. `MALLOC_ARENA_MAX`, which bounds the
 * memory glibc keeps for its allocator arenas.
 */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of finalStage.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line);
    for (const pair of m?.[1]?.split(/\s+/) ?? []) {
      const [key, ...value] = pair.split('=');
      if (key && value.length > 0) env[key] = value.join('=');
    }
  }
  return env;
}

/**
 * The V8 flags of `npm start` (package.json; the Dockerfile's CMD has the same, test/unit/dockerfile.test.ts): the
 * heap limits, `--expose-gc` for the collection after a refused large message (src/shared/collect.ts), and
 * `--optimize-for-size`.
 */
export function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  // `node FLAGS… src/cli/main.ts serve`: the words between the binary and the entry point, values included.
  const words = manifest.scripts.start.split(/\s+/);
  return words.slice(1, words.indexOf('src/cli/main.ts'));
}
