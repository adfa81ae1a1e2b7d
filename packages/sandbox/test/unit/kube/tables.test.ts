import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLabels, formatSelector, humanDuration, podSummary, printerFor } from '../../../src/kube/printers.ts';
import { includeObjectOf, toTable } from '../../../src/kube/tables.ts';
import type { ContainerStatus, Deployment, KubeEvent, KubeObject, Node, Pod } from '../../../src/world/kube-types.ts';

const NOW = Date.parse('2026-11-24T03:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace('.000Z', 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function status(name: string, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    name,
    image: `${name}:1`,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state,
    lastState: {},
    ...extra,
  };
}

function pod(statuses: ContainerStatus[], init: ContainerStatus[] = [], extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'checkout-7d9c8b6f4-q2xnv',
      namespace: 'prod',
      uid: 'u1',
      creationTimestamp: ago(12 * M),
      resourceVersion: '42',
      ...extra,
    },
    spec: {
      containers: statuses.map((s) => ({ name: s.name, image: s.image })),
      ...(init.length ? { initContainers: init.map((s) => ({ name: s.name, image: s.image })) } : {}),
      nodeName: 'gke-prod-default-pool-a1b2c3d4-9xkz',
    },
    status: {
      phase: statuses.some((s) => s.state.running) ? 'Running' : 'Pending',
      conditions: [
        {
          type: 'Ready',
          status: statuses.every((s) => s.ready) ? 'True' : 'False',
          lastProbeTime: null,
          lastTransitionTime: ago(M),
        },
      ],
      qosClass: 'BestEffort',
      podIPs: [{ ip: '10.8.3.4' }],
      containerStatuses: statuses,
      ...(init.length ? { initContainerStatuses: init } : {}),
    },
  };
}

const waiting = (reason: string) => ({ waiting: { reason } });
const running = { running: { startedAt: ago(M) } };

describe('humanDuration (Go duration.HumanDuration)', () => {
  it('prints ages the way kubectl shows them', () => {
    const cases: [number, string][] = [
      [-5 * S, '<invalid>'],
      [-1 * S, '0s'],
      [0, '0s'],
      [119 * S, '119s'],
      [2 * M, '2m'],
      [2 * M + 5 * S, '2m5s'],
      [10 * M + 30 * S, '10m'],
      [179 * M, '179m'],
      [3 * H, '3h'],
      [3 * H + 5 * M, '3h5m'],
      [8 * H + 59 * M, '8h'],
      [47 * H, '47h'],
      [2 * D, '2d'],
      [2 * D + 2 * H, '2d2h'],
      [8 * D + 3 * H, '8d'],
      [200 * D, '200d'],
      [730 * D, '2y'],
      [800 * D, '2y70d'],
      [9 * 365 * D, '9y'],
    ];
    for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
  });
});

describe('pod printer', () => {
  it('STATUS is the waiting reason of a failing pull, READY counts ready containers', () => {
    assert.deepEqual(podSummary(pod([status('checkout', waiting('ImagePullBackOff'))]), NOW), {
      ready: '0/1',
      status: 'ImagePullBackOff',
      restarts: '0',
    });
    assert.equal(podSummary(pod([status('checkout', waiting('ErrImagePull'))]), NOW).status, 'ErrImagePull');
    assert.equal(podSummary(pod([status('checkout', waiting('ContainerCreating'))]), NOW).status, 'ContainerCreating');
  });

  it('a running, ready pod is Running 1/1; the first container in spec order that waits decides STATUS', () => {
    assert.deepEqual(podSummary(pod([status('checkout', running, { ready: true })]), NOW).status, 'Running');
    const two = pod([status('app', waiting('ErrImagePull')), status('sidecar', running, { ready: true })]);
    assert.deepEqual(podSummary(two, NOW), { ready: '1/2', status: 'ErrImagePull', restarts: '0' });
  });

  it('init containers: a failing pull shows Init:REASON, a pending one Init:N/M', () => {
    const failing = pod([status('app', waiting('PodInitializing'))], [status('migrate', waiting('ImagePullBackOff'))]);
    assert.equal(podSummary(failing, NOW).status, 'Init:ImagePullBackOff');
    const starting = pod([status('app', waiting('PodInitializing'))], [status('migrate', waiting('PodInitializing'))]);
    assert.equal(podSummary(starting, NOW).status, 'Init:0/1');
    const done = pod(
      [status('app', running, { ready: true })],
      [status('migrate', { terminated: { exitCode: 0, reason: 'Completed', startedAt: ago(M), finishedAt: ago(M) } })],
    );
    assert.equal(podSummary(done, NOW).status, 'Running');
  });

  it('RESTARTS carries the age of the last restart; a deleted pod is Terminating', () => {
    const restarted = pod([
      status('checkout', running, {
        ready: true,
        restartCount: 2,
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: ago(10 * M), finishedAt: ago(5 * M) } },
      }),
    ]);
    assert.equal(podSummary(restarted, NOW).restarts, '2 (5m ago)');
    const deleting = pod([status('checkout', running, { ready: true })], [], { deletionTimestamp: ago(-30 * S) });
    assert.equal(podSummary(deleting, NOW).status, 'Terminating');
  });
});

