import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fails with an install hint unless the real gcloud (with its alpha and beta components) is on the PATH. */
export function requireGcloud(): void {
  const r = spawnSync('gcloud', ['version', '--format=value(alpha,beta)'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
    },
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      'gcloud is needed for the setup.sh test: apt-get install -y google-cloud-cli (Google Cloud SDK apt repository)',
    );
  }
}

/**
 * A private gcloud configuration directory: no credentials, no metadata-server probe (neither the credential check
 * nor the metrics-environment one), no usage reporting, no update check, no prompts, and every API that setup.sh reaches sent to the given endpoints. The user's ~/.config/gcloud is
 * never read. Returns the environment to run gcloud (or setup.sh) with.
 */
export async function privateGcloudEnv(overrides: Readonly<Record<string, string>>): Promise<NodeJS.ProcessEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'gcloud-config-'));
  const lines = [
    '[auth]',
    'disable_credentials = true',
    '[core]',
    'check_gce_metadata = false',
    'disable_usage_reporting = true',
    'disable_prompts = true',
    // Without it gcloud works out a "metrics environment" for its user agent by asking whether it runs on GCE, and
    // that resolves metadata.google.internal (a DNS query) even with check_gce_metadata off.
    '[metrics]',
    'environment = imagepull-bot-tests',
    '[component_manager]',
    'disable_update_check = true',
    '[api_endpoint_overrides]',
    ...Object.entries(overrides).map(([api, url]) => `${api} = ${url}`),
  ];
  await mkdir(join(dir, 'configurations'));
  await writeFile(join(dir, 'active_config'), 'default');
  await writeFile(join(dir, 'configurations', 'config_default'), `${lines.join('\n')}\n`);
  // Only what gcloud needs from the test's environment: no credentials variables, no proxies.
  return {
    PATH: process.env.PATH,
    HOME: dir,
    LANG: 'C.UTF-8',
    CLOUDSDK_CONFIG: dir,
    METADATA_SERVER_DETECTION: 'none',
    NO_GCE_CHECK: 'True',
  };
}
