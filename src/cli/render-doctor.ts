import type { DoctorItem, DoctorReport } from '../usecases/doctor.ts';

/** Terminal rendering of `imagepull doctor`: one line per item, each failure followed by its fix. Pure. */

const MARK = { pass: '✓', fail: '✗', skip: '–' } as const;

function itemLines(i: DoctorItem, color: boolean): string[] {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const mark = i.status === 'pass' ? paint('32', MARK.pass) : i.status === 'fail' ? paint('31', MARK.fail) : MARK.skip;
  const lines = [`${mark} ${i.title}${i.detail ? paint('2', ` — ${i.detail}`) : ''}`];
  if (i.status === 'fail' && i.fix && i.fix.length > 0) {
    const [first, ...rest] = i.fix;
    lines.push(`    fix: ${first}`);
    for (const r of rest) lines.push(`         ${r}`);
  }
  return lines;
}

/** The checklist and a last line that counts it. */
export function doctorText(r: DoctorReport, color = false): string {
  const count = (s: DoctorItem['status']) => r.items.filter((i) => i.status === s).length;
  const skipped = count('skip');
  const summary = r.ok
    ? `all ${count('pass')} checks passed${skipped ? ` (${skipped} skipped)` : ''}`
    : `${count('fail')} of ${r.items.length} checks failed`;
  return [...r.items.flatMap((i) => itemLines(i, color)), '', summary].join('\n');
}