describe('server-side Tables', () => {
  const failing = pod([status('checkout', waiting('ImagePullBackOff'))]);

  it('pods: the columns kubectl prints, wide ones at priority 1, every cell filled', () => {
    const t = toTable('Pod', [failing], { version: 'v1', includeObject: 'Metadata', now: NOW }) as {
      kind: string;
      apiVersion: string;
      metadata: { resourceVersion?: string };
      columnDefinitions: { name: string; type: string; format: string; priority: number }[];
      rows: { cells: unknown[]; object: { kind: string; apiVersion: string; metadata: { name: string } } }[];
    };
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.equal(t.metadata.resourceVersion, '42', 'a single get carries the object resourceVersion');
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.priority]),
      [
        ['Name', 0],
        ['Ready', 0],
        ['Status', 0],
        ['Restarts', 0],
        ['Age', 0],
        ['IP', 1],
        ['Node', 1],
        ['Nominated Node', 1],
        ['Readiness Gates', 1],
      ],
    );
    assert.equal(t.columnDefinitions[0]?.format, 'name');
    assert.deepEqual(t.rows[0]?.cells, [
      'checkout-7d9c8b6f4-q2xnv',
      '0/1',
      'ImagePullBackOff',
      '0',
      '12m',
      '10.8.3.4',
      'gke-prod-default-pool-a1b2c3d4-9xkz',
      '<none>',
      '<none>',
    ]);
    assert.deepEqual(t.rows[0]?.object.kind, 'PartialObjectMetadata');
    assert.deepEqual(t.rows[0]?.object.apiVersion, 'meta.k8s.io/v1');
    assert.equal(t.rows[0]?.object.metadata.name, 'checkout-7d9c8b6f4-q2xnv');
  });

  it('includeObject: Object embeds the whole object, None nothing; v1beta1 is answered as v1beta1', () => {
    const whole = toTable('Pod', [failing], { version: 'v1', includeObject: 'Object', now: NOW }) as {
      rows: { object: KubeObject }[];
    };
    assert.equal(whole.rows[0]?.object.kind, 'Pod');
    assert.equal((whole.rows[0]?.object as Pod | undefined)?.spec.containers[0]?.name, 'checkout');
    const none = toTable('Pod', [failing], { version: 'v1beta1', includeObject: 'None', now: NOW }) as {
      apiVersion: string;
      rows: object[];
    };
    assert.equal(none.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal('object' in (none.rows[0] ?? {}), false);
    assert.equal(includeObjectOf(new URLSearchParams('')), 'Metadata');
    assert.equal(includeObjectOf(new URLSearchParams('includeObject=Object')), 'Object');
    assert.throws(() => includeObjectOf(new URLSearchParams('includeObject=All')), /includeObject must be one of/);
  });

  it('a list carries its list metadata; finished pods get the Completed row condition', () => {
    const done: Pod = { ...failing, status: { ...failing.status, phase: 'Succeeded' } };
    const t = toTable('Pod', [done], {
      version: 'v1',
      includeObject: 'None',
      now: NOW,
      listMeta: { resourceVersion: '99', continue: 'abc', remainingItemCount: 3 },
    }) as { metadata: object; rows: { conditions?: { type: string; reason: string }[] }[] };
    assert.deepEqual(t.metadata, { resourceVersion: '99', continue: 'abc', remainingItemCount: 3 });
    assert.deepEqual(
      t.rows[0]?.conditions?.map((c) => [c.type, c.reason]),
      [['Completed', 'Succeeded']],
    );
  });

  it('deployments: READY ready/desired, UP-TO-DATE and AVAILABLE counts, selector', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'prod', uid: 'd', creationTimestamp: ago(200 * D) },
      spec: {
        replicas: 3,
        selector: { matchLabels: { tier: 'web', app: 'checkout' } },
        template: {
          metadata: {},
          spec: {
            containers: [
              { name: 'checkout', image: 'img:1' },
              { name: 'proxy', image: 'p:2' },
            ],
          },
        },
      },
      status: { replicas: 3, updatedReplicas: 3 },
    } as Deployment;
    assert.deepEqual(printerFor('Deployment').row(d, NOW).cells, [
      'checkout',
      '0/3',
      3,
      0,
      '200d',
      'checkout,proxy',
      'img:1,p:2',
      'app=checkout,tier=web',
    ]);
    assert.deepEqual(
      printerFor('Deployment')
        .columns.filter((c) => c.priority === 0)
        .map((c) => c.name),
      ['Name', 'Ready', 'Up-to-date', 'Available', 'Age'],
    );
  });

  it('events: LAST SEEN, the object as kind/name, source with host, count', () => {
    const e = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'checkout-7d9c8b6f4-q2xnv.1', namespace: 'prod', uid: 'e', creationTimestamp: ago(12 * M) },
      involvedObject: {
        kind: 'Pod',
        name: 'checkout-7d9c8b6f4-q2xnv',
        uid: 'u1',
        apiVersion: 'v1',
        fieldPath: 'spec.containers{checkout}',
      },
      reason: 'Failed',
      message: 'Error: ImagePullBackOff ',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(12 * M),
      lastTimestamp: ago(8 * S),
      count: 48,
      type: 'Warning',
      eventTime: null,
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    } as KubeEvent;
    assert.deepEqual(printerFor('Event').row(e, NOW).cells, [
      '8s',
      'Warning',
      'Failed',
      'pod/checkout-7d9c8b6f4-q2xnv',
      'spec.containers{checkout}',
      'kubelet, node-1',
      'Error: ImagePullBackOff',
      '12m',
      48,
      'checkout-7d9c8b6f4-q2xnv.1',
    ]);
    assert.equal(printerFor('Event').columns[0]?.name, 'Last Seen');
  });

  it('nodes: a cordoned node is Ready,SchedulingDisabled; roles from node-role labels', () => {
    const n = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'n1',
        uid: 'n',
        creationTimestamp: ago(40 * D),
        labels: { 'node-role.kubernetes.io/worker': '' },
      },
      spec: { providerID: '', podCIDR: '', podCIDRs: [], unschedulable: true },
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: '', message: '', lastHeartbeatTime: '', lastTransitionTime: '' },
        ],
        addresses: [{ type: 'InternalIP', address: '10.128.0.2' }],
        nodeInfo: {
          kubeletVersion: 'v1.31.6-gke.1020000',
          osImage: 'COS',
          kernelVersion: '6.6',
          containerRuntimeVersion: 'containerd://1.7',
        },
        images: [],
        capacity: {},
        allocatable: {},
      },
    } as Node;
    assert.deepEqual(printerFor('Node').row(n, NOW).cells.slice(0, 7), [
      'n1',
      'Ready,SchedulingDisabled',
      'worker',
      '40d',
      'v1.31.6-gke.1020000',
      '10.128.0.2',
      '<none>',
    ]);
  });

  it('kinds without a printer get the default Name / Created At table', () => {
    const cols = printerFor('SelfSubjectAccessReview').columns.map((c) => [c.name, c.type]);
    assert.deepEqual(cols, [
      ['Name', 'string'],
      ['Created At', 'date'],
    ]);
  });

  it('labels and selectors format like Go: sorted, <none> when empty, empty selector selects everything', () => {
    assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels({}), '<none>');
    assert.equal(formatSelector({ matchLabels: { app: 'x' } }), 'app=x');
    assert.equal(formatSelector(undefined), '');
  });
});
