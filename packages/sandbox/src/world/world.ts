/**
 * The live, mutable state of the simulated Google Cloud and its GKE clusters. The fakes read and write it; tests
 * inspect it and change it out of band (a grant made in the console, a tag pushed, a policy rewritten).
 */
import { Rng } from './ids.ts';
import type {
  BotIdentity,
  Caller,
  Cluster,
  ExternalRegistry,
  NodePoolState,
  Project,
  Repository,
  VpcScPerimeter,
} from './types.ts';

/** How to create an empty world. */
export interface WorldOptions {
  /** Seeds every generated id, so the same scenario always builds the same names. */
  readonly seed: string;
  /** Epoch-ms clock; defaults to `Date.now`. */
  readonly clock?: () => number;
  /** IAM grants count (for the troubleshooter and the kubelet) only once they are this old. */
  readonly propagationDelayMs?: number;
  readonly bot?: Partial<BotIdentity>;
}

/** The default identity the bot runs as in the sandbox. */
export const DEFAULT_BOT_EMAIL = 'imagepull-bot@acme-prod-417.iam.gserviceaccount.com';

/** The simulated Google Cloud and its clusters; every fake reads and writes this one object. */
export class World {
  readonly rng: Rng;
  readonly clock: () => number;
  /** Milliseconds before an IAM grant becomes effective. Tests may change it at any time. */
  propagationDelayMs: number;
  readonly organization = 'organizations/418204116093';
  /** By project id. */
  readonly projects = new Map<string, Project>();
  /** By resource name `projects/P/locations/L/repositories/R`. */
  readonly repositories = new Map<string, Repository>();
  /** By resource name `projects/P/locations/L/clusters/C`. */
  readonly clusters = new Map<string, Cluster>();
  readonly perimeters: VpcScPerimeter[] = [];
  /** Registries outside Google, by host (`docker.io`). */
  readonly registries = new Map<string, ExternalRegistry>();
  /** Custom roles (`projects/P/roles/X`) → permissions. */
  readonly customRoles = new Map<string, string[]>();
  readonly bot: BotIdentity;

  constructor(opts: WorldOptions) {
    this.rng = new Rng(opts.seed);
    this.clock = opts.clock ?? Date.now;
    this.propagationDelayMs = opts.propagationDelayMs ?? 0;
    this.bot = {
      email: opts.bot?.email ?? DEFAULT_BOT_EMAIL,
      denied: opts.bot?.denied ?? [],
      kubeDenied: opts.bot?.kubeDenied ?? [],
    };
  }

  now(): number {
    return this.clock();
  }

  /** A project by id or number, with or without the `projects/` prefix. */
  project(idOrNumber: string): Project | undefined {
    const key = idOrNumber.replace(/^projects\//, '');
    return this.projects.get(key) ?? [...this.projects.values()].find((p) => p.number === key);
  }

  repository(name: string): Repository | undefined {
    return this.repositories.get(name);
  }

  cluster(resourceName: string): Cluster | undefined {
    return this.clusters.get(resourceName);
  }

  /** The email a node pool runs as: `"default"` is the Compute Engine default SA of the cluster's project. */
  nodeServiceAccount(cluster: Cluster, pool: NodePoolState): string {
    if (pool.serviceAccount && pool.serviceAccount !== 'default') return pool.serviceAccount;
    const number = this.project(cluster.projectId)?.number ?? '0';
    return `${number}-compute@developer.gserviceaccount.com`;
  }

  /** The node pool a node belongs to. */
  nodePoolOfNode(cluster: Cluster, nodeName: string): NodePoolState | undefined {
    return cluster.nodePools.find((p) => p.nodes.includes(nodeName));
  }

  /** The perimeter that protects `service` in a project, if any. */
  perimeterFor(projectId: string, service: string): VpcScPerimeter | undefined {
    return this.perimeters.find((p) => p.projects.includes(projectId) && p.restrictedServices.includes(service));
  }

  /** True when the bot is not allowed `permission` on `resource` (a resource name, or a child of one). */
  botDenied(permission: string, resource: string): boolean {
    return this.bot.denied.some(
      (d) =>
        d.permission === permission &&
        (d.resource === undefined || resource === d.resource || resource.startsWith(`${d.resource}/`)),
    );
  }

  /** True when `caller` is not allowed `permission` on `resource`: only the bot is ever refused. */
  denied(caller: Caller, permission: string, resource: string): boolean {
    return caller === 'bot' && this.botDenied(permission, resource);
  }

  /** True when Kubernetes RBAC refuses the bot `verb` on `resource` in `namespace`. */
  botKubeDenied(verb: string, resource: string, namespace?: string): boolean {
    return this.bot.kubeDenied.some(
      (d) => d.verb === verb && d.resource === resource && (d.namespace === undefined || d.namespace === namespace),
    );
  }
}
