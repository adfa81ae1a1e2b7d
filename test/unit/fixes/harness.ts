import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import type { FixMode } from '../../../src/config.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { Diagnosis } from '../../../src/diagnosis/diagnosis.ts';
import type { AccessVerdict, WorkloadRef } from '../../../src/diagnosis/facts.ts';
import type { IamPolicy } from '../../../src/diagnosis/iam-policy.ts';
import type { FixWorld, WorkloadHealth } from '../../../src/fixes/fix.ts';
import { FixRunner } from '../../../src/fixes/runner.ts';
import type { AuditRecord, IncidentRecord } from '../../../src/incidents/model.ts';
import type { ClusterApi, WorkloadState } from '../../../src/ports/cluster.port.ts';
import type { AccessChecker, RepositoryIam } from '../../../src/ports/gcp.port.ts';
import type { IncidentNotifier } from '../../../src/ports/notifier.port.ts';
import { ReadError } from '../../../src/shared/errors.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { Approvers } from '../../../src/usecases/approvers.ts';
import { AuditTrail } from '../../../src/usecases/audit.ts';
import { IncidentActions } from '../../../src/usecases/incident-actions.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import type { Investigation } from '../../../src/usecases/investigate.ts';
import { repoPolicy, SEED, seedInput } from '../diagnosis/fixtures.ts';

/**
 * The fix lifecycle with in-memory ports (no network, no SDK): the real incident service, runner and button use
 * cases over a MemoryStore, a scriptable repository IAM, a troubleshooter that follows the policy, and a cluster
 * whose restarted pods come up at once.
 */

/** How the next `setIamPolicy` behaves. */
export type SetBehaviour =
  | 'ok'
  /** ABORTED: a stale etag; nothing changes. */
  | 'conflict'
  /** The write is applied but the answer is lost (UNAVAILABLE after the fact). */
  | 'applied-then-unavailable'
  /** UNAVAILABLE before anything changed. */
  | 'unavailable';

/** A repository policy with etags, and a script of `setIamPolicy` outcomes. */
export class FakeRepositoryIam implements RepositoryIam {
  policy: IamPolicy = structuredClone(repoPolicy) as IamPolicy;
  readonly script: SetBehaviour[] = [];
  /** When set, `getPolicy` fails (after `readsBeforeFailing` more successful reads). */
  getFails = false;
  readsBeforeFailing = Number.POSITIVE_INFINITY;
  sets = 0;
  gets = 0;
  #version = 1;

  /** The bot holds every permission asked about. */
  async testPermissions(_resource: string, permissions: readonly string[]): Promise<readonly string[]> {
    return permissions;
  }

  async getPolicy(): Promise<IamPolicy> {
    this.gets++;
    if (this.getFails && this.readsBeforeFailing-- <= 0)
      throw new ReadError('unavailable', 'getIamPolicy: UNAVAILABLE');
    return structuredClone(this.policy);
  }

  async setPolicy(_resource: string, policy: IamPolicy): Promise<IamPolicy> {
    this.sets++;
    const how = this.script.shift() ?? 'ok';
    if (how === 'conflict' || policy.etag !== this.policy.etag)
      throw new ReadError('conflict', 'setIamPolicy: ABORTED: the etag is stale');
    if (how === 'unavailable') throw new ReadError('unavailable', 'setIamPolicy: UNAVAILABLE');
    this.policy = { ...structuredClone(policy), etag: `etag-${++this.#version}` };
    if (how === 'applied-then-unavailable') throw new ReadError('unavailable', 'setIamPolicy: deadline exceeded');
    return structuredClone(this.policy);
  }

  has(member: string): boolean {
    return this.policy.bindings.some(
      (b) => b.role === 'roles/artifactregistry.reader' && !b.condition && b.members.includes(member),
    );
  }
}

/** The troubleshooter: CAN_ACCESS once the node SA is on the policy (or never, to test propagation timeouts). */
export class FakeAccess implements AccessChecker {
  readonly #iam: FakeRepositoryIam;
  never = false;
  constructor(iam: FakeRepositoryIam) {
    this.#iam = iam;
  }
  async troubleshoot(email: string): Promise<AccessVerdict> {
    const can = !this.never && this.#iam.has(`serviceAccount:${email}`);
    return { overall: can ? 'CAN_ACCESS' : 'CANNOT_ACCESS', denyPolicies: [] };
  }
}

/** One Deployment whose pods run as soon as it is restarted (unless `podsFail`). */
export class FakeCluster {
  readonly restarts: { ref: WorkloadRef; at: Date }[] = [];
  paused = false;
  podsFail = false;
  api(): ClusterApi {
    const state = (ref: WorkloadRef): WorkloadState => ({
      ...ref,
      paused: this.paused,
      desiredReplicas: 3,
      selector: 'app=checkout',
      generation: 1 + this.restarts.length,
      observedGeneration: 1 + this.restarts.length,
    });
    const unused = () => Promise.reject(new Error('not used by fixes'));
    return {
      getWorkload: async (ref) => state(ref),
      restartWorkload: async (ref, at) => {
        this.restarts.push({ ref, at });
      },
      getPod: unused,
      listPodEvents: unused,
      listPodWarnings: unused,
      resolveWorkload: unused,
      listWorkloads: unused,
      listWorkloadPods: unused,
      listPods: unused,
      getNode: unused,
      getServiceAccount: unused,
      listServiceAccounts: unused,
      listWorkloadTemplates: unused,
      listNodes: unused,
      canI: unused,
    };
  }
  health(restartedAt?: string): WorkloadHealth {
    const restarted = this.restarts.some((r) => r.at.toISOString() === restartedAt);
    if (!restarted || this.podsFail)
      return { total: 3, ready: 0, failing: [{ pod: 'checkout-new-1', reason: 'ImagePullBackOff' }] };
    return { total: 3, ready: 3, failing: [] };
  }
}

