import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseDocumentationFields, parseSummaryLabels } from '../../../src/alerts/labels.ts';
import { alertJson, MAX_ALERT_BYTES, parseAlert } from '../../../src/alerts/parse-alert.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** Real payloads, kept in the repository (test/fixtures/alerts/README.md says where each comes from). */
function fixture(name: string): Buffer {
  return readFileSync(resolve(repoRoot, 'test/fixtures/alerts', name));
}

const SEED_IMAGE = 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2';
const SEED_FAILED =
  `Failed to pull image "${SEED_IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image "${SEED_IMAGE}": ` +
  `failed to resolve reference "${SEED_IMAGE}": pulling from host us-central1-docker.pkg.dev failed with status code [manifests 1.8.2]: 403 Forbidden`;
const SEED_POD = {
  project: 'acme-prod-417',
  location: 'us-central1',
  cluster: 'prod',
  namespace: 'prod',
  pod: 'checkout-7d9c8b6f4-q2xnv',
  container: 'checkout',
};

describe('shared fixtures', () => {
  test('sink LogEntry with the Failed event: identity, message, image, dedupe key, time', () => {
    const alert = parseAlert(fixture('logentry-failed-to-pull.json'));
    assert.deepEqual(alert, {
      kind: 'log-entry',
      state: 'open',
      ...SEED_POD,
      node: 'gke-prod-default-pool-a1b2c3d4-9xkz',
      message: SEED_FAILED,
      image: SEED_IMAGE,
      reason: 'Failed',
      dedupeKey: 'log:1x9k3f2g5h7j8',
      observedAt: '2026-11-24T02:41:41Z',
    });
  });

  test("the kubelet's node is a hint: source.host, else reportingInstance; a name no node could have is dropped", () => {
    const entry = JSON.parse(String(fixture('logentry-failed-to-pull.json'))) as {
      jsonPayload: Record<string, unknown>;
    };
    const without = (p: Record<string, unknown>) =>
      parseAlert(Buffer.from(JSON.stringify({ ...entry, jsonPayload: p })));
    const { source: _source, ...noSource } = entry.jsonPayload;
    assert.equal(without(noSource).node, 'gke-prod-default-pool-a1b2c3d4-9xkz', 'from reportingInstance');
    assert.equal(without({ ...noSource, reportingInstance: '' }).node, undefined);
    const hostile = without({ ...entry.jsonPayload, source: { component: 'kubelet', host: '../../api/v1/secrets#' } });
    assert.equal(
      hostile.node,
      'gke-prod-default-pool-a1b2c3d4-9xkz',
      'an invalid host falls back to reportingInstance',
    );
    assert.equal(hostile.kind, 'log-entry', 'and the alert is still read');
    const none = without({ ...noSource, reportingInstance: '<!channel>' });
    assert.equal(none.node, undefined);
    assert.equal(none.pod, 'checkout-7d9c8b6f4-q2xnv');
  });

  test('sink LogEntry with the BackOff event is kept as a trigger', () => {
    const alert = parseAlert(fixture('logentry-backoff.json'));
    assert.equal(alert.kind, 'log-entry');
    assert.equal(alert.reason, 'BackOff');
    assert.equal(alert.message, `Back-off pulling image "${SEED_IMAGE}"`);
    assert.equal(alert.image, SEED_IMAGE);
    assert.equal(alert.container, 'checkout');
    assert.equal(alert.dedupeKey, 'log:1x9k3f2g5h7k1');
  });

  test('log-based Monitoring incident: identity from resource labels, message from documentation', () => {
    const alert = parseAlert(fixture('monitoring-incident-imagepull.json'));
    assert.deepEqual(alert, {
      kind: 'monitoring-incident',
      state: 'open',
      ...SEED_POD,
      message: SEED_FAILED,
      image: SEED_IMAGE,
      dedupeKey: 'incident:0.nv7dkq2x5hzm:open',
      incidentId: '0.nv7dkq2x5hzm',
      url: 'https://console.cloud.google.com/monitoring/alerting/alerts/0.nv7dkq2x5hzm?channelType=cloud-pubsub&project=acme-prod-417',
      // started_at 1763952101 (epoch seconds).
      observedAt: '2025-11-24T02:41:41.000Z',
    });
  });

  test('closed incident resolves, with a dedupe key distinct from the open one', () => {
    const alert = parseAlert(fixture('monitoring-incident-imagepull-closed.json'));
    assert.equal(alert.kind, 'monitoring-incident');
    assert.equal(alert.state, 'closed');
    assert.equal(alert.dedupeKey, 'incident:0.nv7dkq2x5hzm:closed');
    assert.equal(alert.pod, SEED_POD.pod);
  });

  test('metric-threshold incident on a VM is ignored with a reason', () => {
    const alert = parseAlert(fixture('monitoring-metric-alert.json'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /metric/);
  });
});

describe('own fixtures', () => {
  test('Pub/Sub push envelope around a sink LogEntry is unwrapped', () => {
    const alert = parseAlert(fixture('push-envelope-logentry.json'));
    assert.equal(alert.kind, 'log-entry');
    assert.equal(alert.dedupeKey, 'log:1x9k3f2g5h7j8');
    assert.equal(alert.image, SEED_IMAGE);
    assert.equal(alert.pod, SEED_POD.pod);
  });

  test('push envelope holding a non-event LogEntry (verbatim promtail sample) is ignored', () => {
    const alert = parseAlert(fixture('push-envelope-cloudaudit.json'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /not a Kubernetes event/);
  });

  test('console test notification (documentation as a string, state OPEN) is a test', () => {
    const alert = parseAlert(fixture('monitoring-test-notification.json'));
    assert.equal(alert.kind, 'test');
    assert.deepEqual(alertJson(alert), { kind: 'test' });
  });

  test('summary labels with commas, brackets, braces and "=" inside the message', () => {
    const alert = parseAlert(fixture('monitoring-summary-labels.json'));
    assert.equal(alert.kind, 'monitoring-incident');
    assert.equal(alert.pod, 'trainer-5b7f9c7d8-x2x9p');
    assert.equal(alert.namespace, 'training');
    assert.equal(alert.container, 'trainer');
    assert.equal(alert.project, 'acme-data-88');
    assert.equal(alert.image, 'europe-west2-docker.pkg.dev/acme-data-88/ml/trainer:2.4.0');
    assert.ok(
      alert.message?.startsWith('Failed to pull image "europe-west2-docker.pkg.dev/acme-data-88/ml/trainer:2.4.0"'),
    );
    assert.ok(alert.message?.endsWith('403 Forbidden, retries=3, hosts={a, b}'), alert.message);
  });

  test('unresolved log.extracted_label placeholders in documentation fall back to the summary labels', () => {
    const alert = parseAlert(fixture('monitoring-unresolved-documentation.json'));
    assert.equal(alert.kind, 'monitoring-incident');
    assert.match(alert.message ?? '', /^Failed to pull image "gcr\.io\/acme-prod-417\/payments\/api:3\.1"/);
    assert.equal(alert.image, 'gcr.io/acme-prod-417/payments/api:3.1');
    assert.equal(alert.container, undefined, 'the unresolved container placeholder is not taken as a name');
    assert.ok(!JSON.stringify(alert).includes('${'), 'no placeholder leaks into the alert');
  });

  test('k8s_container incident takes the container from the resource and tolerates OPEN', () => {
    const alert = parseAlert(fixture('monitoring-k8s-container.json'));
    assert.equal(alert.kind, 'monitoring-incident');
    assert.equal(alert.state, 'open');
    assert.equal(alert.container, 'frontend');
    assert.equal(alert.cluster, 'autopilot-cluster-2');
    assert.equal(alert.image, 'us-central1-docker.pkg.dev/hpb-bank-of-anthos/web/frontend:v0.6.1');
    assert.equal(alert.dedupeKey, 'incident:0.k8scontainer1:open');
    assert.equal(alert.observedAt, '2023-06-06T18:38:11.000Z');
  });

  test('metric-threshold incident on a container resource is still ignored', () => {
    const alert = parseAlert(fixture('monitoring-metric-on-container.json'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /conditionThreshold/);
  });

  test('init container Failed event sets initContainer', () => {
    const alert = parseAlert(fixture('logentry-init-container.json'));
    assert.equal(alert.kind, 'log-entry');
    assert.equal(alert.container, 'migrate');
    assert.equal(alert.initContainer, true);
    assert.equal(alert.pod, 'checkout-7d9c8b6f4-zz9k1');
    assert.equal(alert.image, 'us-central1-docker.pkg.dev/acme-prod-417/services/migrate:1.8.2');
    assert.equal(alert.observedAt, '2026-11-24T03:10:05.123456Z');
  });

  test('CrashLoop BackOff is ignored', () => {
    const alert = parseAlert(fixture('logentry-crashloop-backoff.json'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /CrashLoopBackOff/);
  });

  test('a Failed event that is not about images is ignored', () => {
    const alert = parseAlert(fixture('logentry-failed-not-image.json'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /not about pulling an image/);
  });

  test('garbage is ignored with a reason', () => {
    const alert = parseAlert(fixture('garbage.txt'));
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /not JSON/);
  });
});

describe('input forms', () => {
  const failedText = fixture('logentry-failed-to-pull.json').toString('utf8');

  test('bytes, text and an already-parsed object give the same alert', () => {
    const fromBytes = parseAlert(new Uint8Array(Buffer.from(failedText)));
    assert.deepEqual(parseAlert(failedText), fromBytes);
    assert.deepEqual(parseAlert(JSON.parse(failedText)), fromBytes);
    assert.equal(fromBytes.kind, 'log-entry');
  });

  test('a pulled Pub/Sub message object ({data: Buffer}) is unwrapped', () => {
    const alert = parseAlert({ data: Buffer.from(failedText), attributes: {} });
    assert.equal(alert.kind, 'log-entry');
    assert.equal(alert.dedupeKey, 'log:1x9k3f2g5h7j8');
  });

  test('a huge body is refused before JSON.parse, as text, bytes or envelope data', () => {
    const huge = `{"x":"${'a'.repeat(MAX_ALERT_BYTES)}"}`;
    for (const input of [huge, Buffer.from(huge)]) {
      const alert = parseAlert(input);
      assert.equal(alert.kind, 'ignored');
      assert.match(alert.reason ?? '', /too large/);
    }
    const envelope = { message: { data: Buffer.from(huge).toString('base64') }, subscription: 's' };
    const wrapped = parseAlert(envelope);
    assert.equal(wrapped.kind, 'ignored');
    assert.match(wrapped.reason ?? '', /too large/);
  });

  test('a multi-byte body over 1 MiB in UTF-8 but under it in characters is refused', () => {
    const alert = parseAlert(`{"x":"${'é'.repeat(MAX_ALERT_BYTES / 2 + 10)}"}`);
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /too large/);
  });

  const rejected: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ['empty string', '', /empty/],
    ['whitespace', '  \n ', /empty/],
    ['empty bytes', new Uint8Array(0), /empty/],
    ['null', null, /empty/],
    ['non-JSON', 'hello', /not JSON/],
    ['truncated JSON', '{"incident":', /not JSON/],
    ['JSON array', '[1,2]', /array/],
    ['JSON number', '42', /number/],
    ['wrong shape', '{"foo":"bar"}', /unrecognized payload/],
    ['envelope without data', '{"message":{"attributes":{}},"subscription":"s"}', /without message\.data/],
    ['envelope with bad base64', '{"message":{"data":"!!!not base64!!!"}}', /not base64/],
    [
      'envelope with non-JSON data',
      JSON.stringify({ message: { data: Buffer.from('nope').toString('base64') } }),
      /not JSON/,
    ],
    ['incident without state', '{"version":"1.2","incident":{"incident_id":"1"}}', /state/],
    [
      'incident on a non-pod resource',
      '{"version":"1.2","incident":{"incident_id":"1","state":"open","condition":{"conditionMatchedLog":{}},"resource":{"type":"gce_instance","labels":{}}}}',
      /not a Kubernetes pod or container/,
    ],
    [
      'event about a Node',
      '{"logName":"projects/p/logs/events","insertId":"1","jsonPayload":{"reason":"Failed","message":"Failed to pull image \\"a\\"","involvedObject":{"kind":"Node","name":"n"}},"resource":{"type":"k8s_node","labels":{}}}',
      /not a Pod/,
    ],
    [
      'non-image event reason',
      '{"logName":"projects/p/logs/events","insertId":"1","jsonPayload":{"reason":"Scheduled","message":"Successfully assigned","involvedObject":{"kind":"Pod","name":"p"}},"resource":{"type":"k8s_pod","labels":{}}}',
      /not an image-pull reason/,
    ],
    [
      'textPayload log entry',
      '{"logName":"projects/p/logs/kubelet","textPayload":"x","insertId":"1"}',
      /not a Kubernetes event/,
    ],
  ];
  for (const [name, input, reason] of rejected) {
    test(`${name} is ignored with a reason`, () => {
      const alert = parseAlert(input);
      assert.equal(alert.kind, 'ignored');
      assert.match(alert.reason ?? '', reason);
    });
  }

  test('never throws, even on objects whose properties throw', () => {
    const hostile = {
      get version(): string {
        throw new Error('boom');
      },
      incident: {},
    };
    const alert = parseAlert(hostile);
    assert.equal(alert.kind, 'ignored');
    assert.match(alert.reason ?? '', /could not be read: boom/);
  });
});

describe('parseSummaryLabels', () => {
  test('the verbatim extractor sample (no spaces after commas)', () => {
    assert.deepEqual(
      parseSummaryLabels(
        'Log match condition with labels {action=demo_infra_fault,service=ec-backend} fired for VM Instance with {instance_id=1, zone=asia-northeast1-a}.',
      ),
      { action: 'demo_infra_fault', service: 'ec-backend' },
    );
  });
  test('values with commas inside brackets stay whole', () => {
    assert.deepEqual(
      parseSummaryLabels(
        "Log match condition with labels {impactedLocations=['europe-central2', 'europe-west1'], service=x} fired for Y with {a=b}.",
      ),
      { impactedLocations: "['europe-central2', 'europe-west1']", service: 'x' },
    );
  });
  test('a message with ", ", " = " and quotes stays one value', () => {
    const message =
      'Failed to pull image "a/b:1": rpc error: code = Unknown desc = failed, really: 401 Unauthorized, see "x, y=z"';
    assert.deepEqual(
      parseSummaryLabels(
        `Log match condition with labels {message=${message}, pod=p-1} fired for Kubernetes Pod with {}.`,
      ),
      {
        message,
        pod: 'p-1',
      },
    );
  });
  test('a message with an unbalanced quote or bracket still yields the pod', () => {
    const labels = parseSummaryLabels(
      'Log match condition with labels {message=Failed to pull image "a/b:1: 403 (Forbidden, pod=p-2} fired for Kubernetes Pod with {x=y}.',
    );
    assert.equal(labels.pod, 'p-2');
    assert.match(labels.message ?? '', /^Failed to pull image "a\/b:1: 403 \(Forbidden$/);
  });
  test('no labels block → no labels', () => {
    assert.deepEqual(parseSummaryLabels('Log match condition fired for Kubernetes Pod with {pod_name=x}.'), {});
  });
});

describe('parseDocumentationFields', () => {
  test('plain and markdown key: value lines, placeholders skipped', () => {
    assert.deepEqual(
      parseDocumentationFields(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an unresolved Monitoring placeholder, on purpose.
        'Image pull failed on GKE\n- **pod**: web-1\ncontainer: spec.initContainers{init}\nnamespace: ${log.extracted_label.ns}\nmessage: Failed to pull image "a:1": x: y',
      ),
      { pod: 'web-1', container: 'spec.initContainers{init}', message: 'Failed to pull image "a:1": x: y' },
    );
  });
  test('init container from documentation sets initContainer on the incident', () => {
    const incident = JSON.parse(fixture('monitoring-incident-imagepull.json').toString('utf8'));
    incident.incident.documentation.content =
      'container: spec.initContainers{migrate}\nmessage: Error: ImagePullBackOff';
    const alert = parseAlert(incident);
    assert.equal(alert.container, 'migrate');
    assert.equal(alert.initContainer, true);
    assert.equal(alert.message, 'Error: ImagePullBackOff');
  });
});

describe('alertJson (imagepull parse-alert --json)', () => {
  test('keys in the documented order; internal fields left out', () => {
    const json = alertJson(parseAlert(fixture('logentry-failed-to-pull.json')));
    assert.deepEqual(Object.keys(json), [
      'kind',
      'state',
      'project',
      'location',
      'cluster',
      'namespace',
      'pod',
      'container',
      'message',
      'image',
      'reason',
    ]);
    assert.equal(json.reason, 'Failed');
  });
  test('absent keys are omitted and ignored alerts keep their reason', () => {
    assert.deepEqual(alertJson(parseAlert('not json at all')), {
      kind: 'ignored',
      reason: alertJson(parseAlert('not json at all')).reason,
    });
    const incident = alertJson(parseAlert(fixture('monitoring-incident-imagepull.json')));
    assert.ok(!('reason' in incident));
    assert.equal(incident.kind, 'monitoring-incident');
    assert.equal(incident.image, SEED_IMAGE);
  });
});
