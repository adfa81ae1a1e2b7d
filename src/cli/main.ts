import { EXIT, type Io, UsageError } from './io.ts';

// Each command is loaded on use: `serve` must not carry the sandbox, `explain` not the Google clients.
const COMMANDS: Record<string, () => Promise<(io: Io) => Promise<number>>> = {
  explain: async () => (await import('./commands/explain.ts')).explain,
  'parse-alert': async () => (await import('./commands/parse-alert.ts')).parseAlertCommand,
  diagnose: async () => (await import('./commands/diagnose.ts')).diagnoseCommand,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  sandbox: async () => (await import('./commands/sandbox.ts')).sandboxCommand,
  demo: async () => (await import('./commands/demo.ts')).demo,
  preview: async () => (await import('./commands/preview.ts')).previewCommand,
  serve: async () => (await import('./commands/serve.ts')).serve,
  doctor: async () => (await import('./commands/doctor.ts')).doctorCommand,
};

const USAGE = [
  'imagepull — diagnose and fix GKE ImagePullBackOff caused by Artifact Registry access',
  '',
  'imagepull explain [--json] [MESSAGE]   classify a kubelet/runtime pull-error message (stdin when no argument)',
  'imagepull parse-alert [--json] [FILE]   normalize a Pub/Sub alert payload (stdin when no file)',
  'imagepull diagnose --project P --location L --cluster C (--pod NS/NAME | --workload NS/KIND/NAME | --image REF) [--json]',
  '                   against real GCP with Application Default Credentials',
  'imagepull diagnose --sandbox SCENARIO [--json]   against the embedded simulator',
  'imagepull audit (--cluster P/L/C ... | --project P ... | --sandbox SCENARIO) [--json]',
  '                can every node pool pull every image its workloads use? exit 1 when one cannot',
  'imagepull audit --image REF --cluster P/L/C [--node-pool N] [--json]',
  '                before a deploy: exit 1, with the reason and the fix, when the cluster could not pull REF',
  'imagepull sandbox [--scenario S] [--http] [--firestore] [--dir D] [--list]   start the simulator; print the env for the bot, KUBECONFIG and CLOUDSDK_CONFIG',
  'imagepull demo [--scenario S] [--out FILE]   the whole flow on the embedded sandbox: alert → diagnosis → approval → fix → verified;',
  '                   writes the messages as Slack draws them to an HTML page (default imagepull-demo.html)',
  'imagepull preview [--scenario S] [--out FILE]   every state of a scenario’s messages as an HTML page (default imagepull-preview.html)',
  'imagepull serve   run the bot (configuration from the environment; see .env.example)',
  'imagepull doctor [--project P ...] [--repository projects/P/locations/L/repositories/R ...] [--json]',
  '                 check the deployment the environment describes (Slack token, scopes and channels, the Pub/Sub',
  '                 subscription, each cluster and its RBAC, the Google permissions); each failure with its fix; exit 1 when one fails',
  '',
  'Exit codes: 0 ok, 1 diagnosis/runtime failure (audit: a pool cannot pull; doctor: a check failed), 2 bad usage or bad input.',
].join('\n');

/**
 * Output piped into a reader that stops early (`imagepull sandbox --list | head -3`) closes the pipe: the rest of the
 * output has nowhere to go. That is not an error of the command, so it ends quietly instead of dying on EPIPE.
 */
let closed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    // The command goes on (a running sandbox keeps running until Ctrl-C); what it prints is dropped.
    closed = true;
  });
}
const write = (stream: NodeJS.WriteStream, text: string) => {
  if (!closed) stream.write(text);
};

/** The CLI (README, "The CLI"). Returns the exit code. */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    write(process.stdout, `${USAGE}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    write(process.stderr, `imagepull: unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const io: Io = {
    args,
    env,
    stdin: process.stdin,
    out: (t) => write(process.stdout, `${t}\n`),
    err: (t) => write(process.stderr, `${t}\n`),
  };
  try {
    const command = await load();
    return await command(io);
  } catch (e) {
    if (e instanceof UsageError) {
      write(process.stderr, `imagepull ${name}: ${e.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    // Coded errors (`ipb_…`) are expected failures with a message meant for the user; anything else shows its stack.
    const coded = e instanceof Error && String((e as { code?: unknown }).code ?? '').startsWith('ipb_');
    write(
      process.stderr,
      `imagepull ${name}: ${e instanceof Error ? (coded ? e.message : (e.stack ?? e.message)) : String(e)}\n`,
    );
    return EXIT.failure;
  }
}

// Google clients must never probe the metadata server from the CLI's sandbox commands (or tests).
if (['demo', 'sandbox', 'preview'].includes(process.argv[2] ?? '') || process.argv.includes('--sandbox')) {
  process.env.METADATA_SERVER_DETECTION = 'none';
}
const code = await runCli(process.argv.slice(2), process.env);
process.exitCode = code;
if (process.argv[2] !== 'sandbox') {
  // Give stdout a moment to flush, then exit even if a client left a handle open (for `serve`: once the bot has
  // stopped; a library's leftover timer must not hold the process past its grace period and turn exit 0 into 1).
  setTimeout(() => process.exit(code), 100).unref();
}
