import { createGoogleCloud } from '../../adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../adapters/kube/cluster.adapter.ts';
import type { WorkloadKind } from '../../diagnosis/facts.ts';
import { FactReader } from '../../usecases/fact-reader.ts';
import { type DiagnosisTarget, Investigator } from '../../usecases/investigate.ts';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { investigationJson, investigationText } from '../render-text.ts';
import { loadSandbox } from '../sandbox-loader.ts';

const KINDS: Record<string, WorkloadKind> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  deploy: 'Deployment',
  sts: 'StatefulSet',
  ds: 'DaemonSet',
};

/** `imagepull diagnose`: the diagnosis engine without Slack, against real GCP (ADC) or a sandbox scenario. */
export async function diagnoseCommand(io: Io): Promise<number> {
  const { values } = parse(
    io.args,
    {
      json: { type: 'boolean' },
      sandbox: { type: 'string' },
      project: { type: 'string' },
      location: { type: 'string' },
      cluster: { type: 'string' },
      pod: { type: 'string' },
      workload: { type: 'string' },
      image: { type: 'string' },
      message: { type: 'string' },
    },
    false,
  );
  let endpoint: string | undefined;
  let target: DiagnosisTarget;
  let stop = async () => {};
  if (values.sandbox) {
    const { SCENARIOS, startGoogleSandbox } = await loadSandbox();
    const known = SCENARIOS.map((s) => s.name);
    if (!known.includes(values.sandbox))
      throw new UsageError(`unknown scenario "${values.sandbox}"; scenarios: ${known.join(', ')}`);
    const sandbox = await startGoogleSandbox({ scenario: values.sandbox });
    stop = () => sandbox.stop();
    endpoint = sandbox.endpoint;
    const t = sandbox.scenario.target;
    target = {
      cluster: { project: t.project, location: t.location, name: t.cluster },
      namespace: t.namespace,
      pod: t.pod,
    };
  } else {
    if (!values.project || !values.location || !values.cluster)
      throw new UsageError('--project, --location and --cluster are required (or --sandbox SCENARIO)');
    const given = [values.pod, values.workload, values.image].filter((v) => v !== undefined);
    if (given.length !== 1)
      throw new UsageError('give exactly one of --pod NS/NAME, --workload NS/KIND/NAME, --image REF');
    const cluster = { project: values.project, location: values.location, name: values.cluster };
    if (values.pod) {
      const [namespace, pod, ...rest] = values.pod.split('/');
      if (!namespace || !pod || rest.length > 0) throw new UsageError('--pod takes NAMESPACE/NAME');
      target = { cluster, namespace, pod };
    } else if (values.workload) {
      const [namespace, kindWord, name, ...rest] = values.workload.split('/');
      const kind = KINDS[kindWord?.toLowerCase() ?? ''];
      if (!namespace || !kind || !name || rest.length > 0)
        throw new UsageError('--workload takes NAMESPACE/KIND/NAME, KIND one of deployment, statefulset, daemonset');
      target = { cluster, workload: { kind, namespace, name } };
    } else {
      target = { cluster, image: values.image as string };
    }
    if (values.message) target = { ...target, message: values.message };
    endpoint = io.env.IMAGEPULL_GOOGLE_ENDPOINT;
  }
  const google = createGoogleCloud({ ...(endpoint ? { endpoint } : {}), timeoutMs: 20_000 });
  try {
    const investigator = new Investigator({
      google,
      clusters: new KubernetesConnector(() => google.accessToken()),
      reader: new FactReader({ ttlMs: 60_000, timeoutMs: 20_000 }),
    });
    const inv = await investigator.investigate(target);
    io.out(
      values.json
        ? JSON.stringify(investigationJson(inv), null, 2)
        : investigationText(inv, process.stdout.isTTY === true),
    );
    return inv.diagnoses.length === 0 && inv.readError ? EXIT.failure : EXIT.ok;
  } finally {
    await google.close();
    await stop();
  }
}
