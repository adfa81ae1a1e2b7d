import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Firestore } from '@google-cloud/firestore';
import { type Message, PubSub } from '@google-cloud/pubsub';
import {
  type Emulator,
  EmulatorMissingError,
  findCloudSdkRoot,
  groupAlive,
  startFirestoreEmulator,
  startPubsubEmulator,
} from '../../src/emulators.ts';
import { waitUntil } from '../../src/net.ts';

const PROJECT = 'emulator-test';

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('Pub/Sub and Firestore emulators', () => {
  let pubsubEmulator: Emulator | undefined;
  let firestoreEmulator: Emulator | undefined;

  before(async () => {
    [pubsubEmulator, firestoreEmulator] = await Promise.all([
      startPubsubEmulator({ projectId: PROJECT }),
      startFirestoreEmulator({ projectId: PROJECT }),
    ]);
  });

  after(async () => {
    await Promise.all([pubsubEmulator?.stop(), firestoreEmulator?.stop()]);
  });

  it('serves the real Pub/Sub client: topic, subscription, publish, receive, ack', async () => {
    assert.ok(pubsubEmulator);
    assert.match(pubsubEmulator.host, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(pubsubEmulator.env, { PUBSUB_EMULATOR_HOST: pubsubEmulator.host });
    process.env.PUBSUB_EMULATOR_HOST = pubsubEmulator.host;
    const pubsub = new PubSub({ projectId: PROJECT });
    try {
      const [topic] = await pubsub.createTopic(`alerts-${Date.now()}`);
      const [subscription] = await topic.createSubscription(`bot-${Date.now()}`, {
        ackDeadlineSeconds: 30,
        enableExactlyOnceDelivery: true,
      });
      const received = new Promise<{ data: string; attribute: string | undefined; ack: string }>((resolve, reject) => {
        // `on`, never `once`, and the listener goes only after the ack: removing the last listener closes the
        // subscriber and turns the ack INVALID (docs/library-traps.md, "Pub/Sub").
        const onMessage = (message: Message) => {
          message
            .ackWithResponse()
            .then((ack) => resolve({ data: message.data.toString(), attribute: message.attributes.kind, ack }))
            .catch(reject)
            .finally(() => subscription.removeListener('message', onMessage));
        };
        subscription.on('message', onMessage);
        subscription.on('error', reject);
      });
      await topic.publishMessage({ data: Buffer.from('{"insertId":"a1"}'), attributes: { kind: 'log-entry' } });
      const got = await received;
      assert.deepEqual(got, { data: '{"insertId":"a1"}', attribute: 'log-entry', ack: 'SUCCESS' });
      await subscription.close();
    } finally {
      await pubsub.close();
      delete process.env.PUBSUB_EMULATOR_HOST;
    }
  });

  it('serves the real Firestore client: exactly one of five concurrent creators wins', async () => {
    assert.ok(firestoreEmulator);
    process.env.FIRESTORE_EMULATOR_HOST = firestoreEmulator.host;
    const replicas = Array.from({ length: 5 }, () => new Firestore({ projectId: PROJECT }));
    try {
      const id = `incident-${Date.now()}`;
      const outcomes = await Promise.allSettled(
        replicas.map((db, i) =>
          db
            .collection('claims')
            .doc(id)
            .create({ owner: `replica-${i}` }),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      const losers = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(winners.length, 1);
      for (const loser of losers) assert.equal((loser.reason as { code?: number }).code, 6, 'ALREADY_EXISTS');
      const snap = await replicas[0]?.collection('claims').doc(id).get();
      assert.match(String(snap?.get('owner')), /^replica-[0-4]$/);
    } finally {
      await Promise.all(replicas.map((db) => db.terminate()));
      delete process.env.FIRESTORE_EMULATOR_HOST;
    }
  });

  it('stops both emulators and leaves no process of their groups behind', async () => {
    assert.ok(pubsubEmulator && firestoreEmulator);
    const pids = [pubsubEmulator.pid, firestoreEmulator.pid];
    await Promise.all([pubsubEmulator.stop(), firestoreEmulator.stop()]);
    for (const pid of pids) {
      assert.equal(groupAlive(pid), false, `process group ${pid} is gone`);
      assert.ok(processGone(pid), `pid ${pid} is gone`);
    }
    await pubsubEmulator.stop(); // idempotent
  });
});

describe('emulator launcher failures', () => {
  let empty: string;

  before(async () => {
    empty = await mkdtemp(join(tmpdir(), 'no-sdk-'));
  });

  after(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it('says how to install the emulator when the SDK root has none', async () => {
    await assert.rejects(startPubsubEmulator({ sdkRoot: empty }), (err: unknown) => {
      assert.ok(err instanceof EmulatorMissingError);
      assert.equal(err.code, 'emulator_missing');
      assert.match(err.message, /Pub\/Sub emulator is missing/);
      assert.match(err.message, /apt-get install google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator/);
      assert.match(err.message, /gcloud components install pubsub-emulator cloud-firestore-emulator/);
      return true;
    });
    await assert.rejects(startFirestoreEmulator({ sdkRoot: empty }), /Firestore emulator is missing/);
  });

  it('finds no SDK where there is none, and says Java is missing when it is', async () => {
    assert.equal(await findCloudSdkRoot({ gcloud: join(empty, 'gcloud'), candidates: [empty] }), undefined);
    await assert.rejects(
      startPubsubEmulator({ java: join(empty, 'java') }),
      (err: unknown) => err instanceof EmulatorMissingError && /openjdk-17-jre-headless/.test(err.message),
    );
  });

  it('kills an emulator whose test process crashes', async () => {
    const module = new URL('../../src/emulators.ts', import.meta.url).href;
    const code = `import { startPubsubEmulator } from ${JSON.stringify(module)};
const e = await startPubsubEmulator();
console.log(e.pid);
throw new Error('simulated crash');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(exitCode, 0);
    const pid = Number(out.trim());
    assert.ok(pid > 0, `the child printed the emulator pid (got ${JSON.stringify(out)})`);
    await waitUntil(() => !groupAlive(pid), { timeoutMs: 5000, what: `emulator group ${pid} to die` });
  });
});
