import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

const base = {
  SLACK_BOT_TOKEN: 'xoxb-1',
  SLACK_APP_TOKEN: 'xapp-1',
  INCIDENT_CHANNEL: 'C0INCIDENTS',
};

describe('loadConfig', () => {
  it('defaults: Socket Mode, dry-run fixes, memory store, Slack API', () => {
    const c = loadConfig(base);
    assert.equal(c.slack.mode, 'socket');
    assert.equal(c.fixMode, 'dry-run');
    assert.equal(c.stateStore, 'memory');
    assert.equal(c.slack.apiUrl, 'https://slack.com/api/');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.slack), 'config is frozen');
  });

  it('HTTP mode with a signing secret; lists and timings parsed', () => {
    const c = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's3cret',
      PORT: '3100',
      INCIDENT_CHANNEL: 'C1',
      APPROVERS: 'U01, S0ONCALL',
      FIX_MODE: 'approve',
      ALLOWED_NAMESPACES: 'prod,staging',
      DEFAULT_CLUSTER: 'acme-prod-417/us-central1/prod',
      POLL_INTERVAL_SECONDS: '0.5',
    });
    assert.equal(c.slack.mode, 'http');
    assert.equal(c.port, 3100);
    assert.deepEqual(c.approvers, ['U01', 'S0ONCALL']);
    assert.deepEqual(c.allowedNamespaces, ['prod', 'staging']);
    assert.deepEqual(c.defaultCluster, { project: 'acme-prod-417', location: 'us-central1', name: 'prod' });
    assert.equal(c.timing.pollIntervalMs, 500);
  });

  it('routes namespaces to owner channels (OWNER_CHANNELS) and rejects malformed pairs', () => {
    const c = loadConfig({ ...base, OWNER_CHANNELS: 'prod=C0PROD, payments=C0PAY' });
    assert.deepEqual(c.ownerChannels, { prod: 'C0PROD', payments: 'C0PAY' });
    assert.deepEqual(loadConfig(base).ownerChannels, {});
    assert.throws(
      () => loadConfig({ ...base, OWNER_CHANNELS: 'prod=C0PROD,prod=C0OTHER,Bad_NS=C1,payments' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => /"prod" is given two channels/.test(p)) &&
        e.problems.some((p) => /"Bad_NS=C1" is not NAMESPACE=CHANNEL_ID/.test(p)) &&
        e.problems.some((p) => /"payments" is not NAMESPACE=CHANNEL_ID/.test(p)),
    );
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'xapp-wrong',
        FIX_MODE: 'yolo',
        APPROVERS: 'bob',
        PUBSUB_SUBSCRIPTION: 'subs/x',
        STATE_STORE: 'redis',
      });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      const text = e.problems.join('\n');
      for (const want of [
        'SLACK_BOT_TOKEN',
        'SLACK_APP_TOKEN',
        'INCIDENT_CHANNEL',
        'FIX_MODE',
        'APPROVERS',
        'PUBSUB_SUBSCRIPTION',
        'STATE_STORE',
      ]) {
        assert.match(text, new RegExp(want), `mentions ${want}`);
      }
    }
  });

  it('the pull audit: off by default; AUDIT_INTERVAL a duration; AUDIT_CLUSTERS clusters and projects, else DEFAULT_CLUSTER', () => {
    const off = loadConfig(base);
    assert.equal(off.auditIntervalMs, undefined);
    assert.deepEqual(off.auditScope, { clusters: [], projects: [] });
    assert.equal(loadConfig({ ...base, AUDIT_INTERVAL: 'off' }).auditIntervalMs, undefined);
    assert.equal(loadConfig({ ...base, AUDIT_INTERVAL: '6h' }).auditIntervalMs, 6 * 3_600_000);
    assert.equal(loadConfig({ ...base, AUDIT_INTERVAL: '30m' }).auditIntervalMs, 1_800_000);
    const dflt = loadConfig({ ...base, DEFAULT_CLUSTER: 'acme-prod-417/us-central1/prod' });
    assert.deepEqual(dflt.auditScope.clusters, [{ project: 'acme-prod-417', location: 'us-central1', name: 'prod' }]);
    const both = loadConfig({
      ...base,
      DEFAULT_CLUSTER: 'acme-prod-417/us-central1/prod',
      AUDIT_CLUSTERS: 'acme-stg-233/europe-west1/stg, acme-batch-901',
    });
    assert.deepEqual(both.auditScope, {
      clusters: [{ project: 'acme-stg-233', location: 'europe-west1', name: 'stg' }],
      projects: ['acme-batch-901'],
    });
    assert.throws(
      () => loadConfig({ ...base, AUDIT_INTERVAL: '6 hours', AUDIT_CLUSTERS: 'a/b' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.startsWith('AUDIT_INTERVAL')) &&
        e.problems.some((p) => p.startsWith('AUDIT_CLUSTERS')),
    );
  });

  it('push intake: off by default; on with an audience and the push service account; the old URL token refused', () => {
    assert.equal(loadConfig(base).pubsubPush, undefined);
    const push = {
      PUBSUB_PUSH_AUDIENCE: 'https://imagepull.example.com/pubsub/push',
      PUBSUB_PUSH_SERVICE_ACCOUNT: 'pubsub-push@acme-prod-417.iam.gserviceaccount.com',
    };
    assert.deepEqual(loadConfig({ ...base, ...push }).pubsubPush, {
      audience: 'https://imagepull.example.com/pubsub/push',
      serviceAccount: 'pubsub-push@acme-prod-417.iam.gserviceaccount.com',
      certsUrl: 'https://www.googleapis.com/oauth2/v1/certs',
    });
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env });
        return [];
      } catch (e) {
        return e instanceof ConfigError ? [...e.problems] : [String(e)];
      }
    };
    assert.match(
      problems({ PUBSUB_PUSH_AUDIENCE: push.PUBSUB_PUSH_AUDIENCE }).join('\n'),
      /push intake needs both .*PUBSUB_PUSH_SERVICE_ACCOUNT is missing/,
    );
    assert.match(
      problems({ PUBSUB_PUSH_SERVICE_ACCOUNT: push.PUBSUB_PUSH_SERVICE_ACCOUNT }).join('\n'),
      /PUBSUB_PUSH_AUDIENCE is missing/,
    );
    assert.match(
      problems({ ...push, PUBSUB_PUSH_SERVICE_ACCOUNT: 'pubsub-push' }).join('\n'),
      /PUBSUB_PUSH_SERVICE_ACCOUNT must be a service account email/,
    );
    assert.match(
      problems({ ...push, PUBSUB_PUSH_CERTS_URL: 'http://certs.example.com/oauth2/v1/certs' }).join('\n'),
      /PUBSUB_PUSH_CERTS_URL must be an https URL, or http on a loopback address/,
    );
    assert.equal(
      loadConfig({ ...base, ...push, PUBSUB_PUSH_CERTS_URL: 'http://127.0.0.1:9/certs' }).pubsubPush?.certsUrl,
      'http://127.0.0.1:9/certs',
    );
    assert.match(
      problems({ PUBSUB_PUSH_TOKEN: 'push-token-0123456789abcdef' }).join('\n'),
      /PUBSUB_PUSH_TOKEN is no longer read: .*set PUBSUB_PUSH_AUDIENCE and PUBSUB_PUSH_SERVICE_ACCOUNT/,
    );
  });

  it('approve mode needs approvers', () => {
    assert.throws(() => loadConfig({ ...base, FIX_MODE: 'approve' }), /APPROVERS/);
  });
});

describe('the README configuration table', () => {
  it('names every variable the bot reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { CONFIG_VARIABLES } = await import('../../src/config.ts');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## How a fix is made safe'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const named = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1])));
    assert.deepEqual(
      CONFIG_VARIABLES.filter((v) => !named.has(v)),
      [],
    );
  });
});

describe('.env.example', () => {
  it('lists exactly the variables the bot reads, with no values', async () => {
    const { readFileSync } = await import('node:fs');
    const { CONFIG_VARIABLES } = await import('../../src/config.ts');
    const lines = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.deepEqual(lines.map((l) => l.split('=')[0]).sort(), [...CONFIG_VARIABLES].sort());
    assert.ok(
      lines.every((l) => l.endsWith('=')),
      'names only',
    );
  });
});
