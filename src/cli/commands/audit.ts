import { createGoogleCloud } from '../../adapters/gcp/google-cloud.ts';
import { KubernetesConnector } from '../../adapters/kube/cluster.adapter.ts';
import type { ClusterRef } from '../../diagnosis/facts.ts';
import { parseImageRef } from '../../diagnosis/image-ref.ts';
import { auditJson, type PullAuditReport } from '../../prevention/report.ts';
import { FactReader } from '../../usecases/fact-reader.ts';
import { type AuditTarget, PullAudit } from '../../usecases/pull-audit.ts';
import { EXIT, type Io, parse, UsageError } from '../io.ts';
import { auditText, imageCheckText } from '../render-audit.ts';
import { loadSandbox } from '../sandbox-loader.ts';

/**
 * `imagepull audit` (docs/prevention.md): can every node pool pull every image its workloads may need? Against real
 * GCP (Application Default Credentials) or a sandbox scenario. With `--image`, the check a pipeline runs before it
 * deploys: exit 1, with the reason and the fix, when the cluster could not pull the image.
 */
export async function auditCommand(io: Io): Promise<number> {
  const { values } = parse(
    io.args,
    {
      json: { type: 'boolean' },
      sandbox: { type: 'string' },
      project: { type: 'string', multiple: true },
      cluster: { type: 'string', multiple: true },
      image: { type: 'string' },
      'node-pool': { type: 'string' },
    },
    false,
  );
  const clusters = (values.cluster ?? []).map(clusterRef);
  const projects = values.project ?? [];
  if (values['node-pool'] && !values.image) throw new UsageError('--node-pool goes with --image');
  if (values.image && (clusters.length > 1 || projects.length > 0)) {
    throw new UsageError('--image checks one cluster: give one --cluster PROJECT/LOCATION/CLUSTER');
  }
  let endpoint: string | undefined = io.env.IMAGEPULL_GOOGLE_ENDPOINT;
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
    if (clusters.length === 0 && projects.length === 0)
      clusters.push({ project: t.project, location: t.location, name: t.cluster });
  } else if (clusters.length === 0 && projects.length === 0) {
    throw new UsageError('give --cluster PROJECT/LOCATION/CLUSTER (repeatable) or --project P (or --sandbox SCENARIO)');
  }
  if (values.image && clusters.length !== 1)
    throw new UsageError('--image checks one cluster: give --cluster PROJECT/LOCATION/CLUSTER');
  const google = createGoogleCloud({ ...(endpoint ? { endpoint } : {}), timeoutMs: 20_000 });
  const connector = new KubernetesConnector(() => google.accessToken());
  try {
    const audit = new PullAudit({
      google,
      clusters: connector,
      reader: new FactReader({ ttlMs: 60_000, timeoutMs: 20_000 }),
    });
    const tty = process.stdout.isTTY === true;
    if (values.image) {
      const cluster = clusters[0] as ClusterRef;
      const report = await audit.checkImage({
        cluster,
        image: values.image,
        ...(values['node-pool'] ? { nodePool: values['node-pool'] } : {}),
      });
      io.out(
        values.json ? JSON.stringify(auditJson(report), null, 2) : imageCheckText(report, values.image, cluster, tty),
      );
      return imageVerdict(report, values.image);
    }
    const target: AuditTarget = { clusters, projects };
    const report = await audit.audit(target, { fresh: true });
    io.out(values.json ? JSON.stringify(auditJson(report), null, 2) : auditText(report, tty));
    return report.gaps.length > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    connector.close();
    await google.close();
    await stop();
  }
}

/**
 * 0 only when every pool was shown to pull the image (or the image is outside Artifact Registry, where node IAM
 * decides nothing); 1 when a pool cannot, or it could not be decided (the cluster, the pool or a fact unreadable).
 */
function imageVerdict(r: PullAuditReport, image: string): number {
  if (r.gaps.length > 0 || r.clusters.length === 0) return EXIT.failure;
  if (r.pairs === 0) {
    const ref = parseImageRef(image);
    return ref.ok && !ref.ref.ar ? EXIT.ok : EXIT.failure;
  }
  return r.canPull === r.pairs ? EXIT.ok : EXIT.failure;
}

function clusterRef(text: string): ClusterRef {
  const parts = text.split('/');
  if (parts.length !== 3 || parts.some((p) => p === ''))
    throw new UsageError(`--cluster takes PROJECT/LOCATION/CLUSTER (got "${text}")`);
  return { project: parts[0] as string, location: parts[1] as string, name: parts[2] as string };
}
