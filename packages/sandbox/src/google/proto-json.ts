/**
 * The proto3 JSON mapping, driven by a {@link DescriptorRoot}: `toJson` turns a decoded message (proto-loader's
 * shape: enums as names, 64-bit integers as strings, bytes as Buffers, unset messages as null) into what a Google
 * REST API sends — lowerCamelCase names, default values omitted, bytes in base64, Timestamps in RFC 3339, Durations
 * as `"1.5s"`, FieldMasks as `"a,b.c"`, wrappers and Struct as plain JSON. `fromJson` reads such JSON into an object
 * protobuf.js's `fromObject` accepts, refusing unknown fields and bad values the way Google's front end does.
 */
import type { DescriptorRoot, FieldInfo, MessageInfo } from './descriptors.ts';
import { toCamel, toSnake } from './descriptors.ts';

/** A request the JSON mapping refuses: HTTP 400 INVALID_ARGUMENT with Google's message. */
export class JsonMappingError extends Error {}

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

type Obj = Record<string, unknown>;

/** RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as proto3 JSON writes Timestamps. */
export function formatTimestamp(seconds: number, nanos: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!nanos) return `${base}Z`;
  const digits = String(nanos).padStart(9, '0');
  const frac = digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits;
  return `${base}.${frac}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC 3339 timestamp into seconds and nanos (throws {@link JsonMappingError}). */
export function parseTimestamp(text: string, at: string): { seconds: string; nanos: number } {
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(ms))
    throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/google.protobuf.Timestamp), "${text}"`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function formatDuration(seconds: number, nanos: number): string {
  const neg = seconds < 0 || nanos < 0;
  const s = Math.abs(seconds);
  const n = Math.abs(nanos);
  const frac = n
    ? `.${String(n)
        .padStart(9, '0')
        .replace(/(000)+$/, '')}`
    : '';
  return `${neg ? '-' : ''}${s}${frac}s`;
}

