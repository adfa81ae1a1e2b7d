import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createGoogleCloud } from '../../adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../adapters/kube/cluster.adapter.ts';
import { gallery } from '../../slack/preview/gallery.ts';
import { previewPage } from '../../slack/preview/page.ts';
import { FactReader } from '../../usecases/fact-reader.ts';
import { Investigator } from '../../usecases/investigate.ts';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { loadSandbox } from '../sandbox-loader.ts';

/**
 * `imagepull preview [--scenario S] [--out FILE]`: diagnoses a sandbox scenario with the real engine, then writes a
 * self-contained HTML page laying out every state of its messages the way Slack draws them (slack/preview/).
 */
export async function previewCommand(io: Io): Promise<number> {
  const { values } = parse(io.args, { scenario: { type: 'string' }, out: { type: 'string' } }, false);
  const scenario = values.scenario ?? 'seed';
  const out = resolve(values.out ?? 'imagepull-preview.html');
  const { SANDBOX_PEOPLE, SCENARIOS, startGoogleSandbox } = await loadSandbox();
  if (!SCENARIOS.some((s) => s.name === scenario))
    throw new UsageError(`unknown scenario "${scenario}" (imagepull sandbox --list)`);
  const sandbox = await startGoogleSandbox({ scenario });
  const google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 20_000 });
  try {
    const t = sandbox.scenario.target;
    const investigator = new Investigator({
      google,
      clusters: new KubernetesConnector(() => google.accessToken()),
      reader: new FactReader({ ttlMs: 60_000, timeoutMs: 20_000 }),
    });
    const inv = await investigator.investigate({
      cluster: { project: t.project, location: t.location, name: t.cluster },
      namespace: t.namespace,
      pod: t.pod,
    });
    const diagnosis = inv.diagnoses[0];
    if (!diagnosis) {
      io.err(`imagepull preview: scenario "${scenario}" gave no diagnosis (${inv.note ?? 'nothing failing'})`);
      return EXIT.failure;
    }
    const scenes = gallery({
      diagnosis,
      now: new Date(),
      people: { approver: SANDBOX_PEOPLE.approver, stranger: SANDBOX_PEOPLE.stranger },
    });
    await writeFile(
      out,
      previewPage(scenes, {
        title: `imagepull-bot — ${scenario}`,
        subtitle: `Every state of the "${scenario}" incident: ${sandbox.scenario.description}.`,
      }),
    );
    io.out(`Wrote ${scenes.length} states of the "${scenario}" incident to ${out} (open it in a browser).`);
    return EXIT.ok;
  } finally {
    await google.close();
    await sandbox.stop();
  }
}
