import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/shared/metrics.ts';
import { operationalRoutes } from '../../src/transport/http-routes.ts';
import { runWithoutEgress } from './no-egress-gcloud.ts';
import { schemaProblems } from './support/k8s-schema.ts';
import { DEPLOY_DIR, type K8sObject, kustomize, one, parseYamlObjects } from './support/render.ts';

const NAMESPACE = 'imagepull-bot';
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const SECRET_KEYS = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'];

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
}
interface DeploymentLike extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

/**
 * The Secret exactly as deploy/README.md has people create it (`kubectl create secret generic … --from-env-file`),
 * made offline with `--dry-run=client`, from made-up tokens in the shapes the bot checks.
 */
async function readmeSecret(keys: Record<string, string>): Promise<K8sObject> {
  const dir = await mkdtemp(join(tmpdir(), 'slack-secret-'));
  try {
    const envFile = join(dir, 'slack.env');
    await writeFile(
      envFile,
      `${Object.entries(keys)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    // A kubeconfig naming a closed loopback port: kubectl looks a server up even for a client-side dry run.
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]\n' +
        'contexts: [{name: none, context: {cluster: none, user: none}}]\nusers: [{name: none, user: {token: none}}]\n' +
        'current-context: none\n',
    );
    const run = await runWithoutEgress(
      'kubectl',
      [
        'create',
        'secret',
        'generic',
        'imagepull-bot-slack',
        `--namespace=${NAMESPACE}`,
        `--from-env-file=${envFile}`,
        '--dry-run=client',
        '--validate=false',
        '-o',
        'yaml',
      ],
      { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig } },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.offLoopback, []);
    return parseYamlObjects(run.stdout)[0] as K8sObject;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The container's environment as the kubelet would build it from the ConfigMap, the Secret and literal values. */
function resolveEnv(container: Container, configMaps: readonly K8sObject[], secret: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const cm = configMaps.find((c) => c.metadata.name === from.configMapRef?.name);
    assert.ok(cm, `envFrom names a rendered ConfigMap (${from.configMapRef?.name})`);
    Object.assign(env, cm.data as Record<string, string>);
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      assert.equal(ref.name, secret.metadata.name, `${e.name} comes from the Secret the README creates`);
      const data = (secret.data ?? {}) as Record<string, string>;
      assert.ok(ref.key in data, `the README's Secret has ${ref.key}`);
      env[e.name] = Buffer.from(data[ref.key] as string, 'base64').toString('utf8');
    } else if (e.value !== undefined) env[e.name] = e.value;
  }
  return env;
}

