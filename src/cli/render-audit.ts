import type { ClusterRef } from '../diagnosis/facts.ts';
import { clusterText, type Gap } from '../prevention/grouping.ts';
import { gapSummary, type PullAuditReport, reportSummary, useText } from '../prevention/report.ts';

/** Terminal rendering of a pull audit (the CLI's human output). Pure. */

function styles(color: boolean) {
  return {
    b: (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s),
    dim: (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s),
  };
}

/** Backticks are Slack's code spans; a terminal shows the words. */
function plain(text: string): string {
  return text.replaceAll('`', '');
}

function gapLines(g: Gap, color: boolean): string[] {
  const { b, dim } = styles(color);
  const lines = [b(`✗ ${plain(gapSummary(g))}`), `  why: ${plain(g.headline)}  ${dim(`[${g.finding}]`)}`];
  lines.push(`  images: ${g.images.join(', ')}`);
  const shown = g.uses
    .slice(0, 10)
    .map((u) => `${useText(u)} -n ${u.namespace}${u.neverRun ? ' (not run yet)' : ` (${u.running} running)`}`);
  const more = g.uses.length > shown.length ? ` and ${g.uses.length - shown.length} more` : '';
  lines.push(`  workloads: ${shown.join(', ')}${more}`);
  if (g.fix.grant) lines.push(`  fix: grant ${g.fix.grant.role} on ${g.fix.grant.repository} to ${g.fix.grant.member}`);
  else if (g.fix.steps[0]) lines.push(`  fix: ${plain(g.fix.steps[0])}`);
  if (g.fix.command) lines.push(`    ${g.fix.command}`);
  if (!g.certain) lines.push(dim('  (only if these pods can land on this pool: its node labels are not all known)'));
  lines.push(dim(`  key: ${g.key}`));
  return lines;
}

function notCheckedLines(r: PullAuditReport, color: boolean): string[] {
  if (r.notChecked.length === 0) return [];
  const { b, dim } = styles(color);
  return ['', b('Not checked'), ...r.notChecked.map((n) => `  - ${plain(n.what)}${dim(` — ${plain(n.why)}`)}`)];
}

/** `imagepull audit`: the summary, each gap with its fix, what could not be checked. */
export function auditText(r: PullAuditReport, color = false): string {
  const { b, dim } = styles(color);
  const lines = [b(reportSummary(r))];
  for (const c of r.clusters) {
    lines.push(
      dim(
        `${clusterText(c.cluster)}: ${c.workloads} workload(s), ${c.images} image(s) in Artifact Registry; pools ${c.pools
          .map((p) => `${p.name} (${p.serviceAccount ?? 'identity unknown'})`)
          .join(', ')}`,
      ),
    );
  }
  lines.push(dim(`${r.pairs} (pool, image) pair(s) checked, ${r.canPull} can pull.`));
  for (const g of r.gaps) lines.push('', ...gapLines(g, color));
  lines.push(...notCheckedLines(r, color));
  return lines.join('\n');
}

/** `imagepull audit --image`: can this cluster pull the image about to be deployed, and if not, the fix. */
export function imageCheckText(r: PullAuditReport, image: string, cluster: ClusterRef, color = false): string {
  const { b } = styles(color);
  const where = `cluster ${clusterText(cluster)}`;
  const lines: string[] = [];
  if (r.gaps.length > 0) {
    lines.push(b(`✗ ${where} could not pull ${image}`));
    for (const g of r.gaps) lines.push('', ...gapLines(g, color));
  } else if (r.pairs > 0 && r.canPull === r.pairs) {
    const pools = r.clusters.flatMap((c) => c.pools.map((p) => p.name));
    lines.push(b(`✓ every node pool checked (${pools.join(', ')}) of ${where} can pull ${image}`));
  } else {
    lines.push(b(`? ${where}: whether ${image} can be pulled could not be shown`));
  }
  lines.push(...notCheckedLines(r, color));
  return lines.join('\n');
}
