import type { ClusterRef, WorkloadKind } from '../diagnosis/facts.ts';
import { parseImageRef } from '../diagnosis/image-ref.ts';
import type { DiagnoseRequest } from '../usecases/on-demand.ts';

/**
 * `/imagepull` text, parsed (pure). Grammar:
 *   help | status
 *   diagnose <ns/pod | ns/deployment/name | ns/statefulset/name | ns/daemonset/name | IMAGE> [--cluster P/L/C] [--share]
 *   audit [--cluster P/L/C | --project P]
 */
export type ParsedCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'status' }
  | ({ readonly kind: 'diagnose' } & DiagnoseRequest)
  | { readonly kind: 'audit'; readonly cluster?: ClusterRef; readonly project?: string }
  | { readonly kind: 'error'; readonly error: string };

const KINDS: Record<string, WorkloadKind> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  deployments: 'Deployment',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  statefulsets: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  daemonsets: 'DaemonSet',
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const USAGE = [
  '*Usage*',
  '`/imagepull diagnose NAMESPACE/POD` — why this pod cannot pull its image',
  '`/imagepull diagnose NAMESPACE/deployment/NAME` — the same for a Deployment (also `statefulset`, `daemonset`)',
  '`/imagepull diagnose IMAGE` — can this cluster’s node pools pull this image? (pre-flight)',
  'Options: `--cluster PROJECT/LOCATION/CLUSTER` (else the default cluster), `--share` to post the diagnosis (with fix buttons) in the channel instead of only to you.',
  '`/imagepull audit` — can every node pool pull every image its workloads use? Posts one warning per root cause (`--cluster PROJECT/LOCATION/CLUSTER` or `--project PROJECT`, else the clusters the bot audits)',
  '`/imagepull status` — open incidents and the bot’s own permission health',
  '`/imagepull help` — this text',
].join('\n');

export function parseCommand(text: string): ParsedCommand {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const verb = words.shift()?.toLowerCase();
  if (verb === undefined || verb === 'help' || verb === '-h' || verb === '--help') return { kind: 'help' };
  if (verb === 'status')
    return words.length === 0 ? { kind: 'status' } : { kind: 'error', error: '`status` takes no arguments.' };
  if (verb === 'audit') return parseAudit(words);
  if (verb !== 'diagnose') return { kind: 'error', error: `Unknown subcommand \`${verb}\`.` };

  let cluster: ClusterRef | undefined;
  let share = false;
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--share') share = true;
    else if (w === '--cluster' || w.startsWith('--cluster=')) {
      const v = w.includes('=') ? w.slice(w.indexOf('=') + 1) : words[++i];
      const parts = v?.split('/') ?? [];
      if (parts.length !== 3 || parts.some((p) => p === '')) {
        return {
          kind: 'error',
          error: '`--cluster` takes PROJECT/LOCATION/CLUSTER, e.g. `--cluster acme-prod-417/us-central1/prod`.',
        };
      }
      cluster = { project: parts[0] as string, location: parts[1] as string, name: parts[2] as string };
    } else if (w.startsWith('--')) return { kind: 'error', error: `Unknown option \`${w}\`.` };
    else positional.push(w);
  }
  if (positional.length !== 1) {
    return {
      kind: 'error',
      error: positional.length === 0 ? '`diagnose` needs a pod, a workload or an image.' : 'Give one target at a time.',
    };
  }
  const target = (positional[0] as string).replace(/^<|>$/g, '');
  const base = { kind: 'diagnose' as const, share, ...(cluster ? { cluster } : {}) };
  const parts = target.split('/');
  const looksLikeImage =
    target.includes(':') || target.includes('@') || (parts[0]?.includes('.') ?? false) || parts.length > 3;
  if (!looksLikeImage && parts.length === 2) {
    const [namespace, pod] = parts as [string, string];
    if (!DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(pod))
      return { kind: 'error', error: `\`${target}\` is not NAMESPACE/POD.` };
    return { ...base, namespace, pod };
  }
  if (!looksLikeImage && parts.length === 3) {
    const [namespace, kindWord, name] = parts as [string, string, string];
    const kind = KINDS[kindWord.toLowerCase()];
    if (!kind)
      return { kind: 'error', error: `\`${kindWord}\` is not a workload kind (deployment, statefulset, daemonset).` };
    if (!DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name))
      return { kind: 'error', error: `\`${target}\` is not NAMESPACE/KIND/NAME.` };
    return { ...base, namespace, workload: { kind, namespace, name } };
  }
  const image = parseImageRef(target);
  if (!image.ok)
    return {
      kind: 'error',
      error: `\`${target}\` is not a pod, a workload or a valid image reference (${image.reason}).`,
    };
  return { ...base, image: target };
}

const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

/** `audit [--cluster P/L/C | --project P]`. */
function parseAudit(words: readonly string[]): ParsedCommand {
  if (words.length === 0) return { kind: 'audit' };
  const one = words.length === 1 ? (words[0] as string) : undefined;
  const [name, v] = one?.includes('=')
    ? [one.slice(0, one.indexOf('=')), one.slice(one.indexOf('=') + 1)]
    : words.length === 2
      ? [words[0] as string, words[1] as string]
      : [undefined, undefined];
  if (name === '--project') {
    if (!v || !PROJECT_ID.test(v))
      return { kind: 'error', error: '`--project` takes a project id, e.g. `--project acme-prod-417`.' };
    return { kind: 'audit', project: v };
  }
  if (name === '--cluster') {
    const parts = v?.split('/') ?? [];
    if (parts.length !== 3 || parts.some((p) => p === ''))
      return {
        kind: 'error',
        error: '`--cluster` takes PROJECT/LOCATION/CLUSTER, e.g. `--cluster acme-prod-417/us-central1/prod`.',
      };
    return {
      kind: 'audit',
      cluster: { project: parts[0] as string, location: parts[1] as string, name: parts[2] as string },
    };
  }
  return {
    kind: 'error',
    error: '`audit` takes nothing, one `--cluster PROJECT/LOCATION/CLUSTER` or one `--project PROJECT`.',
  };
}
