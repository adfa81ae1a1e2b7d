/**
 * Running the real `gcloud` against a sandbox: a private configuration written by the sandbox's own writer (the
 * one `imagepull sandbox` uses), a private HOME and KUBECONFIG, and every run confined to loopback and traced
 * (test/support/egress-trace.ts). Also the bot's investigation of a sandbox that is already running, so a change
 * made by hand can be read back the way the bot reads it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GoogleSandbox, writeGcloudConfig } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../../src/adapters/kube/cluster.adapter.ts';
import type { Diagnosis } from '../../../src/diagnosis/diagnosis.ts';
import { FactReader } from '../../../src/usecases/fact-reader.ts';
import { Investigator } from '../../../src/usecases/investigate.ts';
import { type ConfinedRun, runConfined } from '../../support/egress-trace.ts';

/** Fails (with how to install it) when gcloud or the GKE auth plugin is missing. */
export function requireGcloud(): string {
  const v = spawnSync('gcloud', ['version', '--format=value(core)'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CLOUDSDK_CONFIG: join(tmpdir(), 'gcloud-version-probe') },
  });
  if (v.error || v.status !== 0) {
    throw new Error(
      'the real gcloud is not installed: install the Google Cloud CLI (Debian: apt-get install google-cloud-cli ' +
        'google-cloud-cli-gke-gcloud-auth-plugin, from packages.cloud.google.com)',
    );
  }
  const plugin = spawnSync('sh', ['-c', 'command -v gke-gcloud-auth-plugin']);
  if (plugin.status !== 0) {
    throw new Error(
      'gke-gcloud-auth-plugin is not installed (Debian: apt-get install google-cloud-cli-gke-gcloud-auth-plugin)',
    );
  }
  return v.stdout.trim();
}

/** A private place to run gcloud against one sandbox. */
export interface GcloudWorkspace {
  readonly kubeconfig: string;
  readonly env: Readonly<Record<string, string>>;
  /** The sandbox ports a confined tool may reach: the Google endpoint and every cluster's Kubernetes API. */
  readonly ports: readonly number[];
  remove(): Promise<void>;
}

const portOf = (endpoint: string): number => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

/** Writes the sandbox's gcloud configuration into a fresh directory with its own HOME and KUBECONFIG. */
export async function gcloudWorkspace(sandbox: GoogleSandbox): Promise<GcloudWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'gcloud-by-hand-'));
  const config = await writeGcloudConfig({
    endpoint: sandbox.endpoint,
    project: sandbox.scenario.target.project,
    dir: join(dir, 'gcloud'),
  });
  const kubeconfig = join(dir, 'kubeconfig');
  return {
    kubeconfig,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      LANG: 'C.UTF-8',
      ...config.env,
      KUBECONFIG: kubeconfig,
    },
    ports: [portOf(sandbox.endpoint), ...[...sandbox.kubeEndpoints.values()].map(portOf)],
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs one shell command line (as the bot prints it) confined to loopback, under strace. */
export function runByHand(ws: GcloudWorkspace, command: string): Promise<ConfinedRun> {
  return runConfined('sh', ['-c', command], { env: ws.env, ports: ws.ports, timeoutMs: 60_000 });
}

/** A run's output for assertion messages. */
export function shown(command: string, run: ConfinedRun): string {
  return `\n$ ${command}\n(exit ${run.code})\n${run.stdout}${run.stderr}`;
}

/**
 * Investigates the scenario's failing pod against a running sandbox with the bot's own clients, the same way
 * printed-commands.ts's `diagnoseScenario` does, and returns the diagnoses.
 */
export async function investigate(sandbox: GoogleSandbox): Promise<readonly Diagnosis[]> {
  const google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
  const connector = new KubernetesConnector(() => google.accessToken());
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
    return inv.diagnoses;
  } finally {
    connector.close();
    await google.close();
  }
}

/** The value of the first evidence line whose label starts with `label`, across the diagnoses' findings. */
export function evidence(diagnoses: readonly Diagnosis[], label: string): string | undefined {
  for (const d of diagnoses) {
    for (const f of d.findings) {
      const e = f.evidence.find((x) => x.label.startsWith(label));
      if (e) return e.value;
    }
  }
  return undefined;
}
