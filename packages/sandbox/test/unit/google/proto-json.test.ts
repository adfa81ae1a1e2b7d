import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescriptorRoot, type JsonNode } from '../../../src/google/descriptors.ts';
import {
  bindPath,
  formatTimestamp,
  fromJson,
  JsonMappingError,
  parseTimestamp,
  toJson,
} from '../../../src/google/proto-json.ts';
import { protoService } from '../../../src/google/protos.ts';

/** A small descriptor exercising every mapping rule. */
const ROOT = new DescriptorRoot({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
            FieldMask: { fields: { paths: { rule: 'repeated', type: 'string', id: 1 } } },
            Int32Value: { fields: { value: { type: 'int32', id: 1 } } },
          },
        },
      },
    },
    t: {
      nested: {
        Thing: {
          oneofs: { kind: { oneof: ['text', 'count'] }, _maybe: { oneof: ['maybe'] } },
          fields: {
            name: { type: 'string', id: 1 },
            sizeBytes: { type: 'int64', id: 2 },
            etag: { type: 'bytes', id: 3 },
            state: { type: 'State', id: 4 },
            labels: { keyType: 'string', type: 'string', id: 5 },
            createTime: { type: 'google.protobuf.Timestamp', id: 6 },
            ttl: { type: 'google.protobuf.Duration', id: 7 },
            mask: { type: 'google.protobuf.FieldMask', id: 8 },
            limit: { type: 'google.protobuf.Int32Value', id: 9 },
            children: { rule: 'repeated', type: 'Thing', id: 10 },
            text: { type: 'string', id: 11 },
            count: { type: 'int32', id: 12 },
            maybe: { type: 'bool', id: 13 },
            ratio: { type: 'double', id: 14 },
            parent: { type: 'Thing', id: 15 },
          },
          nested: { State: { values: { STATE_UNSPECIFIED: 0, ACTIVE: 1 } } },
        },
      },
    },
  },
} as JsonNode);
const THING = ROOT.message('t.Thing');

describe('proto3 JSON out (toJson)', () => {
  it('omits defaults, writes int64 as strings, bytes as base64 and enums by name', () => {
    const json = toJson(ROOT, THING, {
      name: 'a',
      sizeBytes: '123',
      etag: Buffer.from([0x07, 0x06, 0xff]),
      state: 'ACTIVE',
      labels: {},
      children: [],
      parent: null,
      ratio: 0,
      createTime: null,
    });
    assert.deepEqual(json, { name: 'a', sizeBytes: '123', etag: 'Bwb/', state: 'ACTIVE' });
    assert.deepEqual(
      toJson(ROOT, THING, { name: '', sizeBytes: '0', etag: Buffer.alloc(0), state: 'STATE_UNSPECIFIED' }),
      {},
    );
  });

  it('writes well-known types in their JSON forms (Durations with 0, 3, 6 or 9 fractional digits)', () => {
    const json = toJson(ROOT, THING, {
      createTime: { seconds: '1700000000', nanos: 612_000_000 },
      ttl: { seconds: '90', nanos: 500_000_000 },
      mask: { paths: ['policy.audit_configs', 'etag'] },
      limit: { value: 0 },
    });
    assert.deepEqual(json, {
      createTime: '2023-11-14T22:13:20.612Z',
      ttl: '90.500s',
      mask: 'policy.auditConfigs,etag',
      limit: 0,
    });
  });

  it('keeps a set oneof member even at its default, and only the one set', () => {
    assert.deepEqual(toJson(ROOT, THING, { text: '', count: 0, kind: 'text', maybe: false, _maybe: 'maybe' }), {
      text: '',
      maybe: false,
    });
  });

  it('nests messages, maps and lists, and writes non-finite doubles as strings', () => {
    const json = toJson(ROOT, THING, {
      labels: { env: 'prod' },
      children: [{ name: 'c', sizeBytes: '1' }],
      parent: { state: 'ACTIVE' },
      ratio: Number.POSITIVE_INFINITY,
    });
    assert.deepEqual(json, {
      labels: { env: 'prod' },
      children: [{ name: 'c', sizeBytes: '1' }],
      parent: { state: 'ACTIVE' },
      ratio: 'Infinity',
    });
  });

  it('formats timestamps with 0, 3, 6 or 9 fractional digits', () => {
    assert.equal(formatTimestamp(0, 0), '1970-01-01T00:00:00Z');
    assert.equal(formatTimestamp(1, 1_000), '1970-01-01T00:00:01.000001Z');
    assert.equal(formatTimestamp(1, 1), '1970-01-01T00:00:01.000000001Z');
  });
});

