import type { Diagnosis } from '../../diagnosis/diagnosis.ts';
import { authorize } from '../../fixes/guards.ts';

import type { IncidentCounts } from '../../incidents/counts.ts';
import { incidentId } from '../../incidents/merge.ts';
import type { AffectedWorkload, AuditRecord, IncidentRecord } from '../../incidents/model.ts';
import { withPlan } from '../../incidents/plan.ts';
import type { ChatMessage } from '../../ports/chat.port.ts';
import { investigationBlocks, investigationText } from '../blocks/command.blocks.ts';
import { detailsMessage } from '../blocks/details.blocks.ts';
import { homeView } from '../blocks/home.blocks.ts';
import { type IncidentView, incidentMessage } from '../blocks/incident.blocks.ts';
import { actionReplyMessage } from '../blocks/reply.blocks.ts';
import { threadReply } from '../blocks/thread.blocks.ts';
import { uninvestigableMessage } from '../blocks/uninvestigable.blocks.ts';
import { runScenes } from './run-scenes.ts';
import type { PreviewScene } from './scene.ts';

export type { PreviewScene } from './scene.ts';

export interface GalleryInput {
  readonly diagnosis: Diagnosis;
  /** The workloads hit; default: the diagnosis subject's workload with three failing pods. */
  readonly affected?: readonly AffectedWorkload[];
  readonly now: Date;
  /** An approver and someone who is not one (Slack user ids). */
  readonly people?: { readonly approver: string; readonly stranger: string };
}

const MINUTE = 60_000;

/**
 * Every state of an incident's messages, rendered by the real renderers from one diagnosis (pure): the golden Block
 * Kit files, the message budget tests and the preview page (`imagepull preview`, `npm run demo`) all come from here.
 * The records follow what the use cases and the fix runner write (step ids from the fix registry, the runner's
 * summaries, audit records turned into thread replies by the same renderer). States a diagnosis cannot reach (a fix
 * for a diagnosis without a plan) are left out.
 */
