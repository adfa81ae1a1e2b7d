import { alertJson, parseAlert } from '../../alerts/parse-alert.ts';
import { EXIT, type Io, parse, readInput } from '../io.ts';

/** `imagepull parse-alert`: what the bot would make of a payload. Exit 2 for a payload it would ignore. */
export async function parseAlertCommand(io: Io): Promise<number> {
  const { values, positionals } = parse(io.args, { json: { type: 'boolean' } });
  const text = await readInput(positionals[0], io);
  const alert = parseAlert(text);
  const json = alertJson(alert);
  if (values.json) io.out(JSON.stringify(json));
  else for (const [k, v] of Object.entries(json)) io.out(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  if (alert.kind === 'ignored') {
    io.err(`ignored: ${alert.reason ?? 'not an image-pull alert'}`);
    return EXIT.usage;
  }
  return EXIT.ok;
}
