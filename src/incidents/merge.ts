import { createHash } from 'node:crypto';
import type { Diagnosis } from '../diagnosis/diagnosis.ts';
import type { AffectedWorkload, IncidentRecord, Sighting } from './model.ts';

/**
 * The merge rules of incidents (docs/incidents-and-fixes.md, "One message per root cause"): how a sighting becomes
 * a new incident or joins one, when an ended incident opens again. Pure.
 */

/** Pod names kept per workload for the message; the counter goes on. */
const MAX_POD_NAMES = 200;

/** How long after a verified fix a new sighting means the problem is back (the last pods of the old rollout). */
const AFTER_FIX_GRACE_MS = 60_000;

/** Ids of recently seen keys: a storm asks for the same few thousands of times (bounded; a pure function memoized). */
const idMemo = new Map<string, string>();
const ID_MEMO_MAX = 4096;

/** Stable short id of a root-cause key: button values and store documents use it. */
export function incidentId(key: string): string {
  let id = idMemo.get(key);
  if (id === undefined) {
    id = createHash('sha256').update(key).digest('hex').slice(0, 16);
    if (idMemo.size >= ID_MEMO_MAX) idMemo.clear();
    idMemo.set(key, id);
  }
  return id;
}

/**
 * Where a sighting came from: an alert (received at that instant, for the alert→first post metric), a command, or
 * the pull audit (a gap nothing fails on yet).
 */
export type IncidentOrigin =
  | { readonly kind: 'alert'; readonly receivedAt?: Date }
  | { readonly kind: 'command'; readonly user: string; readonly channel: string }
  | { readonly kind: 'audit' };

/** A new open incident for a first sighting (its plan is added by `planFor`). */
export function newIncident(
  diagnosis: Diagnosis,
  sighting: Sighting,
  origin: IncidentOrigin,
  now: string,
): IncidentRecord {
  return {
    id: incidentId(diagnosis.key),
    key: diagnosis.key,
    status: 'open',
    createdAt: now,
    updatedAt: now,
    ...(origin.kind === 'command' ? { requestedIn: origin.channel, requestedBy: origin.user } : {}),
    diagnosis,
    affected: mergeAffected([], sighting, now),
    alertCount: sighting.alerts,
    alertIncidentIds: sighting.alertIncidentId ? [sighting.alertIncidentId] : [],
    origin: origin.kind,
    version: 1,
  };
}

/** A sighting waiting to be merged into its incident, with the diagnosis that found it. */
export interface PendingSighting {
  readonly diagnosis: Diagnosis;
  readonly sighting: Sighting;
  readonly at: string;
}

/**
 * Merges sightings into an incident: counters and affected workloads grow; a resolved incident, or a fixed one seen
 * failing again after its fix, opens again with the newest diagnosis.
 */
export function mergeSightings(current: IncidentRecord, items: readonly PendingSighting[]): IncidentRecord {
  let merged = current;
  for (const { diagnosis, sighting, at } of items) {
    // Resolved, undone (new pods fail again) or superseded (the old cause is back): open again.
    const reopened =
      merged.status === 'resolved' ||
      ((merged.status === 'undone' || merged.status === 'superseded') && sighting.alerts > 0) ||
      (merged.status === 'fixed' && sighting.alerts > 0 && isAfterFix(merged, at));
    const { supersededBy: _replaced, ...rest } = merged;
    merged = {
      ...(reopened ? rest : merged),
      updatedAt: at,
      status: reopened ? 'open' : merged.status,
      ...(reopened ? { diagnosis } : {}),
      affected: mergeAffected(merged.affected, sighting, at),
      alertCount: merged.alertCount + sighting.alerts,
      alertIncidentIds:
        sighting.alertIncidentId && !merged.alertIncidentIds.includes(sighting.alertIncidentId)
          ? [...merged.alertIncidentIds, sighting.alertIncidentId]
          : merged.alertIncidentIds,
    };
  }
  return merged;
}

/** Adds a sighting to the affected list: one entry per workload (or per pod without a controller). */
export function mergeAffected(list: readonly AffectedWorkload[], s: Sighting, now: string): AffectedWorkload[] {
  const same = (a: AffectedWorkload) =>
    a.cluster.project === s.cluster.project &&
    a.cluster.location === s.cluster.location &&
    a.cluster.name === s.cluster.name &&
    a.namespace === s.namespace &&
    (s.workload
      ? a.workload?.kind === s.workload.kind && a.workload.name === s.workload.name
      : !a.workload && a.pods.includes(s.pod ?? ''));
  const i = list.findIndex(same);
  if (i < 0) {
    return [
      ...list,
      {
        cluster: s.cluster,
        namespace: s.namespace,
        ...(s.workload ? { workload: s.workload } : {}),
        pods: s.pod ? [s.pod] : [],
        podCount: s.pod ? 1 : 0,
        firstSeen: now,
        lastSeen: now,
      },
    ];
  }
  const a = list[i] as AffectedWorkload;
  const isNew = s.pod !== undefined && !a.pods.includes(s.pod);
  const pods = isNew && a.pods.length < MAX_POD_NAMES ? [...a.pods, s.pod as string] : a.pods;
  const next = { ...a, pods, podCount: a.podCount + (isNew ? 1 : 0), lastSeen: now };
  return list.map((x, j) => (j === i ? next : x));
}

/** A sighting after a successful fix means the problem is back (fixes are verified before they are marked fixed). */
function isAfterFix(r: IncidentRecord, now: string): boolean {
  const done = r.fix?.finishedAt;
  return done !== undefined && now > new Date(new Date(done).getTime() + AFTER_FIX_GRACE_MS).toISOString();
}
