import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type GoogleSandbox, startGoogleSandbox } from '@imagepull/sandbox';
import { createGoogleCloud } from '../../src/adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../src/adapters/kube/cluster.adapter.ts';
import type { WorkloadKind } from '../../src/diagnosis/facts.ts';
import { parseImageRef } from '../../src/diagnosis/image-ref.ts';
import type { ClusterApi } from '../../src/ports/cluster.port.ts';
import type { GoogleCloud } from '../../src/ports/gcp.port.ts';
import { TEMPLATE_KINDS } from '../../src/prevention/facts.ts';
import { BASIC_USER_RBAC, GCP_CALL_PERMISSIONS, type RbacTriple, rbacOf, tripleKey } from './support/permission-map.ts';
import { DEPLOY_DIR, type K8sObject, kustomize, one } from './support/render.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

/** Method names an object answers to (own and prototype), without the constructor and `close`. */
function methodsOf(obj: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n !== 'constructor' && n !== 'close' && typeof (obj as Record<string, unknown>)[n] === 'function') {
        names.add(n);
      }
    }
  }
  return [...names].sort();
}

/** Every (group, resource, verb) a ClusterRole's rules grant, one triple each. */
function granted(role: K8sObject): string[] {
  const rules = (role.rules ?? []) as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[];
  return rules
    .flatMap((r) =>
      (r.apiGroups ?? []).flatMap((group) =>
        (r.resources ?? []).flatMap((resource) => (r.verbs ?? []).map((verb) => tripleKey({ group, resource, verb }))),
      ),
    )
    .sort();
}

const unique = (xs: readonly string[]) => [...new Set(xs)].sort();

/**
 * The bot's own permissions, derived from what its adapters send: every GoogleCloud port method and every
 * ClusterApi method runs against the sandbox, and the sandbox's call log says which RPCs and which Kubernetes
 * requests arrived. The custom role (deploy/gcp/bot-role.yaml) and the ClusterRole (deploy/rbac) must grant exactly
 * what those need.
 */
