import type { KnownBlock } from '@slack/types';
import { parseRepositoryName } from '../../diagnosis/commands.ts';
import type { IncidentRecord } from '../../incidents/model.ts';
import { terraformFor } from '../../incidents/terraform.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import {
  commandsSection,
  evidenceSection,
  findingSection,
  idsContext,
  messageContext,
  nextStepsSection,
  otherFindingsSection,
  subjectLine,
  unknownsContext,
} from './diagnosis.blocks.ts';
import { clip, esc, LIMITS, withinLimits } from './limits.ts';

/**
 * The incident's details, posted as the first reply in its thread and kept current (pure): why, the evidence
 * checklist, other findings, next steps, the whole change, its Terraform, the commands to do it by hand, the kubelet
 * message, what could not be checked, and the stable ids. It depends on the diagnosis and the plan only, not on the
 * counts or the fix, so it is edited only when those change.
 */
export function detailsMessage(incident: IncidentRecord): ChatMessage {
  const d = incident.diagnosis;
  const [primary, ...others] = d.findings;
  const blocks: (KnownBlock | undefined)[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `:mag: *Details* — ${subjectLine(d)}` } },
    primary
      ? findingSection(primary)
      : { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${esc(d.causeExplanation)}` } },
    evidenceSection(d.findings),
    otherFindingsSection(others),
    primary ? nextStepsSection(primary) : undefined,
    planDetails(incident),
    ...terraformBlocks(incident),
    commandsSection([...(primary?.commands ?? []), ...d.commands]),
    messageContext(d),
    unknownsContext(d),
    idsContext(d, `incident \`${incident.id}\``),
  ];
  return {
    text: clip(`Details: ${d.headline.replaceAll('`', '')}`, LIMITS.fallbackText),
    blocks: withinLimits(blocks.filter((b): b is KnownBlock => b !== undefined)),
  };
}

/** The whole change: the exact member, role and repository, and every restart. */
function planDetails(incident: IncidentRecord): KnownBlock | undefined {
  const plan = incident.plan;
  if (!plan) return undefined;
  const lines = ['*The change, in full*'];
  if (plan.grant) {
    const repo = parseRepositoryName(plan.grant.repository);
    lines.push(
      `• Add \`${esc(plan.grant.member)}\` to \`${plan.grant.role}\` on repository \`${esc(repo?.repository ?? plan.grant.repository)}\` (project \`${esc(repo?.project ?? '')}\`, ${esc(repo?.location ?? '')}). This repository only; every other binding, member and condition stays as it is (read-modify-write with the policy’s etag).`,
      '• Then wait until the Policy Troubleshooter confirms the nodes can pull (IAM takes minutes to reach the registry).',
    );
  }
  const names = plan.restarts.map(
    (r) => `${r.workload.kind.toLowerCase()}/${r.workload.name} -n ${r.workload.namespace}`,
  );
  if (names.length > 0)
    lines.push(
      `• Restart ${esc(names.slice(0, 20).join(', '))}${names.length > 20 ? ` and ${names.length - 20} more` : ''} (what \`kubectl rollout restart\` does), then check the new pods run.`,
    );
  if (plan.grant) lines.push('• *Undo* removes exactly the member the bot added, nothing else.');
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.text) } };
}

function terraformBlocks(incident: IncidentRecord): KnownBlock[] {
  const tf = incident.plan?.grant ? terraformFor(incident.plan.grant) : undefined;
  if (!tf) return [];
  return [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*If your IAM lives in Terraform*\n\`\`\`${esc(tf.hcl)}\`\`\``, LIMITS.text) },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(esc(tf.why), LIMITS.text) }] },
  ];
}
