import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SLACK_FAKE_DEFAULTS } from '@imagepull/sandbox';
import { load, loadAll } from 'js-yaml';
import {
  BOT_RBAC,
  BOT_ROLE_PERMISSIONS,
  BOT_SLACK_SCOPES,
  clusterRoleRule,
  rbacLabel,
} from '../../../src/usecases/bot-permissions.ts';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const sorted = (xs: Iterable<string>) => [...xs].sort();

/**
 * What `imagepull doctor` and App Home check is what the deployment grants: a permission added to the role, a verb
 * to the ClusterRole or a scope to the manifest without the bot's list (or the other way round) fails here.
 */
describe('the bot’s own permissions, as doctor and App Home check them, equal what the deployment grants', () => {
  it('the role’s permissions are deploy/gcp/bot-role.yaml’s includedPermissions', () => {
    const role = load(read('deploy/gcp/bot-role.yaml')) as { includedPermissions: string[] };
    assert.deepEqual(sorted(BOT_ROLE_PERMISSIONS.map((p) => p.permission)), sorted(role.includedPermissions));
  });

  it('the RBAC list is exactly what deploy/rbac/clusterrole.yaml grants', () => {
    const docs = loadAll(read('deploy/rbac/clusterrole.yaml')) as {
      kind: string;
      rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    }[];
    const role = docs.find((d) => d.kind === 'ClusterRole');
    const granted = (role?.rules ?? []).flatMap((r) =>
      r.apiGroups.flatMap((group) =>
        r.resources.flatMap((resource) => r.verbs.map((verb) => rbacLabel({ verb, group, resource }))),
      ),
    );
    assert.deepEqual(sorted(BOT_RBAC.map(rbacLabel)), sorted(granted));
  });

  it('the Slack scopes are manifest.yml’s bot scopes, and the Slack fake grants the same by default', () => {
    const manifest = load(read('manifest.yml')) as { oauth_config: { scopes: { bot: string[] } } };
    assert.deepEqual(sorted(Object.keys(BOT_SLACK_SCOPES)), sorted(manifest.oauth_config.scopes.bot));
    assert.deepEqual(sorted(SLACK_FAKE_DEFAULTS.scopes), sorted(manifest.oauth_config.scopes.bot));
  });

  it('a missing rule is printed as a line that can be pasted into the ClusterRole', () => {
    const rule = clusterRoleRule([
      { verb: 'get', group: '', resource: 'pods' },
      { verb: 'list', group: '', resource: 'pods' },
    ]);
    assert.equal(rule, '- { apiGroups: [""], resources: [pods], verbs: [get, list] }');
    const parsed = load(rule) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    assert.deepEqual(parsed, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
  });
});
