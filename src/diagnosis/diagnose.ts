import type { Classification } from './cause.ts';
import { causeText } from './cause-text.ts';
import { CHECKS, type Check, type CheckContext, type CheckResult } from './checks/index.ts';
import {
  describePodCommand,
  getCredentialsCommand,
  nodePoolCommand,
  podLink,
  repositoryLink,
  troubleshootCommand,
  workloadLink,
} from './commands.ts';
import type {
  Confidence,
  Diagnosis,
  DiagnosisSubject,
  Finding,
  FixPlan,
  Link,
  PullIdentity,
  ShellCommand,
  Unknown,
} from './diagnosis.ts';
import type { Fact, Facts } from './facts.ts';
import type { ImageRef } from './image-ref.ts';

export interface DiagnoseInput {
  readonly facts: Facts;
  readonly classification: Classification;
  /** The kubelet message the classification came from. */
  readonly message?: string;
  readonly subject: DiagnosisSubject;
  readonly image?: ImageRef;
  readonly identity?: Fact<PullIdentity>;
}

/** Findings after which pressing a fix button cannot make the pods run: no fix is offered with them. */
const BLOCKING = new Set([
  'vpc-sc',
  'deny-policy',
  'repository-not-found',
  'node-scopes-insufficient',
  'image-not-found',
]);

/**
 * Runs every check over the gathered facts and assembles one channel-neutral diagnosis. Pure and total: failed reads
 * become `unknowns` (and a `cannot-verify` finding naming the permission the bot lacks), never an exception.
 */
export function diagnose(input: DiagnoseInput, checks: readonly Check[] = CHECKS): Diagnosis {
  const ctx: CheckContext = {
    facts: input.facts,
    classification: input.classification,
    subject: input.subject,
    ...(input.image ? { image: input.image } : {}),
    ...(input.identity ? { identity: input.identity } : {}),
  };
  const findings: Finding[] = [];
  let fixes: FixPlan[] = [];
  const unknowns: Unknown[] = [];
  for (const check of checks) {
    const result = runGuarded(check, ctx);
    if (result.status === 'found') {
      findings.push(result.finding);
      unknowns.push(...(result.unknowns ?? []));
      for (const fix of result.fixes ?? []) if (!fixes.some((f) => sameFix(f, fix))) fixes.push(fix);
    } else if (result.status === 'unknown') {
      unknowns.push(...result.missing);
    }
  }
  const cannotVerify = cannotVerifyFinding(unknowns, input);
  if (cannotVerify) findings.push(cannotVerify);
  if (findings.some((f) => BLOCKING.has(f.id))) fixes = [];

  const identity = input.identity?.ok ? input.identity.value : undefined;
  const primary = findings[0];
  const text = causeText(input.classification);
  return {
    key: rootCauseKey(primary, input, identity),
    subject: input.subject,
    cause: input.classification.cause,
    ...(input.classification.subKind ? { subKind: input.classification.subKind } : {}),
    ...(input.message ? { message: input.message } : {}),
    ...(input.image ? { image: input.image } : {}),
    ...(identity ? { identity } : {}),
    headline: primary?.title ?? text.title,
    causeExplanation: text.explanation,
    findings,
    fixes,
    commands: generalCommands(input, identity),
    links: generalLinks(input),
    confidence: confidence(findings, unknowns, input.classification),
    unknowns,
  };
}

/**
 * A check that throws (a bug, or facts of a shape nobody foresaw) becomes a visible `unknown` for that check; the
 * other checks and the diagnosis go on.
 */
function runGuarded(check: Check, ctx: CheckContext): CheckResult {
  try {
    return check.run(ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      status: 'unknown',
      missing: [
        {
          check: check.id,
          source: `check ${check.id}`,
          error: { code: 'failed', message: `the check failed: ${message}` },
        },
      ],
    };
  }
}

function sameFix(a: FixPlan, b: FixPlan): boolean {
  if (a.kind === 'grant-repo-reader' && b.kind === 'grant-repo-reader') {
    return a.repository === b.repository && a.member === b.member;
  }
  if (a.kind === 'restart-workload' && b.kind === 'restart-workload') {
    return (
      a.workload.kind === b.workload.kind &&
      a.workload.namespace === b.workload.namespace &&
      a.workload.name === b.workload.name
    );
  }
  return false;
}