const OVERLAYS = {
  'socket-mode': {
    mode: 'socket',
    store: 'memory',
    replicas: 1,
    secret: { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-A-2-abc' },
  },
  'http-mode': {
    mode: 'http',
    store: 'memory',
    replicas: 1,
    secret: { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5' },
  },
  firestore: {
    mode: 'socket',
    store: 'firestore',
    replicas: 2,
    secret: { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-A-2-abc' },
  },
} as const;

/** Paths the bot answers GET on, besides Slack's (src/transport/http-routes.ts). */
const SERVED = operationalRoutes({ metrics: new Metrics({ defaults: false }), ready: () => true })
  .filter((r) => r.method.includes('GET'))
  .map((r) => r.path);

describe('deploy/ renders with kubectl kustomize into valid, consistent objects', () => {
  const rendered = new Map<string, K8sObject[]>();
  before(async () => {
    for (const dir of ['rbac', ...Object.keys(OVERLAYS).map((o) => `overlays/${o}`)]) {
      rendered.set(dir, await kustomize(`${DEPLOY_DIR}${dir}`));
    }
  });
  after(() => rendered.clear());

  it('every rendered object is valid against the Kubernetes (and GKE CRD) schemas, with no unknown field', async () => {
    for (const [dir, objects] of rendered) {
      assert.ok(objects.length > 0, dir);
      for (const o of objects) {
        assert.deepEqual(await schemaProblems(o), [], `${dir}: ${o.kind} ${o.metadata.name}`);
      }
    }
    // The Secret the README creates, too.
    assert.deepEqual(await schemaProblems(await readmeSecret(OVERLAYS['socket-mode'].secret)), []);
  });

  it('the schema check catches a misspelt field and a wrong type (it can fail)', async () => {
    const d = one(rendered.get('overlays/socket-mode') ?? [], 'Deployment') as DeploymentLike;
    const broken = structuredClone(d);
    const c = broken.spec.template.spec.containers[0] as Container & { readinesProbe?: unknown };
    c.readinesProbe = c.readinessProbe;
    (broken.spec as { replicas: unknown }).replicas = 'two';
    const problems = (await schemaProblems(broken)).join('\n');
    assert.match(problems, /readinesProbe: unknown field/);
    assert.match(problems, /replicas must be integer/);
  });

  for (const [overlay, want] of Object.entries(OVERLAYS)) {
    it(`${overlay}: a hardened Deployment whose configuration the bot accepts (${want.mode} mode, ${want.store} state)`, async () => {
      const objects = rendered.get(`overlays/${overlay}`) ?? [];
      for (const o of objects) {
        if (CLUSTER_SCOPED.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} is cluster-scoped`);
        else assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name} is in ${NAMESPACE}`);
      }
      const ns = one(objects, 'Namespace', NAMESPACE);
      assert.equal((ns.metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'], 'restricted');

      const d = one(objects, 'Deployment', 'imagepull-bot') as DeploymentLike;
      assert.equal(d.spec.replicas, want.replicas);
      const pod = d.spec.template.spec;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
        assert.equal(d.spec.template.metadata.labels[k], v);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, 'a numeric non-root user (the image says `USER node`)');
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      assert.equal(pod.containers.length, 1);
      const c = pod.containers[0] as Container;
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory);

      // The ServiceAccount carries the Workload Identity annotation, the ClusterRoleBinding names that identity.
      const sa = one(objects, 'ServiceAccount');
      assert.equal(pod.serviceAccountName, sa.metadata.name);
      const gsa = (sa.metadata.annotations as Record<string, string>)['iam.gke.io/gcp-service-account'];
      assert.match(gsa ?? '', /^[a-z][a-z0-9-]+@[a-zA-Z0-9_-]+\.iam\.gserviceaccount\.com$/);
      const crb = one(objects, 'ClusterRoleBinding') as K8sObject & {
        subjects: { kind: string; name: string }[];
        roleRef: { name: string };
      };
      assert.deepEqual(
        crb.subjects.map((s) => `${s.kind}:${s.name}`),
        [`User:${gsa}`],
      );
      assert.equal(crb.roleRef.name, one(objects, 'ClusterRole').metadata.name);

      // Secrets only from the Secret; everything else from the ConfigMap, under names the bot reads.
      const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
      assert.equal(configMaps.length, 1);
      const data = (configMaps[0]?.data ?? {}) as Record<string, string>;
      for (const k of Object.keys(data)) {
        assert.ok((CONFIG_VARIABLES as readonly string[]).includes(k), `${k} is a variable the bot reads`);
        assert.ok(!SECRET_KEYS.includes(k), `${k} is not in the ConfigMap`);
      }
      for (const e of c.env ?? []) {
        if (SECRET_KEYS.includes(e.name)) assert.ok(e.valueFrom?.secretKeyRef, `${e.name} comes from a Secret`);
      }
      assert.equal(
        objects.some((o) => o.kind === 'Secret'),
        false,
        'no Secret (with tokens) is committed',
      );
      const env = resolveEnv(c, configMaps, await readmeSecret(want.secret));
      const config = loadConfig(env);
      assert.equal(config.slack.mode, want.mode);
      assert.equal(config.stateStore, want.store);

      // Probes ask what the bot serves, on the port it listens on.
      const port = c.ports?.find((p) => p.name === 'http');
      assert.equal(port?.containerPort, config.port, 'the container port is PORT');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        assert.ok(probe?.httpGet, 'an HTTP probe');
        assert.ok(SERVED.includes(probe.httpGet.path), `${probe.httpGet.path} is served`);
        assert.equal(probe.httpGet.port, 'http');
      }
      assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');

      if (want.store === 'firestore') {
        const pdb = one(objects, 'PodDisruptionBudget') as K8sObject & {
          spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
        };
        assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < want.replicas, 'a drain keeps one replica');
        for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels))
          assert.equal(d.spec.template.metadata.labels[k], v);
        assert.ok(config.firestoreProject);
      } else {
        assert.equal(
          objects.some((o) => o.kind === 'PodDisruptionBudget'),
          false,
        );
      }
      if (want.mode === 'socket') {
        assert.equal(
          objects.some((o) => o.kind === 'Service' || o.kind === 'Ingress'),
          false,
          'Socket Mode exposes nothing',
        );
      }
    });
  }

  it('http-mode: the Ingress sends /slack/events to the bot, the load balancer health check asks a served path', () => {
    const objects = rendered.get('overlays/http-mode') ?? [];
    const d = one(objects, 'Deployment') as DeploymentLike;
    const c = d.spec.template.spec.containers[0] as Container;
    const svc = one(objects, 'Service') as K8sObject & {
      spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
    };
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(d.spec.template.metadata.labels[k], v);
    const svcPort = svc.spec.ports[0];
    assert.ok(
      c.ports?.some((p) => p.name === svcPort?.targetPort),
      'the Service targets the container port by name',
    );
    const ing = one(objects, 'Ingress') as K8sObject & {
      spec: {
        rules: {
          host: string;
          http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] };
        }[];
      };
    };
    const paths = ing.spec.rules.flatMap((r) => r.http.paths);
    assert.deepEqual(
      paths.map((p) => p.path),
      ['/slack/events'],
      'only Slack’s endpoint is public',
    );
    assert.equal(paths[0]?.backend.service.name, svc.metadata.name);
    assert.equal(paths[0]?.backend.service.port.name, svcPort?.name);
    const bc = one(objects, 'BackendConfig') as K8sObject & {
      spec: { healthCheck: { requestPath: string; port: number } };
    };
    const annotations = svc.metadata.annotations as Record<string, string>;
    assert.deepEqual(JSON.parse(annotations['cloud.google.com/backend-config'] ?? '{}'), { default: bc.metadata.name });
    assert.ok(SERVED.includes(bc.spec.healthCheck.requestPath), `${bc.spec.healthCheck.requestPath} is served`);
    assert.equal(bc.spec.healthCheck.port, c.ports?.find((p) => p.name === 'http')?.containerPort);
    const cert = one(objects, 'ManagedCertificate') as K8sObject & { spec: { domains: string[] } };
    assert.deepEqual(
      cert.spec.domains,
      ing.spec.rules.map((r) => r.host),
    );
    assert.equal(
      (ing.metadata.annotations as Record<string, string>)['networking.gke.io/managed-certificates'],
      cert.metadata.name,
    );
  });
});

