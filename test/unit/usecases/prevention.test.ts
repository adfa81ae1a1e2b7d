import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/adapters/store/memory-store.ts';
import type { Alert } from '../../../src/alerts/alert.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { ClusterFacts, NodePoolFacts } from '../../../src/diagnosis/facts.ts';
import { identityOfPool } from '../../../src/diagnosis/identity.ts';
import { incidentId } from '../../../src/incidents/merge.ts';
import type { IncidentRecord } from '../../../src/incidents/model.ts';
import { crossImagesWithPools } from '../../../src/prevention/crossing.ts';
import { groupGaps, type PairResult, pairChecks } from '../../../src/prevention/grouping.ts';
import type { PullAuditReport } from '../../../src/prevention/report.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { Metrics } from '../../../src/shared/metrics.ts';
import { IncidentService } from '../../../src/usecases/incidents.ts';
import { PreventionService } from '../../../src/usecases/prevention.ts';
import type { AuditTarget } from '../../../src/usecases/pull-audit.ts';
import { ok, SEED, seedInput } from '../diagnosis/fixtures.ts';
import { RecordingNotifier } from '../fixes/harness.ts';

const REF = { project: SEED.project, location: 'us-central1', name: 'prod' };
const POOL: NodePoolFacts = {
  name: 'default-pool',
  configuredServiceAccount: 'default',
  oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
};
const CLUSTER: ClusterFacts = { ref: REF, nodePools: [POOL], autopilot: false };
const KEY = `node-access|${SEED.repo}|${SEED.sa}`;

/**
 * The world as far as the audit goes: checkout uses the seed image; `reader` says whether the node SA may pull,
 * `readable` whether the repository policy could be read at all.
 */
class World {
  reader = false;
  readable = true;
  audits = 0;
  /** Lets a test hold an audit open (to see changes arriving while it runs). */
  gate: Promise<void> = Promise.resolve();

  async audit(target: AuditTarget): Promise<PullAuditReport> {
    this.audits++;
    await this.gate;
    const crossing = crossImagesWithPools({
      cluster: REF,
      pools: [POOL],
      workloads: [
        {
          kind: 'Deployment',
          namespace: 'prod',
          name: 'checkout',
          containers: [{ name: 'checkout', image: SEED.image, init: false }],
          nodeSelector: {},
          running: 3,
          desired: 3,
        },
      ],
    });
    const pairs = target.dependsOn && !target.dependsOn.includes(SEED.repo) ? [] : crossing.pairs;
    const results: PairResult[] = pairs.map((pair) => {
      const facts = seedInput().facts;
      return {
        pair,
        diagnosis: diagnose({
          facts: {
            ...facts,
            cluster: ok(CLUSTER),
            repositoryPolicy: this.readable
              ? ok({
                  version: 1,
                  etag: 'BwYAAAAAAAE=',
                  bindings: this.reader
                    ? [{ role: 'roles/artifactregistry.reader', members: [`serviceAccount:${SEED.sa}`] }]
                    : [],
                })
              : { ok: false, error: { code: 'unavailable', message: '503' }, source: 'getIamPolicy' },
            access: this.readable
              ? ok({
                  overall: this.reader ? 'CAN_ACCESS' : 'CANNOT_ACCESS',
                  allow: this.reader ? 'ALLOW_ACCESS_STATE_GRANTED' : 'ALLOW_ACCESS_STATE_NOT_GRANTED',
                  deny: 'DENY_ACCESS_STATE_NOT_DENIED',
                  denyPolicies: [],
                })
              : { ok: false, error: { code: 'unavailable', message: '503' }, source: 'troubleshoot' },
          },
          classification: { cause: 'unknown' },
          subject: { cluster: REF, image: pair.image.raw },
          image: pair.image,
          identity: identityOfPool(POOL, ok(CLUSTER), ok(SEED.number)),
        }),
      };
    });
    return {
      clusters: [{ cluster: REF, pools: [{ name: POOL.name, serviceAccount: SEED.sa }], workloads: 1, images: 1 }],
      pairs: results.length,
      canPull: 0,
      gaps: groupGaps(results),
      notChecked: [],
      checks: pairChecks(results),
      incomplete: [],
    };
  }
}

function setup() {
  const store = new MemoryStore();
  const notifier = new RecordingNotifier();
  const metrics = new Metrics({ defaults: false });
  const incidents = new IncidentService({
    store,
    notifier,
    access: {
      workloadHealth: async () => ({ total: 3, ready: 3, failing: [] }),
      podsHealth: async () => ({ total: 0, ready: 0, failing: [] }),
    },
    logger: silentLogger(),
    metrics,
    planTtlMs: 60_000,
  });
  const world = new World();
  const prevention = new PreventionService({
    audit: world,
    incidents,
    store,
    scope: { clusters: [REF] },
    planTtlMs: 60_000,
    logger: silentLogger(),
    metrics,
  });
  return { store, incidents, world, prevention };
}

const change = (resource: string): Alert => ({
  kind: 'iam-change',
  iamChange: { resource, scope: 'repository', method: 'SetIamPolicy', deltas: [] },
});