/** What the notifier was told: the audit records that would reach the thread. */
export class RecordingNotifier implements IncidentNotifier {
  readonly notes: AuditRecord[] = [];
  async changed(): Promise<void> {}
  async note(record: AuditRecord): Promise<void> {
    this.notes.push(record);
  }
}

export const APPROVER = 'U0ALICE';
export const SECOND_APPROVER = 'U0BOB';
export const STRANGER = 'U0CAROL';
export const TIMING = {
  propagationTimeoutMs: 60_000,
  rolloutTimeoutMs: 60_000,
  pollIntervalMs: 1000,
  factTimeoutMs: 1000,
};

export interface Lifecycle {
  readonly store: MemoryStore;
  readonly iam: FakeRepositoryIam;
  readonly access: FakeAccess;
  readonly cluster: FakeCluster;
  readonly notifier: RecordingNotifier;
  readonly incidents: IncidentService;
  readonly runner: FixRunner;
  readonly actions: IncidentActions;
  /** Another replica's runner over the same store and world (to resume what this one left). */
  replica(): FixRunner;
  /** What a Re-check (and the re-read before a run) finds; the seed diagnosis unless replaced. */
  fresh: () => Diagnosis | undefined;
  /** Opens the seed incident from an alert and returns it with its plan. */
  open(): Promise<IncidentRecord>;
  current(id: string): Promise<IncidentRecord>;
}

/** Builds the lifecycle. `now` is read on every call (mocked `Date` in timer tests). */
export function lifecycle(
  options: { fixMode?: FixMode; planTtlMs?: number; approvalsRequired?: 1 | 2 } = {},
): Lifecycle {
  const logger = silentLogger();
  const metrics = new Metrics({ defaults: false });
  const store = new MemoryStore();
  const iam = new FakeRepositoryIam();
  const access = new FakeAccess(iam);
  const cluster = new FakeCluster();
  const notifier = new RecordingNotifier();
  const incidents = new IncidentService({
    store,
    notifier,
    access: {
      workloadHealth: async () => cluster.health(cluster.restarts.at(-1)?.at.toISOString()),
      podsHealth: async () => ({ total: 0, ready: 0, failing: [] }),
    },
    logger,
    metrics,
    planTtlMs: options.planTtlMs ?? 86_400_000,
  });
  const audit = new AuditTrail(store, logger, notifier);
  const world: FixWorld = {
    repositoryIam: iam,
    access,
    cluster: async () => cluster.api(),
    workloadHealth: async (_c, _w, restartedAt) => cluster.health(restartedAt),
    invalidate: () => undefined,
  };
  const lc: Partial<Lifecycle> & { fresh: () => Diagnosis | undefined } = {
    fresh: () => diagnose(seedInput()),
  };
  const newRunner = () =>
    new FixRunner({
      locks: store,
      incidents,
      audit: (r) => audit.record(r),
      recheck: async () => {
        const d = lc.fresh();
        return d ? { diagnosis: d } : { note: 'no pod is failing to pull any more' };
      },
      world,
      timing: TIMING,
      fixMode: options.fixMode ?? 'approve',
      logger,
      metrics: new Metrics({ defaults: false }),
    });
  const runner = newRunner();
  const actions = new IncidentActions({
    config: {
      fixMode: options.fixMode ?? 'approve',
      allowedProjects: [],
      allowedNamespaces: [],
      approvalsRequired: options.approvalsRequired ?? 1,
    },
    incidents,
    runner,
    approvers: new Approvers([APPROVER, SECOND_APPROVER], false, { usergroupMembers: async () => [] }, logger),
    audit,
    investigate: async (target): Promise<Investigation> => {
      const d = lc.fresh();
      return d ? { target, diagnoses: [d] } : { target, diagnoses: [], note: 'Nothing is failing any more.' };
    },
    repositoryIam: iam,
    invalidate: () => undefined,
    logger,
    metrics,
  });
  return Object.assign(lc, {
    store,
    iam,
    access,
    cluster,
    notifier,
    incidents,
    runner,
    actions,
    replica: newRunner,
    async open() {
      const d = diagnose(seedInput());
      return incidents.record(
        d,
        {
          cluster: { project: SEED.project, location: 'us-central1', name: 'prod' },
          namespace: 'prod',
          pod: 'checkout-7d9c8b6f4-q2xnv',
          workload: { kind: 'Deployment', namespace: 'prod', name: 'checkout' },
          alerts: 1,
        },
        { kind: 'alert' },
      );
    },
    async current(id: string) {
      const r = await store.getIncident(id);
      if (!r) throw new Error(`incident ${id} is gone`);
      return r;
    },
  }) as Lifecycle;
}

/** Lets pending promise callbacks run, then moves the mocked clock on, until `p` settles. */
export async function settle<T>(
  p: Promise<T>,
  tick: (ms: number) => void,
  stepMs = 1000,
  maxSteps = 10_000,
): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < maxSteps && !done; i++) {
    for (let j = 0; j < 20 && !done; j++) await new Promise<void>((r) => setImmediate(r));
    if (!done) tick(stepMs);
  }
  return watched;
}
