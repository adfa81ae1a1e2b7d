/**
 * The API server's table printers for the kinds the fake serves, by kind: pods and workloads in
 * `printers-workloads.ts`, nodes, events, namespaces, secrets and service accounts here, and the API server's
 * default (name and creation time) for kinds without a printer. The server always prints every column, wide ones
 * included (priority 1); kubectl hides those unless asked for `-o wide`.
 */
import type { KubeEvent, KubeObject, Node } from '../world/kube-types.ts';
import { AGE, AGE_DOC, col, NAME, NAME_DOC, type Printer, since } from './print-format.ts';
import {
  daemonSetPrinter,
  deploymentPrinter,
  podPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './printers-workloads.ts';

export type { Printer } from './print-format.ts';
export { formatLabels, formatSelector, humanDuration } from './print-format.ts';
export { podSummary } from './printers-workloads.ts';

const nodePrinter: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE,
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    col(
      'OS-Image',
      'string',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      1,
    ),
    col(
      'Kernel-Version',
      'string',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    col(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      1,
    ),
  ],
  row(obj, now) {
    const n = obj as Node;
    const ready = n.status.conditions.find((c) => c.type === 'Ready');
    const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if ((n.spec as { unschedulable?: boolean }).unschedulable) status.push('SchedulingDisabled');
    const roles = Object.entries(n.metadata.labels ?? {})
      .map(([k, v]) =>
        k.startsWith('node-role.kubernetes.io/')
          ? k.slice('node-role.kubernetes.io/'.length)
          : k === 'kubernetes.io/role'
            ? v
            : '',
      )
      .filter(Boolean)
      .sort();
    const address = (type: string) => n.status.addresses.find((a) => a.type === type)?.address ?? '<none>';
    const info = n.status.nodeInfo;
    return {
      cells: [
        n.metadata.name,
        status.join(','),
        roles.length ? [...new Set(roles)].join(',') : '<none>',
        since(n.metadata.creationTimestamp, now),
        info.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};

const eventPrinter: Printer = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col(
      'Reason',
      'string',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col('Object', 'string', 'The object that this event is about.'),
    col(
      'Subobject',
      'string',
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].',
      1,
    ),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col(
      'First Seen',
      'string',
      'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
      1,
    ),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    { ...col('Name', 'string', NAME_DOC, 1), format: 'name' },
  ],
  row(obj, now) {
    const e = obj as KubeEvent;
    const first = since(e.firstTimestamp, now);
    const last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
    const target = e.involvedObject.name
      ? `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`
      : e.involvedObject.kind.toLowerCase();
    const component = e.source?.component || e.reportingComponent;
    const instance = e.source?.host || e.reportingInstance;
    return {
      cells: [
        last,
        e.type,
        e.reason,
        target,
        e.involvedObject.fieldPath ?? '',
        instance ? `${component}, ${instance}` : component,
        e.message.trim(),
        first,
        e.count || 1,
        e.metadata.name,
      ],
    };
  },
};

const namespacePrinter: Printer = {
  columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
  row: (obj, now) => ({
    cells: [
      obj.metadata.name,
      (obj as { status?: { phase?: string } }).status?.phase ?? '',
      since(obj.metadata.creationTimestamp, now),
    ],
  }),
};

const secretPrinter: Printer = {
  columns: [
    NAME,
    col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'string', 'Data contains the secret data.'),
    AGE,
  ],
  row(obj, now) {
    const s = obj as KubeObject & { type?: string; data?: Record<string, string> };
    return {
      cells: [
        s.metadata.name,
        s.type ?? 'Opaque',
        Object.keys(s.data ?? {}).length,
        since(s.metadata.creationTimestamp, now),
      ],
    };
  },
};

const serviceAccountPrinter: Printer = {
  columns: [
    NAME,
    col(
      'Secrets',
      'string',
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
    ),
    AGE,
  ],
  row(obj, now) {
    const sa = obj as KubeObject & { secrets?: unknown[] };
    return { cells: [sa.metadata.name, sa.secrets?.length ?? 0, since(sa.metadata.creationTimestamp, now)] };
  },
};

/** The API server's default for kinds without a printer: name and creation time. */
const defaultPrinter: Printer = {
  columns: [NAME, { name: 'Created At', type: 'date', format: '', description: AGE_DOC, priority: 0 }],
  row: (obj) => ({ cells: [obj.metadata.name, obj.metadata.creationTimestamp] }),
};

const PRINTERS: Readonly<Record<string, Printer>> = {
  Pod: podPrinter,
  Deployment: deploymentPrinter,
  ReplicaSet: replicaSetPrinter,
  StatefulSet: statefulSetPrinter,
  DaemonSet: daemonSetPrinter,
  Node: nodePrinter,
  Event: eventPrinter,
  Namespace: namespacePrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
};

/** The printer of a kind (the default name + creation time printer for kinds without one). */
export function printerFor(kind: string): Printer {
  return PRINTERS[kind] ?? defaultPrinter;
}
