import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import type { Investigation } from '../usecases/investigate.ts';

/** Terminal rendering of a diagnosis (the CLI's human output). Pure. */
export function diagnosisText(d: Diagnosis, color = false): string {
  const b = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  const s = d.subject;
  const lines: string[] = [];
  lines.push(b(d.headline.replaceAll('`', '')));
  const where = [
    s.cluster ? `cluster ${s.cluster.project}/${s.cluster.location}/${s.cluster.name}` : undefined,
    s.workload ? `${s.workload.kind.toLowerCase()}/${s.workload.name} -n ${s.workload.namespace}` : undefined,
    s.pod ? `pod ${s.namespace}/${s.pod}` : undefined,
    s.container ? `${s.initContainer ? 'init container' : 'container'} ${s.container}` : undefined,
    s.image ? `image ${s.image}` : undefined,
  ].filter(Boolean);
  lines.push(dim(where.join(' · ')));
  lines.push(
    `cause: ${d.cause}${d.subKind ? `/${d.subKind}` : ''} · findings: ${d.findings.map((f) => f.id).join(', ') || 'none'} · fixes: ${d.fixes.map((f) => f.kind).join(', ') || 'none'} · confidence: ${d.confidence}`,
  );
  if (d.identity) lines.push(`node identity: pool ${d.identity.nodePool} runs as ${d.identity.serviceAccount}`);
  lines.push('');
  const [primary, ...others] = d.findings;
  lines.push(b('Why'), wrap(primary ? primary.summary : d.causeExplanation));
  const evidence = d.findings.flatMap((f) => f.evidence);
  if (evidence.length > 0) {
    lines.push('', b('Evidence'));
    for (const e of evidence) lines.push(`  - ${e.label}: ${e.value}${e.source ? dim(`  [${e.source}]`) : ''}`);
  }
  if (primary && primary.nextSteps.length > 0) {
    lines.push('', b('Next steps'));
    for (const [i, n] of primary.nextSteps.entries()) lines.push(`  ${i + 1}. ${n}`);
  }
  for (const f of others) lines.push('', b(`Also: ${f.title}`), wrap(f.summary));
  for (const fix of d.fixes) {
    lines.push('', b('Fix the bot can apply (after approval)'));
    if (fix.kind === 'grant-repo-reader') lines.push(`  grant ${fix.role} on ${fix.repository} to ${fix.member}`);
    else lines.push(`  restart ${fix.workload.kind.toLowerCase()}/${fix.workload.name} -n ${fix.workload.namespace}`);
  }
  const commands = [...(primary?.commands ?? []), ...d.commands].filter(
    (c, i, all) => all.findIndex((o) => o.command === c.command) === i,
  );
  if (commands.length > 0) {
    lines.push('', b('By hand'));
    for (const c of commands) lines.push(dim(`  # ${c.purpose}`), `  ${c.command}`);
  }
  if (d.message) lines.push('', dim(`kubelet: ${d.message}`));
  for (const u of d.unknowns) lines.push(dim(`could not check ${u.check}: ${u.error.message}`));
  return lines.join('\n');
}

export function investigationText(inv: Investigation, color = false): string {
  const parts = inv.diagnoses.map((d) => diagnosisText(d, color));
  if (inv.note) parts.push(inv.note);
  return parts.join('\n\n────────\n\n');
}

/** The JSON of the CLI contract (README, "The CLI") for `diagnose --json`: the first diagnosis's fields at top level, all of them in `diagnoses`. */
export function investigationJson(inv: Investigation): object {
  const first = inv.diagnoses[0];
  const one = (d: Diagnosis) => ({
    key: d.key,
    cause: d.cause,
    ...(d.subKind ? { subKind: d.subKind } : {}),
    headline: d.headline,
    subject: d.subject,
    ...(d.identity ? { identity: d.identity } : {}),
    ...(d.image
      ? {
          image: {
            normalized: d.image.normalized,
            registry: d.image.kind,
            ...(d.image.ar ? { repository: d.image.ar.resourceName } : {}),
          },
        }
      : {}),
    findings: d.findings,
    fixes: d.fixes,
    commands: d.commands,
    confidence: d.confidence,
    unknowns: d.unknowns,
    ...(d.message ? { message: d.message } : {}),
  });
  return {
    ...(first ? one(first) : { cause: null, findings: [], fixes: [] }),
    diagnoses: inv.diagnoses.map(one),
    ...(inv.note ? { note: inv.note } : {}),
  };
}

function wrap(text: string, width = 100, indent = '  '): string {
  const words = text.split(/\s+/);
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if ((line + w).length > width) {
      out.push(indent + line.trimEnd());
      line = '';
    }
    line += `${w} `;
  }
  if (line.trim()) out.push(indent + line.trimEnd());
  return out.join('\n');
}
