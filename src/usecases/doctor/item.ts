/**
 * The item model of `imagepull doctor` (docs/operations.md): one checked thing, its status and, when it failed, the
 * exact fix. The orchestration is in usecases/doctor.ts; the check groups are the other files of this folder.
 */

/** Stable ids of the items (what `--json` consumers and tests key on). */
export type DoctorItemId =
  | 'config'
  | 'slack.token'
  | 'slack.scopes'
  | 'slack.channel'
  | 'pubsub.subscription'
  | 'pubsub.permissions'
  | 'cluster.reach'
  | 'cluster.rbac'
  | 'gcp.project'
  | 'gcp.repository'
  | 'firestore';

/** Whether an item passed, failed (with its fix) or was not checked (with why). */
export type DoctorStatus = 'pass' | 'fail' | 'skip';

/** One line of the checklist: what was checked, what was found and, when it failed, what to do. */
export interface DoctorItem {
  readonly id: DoctorItemId;
  readonly status: DoctorStatus;
  /** What was checked, for people ("Slack token valid"). */
  readonly title: string;
  /** What was found. */
  readonly detail?: string;
  /** The channel, cluster, project, repository or subscription the item is about. */
  readonly subject?: string;
  /** When it failed: what to do, one step a line (commands verbatim). */
  readonly fix?: readonly string[];
}
