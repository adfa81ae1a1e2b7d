/**
 * The batch/v1 resources of the Kubernetes fake: Jobs and CronJobs, read-only (get, list in one namespace or across
 * all of them with the same selectors and `limit`/`continue` paging as every other list, watch). The server's
 * generic routes, discovery and default table printer serve them; nothing here changes another resource.
 */

/** A served type, in the shape of `ResourceInfo` (resources.ts spreads these into its table). */
interface BatchResourceInfo {
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
}

/** `jobs` and `cronjobs` of API group `batch`, version `v1`, as discovery lists them. */
export const BATCH_RESOURCE_TYPES: readonly BatchResourceInfo[] = [
  {
    resource: 'cronjobs',
    singular: 'cronjob',
    kind: 'CronJob',
    group: 'batch',
    version: 'v1',
    namespaced: true,
    verbs: ['get', 'list', 'watch'],
    shortNames: ['cj'],
    categories: ['all'],
  },
  {
    resource: 'jobs',
    singular: 'job',
    kind: 'Job',
    group: 'batch',
    version: 'v1',
    namespaced: true,
    verbs: ['get', 'list', 'watch'],
    categories: ['all'],
  },
];
