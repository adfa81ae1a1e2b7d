/**
 * The batch/v1 resources of the Kubernetes fake: Jobs and CronJobs, read-only (get, and list in one namespace or
 * across all of them, with the same label/field selectors and `limit`/`continue` paging as every other list). The
 * server's generic routes serve them; nothing here changes how other resources are served.
 */

/** How the server routes a resource (the shape of its own table). */
interface BatchResourceInfo {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

/** `jobs` and `cronjobs` of API group `batch`, version `v1`. */
export const BATCH_RESOURCES: Readonly<Record<string, BatchResourceInfo>> = {
  jobs: { kind: 'Job', group: 'batch', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
  cronjobs: { kind: 'CronJob', group: 'batch', version: 'v1', namespaced: true, verbs: ['get', 'list'] },
};
