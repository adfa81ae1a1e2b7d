import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Firestore } from '@google-cloud/firestore';
import { type Emulator, startFirestoreEmulator } from '@imagepull/sandbox';
import { FirestoreStore } from '../../../src/adapters/store/firestore-store.ts';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import type { IncidentRecord } from '../../../src/incidents/model.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { seedInput } from '../../unit/diagnosis/fixtures.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

/** The Firestore state store against the real emulator: what several replicas rely on. */
describe('FirestoreStore (Firestore emulator)', () => {
  let emulator: Emulator;
  const stores: FirestoreStore[] = [];
  const store = (under = prefix) => {
    const s = new FirestoreStore({
      projectId: 'acme-prod-417',
      logger: silentLogger(),
      prefix: under,
      emulatorHost: emulator.host,
    });
    stores.push(s);
    return s;
  };
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const d = diagnose(seedInput());
  const record: IncidentRecord = {
    id: 'inc-1',
    key: d.key,
    status: 'open',
    createdAt: '2026-11-24T02:41:00.000Z',
    updatedAt: '2026-11-24T02:41:00.000Z',
    diagnosis: d,
    affected: [],
    alertCount: 0,
    alertIncidentIds: [],
    origin: 'alert',
    version: 1,
  };

  /** A plain client on the emulator, to look at the documents the stores wrote. */
  let raw: Firestore;
  /** A group of sightings: the alert count goes up by the deliveries new to the incident. */
  const bump = (cur: IncidentRecord, f: ReadonlySet<string>) => ({ ...cur, alertCount: cur.alertCount + f.size });
  /** What one replica found new when it recorded these deliveries into an incident (nothing written if none). */
  const deliver = async (s: FirestoreStore, id: string, keys: string[], ttlMs = 60_000) => {
    let fresh: ReadonlySet<string> = new Set(['unset']);
    const seen = (cur: IncidentRecord, f: ReadonlySet<string>) => {
      fresh = f;
      return f.size === 0 ? undefined : bump(cur, f);
    };
    await s.updateIncident(id, seen, { keys, ttlMs });
    return fresh;
  };

  before(async () => {
    emulator = await startFirestoreEmulator({ projectId: 'acme-prod-417' });
    raw = new Firestore({ projectId: 'acme-prod-417', host: emulator.host, ssl: false });
  });
  after(async () => {
    for (const s of stores) await s.close();
    await raw?.terminate();
    await emulator?.stop();
  });

  it('lets exactly one of several replicas create an incident, and counts each delivery once across them', async () => {
    // Its own collections, so the listings the later tests count see none of these incidents.
    const own = `${prefix}d`;
    const replicas = [store(own), store(own), store(own), store(own), store(own)];
    const ttl = { ttlMs: 60_000 };
    const created = await Promise.all(
      replicas.map((s) => s.createIncident({ ...record, id: 'inc-d', alertCount: 1 }, { keys: ['log:a'], ...ttl })),
    );
    assert.equal(created.filter(Boolean).length, 1);
    // Five replicas each get the same two deliveries (a, recorded with the creation, and b) plus one of their own.
    const fresh = await Promise.all(replicas.map((s, i) => deliver(s, 'inc-d', ['log:a', 'log:b', `log:own-${i}`])));
    assert.equal(fresh.filter((f) => f.has('log:a')).length, 0, 'the delivery recorded with the creation is not new');
    assert.equal(fresh.filter((f) => f.has('log:b')).length, 1, 'exactly one replica counted the shared delivery');
    assert.ok(
      fresh.every((f, i) => f.has(`log:own-${i}`)),
      'each counted its own',
    );
    const stored = await store(own).getIncident('inc-d');
    assert.equal(stored?.alertCount, 1 + 1 + 5, 'a, b once, and the five of their own: nothing lost, nothing twice');
    // Deliveries are per incident: the same key may feed another root cause's incident.
    assert.ok(await store(own).createIncident({ ...record, id: 'inc-e' }));
    assert.deepEqual([...(await deliver(store(own), 'inc-e', ['log:b']))], ['log:b']);
    // A remembered key expires: a redelivery after its TTL counts again (rewritten, not created, since it exists).
    await deliver(store(own), 'inc-e', ['log:short'], 1);
    await new Promise((r) => setTimeout(r, 20));
    const again = await deliver(store(own), 'inc-e', ['log:short', 'log:b']);
    assert.deepEqual([...again], ['log:short'], 'the expired key counts again, the remembered one does not');
    // A replica writes its next group on the incident as it last wrote it, unread: a write by anyone else in between
    // is not lost (the commit is conditional, so it reads and writes again).
    const [a, b] = [store(own), store(own)];
    await deliver(a, 'inc-e', ['log:c1']);
    await b.updateIncident('inc-e', (cur) => ({ ...cur, alertIncidentIds: ['0.b-wrote-this'] }));
    await deliver(a, 'inc-e', ['log:c2']);
    await deliver(a, 'inc-e', ['log:c3']);
    const e = await store(own).getIncident('inc-e');
    assert.deepEqual(e?.alertIncidentIds, ['0.b-wrote-this'], "the other replica's write survives");
    assert.equal(e?.alertCount, 1 + 2 + 3, 'b once, short twice (it expired), the three c: nothing lost or doubled');
  });

  it("keeps a storm's deliveries in a few documents, which a replica that never saw them reads", async () => {
    const own = `${prefix}s`;
    const [a, b] = [store(own), store(own)];
    const keys = Array.from({ length: 4500 }, (_, i) => `log:storm-${i}`);
    assert.ok(
      await a.createIncident({ ...record, id: 'inc-s', alertCount: 1 }, { keys: keys.slice(0, 1), ttlMs: 60_000 }),
    );
    // Two replicas record the storm in groups of 400, taking turns: each commit is on what the other just wrote.
    for (let i = 1, turn = 0; i < keys.length; i += 400, turn++)
      await (turn % 2 ? b : a).updateIncident('inc-s', bump, { keys: keys.slice(i, i + 400), ttlMs: 60_000 });
    assert.equal((await store(own).getIncident('inc-s'))?.alertCount, 4500);
    const docs = await raw.collection(`${own}_deliveries`).get();
    assert.equal(docs.size, 3, '4,500 deliveries in three documents of at most 2,000, not one document each');
    // A replica that never saw the storm: every delivery of it is known (a redelivery adds nothing), a new one is not.
    const late = store(own);
    const known = [keys[0] as string, keys[2100] as string, keys[4499] as string];
    assert.deepEqual([...(await deliver(late, 'inc-s', known))], []);
    assert.deepEqual(
      [...(await deliver(late, 'inc-s', [keys[3000] as string, 'log:after-the-storm']))],
      ['log:after-the-storm'],
    );
    // And the replicas that wrote the storm see that one too (their next commit fails on the newer incident and reads).
    assert.deepEqual([...(await deliver(a, 'inc-s', ['log:after-the-storm']))], []);
    assert.equal((await store(own).getIncident('inc-s'))?.alertCount, 4501);
  });

  it('leaves behind a full segment once all its deliveries expired, and reads from the next', async () => {
    const own = `${prefix}x`;
    const keys = Array.from({ length: 2500 }, (_, i) => `log:brief-${i}`);
    assert.ok(await store(own).createIncident({ ...record, id: 'inc-x' }, { keys, ttlMs: 50 }));
    await new Promise((r) => setTimeout(r, 100));
    await store(own).updateIncident('inc-x', bump, { keys: ['log:lasting'], ttlMs: 60_000 });
    const doc = await raw.collection(`${own}_incidents`).doc('inc-x').get();
    assert.deepEqual(
      [doc.get('deliveryFrom'), doc.get('deliverySegments')],
      [1, 2],
      'the first segment, full and expired, is left behind',
    );
    const fresh = await deliver(store(own), 'inc-x', ['log:lasting', 'log:brief-0', 'log:brief-2400']);
    assert.deepEqual([...fresh].sort(), ['log:brief-0', 'log:brief-2400'], 'expired deliveries count again');
  });

  it('counts a delivery once when the client answers part of a read later than the rest', async () => {
    const own = `${prefix}g`;
    const [a, b, c] = [store(own), store(own), store(own)];
    assert.ok(await a.createIncident({ ...record, id: 'inc-g', alertCount: 1 }, { keys: ['log:0'], ttlMs: 60_000 }));
    await b.updateIncident('inc-g', bump, { keys: ['log:1'], ttlMs: 60_000 });
    await a.updateIncident('inc-g', bump, { keys: ['log:2'], ttlMs: 60_000 });
    // What the client does when a getAll stream breaks after the segments came back: it asks for the incident again,
    // later — by when another replica has recorded a delivery.
    const getAll = Firestore.prototype.getAll;
    let armed = true;
    Firestore.prototype.getAll = async function (this: Firestore, ...refs: Parameters<Firestore['getAll']>) {
      if (!armed || refs.length < 2) return getAll.apply(this, refs);
      armed = false;
      const segments = await getAll.apply(this, refs.slice(1) as typeof refs);
      await a.updateIncident('inc-g', bump, { keys: ['log:dup'], ttlMs: 60_000 });
      return [...(await getAll.apply(this, refs.slice(0, 1) as typeof refs)), ...segments];
    };
    try {
      await b.updateIncident('inc-g', bump, { keys: ['log:dup', 'log:3'], ttlMs: 60_000 });
    } finally {
      Firestore.prototype.getAll = getAll;
    }
    assert.equal(armed, false, 'the read was answered out of step');
    assert.equal((await c.getIncident('inc-g'))?.alertCount, 5, '0, 1, 2, dup and 3: dup once');
    const fresh = await deliver(c, 'inc-g', ['log:dup', 'log:2']);
    assert.deepEqual([...fresh], [], "and the other replica's deliveries are all still recorded");
  });

  it('gives an incident deleted and created again a delivery log of its own', async () => {
    const own = `${prefix}r`;
    const [a, b] = [store(own), store(own)];
    const keys = Array.from({ length: 4500 }, (_, i) => `log:old-${i}`);
    assert.ok(await a.createIncident({ ...record, id: 'inc-r', alertCount: 1 }, { keys, ttlMs: 60_000 }));
    await a.deleteIncident('inc-r');
    // The same id and the same createdAt: a different incident all the same.
    assert.ok(await b.createIncident({ ...record, id: 'inc-r', alertCount: 1 }, { keys: ['log:new'], ttlMs: 60_000 }));
    const fresh = await deliver(a, 'inc-r', ['log:new', 'log:old-5']);
    assert.deepEqual([...fresh], ['log:old-5'], 'the old log is not read into the new incident');
  });

  it('serializes concurrent read-modify-writes: no lost update', async () => {
    assert.ok(await store().createIncident(record));
    const replicas = [store(), store(), store()];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (replicas[i % 3] as FirestoreStore).updateIncident('inc-1', (cur) => ({
          ...cur,
          alertCount: cur.alertCount + 1,
        })),
      ),
    );
    const final = await store().getIncident('inc-1');
    assert.equal(final?.alertCount, 12);
    assert.equal(final?.version, 13);
    assert.deepEqual(final?.diagnosis, d, 'the diagnosis round-trips intact');
    assert.equal((await store().listIncidents(['open'])).length, 1);
    assert.equal((await store().listIncidents(['fixed'])).length, 0);
    await store().updateIncident('inc-1', (cur) => ({ ...cur, alertIncidentIds: ['0.nv7dkq2x5hzm'] }));
    assert.equal(
      (await store().listIncidents(['open'], '0.nv7dkq2x5hzm')).length,
      1,
      'found by Monitoring incident id',
    );
    assert.equal((await store().listIncidents(['open'], '0.other')).length, 0);
  });

  it('a writer killed between its read and its write holds nothing: the next write goes through at once', async () => {
    // Another process reads the incident to change it, and is killed before it writes (a replica's SIGKILL or OOM).
    await store().createIncident({ ...record, id: 'inc-killed' });
    const code = [
      `import { writeSync } from 'node:fs';`,
      `import { FirestoreStore } from ${JSON.stringify(new URL('../../../src/adapters/store/firestore-store.ts', import.meta.url).pathname)};`,
      `import { silentLogger } from ${JSON.stringify(new URL('../../../src/shared/logger.ts', import.meta.url).pathname)};`,
      `const s = new FirestoreStore({ projectId: 'acme-prod-417', logger: silentLogger(), prefix: ${JSON.stringify(prefix)}, emulatorHost: ${JSON.stringify(emulator.host)} });`,
      `await s.updateIncident('inc-killed', () => { writeSync(1, 'read\\n'); for (;;); });`,
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('close', r));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('read') && resolve());
      child.once('close', () => reject(new Error('the writer exited before it read')));
    });
    child.kill('SIGKILL');
    await exited;
    const began = Date.now();
    const before = await store().getIncident('inc-killed');
    const after = await store().updateIncident('inc-killed', (cur) => ({ ...cur, alertCount: cur.alertCount + 1 }));
    const took = Date.now() - began;
    assert.equal(after?.alertCount, (before?.alertCount ?? 0) + 1);
    // A transaction killed at that point left the document locked for ~60 s (docs/library-traps.md, "Firestore").
    assert.ok(took < 5000, `the next write took ${took} ms`);
  });

  it('holds a lock for one owner at a time until it is released or expires', async () => {
    const [a, b] = [store(), store()];
    assert.equal(await a.acquireLock('fix:inc-1', 'replica-a', 60_000), true);
    assert.equal(await b.acquireLock('fix:inc-1', 'replica-b', 60_000), false);
    await a.releaseLock('fix:inc-1', 'replica-a');
    assert.equal(await b.acquireLock('fix:inc-1', 'replica-b', 1), true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await a.acquireLock('fix:inc-1', 'replica-a', 60_000), true, 'an expired lease can be taken');
  });

  it('gives the post lease to the replica whose create wins, in the same write', async () => {
    const own = `${prefix}l`;
    const [a, b, c] = [store(own), store(own), store(own)];
    const lease = (owner: string) => ({ names: ['post:inc-l:C1', 'post:inc-l:C2'], owner, ttlMs: 60_000 });
    const created = await Promise.all([
      a.createIncident({ ...record, id: 'inc-l' }, undefined, lease('replica-a')),
      b.createIncident({ ...record, id: 'inc-l' }, undefined, lease('replica-b')),
    ]);
    assert.equal(created.filter(Boolean).length, 1, 'one create wins');
    const [winner, loser] = created[0] ? ['replica-a', 'replica-b'] : ['replica-b', 'replica-a'];
    for (const name of ['post:inc-l:C1', 'post:inc-l:C2']) {
      assert.equal(await c.acquireLock(name, loser, 60_000), false, `${name} is not the losing replica's`);
      assert.equal(await c.acquireLock(name, winner, 60_000), true, `${name} is the creator's`);
    }
  });

  it('keeps the audit trail newest first', async () => {
    const s = store();
    await s.appendAudit({
      at: '2026-11-24T03:00:00.000Z',
      incidentId: 'inc-1',
      action: 'approve',
      user: 'U0ALICE',
      result: 'accepted',
    });
    await s.appendAudit({
      at: '2026-11-24T03:01:00.000Z',
      incidentId: 'inc-1',
      action: 'finish',
      user: 'U0ALICE',
      result: 'succeeded',
    });
    const audit = await s.listAudit(10);
    assert.deepEqual(
      audit.map((a) => a.action),
      ['finish', 'approve'],
    );
  });
});
