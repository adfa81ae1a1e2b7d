import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { runCli } from '../run-cli.ts';

/**
 * The pipeline steps docs/prevention.md documents, run as written: their YAML parses, and the `imagepull audit`
 * command they run — with the pipeline's substitutions filled in and the sandbox's seed world standing for the
 * project — fails the pipeline (exit 1) with the fix, because the seed's nodes cannot pull checkout.
 */
const doc = readFileSync(new URL('../../../docs/prevention.md', import.meta.url), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => load(m[1] as string));

const imagepull = (args: string[]) => runCli([...args, '--sandbox', 'seed']);

/** A shell command line with its `\` continuations joined, split into words (no quoting beyond "…"). */
function words(line: string): string[] {
  return [...line.replace(/\\\n\s*/g, ' ').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string);
}

describe('the CI steps of docs/prevention.md', () => {
  it('Cloud Build: the step runs imagepull audit --image and fails the build with the fix', async () => {
    const build = yamlBlocks.find((b) => (b as { steps?: unknown }).steps) as {
      steps: { id?: string; entrypoint?: string; args?: string[]; waitFor?: string[] }[];
    };
    const step = build.steps.find((s) => s.id === 'can-prod-pull');
    assert.equal(step?.entrypoint, 'imagepull');
    assert.ok(
      build.steps.some((s) => s.waitFor?.includes('can-prod-pull')),
      'the deploy waits for the check',
    );
    const args = (step?.args ?? []).map((a) =>
      a.replace('$PROJECT_ID', 'acme-prod-417').replace('$SHORT_SHA', '1.8.2'),
    );
    assert.equal(args[0], 'audit');
    const r = await imagepull(args);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /could not pull us-central1-docker\.pkg\.dev\/acme-prod-417\/services\/checkout:1\.8\.2/);
    assert.match(r.stdout, /gcloud artifacts repositories add-iam-policy-binding services/);
  });

  it('GitHub Actions: the step runs the same check after Workload Identity Federation', async () => {
    const steps = yamlBlocks.find((b) => Array.isArray(b)) as { uses?: string; run?: string }[];
    assert.match(steps[0]?.uses ?? '', /^google-github-actions\/auth@/);
    const run = steps.find((s) => s.run?.includes('imagepull audit'))?.run ?? '';
    const all = words(run.replaceAll('${GITHUB_SHA}', '1.8.2'));
    const args = all.slice(all.indexOf('imagepull') + 1);
    assert.equal(args[0], 'audit');
    const r = await imagepull(args);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /could not pull .*checkout:1\.8\.2/);
  });
});