export function gallery(input: GalleryInput): PreviewScene[] {
  const { diagnosis: d, now } = input;
  const approver = input.people?.approver ?? 'U0ALICE';
  const stranger = input.people?.stranger ?? 'U0CAROL';
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const affected = input.affected ?? defaultAffected(d, at(-6 * MINUTE), at(-MINUTE));
  const pods = affected.reduce((n, a) => n + a.podCount, 0);
  const failing: IncidentCounts = {
    failingPods: pods,
    pods,
    failingWorkloads: affected.length,
    workloads: affected.length,
  };
  const healthy: IncidentCounts = { ...failing, failingPods: 0, failingWorkloads: 0 };
  const base: IncidentRecord = withPlan(
    {
      id: incidentId(d.key),
      key: d.key,
      status: 'open',
      createdAt: at(-6 * MINUTE),
      updatedAt: at(-MINUTE),
      diagnosis: d,
      affected,
      alertCount: pods * 4,
      alertIncidentIds: [],
      origin: 'alert',
      version: 7,
    },
    { now: new Date(at(-6 * MINUTE)), ttlMs: 24 * 60 * MINUTE },
  );
  const plan = base.plan;
  const view = (fixMode: IncidentView['fixMode'], counts: IncidentCounts, extra: Partial<IncidentView> = {}) => ({
    fixMode,
    now,
    counts,
    ...extra,
  });
  const audit = (r: Omit<AuditRecord, 'incidentId' | 'at'>): ChatMessage[] => {
    const m = threadReply({ incidentId: base.id, at: at(0), ...r });
    return m ? [m] : [];
  };
  const scene = (
    id: string,
    title: string,
    note: string,
    record: IncidentRecord,
    v: IncidentView,
    thread: ChatMessage[] = [],
    ephemeral: ChatMessage[] = [],
  ): PreviewScene => ({
    id,
    title,
    note,
    top: incidentMessage(record, v),
    thread: [detailsMessage(record), ...thread],
    ephemeral,
  });

  const scenes: PreviewScene[] = [
    scene(
      'open-approve',
      'Open — FIX_MODE=approve',
      'The first screen: the verdict, where and how bad, the change with its IAM diff, the buttons. Details in the thread.',
      base,
      view('approve', failing),
    ),
    scene(
      'open-dry-run',
      'Open — FIX_MODE=dry-run',
      'The same incident where fixes are dry runs: the buttons say so.',
      base,
      view('dry-run', failing),
    ),
    scene(
      'open-off',
      'Open — FIX_MODE=off',
      'Fixes are off: no fix buttons; the change is still shown, to make by hand.',
      base,
      view('off', failing),
    ),
  ];
  const refusal = authorize(stranger, { users: new Set([approver]), groupMembers: new Set(), fourEyes: false }, base);
  scenes.push(
    scene(
      'refused',
      'A click from someone who is not an approver',
      'Answered privately; nothing changes; the refusal is audited.',
      base,
      view('approve', failing),
      [],
      refusal.ok
        ? []
        : [actionReplyMessage({ ok: false, code: refusal.code, text: `Not applied: ${refusal.reason}.` })],
    ),
  );

  if (plan) scenes.push(...runScenes({ base, plan, approver, pods, now, at, failing, healthy, scene, audit, view }));

  scenes.push(
    scene(
      'resolved',
      'Resolved',
      'Every affected pod runs again (seen by the periodic sweep or a closed Monitoring incident).',
      { ...base, status: 'resolved', resolvedAt: at(-30_000) },
      view('approve', healthy),
    ),
    scene(
      'dismissed',
      'Dismissed',
      'Dismissed by an approver: nothing changed; the message stays as the record.',
      { ...base, status: 'dismissed', dismissedBy: approver },
      view('approve', failing),
      audit({ action: 'dismiss', user: approver, result: 'dismissed' }),
    ),
    scene(
      'superseded',
      'Superseded by another root cause',
      'A Re-check found a different cause: this incident points at the one that tracks it now.',
      {
        ...base,
        status: 'superseded',
        supersededBy: { id: incidentId(`${d.key}|other`), headline: 'Tag `1.8.2` not found in repository `services`' },
      },
      view('approve', failing, { supersededBy: 'https://example.slack.com/archives/C0INCIDENTS/p1795488101000200' }),
    ),
  );

  const cluster = affected[0]?.cluster ?? d.subject.cluster;
  if (cluster) {
    const inv = { target: { cluster }, diagnoses: [d] };
    scenes.push({
      id: 'slash-command',
      title: '/imagepull diagnose — the private answer',
      note: 'What the person who asked sees (ephemeral); --share posts the incident with its buttons.',
      thread: [],
      ephemeral: [{ text: investigationText(inv), blocks: investigationBlocks(inv) }],
    });
  }
  const fixedForHome: IncidentRecord = {
    ...base,
    id: incidentId(`${d.key}|yesterday`),
    status: 'fixed',
    posts: [
      {
        channel: 'C0INCIDENTS',
        ts: '1795401701.000100',
        permalink: 'https://example.slack.com/archives/C0INCIDENTS/p1795401701000100',
      },
    ],
    fix: {
      planId: plan?.id ?? 'none',
      action: 'grant-restart',
      approvedBy: approver,
      startedAt: at(-26 * 60 * MINUTE),
      finishedAt: at(-26 * 60 * MINUTE + 90_000),
      outcome: 'succeeded',
      steps: [],
    },
  };
  const home = homeView({
    incidents: [
      {
        ...base,
        posts: [
          {
            channel: 'C0INCIDENTS',
            ts: '1795488101.000100',
            permalink: 'https://example.slack.com/archives/C0INCIDENTS/p1795488101000100',
          },
        ],
      },
      fixedForHome,
    ],
    health: [
      { name: `Read ${cluster?.name ?? 'the cluster'}`, ok: true, detail: 'container.clusters.get' },
      { name: 'Kubernetes: patch deployments', ok: true, detail: 'allowed' },
      { name: 'Read IAM of services', ok: true, detail: 'artifactregistry.repositories.getIamPolicy' },
      { name: 'Policy Troubleshooter', ok: false, detail: 'permission denied', permission: 'iam.serviceAccounts.get' },
    ],
    fixMode: 'approve',
  });
  scenes.push({
    id: 'app-home',
    title: 'App Home',
    note: 'Open incidents, pending approvals, recent fixes and the bot’s own permission health, with stored permalinks.',
    thread: [],
    ephemeral: [],
    home: { text: 'App Home', blocks: home.blocks },
  });
  scenes.push({
    id: 'cannot-investigate',
    title: 'Alerts that cannot be investigated',
    note: 'Alerts naming clusters the bot cannot read: one message an hour, counting them, instead of one post each.',
    top: uninvestigableMessage({
      window: '2026-12-01T10:00:00.000Z',
      total: 82,
      lastAt: '2026-12-01T10:41:07.000Z',
      reasons: [
        {
          code: 'not-found',
          message: 'Not found: projects/acme-prod-417/locations/us-central1/clusters/prod-old.',
          alerts: 78,
          clusters: Array.from({ length: 12 }, (_, i) => ({
            cluster: `acme-prod-417/us-central1/prod-old-${i}`,
            alerts: 12 - i,
          })),
          clusterCount: 12,
        },
        {
          code: 'permission-denied',
          message:
            'Required "container.clusters.get" permission(s) for "projects/acme-data-9/locations/europe-west1/clusters/etl".',
          permission: 'container.clusters.get',
          alerts: 4,
          clusters: [{ cluster: 'acme-data-9/europe-west1/etl', alerts: 4 }],
          clusterCount: 1,
        },
      ],
    }),
    thread: [],
    ephemeral: [],
  });
  return scenes;
}

/** The subject's workload with three failing pods (the seed incident's shape). */
function defaultAffected(d: Diagnosis, first: string, last: string): AffectedWorkload[] {
  const s = d.subject;
  const cluster = s.cluster;
  if (!cluster || !s.namespace) return [];
  const pod = s.pod ?? 'pod';
  const stem = pod.replace(/-[a-z0-9]{5}$/, '');
  const pods = [pod, `${stem}-8fj2k`, `${stem}-zz91m`];
  return [
    {
      cluster,
      namespace: s.namespace,
      ...(s.workload ? { workload: s.workload } : {}),
      pods,
      podCount: pods.length,
      firstSeen: first,
      lastSeen: last,
    },
  ];
}