describe('proto3 JSON in (fromJson)', () => {
  it('accepts camelCase and proto names and converts values for protobuf.js', () => {
    const obj = fromJson(ROOT, THING, {
      name: 'a',
      size_bytes: 42,
      etag: 'Bwb_',
      state: 'ACTIVE',
      createTime: '2023-11-14T23:13:20.5+01:00',
      ttl: '-1.000000001s',
      mask: 'auditConfigs,etag',
      limit: '7',
      children: [{ name: 'c' }],
    }) as Record<string, unknown>;
    assert.equal(obj.sizeBytes, '42');
    assert.deepEqual([...(obj.etag as Buffer)], [0x07, 0x06, 0xff]);
    assert.deepEqual(obj.createTime, { seconds: '1700000000', nanos: 500_000_000 });
    assert.deepEqual(obj.ttl, { seconds: '-1', nanos: -1 });
    assert.deepEqual(obj.mask, { paths: ['audit_configs', 'etag'] });
    assert.deepEqual(obj.limit, { value: 7 });
    assert.deepEqual(obj.children, [{ name: 'c' }]);
  });

  it("refuses an unknown field the way Google's front end does, naming where", () => {
    assert.throws(
      () => fromJson(ROOT, THING, { nmae: 'x' }),
      new JsonMappingError('Invalid JSON payload received. Unknown name "nmae": Cannot find field.'),
    );
    assert.throws(
      () => fromJson(ROOT, THING, { parent: { bogus: 1 } }),
      /Unknown name "bogus" at 'parent': Cannot find field/,
    );
  });

  it('refuses values of the wrong type and unknown enum names', () => {
    assert.throws(() => fromJson(ROOT, THING, { state: 'GONE' }), /Invalid value at 'state' .*"GONE"/);
    assert.throws(() => fromJson(ROOT, THING, { sizeBytes: 'ten' }), /Invalid value at 'sizeBytes' \(TYPE_INT64\)/);
    assert.throws(() => fromJson(ROOT, THING, { name: 3 }), /Invalid value at 'name' \(TYPE_STRING\), 3/);
    assert.throws(() => fromJson(ROOT, THING, { createTime: 'yesterday' }), /google\.protobuf\.Timestamp/);
    assert.throws(() => fromJson(ROOT, THING, { children: {} }), /Invalid value at 'children'/);
    assert.throws(() => parseTimestamp('2023-13-45T00:00:00Z', 'x'), JsonMappingError);
  });

  it('binds dotted paths from strings, as path variables and query parameters do', () => {
    const obj: Record<string, unknown> = {};
    assert.equal(bindPath(ROOT, THING, obj, 'parent.name', 'p'), true);
    assert.equal(bindPath(ROOT, THING, obj, 'parent.size_bytes', '9'), true);
    assert.equal(bindPath(ROOT, THING, obj, 'maybe', 'true'), true);
    assert.equal(bindPath(ROOT, THING, obj, 'create_time', '1970-01-01T00:00:01Z'), true);
    assert.deepEqual(obj, {
      parent: { name: 'p', sizeBytes: '9' },
      maybe: true,
      createTime: { seconds: '1', nanos: 0 },
    });
    assert.equal(bindPath(ROOT, THING, obj, 'parent.nope', 'x'), false);
    assert.equal(bindPath(ROOT, THING, obj, 'children.name', 'x'), false, 'not through a repeated field');
    assert.equal(bindPath(ROOT, THING, obj, 'labels', 'x'), false, 'not into a map');
  });
});

describe('the mapping over the packaged descriptors', () => {
  it('round-trips an IAM policy through the gRPC serializers and back to JSON with a base64 etag', () => {
    const ar = protoService('google.devtools.artifactregistry.v1.ArtifactRegistry');
    const def = ar.definition.GetIamPolicy;
    assert.ok(def);
    const decoded = def.responseDeserialize(
      def.responseSerialize({
        version: 1,
        bindings: [{ role: 'roles/x', members: ['user:a@b.c'], condition: null }],
        etag: Buffer.from('BwYimx28+3Y=', 'base64'),
      }),
    ) as Record<string, unknown>;
    const json = toJson(ar.root, ar.root.message('google.iam.v1.Policy'), decoded);
    assert.deepEqual(json, {
      version: 1,
      bindings: [{ role: 'roles/x', members: ['user:a@b.c'] }],
      etag: 'BwYimx28+3Y=',
    });
  });

  it('writes a GKE cluster status enum by name, int32 as a number', () => {
    const gke = protoService('google.container.v1.ClusterManager');
    const cluster = gke.root.message('google.container.v1.Cluster');
    const json = toJson(gke.root, cluster, { name: 'prod', status: 'RUNNING', currentNodeCount: 3 }) as object;
    assert.deepEqual(json, { name: 'prod', status: 'RUNNING', currentNodeCount: 3 });
  });
});
