import type { KnownBlock } from '@slack/types';
import type { Diagnosis, Finding, ShellCommand } from '../../diagnosis/diagnosis.ts';
import { clip, esc, LIMITS } from './limits.ts';

/**
 * Pure renderers of a diagnosis: the parts shared by incident messages and `/imagepull diagnose` replies.
 * Text comes from the diagnosis (channel-neutral); here it is only arranged and formatted.
 */

/** What failed: pod/workload, container, image. */
export function subjectLine(d: Diagnosis): string {
  const s = d.subject;
  const where = s.workload
    ? `*${s.workload.kind.toLowerCase()}/${esc(s.workload.name)}* in \`${esc(s.workload.namespace)}\``
    : s.pod
      ? `pod *${esc(s.pod)}* in \`${esc(s.namespace ?? '')}\``
      : 'The cluster';
  const cluster = s.cluster
    ? ` (cluster \`${esc(s.cluster.name)}\`, ${esc(s.cluster.location)}, project \`${esc(s.cluster.project)}\`)`
    : '';
  const container = s.container ? `${s.initContainer ? 'init container' : 'container'} \`${esc(s.container)}\` ` : '';
  const image = s.image ? `cannot pull \`${esc(s.image)}\`` : 'cannot pull its image';
  return `${where}${cluster}: ${container}${image}.`;
}

export function findingSection(f: Finding): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${esc(f.summary)}` } };
}

export function evidenceSection(findings: readonly Finding[]): KnownBlock | undefined {
  const lines = findings
    .flatMap((f) => f.evidence)
    .slice(0, 12)
    .map((e) => `• ${esc(e.label)}: ${esc(e.value)}`);
  if (lines.length === 0) return undefined;
  return { type: 'section', text: { type: 'mrkdwn', text: clip(`*Evidence*\n${lines.join('\n')}`, LIMITS.text) } };
}

export function nextStepsSection(f: Finding): KnownBlock | undefined {
  if (f.nextSteps.length === 0) return undefined;
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: `*Next steps*\n${f.nextSteps.map((s, i) => `${i + 1}. ${esc(s)}`).join('\n')}` },
  };
}

/** The equivalent commands, in one code block. */
export function commandsSection(commands: readonly ShellCommand[], title = 'By hand'): KnownBlock | undefined {
  const unique = commands.filter((c, i) => commands.findIndex((o) => o.command === c.command) === i).slice(0, 8);
  if (unique.length === 0) return undefined;
  const body = unique.map((c) => `# ${c.purpose}\n${c.command}`).join('\n');
  return { type: 'section', text: { type: 'mrkdwn', text: clip(`*${title}*\n\`\`\`${esc(body)}\`\`\``, LIMITS.text) } };
}

export function otherFindingsSection(findings: readonly Finding[]): KnownBlock | undefined {
  if (findings.length === 0) return undefined;
  return {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: `*Also found*\n${findings.map((f) => `• ${esc(f.title)} — ${esc(f.summary)}`).join('\n')}`,
    },
  };
}

export function unknownsContext(d: Diagnosis): KnownBlock | undefined {
  if (d.unknowns.length === 0) return undefined;
  const text = d.unknowns
    .slice(0, 5)
    .map((u) => `could not check ${u.check}: ${u.error.message}`)
    .join(' · ');
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`:grey_question: ${esc(text)}`, LIMITS.text) }] };
}

export function idsContext(d: Diagnosis, extra?: string): KnownBlock {
  const ids = [`cause \`${d.cause}${d.subKind ? `/${d.subKind}` : ''}\``, ...d.findings.map((f) => `\`${f.id}\``)];
  const links = [...d.links, ...(d.findings[0]?.links ?? [])]
    .filter((l, i, all) => all.findIndex((o) => o.url === l.url) === i)
    .slice(0, 4)
    .map((l) => `<${l.url}|${esc(l.label)}>`);
  const parts = [ids.join(' '), `confidence ${d.confidence}`, ...links, ...(extra ? [extra] : [])];
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(parts.join(' · '), LIMITS.text) }] };
}

/** The kubelet message, quoted. */
export function messageContext(d: Diagnosis): KnownBlock | undefined {
  if (!d.message) return undefined;
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`Kubelet: _${esc(d.message)}_`, 1500) }] };
}

/** The body of a diagnosis without buttons: what `/imagepull diagnose` answers. */
export function diagnosisBlocks(d: Diagnosis): KnownBlock[] {
  const [primary, ...others] = d.findings;
  const blocks: (KnownBlock | undefined)[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(plain(d.headline), LIMITS.header) } },
    { type: 'section', text: { type: 'mrkdwn', text: subjectLine(d) } },
    primary
      ? findingSection(primary)
      : { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${esc(d.causeExplanation)}` } },
    evidenceSection(d.findings),
    primary ? nextStepsSection(primary) : undefined,
    otherFindingsSection(others),
    commandsSection([...(primary?.commands ?? []), ...d.commands]),
    messageContext(d),
    unknownsContext(d),
    idsContext(d),
  ];
  return blocks.filter((b): b is KnownBlock => b !== undefined);
}

/** Plain text for headers and notifications: drop the mrkdwn code ticks. */
export function plain(text: string): string {
  return text.replaceAll('`', '');
}
