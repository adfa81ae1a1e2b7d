/**
 * A private gcloud configuration directory (`CLOUDSDK_CONFIG`) that points the real `gcloud` at the sandbox:
 * every API gcloud calls for the commands the bot prints (Artifact Registry, GKE, Resource Manager, Policy
 * Troubleshooter) is overridden to the sandbox's REST endpoint, and nothing else is ever contacted.
 *
 * - `auth/disable_credentials true`: API calls carry no credentials (the sandbox answers them as the operator), so
 *   gcloud never looks for an account, never refreshes a token and never asks the metadata server for one.
 * - `auth/access_token_file`: a static token file. With credentials disabled, API calls still ignore it, but
 *   `gcloud config config-helper` returns it, which is what `gke-gcloud-auth-plugin` (the exec plugin in the
 *   kubeconfig `get-credentials` writes) asks for; without it the plugin, hence kubectl, fails ("You do not
 *   currently have an active account selected").
 * - `core/check_gce_metadata false`: otherwise gcloud asks the metadata server for credentials.
 * - `metrics/environment`: gcloud names its environment in every User-Agent, and when the property is unset it
 *   finds out by probing the metadata server (`metadata.google.internal`, a DNS query then HTTP) on the first run
 *   of a configuration directory — even with `check_gce_metadata false`. The `gce` cache file, answering "not on
 *   GCE", is written too, so no other path probes either.
 * - no usage reporting, no update checks, no surveys, no prompts.
 *
 * The files are written directly (not with `gcloud config set`), so writing needs no gcloud and prints none of
 * its universe-domain warnings about loopback overrides.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The gcloud API names whose endpoint the sandbox serves (`api_endpoint_overrides/NAME`). */
export const GCLOUD_APIS = ['artifactregistry', 'container', 'cloudresourcemanager', 'policytroubleshooter'] as const;

/**
 * APIs the sandbox does not serve that neighbouring gcloud commands call (`artifacts docker images describe` asks
 * Service Usage and Container Analysis, `iam service-accounts` asks IAM, `compute` commands Compute Engine). They are
 * pinned to the sandbox too, so such a command fails there with a 404 instead of reaching Google.
 */
export const GCLOUD_PINNED_APIS = ['serviceusage', 'containeranalysis', 'iam', 'compute', 'logging'] as const;

/** The access token `gcloud config config-helper` hands to credential plugins. */
export const GCLOUD_SANDBOX_TOKEN = 'sandbox-operator-token';

/** Where and what to write. */
export interface GcloudConfigOptions {
  /** The sandbox's Google endpoint, `127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** `core/project`. */
  readonly project: string;
  /** Directory to write into (created); a new temporary one when omitted. */
  readonly dir?: string;
}

/** A written configuration. */
export interface GcloudConfig {
  /** The `CLOUDSDK_CONFIG` directory. */
  readonly dir: string;
  /** `{ CLOUDSDK_CONFIG: dir }`, to merge into a child's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The `[section] key = value` properties written, for display and assertions. */
  readonly properties: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Deletes the directory (and whatever gcloud wrote into it: logs, caches). */
  remove(): Promise<void>;
}

/** The properties of the configuration for `endpoint` and `project` (token file at `tokenFile`). */
export function gcloudProperties(
  endpoint: string,
  project: string,
  tokenFile: string,
): Record<string, Record<string, string>> {
  const url = `http://${endpoint}/`;
  return {
    core: {
      project,
      check_gce_metadata: 'false',
      disable_usage_reporting: 'true',
      disable_prompts: 'true',
    },
    auth: { disable_credentials: 'true', access_token_file: tokenFile },
    component_manager: { disable_update_check: 'true' },
    metrics: { environment: 'imagepull-sandbox' },
    survey: { disable_prompts: 'true' },
    api_endpoint_overrides: Object.fromEntries([...GCLOUD_APIS, ...GCLOUD_PINNED_APIS].map((api) => [api, url])),
  };
}

function ini(properties: Record<string, Record<string, string>>): string {
  return Object.entries(properties)
    .map(
      ([section, values]) =>
        `[${section}]\n${Object.entries(values)
          .map(([k, v]) => `${k} = ${v}\n`)
          .join('')}`,
    )
    .join('\n');
}

/**
 * Writes a gcloud configuration directory whose only (and active) configuration, `default`, points gcloud at the
 * sandbox. Use it as `CLOUDSDK_CONFIG`; never the user's own `~/.config/gcloud`.
 */
export async function writeGcloudConfig(opts: GcloudConfigOptions): Promise<GcloudConfig> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'imagepull-gcloud-')));
  await mkdir(join(dir, 'configurations'), { recursive: true });
  const tokenFile = join(dir, 'sandbox-access-token');
  const properties = gcloudProperties(opts.endpoint, opts.project, tokenFile);
  await writeFile(tokenFile, GCLOUD_SANDBOX_TOKEN, { mode: 0o600 });
  await writeFile(join(dir, 'configurations', 'config_default'), ini(properties));
  await writeFile(join(dir, 'active_config'), 'default');
  await writeFile(join(dir, 'gce'), 'False', { mode: 0o600 });
  return {
    dir,
    env: { CLOUDSDK_CONFIG: dir },
    properties,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
