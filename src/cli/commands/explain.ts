import { causeText } from '../../diagnosis/cause-text.ts';
import { classifyMessage, explainJson } from '../../diagnosis/classify.ts';
import { EXIT, type Io, parse, readStdin, UsageError } from '../io.ts';

/** `imagepull explain`: the pure classifier, no I/O beyond stdin. */
export async function explain(io: Io): Promise<number> {
  const { values, positionals } = parse(io.args, { json: { type: 'boolean' } });
  const message = positionals.length > 0 ? positionals.join(' ') : await readStdin(io.stdin);
  if (message.trim() === '') throw new UsageError('empty message');
  if (values.json) {
    io.out(JSON.stringify(explainJson(message.trim())));
    return EXIT.ok;
  }
  const c = classifyMessage(message.trim());
  const t = causeText(c);
  const j = explainJson(message.trim());
  io.out(`${c.cause}${c.subKind ? `/${c.subKind}` : ''}: ${t.title}`);
  io.out(t.explanation);
  if (j.image) io.out(`image: ${j.image.normalized}${j.registry ? ` (${j.registry})` : ''}`);
  if (j.repository) io.out(`repository: ${j.repository}`);
  return EXIT.ok;
}