function parseDuration(text: string, at: string): { seconds: string; nanos: number } {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!m)
    throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/google.protobuf.Duration), "${text}"`);
  const sign = m[1] ? -1 : 1;
  return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
}

function isDefaultScalar(type: string, v: unknown): boolean {
  if (type === 'bytes') return Buffer.from(v as Uint8Array).length === 0;
  if (type === 'bool') return v === false;
  if (type === 'string') return v === '';
  return Number(v) === 0;
}

function scalarToJson(type: string, v: unknown): unknown {
  if (INT64.has(type)) return String(v);
  if (type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if ((type === 'double' || type === 'float') && typeof v === 'number' && !Number.isFinite(v)) {
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return v;
}

/** The JSON of one value of `field` (an element, for repeated and map fields). */
function valueToJson(root: DescriptorRoot, field: FieldInfo, v: unknown): unknown {
  if (field.kind === 'scalar') return scalarToJson(field.type, v);
  if (field.kind === 'enum') {
    return typeof v === 'number' ? (root.enumType(field.type).byNumber.get(v) ?? v) : v;
  }
  return toJson(root, root.message(field.type), v as Obj | null);
}

function wellKnownToJson(name: string, v: Obj): { json: unknown } | undefined {
  if (name === 'google.protobuf.Timestamp')
    return { json: formatTimestamp(Number(v.seconds ?? 0), Number(v.nanos ?? 0)) };
  if (name === 'google.protobuf.Duration')
    return { json: formatDuration(Number(v.seconds ?? 0), Number(v.nanos ?? 0)) };
  if (name === 'google.protobuf.FieldMask') {
    return {
      json: ((v.paths as string[] | undefined) ?? []).map((p) => p.split('.').map(toCamel).join('.')).join(','),
    };
  }
  if (name === 'google.protobuf.Empty') return { json: {} };
  const wrapped = WRAPPERS[name];
  if (wrapped) return { json: scalarToJson(wrapped, v.value ?? (wrapped === 'bytes' ? Buffer.alloc(0) : 0)) };
  if (name === 'google.protobuf.Struct') {
    const fields = (v.fields as Record<string, Obj> | undefined) ?? {};
    return { json: Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, structValue(x)])) };
  }
  if (name === 'google.protobuf.Value') return { json: structValue(v) };
  if (name === 'google.protobuf.ListValue') return { json: ((v.values as Obj[]) ?? []).map(structValue) };
  if (name === 'google.protobuf.Any') {
    throw new Error('google.protobuf.Any has no JSON form in the sandbox (no served method returns one)');
  }
  return undefined;
}

function structValue(v: Obj): unknown {
  const kind = (v.kind as string | undefined) ?? Object.keys(v).find((k) => v[k] !== undefined && v[k] !== null);
  if (kind === 'numberValue') return v.numberValue;
  if (kind === 'stringValue') return v.stringValue;
  if (kind === 'boolValue') return v.boolValue;
  if (kind === 'structValue') {
    const fields = ((v.structValue as Obj | null)?.fields as Record<string, Obj> | undefined) ?? {};
    return Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, structValue(x)]));
  }
  if (kind === 'listValue') return (((v.listValue as Obj | null)?.values as Obj[] | undefined) ?? []).map(structValue);
  return null;
}

/**
 * A decoded message as proto3 JSON. Fields holding their default value are omitted, except members of a oneof
 * (and proto3 `optional` fields) that are set, whose presence is part of the message.
 */
export function toJson(root: DescriptorRoot, type: MessageInfo, value: Obj | null | undefined): unknown {
  if (value === null || value === undefined) return null;
  const wk = wellKnownToJson(type.fullName, value);
  if (wk) return wk.json;
  const out: Obj = {};
  for (const field of type.fields.values()) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    if (field.oneof && typeof value[field.oneof] === 'string') {
      if (value[field.oneof] !== field.name) continue;
    } else if (field.mapKey) {
      if (Object.keys(v as Obj).length === 0) continue;
    } else if (field.repeated) {
      if ((v as unknown[]).length === 0) continue;
    } else if (!field.oneof && field.kind === 'scalar' && isDefaultScalar(field.type, v)) {
      continue;
    } else if (
      !field.oneof &&
      field.kind === 'enum' &&
      (v === 0 || root.enumType(field.type).byName.get(v as string) === 0)
    ) {
      continue;
    }
    if (field.mapKey) {
      out[field.name] = Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [k, valueToJson(root, field, x)]));
    } else if (field.repeated) {
      out[field.name] = (v as unknown[]).map((x) => valueToJson(root, field, x));
    } else {
      out[field.name] = valueToJson(root, field, v);
    }
  }
  return out;
}

function typeLabel(field: FieldInfo): string {
  return field.kind === 'scalar' ? `TYPE_${field.type.toUpperCase()}` : `type.googleapis.com/${field.type}`;
}

function invalid(field: FieldInfo, at: string, v: unknown): JsonMappingError {
  const shown = typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
  return new JsonMappingError(`Invalid value at '${at}' (${typeLabel(field)}), ${shown}`);
}

/** A JSON scalar (or its string form, as query parameters carry it) for protobuf.js. */
export function scalarFromJson(root: DescriptorRoot, field: FieldInfo, v: unknown, at: string): unknown {
  const t = field.type;
  if (field.kind === 'enum') {
    const e = root.enumType(t);
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && e.byName.has(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw invalid(field, at, v);
  }
  if (t === 'string') {
    if (typeof v !== 'string') throw invalid(field, at, v);
    return v;
  }
  if (t === 'bool') {
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw invalid(field, at, v);
  }
  if (t === 'bytes') {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw invalid(field, at, v);
    return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (INT64.has(t) || INT32.has(t)) {
    const text = typeof v === 'number' ? String(v) : v;
    if (typeof text !== 'string' || !/^-?\d+$/.test(text.trim())) throw invalid(field, at, v);
    if (t.startsWith('u') || t.startsWith('fixed')) {
      if (text.trim().startsWith('-')) throw invalid(field, at, v);
    }
    return INT64.has(t) ? text.trim() : Number(text);
  }
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw invalid(field, at, v);
}

function wellKnownFromJson(
  root: DescriptorRoot,
  name: string,
  json: unknown,
  at: string,
): { value: unknown } | undefined {
  if (name === 'google.protobuf.Timestamp') {
    if (typeof json !== 'string')
      throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/${name}), ${JSON.stringify(json)}`);
    return { value: parseTimestamp(json, at) };
  }
  if (name === 'google.protobuf.Duration') {
    if (typeof json !== 'string')
      throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/${name}), ${JSON.stringify(json)}`);
    return { value: parseDuration(json, at) };
  }
  if (name === 'google.protobuf.FieldMask') {
    if (typeof json !== 'string')
      throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/${name}), ${JSON.stringify(json)}`);
    return { value: { paths: json ? json.split(',').map((p) => p.split('.').map(toSnake).join('.')) : [] } };
  }
  const wrapped = WRAPPERS[name];
  if (wrapped) {
    const field: FieldInfo = { name: 'value', protoName: 'value', repeated: false, type: wrapped, kind: 'scalar' };
    return { value: { value: scalarFromJson(root, field, json, at) } };
  }
  if (name === 'google.protobuf.Struct') return { value: toStruct(json, at) };
  if (name === 'google.protobuf.Value') return { value: toStructValue(json) };
  if (name === 'google.protobuf.ListValue') {
    if (!Array.isArray(json)) throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/${name})`);
    return { value: { values: json.map(toStructValue) } };
  }
  if (name === 'google.protobuf.Any')
    throw new JsonMappingError(`Invalid value at '${at}': google.protobuf.Any is not accepted`);
  return undefined;
}

function toStruct(json: unknown, at: string): Obj {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JsonMappingError(`Invalid value at '${at}' (type.googleapis.com/google.protobuf.Struct)`);
  }
  return { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, toStructValue(v)])) };
}

function toStructValue(json: unknown): Obj {
  if (json === null) return { nullValue: 'NULL_VALUE' };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map(toStructValue) } };
  return { structValue: toStruct(json, '') };
}

function elementFromJson(root: DescriptorRoot, field: FieldInfo, v: unknown, at: string): unknown {
  if (field.kind === 'message') return fromJson(root, root.message(field.type), v, at);
  return scalarFromJson(root, field, v, at);
}

/**
 * Reads proto3 JSON for `type` into a protobuf.js `fromObject` input. Accepts lowerCamelCase and proto names;
 * an unknown field, a wrong JSON type or an unknown enum name throws {@link JsonMappingError} naming where.
 * `at` is the path shown in errors (empty at the top level).
 */
export function fromJson(root: DescriptorRoot, type: MessageInfo, json: unknown, at = ''): Obj | unknown {
  const wk = wellKnownFromJson(root, type.fullName, json, at);
  if (wk) return wk.value;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const where = at ? ` at '${at}'` : '';
    throw new JsonMappingError(
      `Invalid JSON payload received. Expected an object${where} (${type.fullName}), got ${JSON.stringify(json)}.`,
    );
  }
  const out: Obj = {};
  for (const [key, v] of Object.entries(json)) {
    const field = root.field(type, key);
    if (!field) {
      const where = at ? ` at '${at}'` : '';
      throw new JsonMappingError(`Invalid JSON payload received. Unknown name "${key}"${where}: Cannot find field.`);
    }
    const here = at ? `${at}.${field.name}` : field.name;
    if (v === null && field.type !== 'google.protobuf.Value') continue;
    if (field.mapKey) {
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid(field, here, v);
      out[field.name] = Object.fromEntries(
        Object.entries(v as Obj).map(([k, x]) => [k, elementFromJson(root, field, x, `${here}[${k}]`)]),
      );
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw invalid(field, here, v);
      out[field.name] = v.map((x, i) => elementFromJson(root, field, x, `${here}[${i}]`));
    } else {
      out[field.name] = elementFromJson(root, field, v, here);
    }
  }
  return out;
}

/**
 * Sets a dotted field path (`options.requested_policy_version`, `repository.name`) in a `fromJson` result from a
 * string, as path variables and query parameters bind: repeated fields append, messages are created on the way.
 * Returns false when the path names no field (or runs through a repeated or scalar field).
 */
export function bindPath(root: DescriptorRoot, type: MessageInfo, target: Obj, path: string, value: string): boolean {
  const parts = path.split('.');
  let message = type;
  let obj = target;
  for (let i = 0; i < parts.length; i++) {
    const field = root.field(message, parts[i] ?? '');
    if (!field || field.mapKey) return false;
    const at = parts
      .slice(0, i + 1)
      .map(toCamel)
      .join('.');
    if (i === parts.length - 1) {
      const wk = field.kind === 'message' ? wellKnownFromJson(root, field.type, value, at) : undefined;
      if (field.kind === 'message' && !wk) return false;
      const converted = wk ? wk.value : scalarFromJson(root, field, value, at);
      if (field.repeated) obj[field.name] = [...((obj[field.name] as unknown[] | undefined) ?? []), converted];
      else obj[field.name] = converted;
      return true;
    }
    if (field.kind !== 'message' || field.repeated) return false;
    const next = (obj[field.name] as Obj | undefined) ?? {};
    obj[field.name] = next;
    obj = next;
    message = root.message(field.type);
  }
  return false;
}
