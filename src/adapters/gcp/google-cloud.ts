import { GoogleAuth } from 'google-auth-library';
import type { GoogleCloud } from '../../ports/gcp.port.ts';
import { ArtifactRegistryAdapter } from './artifact-registry.adapter.ts';
import { clientOptions } from './client-options.ts';
import { GkeAdapter } from './gke.adapter.ts';
import { ProjectsAdapter } from './projects.adapter.ts';
import { type AuthorizedFetch, TroubleshooterAdapter } from './troubleshooter.adapter.ts';

export interface GoogleCloudOptions {
  /** Sandbox/staging seam: `host:port` serving every API below, plain gRPC and HTTP, no credentials. */
  readonly endpoint?: string;
  readonly timeoutMs: number;
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
/** What the sandbox's fakes accept as a bearer token: they only check one is sent. */
const SANDBOX_TOKEN = 'sandbox-token';

/**
 * Wires the Google adapters. With no endpoint, every client uses Application Default Credentials against the real
 * APIs; with one, everything goes to that loopback endpoint and no credential lookup (or metadata probe) happens.
 */
export function createGoogleCloud(options: GoogleCloudOptions): GoogleCloud {
  const grpcOptions = clientOptions(options.endpoint, options.timeoutMs);
  const ar = new ArtifactRegistryAdapter(grpcOptions);
  const gke = new GkeAdapter(grpcOptions);
  const projects = new ProjectsAdapter(grpcOptions);
  let fetchJson: AuthorizedFetch;
  let accessToken: () => Promise<string>;
  let baseUrl: string;
  if (options.endpoint) {
    baseUrl = `http://${options.endpoint}`;
    accessToken = async () => SANDBOX_TOKEN;
    fetchJson = async (url, body, timeoutMs) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${SANDBOX_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, json: await res.json().catch(() => undefined) };
    };
  } else {
    const auth = new GoogleAuth({ scopes: SCOPES });
    baseUrl = 'https://policytroubleshooter.googleapis.com';
    accessToken = async () => {
      const token = await auth.getAccessToken();
      if (!token) throw new Error('Application Default Credentials returned no access token');
      return token;
    };
    fetchJson = async (url, body, timeoutMs) => {
      const client = await auth.getClient();
      const res = await client.request({
        url,
        method: 'POST',
        data: body,
        timeout: timeoutMs,
        validateStatus: () => true,
      });
      return { status: res.status, json: res.data };
    };
  }
  return {
    gke,
    projects,
    registry: ar,
    repositoryIam: ar,
    access: new TroubleshooterAdapter(baseUrl, fetchJson, options.timeoutMs),
    accessToken,
    async close() {
      await Promise.allSettled([ar.close(), gke.close(), projects.close()]);
    },
  };
}

/**
 * The email of the Google identity Application Default Credentials stand for (a service account key, or the
 * Workload Identity service account on GKE); undefined when there is none or it does not say within `timeoutMs`.
 */
export async function serviceAccountEmail(timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const credentials = await Promise.race([
      new GoogleAuth({ scopes: SCOPES }).getCredentials(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
    return credentials?.client_email ?? undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
