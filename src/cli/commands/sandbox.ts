import { join } from 'node:path';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { loadSandbox } from '../sandbox-loader.ts';

/** `imagepull sandbox`: runs the simulator until Ctrl-C and prints the env a bot (`npm start`) needs to use it. */
export async function sandboxCommand(io: Io): Promise<number> {
  const { SCENARIOS, startSandbox, writeGcloudConfig } = await loadSandbox();
  const { values } = parse(
    io.args,
    {
      scenario: { type: 'string' },
      http: { type: 'boolean' },
      firestore: { type: 'boolean' },
      list: { type: 'boolean' },
      dir: { type: 'string' },
    },
    false,
  );
  if (values.list) {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(24)} ${s.description}`);
    return EXIT.ok;
  }
  const scenario = values.scenario ?? 'seed';
  if (!SCENARIOS.some((s) => s.name === scenario))
    throw new UsageError(`unknown scenario "${scenario}" (imagepull sandbox --list)`);
  const sb = await startSandbox({
    scenario,
    slackMode: values.http ? 'http' : 'socket',
    firestore: values.firestore === true,
    ...(values.dir ? { kubeconfigDir: values.dir } : {}),
  });
  const t = sb.google.scenario.target;
  io.err(`Sandbox "${scenario}" running: ${sb.google.scenario.description}`);
  const risk = sb.google.scenario.latent;
  io.err(
    risk
      ? `Nothing fails yet: a new node of ${risk.pool} could not pull ${risk.image} (${risk.workload.kind.toLowerCase()}/${risk.workload.name}); /imagepull audit finds it. Paste the lines below into a shell, then run: npm start`
      : `Failing pod: ${t.namespace}/${t.pod} (${t.image}). Paste the lines below into a shell, then run: npm start`,
  );
  for (const [k, v] of Object.entries(sb.env)) io.out(`export ${k}=${v}`);
  // The real gcloud, pointed at the sandbox (private config: credentials disabled, no metadata probe).
  const gcloud = await writeGcloudConfig({
    endpoint: sb.google.endpoint,
    project: t.project,
    ...(values.dir ? { dir: join(values.dir, 'gcloud') } : {}),
  });
  io.out(`export CLOUDSDK_CONFIG=${gcloud.dir}`);
  io.out(`export KUBECONFIG=${sb.kubeconfig}`);
  if (sb.topic)
    io.err(
      `Publish alerts to ${sb.topic} (PUBSUB_EMULATOR_HOST=${sb.env.PUBSUB_EMULATOR_HOST}). Ctrl-C stops everything.`,
    );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sb.stop();
  // A directory the person chose is theirs to keep; a temporary one goes.
  if (!values.dir) await gcloud.remove();
  return EXIT.ok;
}
