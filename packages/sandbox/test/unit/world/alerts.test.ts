import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildScenario } from '../../../src/scenarios/index.ts';
import { logEntries, monitoringIncident } from '../../../src/world/alerts.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/alerts/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

type Entry = {
  insertId: string;
  logName: string;
  severity: string;
  resource: { type: string; labels: Record<string, string> };
  jsonPayload: {
    reason: string;
    type: string;
    message: string;
    count: number;
    involvedObject: { name: string; fieldPath: string };
  };
};

describe('log entries a GKE logging sink would export', () => {
  it('have the shape of the real Failed event LogEntry, one per failing pod', () => {
    const { world } = buildScenario('seed');
    const entries = logEntries(world) as Entry[];
    assert.equal(entries.length, 3);
    const real = fixture('logentry-failed-to-pull.json') as unknown as Entry;
    const mine = entries.find((e) => e.jsonPayload.involvedObject.name === 'checkout-7d9c8b6f4-q2xnv')!;
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(real).sort());
    assert.deepEqual(mine.resource, real.resource);
    assert.equal(mine.logName, real.logName);
    assert.equal(mine.severity, 'WARNING');
    assert.equal(mine.jsonPayload.message, real.jsonPayload.message);
    assert.equal(mine.jsonPayload.involvedObject.fieldPath, 'spec.containers{checkout}');
  });

  it('add BackOff entries (severity INFO) on request, and filter by pod', () => {
    const { world } = buildScenario('seed');
    const entries = logEntries(world, {
      pods: ['checkout-7d9c8b6f4-q2xnv'],
      includeBackOff: true,
      perPod: 2,
    }) as Entry[];
    assert.deepEqual(
      entries.map((e) => [e.jsonPayload.reason, e.severity]),
      [
        ['Failed', 'WARNING'],
        ['Failed', 'WARNING'],
        ['BackOff', 'INFO'],
        ['BackOff', 'INFO'],
      ],
    );
    const counts = entries.filter((e) => e.jsonPayload.reason === 'Failed').map((e) => e.jsonPayload.count);
    assert.ok((counts[0] ?? 0) < (counts[1] ?? 0), 'successive exports carry a rising count');
  });

  it('are stable across calls (a redelivery keeps its insertId)', () => {
    const { world } = buildScenario('seed');
    assert.deepEqual(
      (logEntries(world) as Entry[]).map((e) => e.insertId),
      (logEntries(world) as Entry[]).map((e) => e.insertId),
    );
  });

  it('name the init container in the field path', () => {
    const { world } = buildScenario('init-container');
    const [entry] = logEntries(world, { pods: ['checkout-7d9c8b6f4-q2xnv'] }) as Entry[];
    assert.equal(entry?.jsonPayload.involvedObject.fieldPath, 'spec.initContainers{migrate}');
  });
});

describe('Monitoring log-based alert notifications', () => {
  it('template pod, container and the kubelet message into documentation.content, like the fixture', () => {
    const { world } = buildScenario('seed');
    const real = fixture('monitoring-incident-imagepull.json') as { incident: Record<string, unknown> };
    const mine = monitoringIncident(world, 'checkout-7d9c8b6f4-q2xnv') as {
      version: string;
      incident: Record<string, unknown>;
    };
    assert.equal(mine.version, '1.2');
    assert.deepEqual(Object.keys(mine.incident).sort(), Object.keys(real.incident).sort());
    assert.deepEqual(
      (mine.incident.documentation as { content: string }).content,
      (real.incident.documentation as { content: string }).content,
    );
    assert.deepEqual(mine.incident.resource, real.incident.resource);
    assert.equal(mine.incident.state, 'open');
    assert.equal(mine.incident.ended_at, null);
  });

  it('close the same incident', () => {
    const { world } = buildScenario('seed');
    const open = monitoringIncident(world, 'checkout-7d9c8b6f4-q2xnv', 'open') as { incident: { incident_id: string } };
    const closed = monitoringIncident(world, 'checkout-7d9c8b6f4-q2xnv', 'closed') as {
      incident: { incident_id: string; state: string; ended_at: number };
    };
    assert.equal(closed.incident.incident_id, open.incident.incident_id);
    assert.equal(closed.incident.state, 'closed');
    assert.equal(typeof closed.incident.ended_at, 'number');
  });

  it('still close the incident of a pod a rollout has deleted (its events outlive it)', () => {
    const { world } = buildScenario('seed');
    const open = monitoringIncident(world, 'checkout-7d9c8b6f4-q2xnv') as { incident: { incident_id: string } };
    [...world.clusters.values()][0]!.kube.delete('Pod', 'prod', 'checkout-7d9c8b6f4-q2xnv');
    const closed = monitoringIncident(world, 'checkout-7d9c8b6f4-q2xnv', 'closed') as {
      incident: { incident_id: string; documentation: { content: string } };
    };
    assert.equal(closed.incident.incident_id, open.incident.incident_id);
    assert.match(
      closed.incident.documentation.content,
      /^pod: checkout-7d9c8b6f4-q2xnv\ncontainer: spec\.containers\{checkout\}\nmessage: Failed to pull image /,
    );
  });

  it('refuse a pod that has no pull failure', () => {
    const { world } = buildScenario('seed');
    const healthy = [...world.clusters.values()][0]!.kube
      .list('Pod', 'prod')
      .find((p) => p.metadata.name.startsWith('frontend-'))!;
    assert.throws(() => monitoringIncident(world, healthy.metadata.name), /no image-pull failure/);
  });
});
