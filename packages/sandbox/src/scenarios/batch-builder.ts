/**
 * CronJobs for scenarios: a CronJob object as `kubectl apply` leaves it, created a while ago and, unless told, never
 * run yet (no Job, no pod, no `status.lastScheduleTime`): its image has never been pulled anywhere.
 */
import type { CronJob } from '../world/batch-types.ts';
import type { Container } from '../world/kube-types.ts';
import type { Cluster } from '../world/types.ts';
import { iso } from '../world/workloads.ts';
import type { WorldBuilder } from './builder.ts';

/** A CronJob to create. */
export interface CronJobSpec {
  readonly namespace: string;
  readonly name: string;
  readonly schedule: string;
  readonly containers: readonly Container[];
  readonly serviceAccountName?: string;
  /** When it was created; default an hour ago. */
  readonly createdAgoMs?: number;
}

/** Stores a CronJob that has not run yet. */
export function addCronJob(b: WorldBuilder, cluster: Cluster, spec: CronJobSpec): CronJob {
  const created = b.now - (spec.createdAgoMs ?? 60 * 60_000);
  const cronJob: CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: b.world.rng.uuid(),
      generation: 1,
      creationTimestamp: iso(created),
      labels: { app: spec.name },
    },
    spec: {
      schedule: spec.schedule,
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { labels: { app: spec.name } },
            spec: {
              restartPolicy: 'OnFailure',
              ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
              containers: spec.containers.map((c) => ({ ...c })),
            },
          },
        },
      },
    },
    status: {},
  };
  cluster.kube.put(cronJob);
  return cronJob;
}