describe('the pull audit keeps one incident per root cause', () => {
  it('opens the gap as an audit incident whose plan is the grant alone', async () => {
    const { prevention, store } = setup();
    const run = await prevention.run('schedule');
    assert.equal(run.incidents.length, 1);
    const r = (await store.getIncident(incidentId(KEY))) as IncidentRecord;
    assert.equal(r.origin, 'audit');
    assert.equal(r.alertCount, 0);
    assert.equal(r.plan?.grant?.member, `serviceAccount:${SEED.sa}`);
    assert.deepEqual(r.plan?.restarts, [], 'nothing fails: nothing to restart');
    assert.deepEqual(r.prevention?.workloads, ['deployment/prod/checkout']);
  });

  it('a second audit that finds the same writes nothing; one that finds it closed resolves it', async () => {
    const { prevention, store, world } = setup();
    await prevention.run('schedule');
    const before = (await store.getIncident(incidentId(KEY)))?.version;
    await prevention.run('schedule');
    assert.equal((await store.getIncident(incidentId(KEY)))?.version, before);
    world.reader = true;
    const run = await prevention.run('schedule');
    assert.equal(run.resolved, 1);
    const r = await store.getIncident(incidentId(KEY));
    assert.equal(r?.status, 'resolved');
    assert.ok(r?.prevention?.closedAt);
  });

  it('an audit that could not read the policy closes nothing', async () => {
    const { prevention, store, world } = setup();
    await prevention.run('schedule');
    world.readable = false;
    const run = await prevention.run('schedule');
    assert.equal(run.resolved, 0);
    assert.equal((await store.getIncident(incidentId(KEY)))?.status, 'open');
  });

  it('a re-audit about another repository neither reports nor closes this gap', async () => {
    const { prevention, store, world } = setup();
    await prevention.run('schedule');
    world.reader = true;
    const other = 'projects/acme-prod-417/locations/us-central1/repositories/web';
    const outcome = await prevention.iamChanged(change(other));
    assert.equal(outcome.ack, true);
    assert.equal((await store.getIncident(incidentId(KEY)))?.status, 'open');
    await prevention.iamChanged(change(SEED.repo));
    assert.equal((await store.getIncident(incidentId(KEY)))?.status, 'resolved');
  });

  it('the gap back after it was fixed is a warning again, on the same message, keeping the grant ledger', async () => {
    const { prevention, store, incidents } = setup();
    await prevention.run('schedule');
    const id = incidentId(KEY);
    await incidents.update(id, (cur) => ({
      ...cur,
      status: 'fixed',
      posts: [{ channel: 'C0INCIDENTS', ts: '1700000000.000100' }],
      grants: [
        {
          repository: SEED.repo,
          member: `serviceAccount:${SEED.sa}`,
          role: 'roles/artifactregistry.reader',
          added: true,
          etagBefore: 'a',
          by: 'U0ALICE',
          at: new Date().toISOString(),
        },
      ],
    }));
    await prevention.run('schedule');
    const r = (await store.getIncident(id)) as IncidentRecord;
    assert.equal(r.status, 'open');
    assert.deepEqual(r.posts, [{ channel: 'C0INCIDENTS', ts: '1700000000.000100' }], 'the same message');
    assert.equal(r.grants?.length, 1, 'Undo still knows what the bot added');
    assert.ok(r.plan?.grant);
  });

  it('leaves an alert-driven incident of the same root cause to the alert flow', async () => {
    const { prevention, store, incidents } = setup();
    const alerted = diagnose(seedInput());
    assert.equal(alerted.key, KEY, 'the same key as the audit gap');
    const workload = { kind: 'Deployment' as const, namespace: 'prod', name: 'checkout' };
    await incidents.record(
      alerted,
      { cluster: REF, namespace: 'prod', pod: 'checkout-1', workload, alerts: 1 },
      { kind: 'alert' },
    );
    const before = (await store.getIncident(incidentId(KEY))) as IncidentRecord;
    await prevention.run('schedule');
    const after = (await store.getIncident(incidentId(KEY))) as IncidentRecord;
    assert.equal(after.version, before.version);
    assert.equal(after.origin, 'alert');
    assert.ok(after.plan?.restarts.length, 'its restart stays in the plan');
  });

  it('changes to one repository arriving while its re-audit runs share one more run', async () => {
    const { prevention, world } = setup();
    let open!: () => void;
    world.gate = new Promise((r) => {
      open = r;
    });
    const first = prevention.iamChanged(change(SEED.repo));
    const more = [prevention.iamChanged(change(SEED.repo)), prevention.iamChanged(change(SEED.repo))];
    open();
    const outcomes = await Promise.all([first, ...more]);
    assert.ok(outcomes.every((o) => o.ack));
    assert.equal(world.audits, 2, 'the running one, and one more for the changes made meanwhile');
  });

  it('with no cluster to audit, an IAM change is acknowledged and says why', async () => {
    const store = new MemoryStore();
    const metrics = new Metrics({ defaults: false });
    const prevention = new PreventionService({
      audit: new World(),
      incidents: new IncidentService({
        store,
        notifier: new RecordingNotifier(),
        access: {
          workloadHealth: async () => ({ total: 0, ready: 0, failing: [] }),
          podsHealth: async () => ({ total: 0, ready: 0, failing: [] }),
        },
        logger: silentLogger(),
        metrics,
        planTtlMs: 60_000,
      }),
      store,
      scope: {},
      planTtlMs: 60_000,
      logger: silentLogger(),
      metrics,
    });
    const outcome = await prevention.iamChanged(change(SEED.repo));
    assert.deepEqual(outcome, { ack: true, reason: 'no cluster to audit (set AUDIT_CLUSTERS or DEFAULT_CLUSTER)' });
  });
});
