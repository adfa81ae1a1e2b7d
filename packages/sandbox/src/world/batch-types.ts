/**
 * batch/v1 objects the simulated clusters store, in their wire (JSON) shape: Jobs and CronJobs. Only the fields the
 * simulator and the scenarios set are typed; the index signatures keep anything else, as the API server would.
 */
import type { KubeObject, ObjectReference, PodTemplateSpec } from './kube-types.ts';

/** `JobSpec` in its JSON wire shape (fields the simulator uses). */
export interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  template: PodTemplateSpec;
  [key: string]: unknown;
}

/** `CronJob` in its JSON wire shape (fields the simulator uses). */
export interface CronJob extends KubeObject {
  kind: 'CronJob';
  spec: {
    schedule: string;
    suspend?: boolean;
    concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace';
    successfulJobsHistoryLimit: number;
    failedJobsHistoryLimit: number;
    jobTemplate: { metadata?: { labels?: Record<string, string> }; spec: JobSpec };
    [key: string]: unknown;
  };
  status: {
    /** Absent until the first Job was created. */
    lastScheduleTime?: string;
    lastSuccessfulTime?: string;
    active?: ObjectReference[];
  };
}
