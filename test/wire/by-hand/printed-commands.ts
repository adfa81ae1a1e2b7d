import { type GoogleSandbox, SCENARIOS, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { Diagnosis, ShellCommand } from '../../../src/diagnosis/diagnosis.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';

/** One command the bot prints for a scenario, with where it came from. */
export interface PrintedCommand extends ShellCommand {
  readonly scenario: string;
  /** `general`, or the finding id whose "By hand" block carries it. */
  readonly from: string;
}

/** Scenarios whose diagnosis prints commands (every failing one but the benchmark's storm). */
export const PRINTING_SCENARIOS: readonly string[] = SCENARIOS.filter((s) => !s.latent)
  .map((s) => s.name)
  .filter((n) => n !== 'storm');

/**
 * Diagnoses a scenario's failing pod the way the bot does (real clients against the sandbox) and returns the
 * diagnoses with the sandbox still running, so the caller can run the printed commands against the same world.
 */
export async function diagnoseScenario(
  scenario: string,
): Promise<{ sandbox: GoogleSandbox; diagnoses: readonly Diagnosis[]; stop(): Promise<void> }> {
  const sandbox = await startGoogleSandbox({ scenario });
  const google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
  const connector = new KubernetesConnector(() => google.accessToken());
  const stop = async () => {
    connector.close();
    await google.close();
    await sandbox.stop();
  };
  try {
    const investigator = new Investigator({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 30_000, timeoutMs: 10_000 }),
    });
    const t = sandbox.scenario.target;
    const inv = await investigator.investigate({
      cluster: { project: t.project, location: t.location, name: t.cluster },
      namespace: t.namespace,
      pod: t.pod,
    });
    return { sandbox, diagnoses: inv.diagnoses, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Every distinct command the diagnoses print: the findings' own, then the general ones. Data, not rendered text. */
export function printedCommands(scenario: string, diagnoses: readonly Diagnosis[]): PrintedCommand[] {
  const out: PrintedCommand[] = [];
  for (const d of diagnoses) {
    const all = [
      ...d.findings.flatMap((f) => f.commands.map((c) => ({ ...c, from: f.id }))),
      ...d.commands.map((c) => ({ ...c, from: 'general' })),
    ];
    for (const c of all) if (!out.some((o) => o.command === c.command)) out.push({ ...c, scenario });
  }
  return out;
}
