import { DEMO_USAGE, demo } from './commands/demo.ts';
import { DIAGNOSE_USAGE, diagnoseCommand } from './commands/diagnose.ts';
import { EXPLAIN_USAGE, explain } from './commands/explain.ts';
import { PARSE_ALERT_USAGE, parseAlertCommand } from './commands/parse-alert.ts';
import { SANDBOX_USAGE, sandboxCommand } from './commands/sandbox.ts';
import { SERVE_USAGE, serve } from './commands/serve.ts';
import { EXIT, type Io, UsageError } from './io.ts';

const COMMANDS: Record<string, (io: Io) => Promise<number>> = {
  explain,
  'parse-alert': parseAlertCommand,
  diagnose: diagnoseCommand,
  sandbox: sandboxCommand,
  demo,
  serve,
};

const USAGE = [
  'imagepull — diagnose and fix GKE ImagePullBackOff caused by Artifact Registry access',
  '',
  EXPLAIN_USAGE,
  PARSE_ALERT_USAGE,
  DIAGNOSE_USAGE,
  SANDBOX_USAGE,
  DEMO_USAGE,
  SERVE_USAGE,
  '',
  'Exit codes: 0 ok, 1 diagnosis/runtime failure, 2 bad usage or bad input.',
].join('\n');

/** The CLI (DESIGN §8). Returns the exit code. */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`imagepull: unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const io: Io = {
    args,
    env,
    stdin: process.stdin,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
  try {
    return await command(io);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`imagepull ${name}: ${e.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`imagepull ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.failure;
  }
}

// Google clients must never probe the metadata server from the CLI's sandbox commands (or tests).
if (['demo', 'sandbox'].includes(process.argv[2] ?? '') || process.argv.includes('--sandbox')) {
  process.env.METADATA_SERVER_DETECTION = 'none';
}
const code = await runCli(process.argv.slice(2), process.env);
process.exitCode = code;
if (process.argv[2] !== 'serve' && process.argv[2] !== 'sandbox') {
  // Give stdout a moment to flush, then exit even if a client left a handle open.
  setTimeout(() => process.exit(code), 100).unref();
}
