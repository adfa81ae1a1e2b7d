import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImageName } from '../../../src/world/image-name.ts';

describe('parseImageName (the simulator reads references like containerd)', () => {
  const cases = [
    {
      raw: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      normalized: 'us-central1-docker.pkg.dev/acme-prod-417/services/checkout:1.8.2',
      repo: 'projects/acme-prod-417/locations/us-central1/repositories/services',
      pkg: 'checkout',
    },
    {
      raw: 'gcr.io/acme-prod-417/legacy-api:2.3.0',
      normalized: 'gcr.io/acme-prod-417/legacy-api:2.3.0',
      repo: 'projects/acme-prod-417/locations/us/repositories/gcr.io',
      pkg: 'legacy-api',
    },
    {
      raw: 'eu.gcr.io/p/team/app',
      normalized: 'eu.gcr.io/p/team/app:latest',
      repo: 'projects/p/locations/europe/repositories/eu.gcr.io',
      pkg: 'team/app',
    },
    { raw: 'nginx:1.25', normalized: 'docker.io/library/nginx:1.25', repo: undefined, pkg: undefined },
    { raw: 'fluent/fluent-bit:3.1', normalized: 'docker.io/fluent/fluent-bit:3.1', repo: undefined, pkg: undefined },
  ];
  for (const c of cases) {
    it(`maps ${c.raw}`, () => {
      const ref = parseImageName(c.raw);
      assert.equal(ref?.normalized, c.normalized);
      assert.equal(ref?.ar?.resourceName, c.repo);
      assert.equal(ref?.ar?.packageName, c.pkg);
    });
  }

  it('asks for the digest when the reference is pinned', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const ref = parseImageName(`us-docker.pkg.dev/p/r/img@${digest}`);
    assert.equal(ref?.manifestRef, digest);
    assert.equal(ref?.tag, undefined);
  });

  it('refuses references containerd would call invalid', () => {
    assert.equal(parseImageName('Docker.io/Library/Nginx:1'), undefined);
    assert.equal(parseImageName(''), undefined);
  });
});