describe('deploy/README.md step 4: filling in the project and region', () => {
  it('the README’s sed leaves no placeholder in what gets applied', async () => {
    const readme = await readFile(join(DEPLOY_DIR, 'README.md'), 'utf8');
    const command = /```sh\n(sed -i [^`]+?)\n```/.exec(readme)?.[1];
    assert.ok(command, 'the README has the sed command');
    const root = await mkdtemp(join(tmpdir(), 'deploy-copy-'));
    try {
      await cp(DEPLOY_DIR, join(root, 'deploy'), { recursive: true });
      const run = spawnSync('bash', ['-c', command.replace(/\\\n/g, ' ')], { cwd: root, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      for (const overlay of Object.keys(OVERLAYS)) {
        const objects = await kustomize(join(root, 'deploy', 'overlays', overlay));
        const text = JSON.stringify(objects);
        assert.doesNotMatch(text, /PROJECT_ID|REGION/, `${overlay}: no placeholder left`);
        const d = one(objects, 'Deployment') as DeploymentLike;
        assert.equal(
          d.spec.template.spec.containers[0]?.image,
          'us-central1-docker.pkg.dev/my-project/imagepull-bot/imagepull-bot:0.1.0',
        );
        const sa = one(objects, 'ServiceAccount');
        assert.equal(
          (sa.metadata.annotations as Record<string, string>)['iam.gke.io/gcp-service-account'],
          'imagepull-bot@my-project.iam.gserviceaccount.com',
        );
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
