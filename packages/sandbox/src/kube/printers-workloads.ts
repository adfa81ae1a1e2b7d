/**
 * The API server's table printers for pods and the workload kinds (Deployment, ReplicaSet, StatefulSet,
 * DaemonSet): a pod's STATUS from its container states, READY as ready/total, RESTARTS with the last restart's
 * age; a workload's ready, up-to-date and available counts. Every column is printed, wide ones included.
 */
import type { ContainerStatus, DaemonSet, Deployment, Pod, ReplicaSet, StatefulSet } from '../world/kube-types.ts';
import {
  AGE,
  CONTAINERS_DOC,
  col,
  formatLabels,
  formatSelector,
  humanDuration,
  IMAGES_DOC,
  NAME,
  type Printer,
  SELECTOR_DOC,
  since,
} from './print-format.ts';

function containerCells(template: { spec: { containers: { name: string; image: string }[] } }): [string, string] {
  const cs = template.spec.containers;
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

function lastTerminated(s: ContainerStatus): number {
  const t = (s.lastState as { terminated?: { finishedAt?: string } }).terminated?.finishedAt;
  return t ? Date.parse(t) : 0;
}

/** The pod printer's STATUS, READY and RESTARTS for a pod. */
export function podSummary(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const total = pod.spec.containers.length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason: string = (pod.status as { reason?: string }).reason || pod.status.phase;
  let initializing = false;
  const inits = pod.status.initContainerStatuses ?? [];
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount;
    lastRestart = Math.max(lastRestart, lastTerminated(c));
    const term = c.state.terminated;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : `Init:ExitCode:${term.exitCode}`;
    else if (c.state.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${pod.spec.initContainers?.length ?? inits.length}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    const statuses = pod.status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      if (!c) continue;
      restarts += c.restartCount;
      lastRestart = Math.max(lastRestart, lastTerminated(c));
      if (c.state.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state.terminated) reason = `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) {
    reason = (pod.status as { reason?: string }).reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  }
  const restartsText = lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsText };
}

export const podPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE,
    col(
      'IP',
      'string',
      'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      1,
    ),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  row(obj, now) {
    const pod = obj as Pod;
    const s = podSummary(pod, now);
    const gates = (pod.spec.readinessGates as { conditionType: string }[] | undefined) ?? [];
    const gatesText = gates.length
      ? `${gates.filter((g) => pod.status.conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
      : '<none>';
    const phase = pod.status.phase;
    return {
      cells: [
        pod.metadata.name,
        s.ready,
        s.status,
        s.restarts,
        since(pod.metadata.creationTimestamp, now),
        pod.status.podIPs?.[0]?.ip || '<none>',
        pod.spec.nodeName || '<none>',
        (pod.status as { nominatedNodeName?: string }).nominatedNodeName || '<none>',
        gatesText,
      ],
      ...(phase === 'Succeeded' || phase === 'Failed'
        ? {
            conditions: [
              {
                type: 'Completed',
                status: 'True',
                reason: phase,
                message: phase === 'Succeeded' ? 'The pod has completed successfully.' : 'The pod failed.',
              },
            ],
          }
        : {}),
    };
  },
};

export const deploymentPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col(
      'Up-to-date',
      'string',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    col(
      'Available',
      'string',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    AGE,
    col('Containers', 'string', CONTAINERS_DOC, 1),
    col('Images', 'string', IMAGES_DOC, 1),
    col('Selector', 'string', SELECTOR_DOC, 1),
  ],
  row(obj, now) {
    const d = obj as Deployment;
    const [names, images] = containerCells(d.spec.template);
    return {
      cells: [
        d.metadata.name,
        `${d.status.readyReplicas ?? 0}/${d.spec.replicas}`,
        d.status.updatedReplicas ?? 0,
        d.status.availableReplicas ?? 0,
        since(d.metadata.creationTimestamp, now),
        names,
        images,
        formatSelector(d.spec.selector),
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    AGE,
    col('Containers', 'string', CONTAINERS_DOC, 1),
    col('Images', 'string', IMAGES_DOC, 1),
    col('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
  ],
  row(obj, now) {
    const rs = obj as ReplicaSet;
    const [names, images] = containerCells(rs.spec.template);
    return {
      cells: [
        rs.metadata.name,
        rs.spec.replicas,
        rs.status.replicas ?? 0,
        rs.status.readyReplicas ?? 0,
        since(rs.metadata.creationTimestamp, now),
        names,
        images,
        formatSelector(rs.spec.selector),
      ],
    };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'Number of the pod with ready state'),
    AGE,
    col('Containers', 'string', CONTAINERS_DOC, 1),
    col('Images', 'string', IMAGES_DOC, 1),
  ],
  row(obj, now) {
    const s = obj as StatefulSet;
    const [names, images] = containerCells(s.spec.template);
    return {
      cells: [
        s.metadata.name,
        `${s.status.readyReplicas ?? 0}/${s.spec.replicas}`,
        since(s.metadata.creationTimestamp, now),
        names,
        images,
      ],
    };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col(
      'Current',
      'integer',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
    ),
    col(
      'Ready',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    ),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col(
      'Available',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.',
    ),
    col('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    AGE,
    col('Containers', 'string', CONTAINERS_DOC, 1),
    col('Images', 'string', IMAGES_DOC, 1),
    col('Selector', 'string', 'A label query over pods that are managed by the daemon set.', 1),
  ],
  row(obj, now) {
    const ds = obj as DaemonSet;
    const [names, images] = containerCells(ds.spec.template);
    return {
      cells: [
        ds.metadata.name,
        ds.status.desiredNumberScheduled,
        ds.status.currentNumberScheduled,
        ds.status.numberReady,
        ds.status.updatedNumberScheduled ?? 0,
        ds.status.numberAvailable ?? 0,
        formatLabels(ds.spec.template.spec.nodeSelector),
        since(ds.metadata.creationTimestamp, now),
        names,
        images,
        formatSelector(ds.spec.selector),
      ],
    };
  },
};