describe('the permissions the bot is granted are exactly those its adapters use', () => {
  let sandbox: GoogleSandbox;
  let google: GoogleCloud;
  let connector: KubernetesConnector;
  /** Which port methods were called (to prove every one was). */
  const exercised = { google: new Set<string>(), cluster: new Set<string>() };

  before(async () => {
    sandbox = await startGoogleSandbox({ scenario: 'seed' });
    google = createGoogleCloud({ endpoint: sandbox.endpoint, timeoutMs: 10_000 });
    connector = new KubernetesConnector(() => google.accessToken());
    const t = sandbox.scenario.target;
    const parsed = parseImageRef(t.image);
    assert.ok(parsed.ok && parsed.ref.ar, `the seed's image ${t.image} is in Artifact Registry`);
    const ar = parsed.ref.ar;
    const repo = ar.resourceName;
    // Reads that end in NOT_FOUND still send their request: what counts is what the code asks for.
    const tolerate = (p: Promise<unknown>) => p.catch(() => undefined);

    // The GoogleCloud port, member by member.
    const g = exercised.google;
    const cluster = await google.gke.getCluster({ project: t.project, location: t.location, name: t.cluster });
    g.add('gke.getCluster');
    await google.gke.listClusters(t.project);
    g.add('gke.listClusters');
    await google.projects.getProjectNumber(t.project);
    g.add('projects.getProjectNumber');
    await google.projects.getIamPolicy(t.project);
    g.add('projects.getIamPolicy');
    await google.projects.testPermissions(t.project, ['container.clusters.get']);
    g.add('projects.testPermissions');
    await google.registry.getRepository(repo);
    g.add('registry.getRepository');
    await google.registry.listRepositories(ar.project);
    g.add('registry.listRepositories');
    // By tag (a missing tag also lists recent images) and by digest.
    await google.registry.getTag({ ...ar, tag: 'no-such-tag' });
    await google.registry.getTag({ ...ar, digest: `sha256:${'0'.repeat(64)}` });
    g.add('registry.getTag');
    const policy = await google.repositoryIam.getPolicy(repo);
    g.add('repositoryIam.getPolicy');
    await google.repositoryIam.setPolicy(repo, policy);
    g.add('repositoryIam.setPolicy');
    await google.repositoryIam.testPermissions(repo, ['artifactregistry.repositories.get']);
    g.add('repositoryIam.testPermissions');
    await google.access.troubleshoot(
      '123456789012-compute@developer.gserviceaccount.com',
      `//artifactregistry.googleapis.com/${repo}`,
      'artifactregistry.repositories.downloadArtifacts',
    );
    g.add('access.troubleshoot');
    await google.accessToken();
    g.add('accessToken');

    // The ClusterApi, method by method, for every workload kind it handles.
    const api: ClusterApi = await connector.connect(cluster);
    const c = exercised.cluster;
    const pod = await api.getPod(t.namespace, t.pod);
    c.add('getPod');
    await api.listPodEvents(t.namespace, t.pod);
    c.add('listPodEvents');
    await api.listPodWarnings(t.namespace);
    c.add('listPodWarnings');
    await api.listPods(t.namespace);
    c.add('listPods');
    assert.ok(pod.owner, 'the seed pod has an owner (its ReplicaSet)');
    await api.resolveWorkload(t.namespace, pod.owner);
    c.add('resolveWorkload');
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const satisfies readonly WorkloadKind[]) {
      const ref = { kind, namespace: t.namespace, name: kind === 'Deployment' ? t.workload.name : 'absent' };
      await tolerate(api.getWorkload(ref));
      await tolerate(api.listWorkloadPods(ref));
      await tolerate(api.restartWorkload(ref, new Date()));
      await api.listWorkloads(t.namespace, kind);
    }
    c.add('getWorkload').add('listWorkloadPods').add('restartWorkload').add('listWorkloads');
    if (pod.nodeName) await api.getNode(pod.nodeName);
    c.add('getNode');
    await api.getServiceAccount(t.namespace, pod.serviceAccountName);
    c.add('getServiceAccount');
    await api.listServiceAccounts(t.namespace);
    c.add('listServiceAccounts');
    await api.canI('patch', 'apps', 'deployments', t.namespace);
    c.add('canI');
    // The pull audit's lists: every workload kind and the nodes, across namespaces.
    for (const kind of TEMPLATE_KINDS) await api.listWorkloadTemplates(kind);
    c.add('listWorkloadTemplates');
    await api.listNodes();
    c.add('listNodes');
  });

  after(async () => {
    connector?.close();
    await google?.close();
    await sandbox?.stop();
  });

  it('every port method was exercised', () => {
    const ports = google as unknown as Record<string, object>;
    const missing: string[] = [];
    for (const k of ['gke', 'projects', 'registry', 'repositoryIam', 'access']) {
      for (const m of methodsOf(ports[k] as object)) {
        // One adapter object serves both `registry` and `repositoryIam`: a method counts under either port.
        const aliases = Object.keys(ports).filter((k2) => ports[k2] === ports[k]);
        if (!aliases.some((a) => exercised.google.has(`${a}.${m}`))) missing.push(`${k}.${m}`);
      }
    }
    if (!exercised.google.has('accessToken')) missing.push('accessToken');
    const connectorApi = methodsOf(Object.getPrototypeOf(connector) as object);
    assert.ok(connectorApi.includes('connect'));
    assert.deepEqual(missing, [], 'every GoogleCloud port method ran against the sandbox');
  });

  it('every ClusterApi method was exercised', async () => {
    const t = sandbox.scenario.target;
    const cluster = await google.gke.getCluster({ project: t.project, location: t.location, name: t.cluster });
    const api = await connector.connect(cluster);
    assert.deepEqual([...exercised.cluster].sort(), methodsOf(api));
  });

  it('the custom role holds exactly the permissions of the Google calls made', async () => {
    const calls = unique(
      sandbox.calls
        .list()
        .filter((r) => !r.method.startsWith('kube.'))
        .map((r) => r.method),
    );
    const unmapped = calls.filter((m) => !(m in GCP_CALL_PERMISSIONS));
    assert.deepEqual(
      unmapped,
      [],
      'every call the adapters made has an IAM mapping (test/deploy/support/permission-map.ts)',
    );
    const needed = unique(calls.flatMap((m) => GCP_CALL_PERMISSIONS[m]?.permissions ?? []));
    const text = await readFile(new URL('gcp/bot-role.yaml', `file://${DEPLOY_DIR}`), 'utf8');
    const listed = unique(
      [...(/^includedPermissions:\n((?:\s+- .+\n?)+)/m.exec(text)?.[1] ?? '').matchAll(/- ([\w.]+)/g)].map(
        (m) => m[1] as string,
      ),
    );
    assert.deepEqual(listed, needed, 'deploy/gcp/bot-role.yaml lists exactly what the calls need');
    // The cluster's Kubernetes API is reached with a Google token; GKE lets a Google identity in only with
    // container.clusters.get, which getCluster needs anyway (and is all `gcloud container clusters get-credentials`
    // needs too).
    assert.ok(needed.includes('container.clusters.get'));
  });

  it('the ClusterRole grants exactly the Kubernetes requests made, beyond what every user may do', async () => {
    const requests = sandbox.calls.list('kube.*');
    assert.ok(requests.length > 10, 'the Kubernetes fake logged the adapter’s requests');
    const triples: RbacTriple[] = requests.map((r) => {
      const method = /^kube\.(\w+) /.exec(r.method)?.[1] ?? '';
      const t = rbacOf(method, r.detail ?? '');
      assert.ok(t, `a resource request: ${r.method} ${r.detail}`);
      return t;
    });
    const derived = unique(triples.map(tripleKey));
    const basic = BASIC_USER_RBAC.map(tripleKey);
    // canI sends a SelfSubjectAccessReview: allowed to every authenticated user, so the ClusterRole needs no rule.
    assert.ok(derived.includes('authorization.k8s.io/selfsubjectaccessreviews create'));
    const needed = derived.filter((k) => !basic.includes(k));
    for (const dir of ['rbac', 'overlays/socket-mode', 'overlays/http-mode', 'overlays/firestore']) {
      const role = one(await kustomize(`${DEPLOY_DIR}${dir}`), 'ClusterRole', 'imagepull-bot');
      assert.deepEqual(granted(role), needed, `${dir}: the ClusterRole grants exactly what the adapter sends`);
    }
  });
});
