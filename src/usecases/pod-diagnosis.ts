/**
 * The facts of one readable pod and its diagnoses (docs/diagnosis.md, "Facts"): the node, the events, the owner chain
 * and the Kubernetes service account read in parallel; who pulls (node → pool → service account) and the
 * Troubleshooter verdict as soon as the node is known; the repository reads of every failing image at once. Every
 * read goes through the investigation's `FactSession`, so a fact shared by several containers is read once.
 */
import { classifyMessage } from '../diagnosis/classify.ts';
import { diagnose } from '../diagnosis/diagnose.ts';
import type { Diagnosis, DiagnosisSubject } from '../diagnosis/diagnosis.ts';
import {
  type AccessVerdict,
  type ClusterRef,
  type Fact,
  type Facts,
  factFailed,
  factOk,
  type PodEventFacts,
  type PodFacts,
} from '../diagnosis/facts.ts';
import { resolveIdentity } from '../diagnosis/identity.ts';
import type { ClusterApi } from '../ports/cluster.port.ts';
import type { ClusterInfo, GoogleCloud } from '../ports/gcp.port.ts';
import {
  accessFact,
  imageFacts,
  namespaceWarningsFact,
  nodeFact,
  serviceAccountFact,
  workloadFact,
} from './fact-gathering.ts';
import type { FactSession } from './fact-reader.ts';
import { clusterKey, failingContainers, messageFor, parsed } from './pull-messages.ts';

/** The part of a diagnosis target a pod's diagnosis uses: its cluster, and the alert's container and message. */
export interface PodTarget {
  readonly cluster: ClusterRef;
  readonly container?: string;
  /** The kubelet message from the alert: a hint, re-checked against the pod's own state and events. */
  readonly message?: string;
}

/** A pod's diagnoses: one per container failing to pull, or none and a note saying that none is. */
export interface PodInvestigation {
  readonly diagnoses: readonly Diagnosis[];
  readonly pod: PodFacts;
  readonly note?: string;
}

/** A namespace's Warning events by pod, indexed once per list: a storm's pods share one list, not a scan each. */
const eventsByPod = new WeakMap<readonly PodEventFacts[], Map<string, PodEventFacts[]>>();

function eventsOf(list: readonly PodEventFacts[], pod: string): readonly PodEventFacts[] {
  let index = eventsByPod.get(list);
  if (!index) {
    index = new Map();
    for (const e of list) {
      if (!e.pod) continue;
      const mine = index.get(e.pod);
      if (mine) mine.push(e);
      else index.set(e.pod, [e]);
    }
    eventsByPod.set(list, index);
  }
  return index.get(pod) ?? [];
}

/**
 * Reads the rest of what a pod's failing containers need and diagnoses each.
 *
 * Guarantees: one diagnosis per container `failingContainers` picks (pull-messages.ts), in the pod's order; none,
 * with a note, when no container is failing to pull; every read goes through the session `s`, and one that fails
 * becomes a failed fact the diagnosis reports.
 */
export async function diagnosePod(
  google: GoogleCloud,
  target: PodTarget,
  pod: Fact<PodFacts> & { ok: true },
  cluster: Fact<ClusterInfo>,
  projectNumberP: Promise<Fact<string>>,
  api: ClusterApi,
  s: FactSession,
): Promise<PodInvestigation> {
  const p = pod.value;
  const ck = clusterKey(target.cluster);
  const nodeP = p.nodeName
    ? nodeFact(s, api, target.cluster, p.nodeName)
    : Promise.resolve(
        factFailed<never>(
          { code: 'not-found', message: `pod ${p.name} is not scheduled on a node yet` },
          `Kubernetes get pods ${p.namespace}/${p.name}`,
        ),
      );
  // An alert reads the Warning events of the whole namespace, once for a storm; a person asking (fresh) gets the
  // pod's own events, every kind.
  const eventsP: Promise<Fact<readonly PodEventFacts[]>> = s.fresh
    ? s.read(`events|${ck}|${p.namespace}/${p.name}`, `Kubernetes list events ${p.namespace}/${p.name}`, () =>
        api.listPodEvents(p.namespace, p.name),
      )
    : namespaceWarningsFact(s, api, target.cluster, p.namespace).then((f) =>
        f.ok ? factOk(eventsOf(f.value, p.name), f.source) : f,
      );
  const workloadP = workloadFact(s, api, target.cluster, p);
  const ksaP = serviceAccountFact(s, api, target.cluster, p.namespace, p.serviceAccountName);

  const failing = failingContainers(p, target);
  // Repository reads for every failing image start now, in parallel with node/events/workload.
  for (const c of failing) {
    const image = parsed(c.image);
    if (image) void imageFacts(google, s, image);
  }
  // Who pulls (node → pool → service account), then the Troubleshooter verdict, start as soon as the node is
  // known: the critical path is cluster → pod → node → troubleshooter (for an alert the node is already being read
  // beside the pod: fact-gathering.ts, `readAhead`), in parallel with the owner chain.
  const identityP = Promise.all([nodeP, projectNumberP]).then(([node, clusterProjectNumber]) =>
    resolveIdentity({ cluster, clusterProjectNumber, node }),
  );
  const accessP = new Map<string, Promise<Fact<AccessVerdict> | undefined>>();
  for (const c of failing) {
    const image = parsed(c.image);
    if (image?.ar && !accessP.has(image.ar.resourceName)) {
      accessP.set(
        image.ar.resourceName,
        identityP.then((id) => (id?.ok ? accessFact(google, s, id.value, image) : undefined)),
      );
    }
  }
  const [node, events, workloadRead, ksa, projectNumber, identity] = await Promise.all([
    nodeP,
    eventsP,
    workloadP,
    ksaP,
    projectNumberP,
    identityP,
  ]);
  const workload = workloadRead?.ok && workloadRead.value ? workloadRead.value : undefined;
  const baseFacts: Facts = {
    cluster: cluster,
    clusterProjectNumber: projectNumber,
    pod,
    events,
    node,
    kubernetesServiceAccount: ksa,
    ...(workload
      ? { workload: { ok: true as const, value: workload, source: (workloadRead as Fact<unknown>).source } }
      : {}),
  };
  if (failing.length === 0) {
    return {
      diagnoses: [],
      pod: p,
      note: `No container of ${p.namespace}/${p.name} is failing to pull right now.`,
    };
  }
  const diagnoses = await Promise.all(
    failing.map(async (c) => {
      const message = messageFor(c, target, events.ok ? events.value : []);
      const classification = classifyMessage(message ?? '');
      const image = parsed(c.image);
      const facts = image ? await imageFacts(google, s, image) : {};
      const access = image?.ar ? await accessP.get(image.ar.resourceName) : undefined;
      const subject: DiagnosisSubject = {
        cluster: target.cluster,
        namespace: p.namespace,
        pod: p.name,
        container: c.name,
        ...(c.init ? { initContainer: true } : {}),
        ...(workload ? { workload: { kind: workload.kind, namespace: workload.namespace, name: workload.name } } : {}),
        image: c.image,
      };
      return diagnose({
        facts: { ...baseFacts, ...facts, ...(access ? { access } : {}) },
        classification,
        ...(message ? { message } : {}),
        subject,
        ...(image ? { image } : {}),
        ...(identity ? { identity } : {}),
      });
    }),
  );
  return { diagnoses, pod: p };
}
