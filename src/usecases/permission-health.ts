import type { FixMode } from '../config.ts';
import type { ClusterRef } from '../diagnosis/facts.ts';
import { DOWNLOAD_PERMISSION } from '../diagnosis/roles.ts';
import type { GoogleCloud } from '../ports/gcp.port.ts';
import type { StateStore } from '../ports/store.port.ts';
import { errorMessage, ReadError } from '../shared/errors.ts';
import { BOT_RBAC, BOT_ROLE_ID, missingPermissions, neededPermissions, rbacLabel } from './bot-permissions.ts';
import type { ClusterAccess } from './cluster-access.ts';

export interface HealthCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The permission to grant the bot when the check fails for lack of it. */
  readonly permission?: string;
}

/**
 * The bot's own permission health, for `/imagepull status` and App Home: can it read the clusters and repositories
 * it is asked about, ask the Troubleshooter, and patch workloads? Cached for a few minutes.
 */
export class PermissionHealth {
  readonly #google: GoogleCloud;
  readonly #access: ClusterAccess;
  readonly #store: StateStore;
  readonly #defaultCluster?: ClusterRef;
  readonly #fixMode: FixMode;
  #cache?: { at: number; checks: HealthCheck[] };

  constructor(
    google: GoogleCloud,
    access: ClusterAccess,
    store: StateStore,
    fixMode: FixMode,
    defaultCluster?: ClusterRef,
  ) {
    this.#google = google;
    this.#access = access;
    this.#store = store;
    this.#fixMode = fixMode;
    if (defaultCluster) this.#defaultCluster = defaultCluster;
  }

  async checks(): Promise<HealthCheck[]> {
    if (this.#cache && Date.now() - this.#cache.at < 5 * 60_000) return this.#cache.checks;
    const incidents = await this.#store.listIncidents(['open', 'failed', 'fixing']);
    const clusters = new Map<string, ClusterRef>();
    if (this.#defaultCluster) clusters.set(key(this.#defaultCluster), this.#defaultCluster);
    const repos = new Set<string>();
    for (const i of incidents) {
      const c = i.diagnosis.subject.cluster;
      if (c) clusters.set(key(c), c);
      const r = i.diagnosis.image?.ar?.resourceName;
      if (r) repos.add(r);
    }
    const checks: HealthCheck[] = [];
    for (const c of [...clusters.values()].slice(0, 5)) checks.push(...(await this.#cluster(c)));
    for (const p of [...new Set([...clusters.values()].map((c) => c.project))].slice(0, 5)) {
      checks.push(await this.#project(p));
    }
    for (const r of [...repos].slice(0, 5)) checks.push(...(await this.#repository(r)));
    if (checks.length === 0) {
      checks.push({
        name: 'Nothing to check yet',
        ok: true,
        detail: 'set DEFAULT_CLUSTER, or wait for an incident, to check the bot’s access',
      });
    }
    this.#cache = { at: Date.now(), checks };
    return checks;
  }

  async #cluster(c: ClusterRef): Promise<HealthCheck[]> {
    const name = `cluster ${c.project}/${c.location}/${c.name}`;
    try {
      const api = await this.#access.api(c);
      const out: HealthCheck[] = [{ name: `Read ${name}`, ok: true, detail: 'container.clusters.get' }];
      for (const r of BOT_RBAC) {
        const ok = await api.canI(r.verb, r.group, r.resource).catch(() => false);
        out.push({
          name: `Kubernetes: ${r.verb} ${r.resource}`,
          ok,
          detail: ok ? 'allowed' : 'denied',
          ...(ok ? {} : { permission: `RBAC ${rbacLabel(r)}` }),
        });
      }
      return out;
    } catch (e) {
      return [failed(`Read ${name}`, e)];
    }
  }

  /** The custom role's permissions in the project (testIamPermissions: the same list `imagepull doctor` checks). */
  async #project(project: string): Promise<HealthCheck> {
    const name = `Google: role ${BOT_ROLE_ID} in project ${project}`;
    try {
      const needed = neededPermissions(this.#fixMode);
      const missing = await missingPermissions((p) => this.#google.projects.testPermissions(project, p), needed);
      return missing.length === 0
        ? { name, ok: true, detail: `${needed.length} permissions` }
        : { name, ok: false, detail: `missing ${missing.length}`, permission: missing.join(', ') };
    } catch (e) {
      return failed(name, e);
    }
  }

  async #repository(repo: string): Promise<HealthCheck[]> {
    const out: HealthCheck[] = [];
    try {
      await this.#google.repositoryIam.getPolicy(repo);
      out.push({ name: `Read IAM of ${repo}`, ok: true, detail: 'artifactregistry.repositories.getIamPolicy' });
    } catch (e) {
      out.push(failed(`Read IAM of ${repo}`, e));
    }
    try {
      await this.#google.access.troubleshoot(
        'health-check@example.iam.gserviceaccount.com',
        `//artifactregistry.googleapis.com/${repo}`,
        DOWNLOAD_PERMISSION,
      );
      out.push({ name: 'Policy Troubleshooter', ok: true, detail: 'answers' });
    } catch (e) {
      out.push(failed('Policy Troubleshooter', e));
    }
    return out;
  }
}

function failed(name: string, e: unknown): HealthCheck {
  const permission = e instanceof ReadError ? e.permission : undefined;
  return { name, ok: false, detail: errorMessage(e), ...(permission ? { permission } : {}) };
}

function key(c: ClusterRef): string {
  return `${c.project}/${c.location}/${c.name}`;
}