/** `cannot-verify` when a read failed because the bot lacks a permission: names each missing permission. */
function cannotVerifyFinding(unknowns: readonly Unknown[], input: DiagnoseInput): Finding | undefined {
  const denied = unknowns.filter((u) => u.error.code === 'permission-denied');
  if (denied.length === 0) return undefined;
  const perms = [...new Set(denied.map((u) => u.error.permission ?? 'unknown permission'))];
  const checks = [...new Set(denied.map((u) => u.check))];
  return {
    id: 'cannot-verify',
    title: `The bot cannot verify: it lacks ${perms.map((p) => `\`${p}\``).join(', ')}`,
    summary:
      `Some facts could not be read because the bot's own service account is missing ${perms.length === 1 ? 'a permission' : 'permissions'}, ` +
      `so ${checks.map((c) => `\`${c}\``).join(', ')} could not be decided. Grant the bot its custom role (see the README: "The bot's own permissions") and press Re-check.` +
      (input.classification.cause === 'permission-denied'
        ? ' The message itself says the registry refused the node (403).'
        : ''),
    evidence: denied.map((u) => ({ label: 'Failed read', value: u.error.message, source: u.source })),
    nextSteps: perms.map((p) => `Give the bot's service account \`${p}\` (it is in the bot's custom role).`),
    commands: [],
    links: [],
  };
}

function rootCauseKey(primary: Finding | undefined, input: DiagnoseInput, identity: PullIdentity | undefined): string {
  const image = input.image;
  const repo = image?.ar?.resourceName ?? image?.normalized ?? input.subject.image ?? 'unknown-image';
  const sa = identity?.serviceAccount ?? 'unknown-sa';
  const cluster = input.subject.cluster;
  const clusterKey = cluster ? `${cluster.project}/${cluster.location}/${cluster.name}` : 'no-cluster';
  switch (primary?.id) {
    // One root cause, before and after the grant: pods still failing while IAM propagates, or until they are
    // restarted, stay on the same incident instead of opening a second one.
    case 'node-sa-missing-reader':
    case 'cross-project-reader-missing':
    case 'workload-identity-misconception':
    case 'access-already-granted':
      return `node-access|${repo}|${sa}`;
    case 'deny-policy':
      return `deny-policy|${repo}|${sa}`;
    case 'node-scopes-insufficient':
      return `scopes|${clusterKey}|${identity?.nodePool ?? 'unknown-pool'}`;
    case 'vpc-sc':
      return `vpc-sc|${image?.ar?.project ?? repo}|${clusterKey}`;
    case 'repository-not-found':
      return `repository-not-found|${repo}`;
    case 'image-not-found':
      return `image-not-found|${image?.normalized ?? repo}`;
    case 'non-gcp-registry':
      return `non-gcp|${image?.registry ?? 'unknown'}|${input.classification.cause}`;
    case 'cannot-verify':
      return `cannot-verify|${repo}|${input.classification.cause}`;
    default: {
      const sub = input.classification.subKind ? `:${input.classification.subKind}` : '';
      return `${input.classification.cause}${sub}|${image?.registry ?? 'unknown'}|${clusterKey}`;
    }
  }
}

function confidence(findings: readonly Finding[], unknowns: readonly Unknown[], c: Classification): Confidence {
  const real = findings.filter((f) => f.id !== 'cannot-verify');
  if (real.length > 0) return unknowns.length === 0 ? 'high' : 'medium';
  return c.cause === 'unknown' || c.cause === 'no-detail' ? 'low' : 'medium';
}

function generalCommands(input: DiagnoseInput, identity: PullIdentity | undefined): ShellCommand[] {
  const { subject, image } = input;
  const out: ShellCommand[] = [];
  if (subject.cluster && (subject.pod || identity)) out.push(getCredentialsCommand(subject.cluster));
  if (subject.namespace && subject.pod) out.push(describePodCommand(subject.namespace, subject.pod));
  if (subject.cluster && identity) out.push(nodePoolCommand(subject.cluster, identity.nodePool));
  if (image?.ar && identity) out.push(troubleshootCommand(image.ar, identity.serviceAccount));
  return out;
}

function generalLinks(input: DiagnoseInput): Link[] {
  const { subject, image } = input;
  const out: Link[] = [];
  if (subject.cluster && subject.workload) out.push(workloadLink(subject.cluster, subject.workload));
  else if (subject.cluster && subject.namespace && subject.pod)
    out.push(podLink(subject.cluster, subject.namespace, subject.pod));
  if (image?.ar) out.push(repositoryLink(image.ar));
  return out;
}
