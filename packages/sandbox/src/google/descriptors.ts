/**
 * A read-only view of a protobuf.js JSON descriptor (the `protos.json` the `@google-cloud/*` packages ship):
 * messages, enums and services by fully qualified name, with type references resolved the way protoc resolves
 * them (innermost scope first). The REST transcoder walks it; nothing here encodes or decodes binary protobuf.
 */

/** A descriptor node as protobuf.js writes it to JSON. */
export interface JsonNode {
  nested?: Record<string, JsonNode>;
  fields?: Record<string, JsonField>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  methods?: Record<string, JsonMethod>;
  options?: Record<string, unknown>;
}

interface JsonField {
  type: string;
  id: number;
  rule?: string;
  keyType?: string;
  options?: Record<string, unknown>;
}

/** A method as protobuf.js writes it: types, and options both flattened and parsed. */
export interface JsonMethod {
  requestType: string;
  responseType: string;
  options?: Record<string, unknown>;
  parsedOptions?: Record<string, unknown>[];
}

/** The scalar types of proto3. */
const SCALARS = new Set([
  'double',
  'float',
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  'int64',
  'uint64',
  'sint64',
  'fixed64',
  'sfixed64',
  'bool',
  'string',
  'bytes',
]);

/** One field of a message: its JSON name, kind, and what its values are. */
export interface FieldInfo {
  /** lowerCamelCase, the proto3 JSON name (protobuf.js stores fields under it). */
  readonly name: string;
  /** The proto (snake_case) name, for templates, query parameters and FieldMask paths. */
  readonly protoName: string;
  readonly repeated: boolean;
  /** The key scalar type of a map field. */
  readonly mapKey?: string;
  /** A scalar name, or the fully qualified name of a message or enum. */
  readonly type: string;
  readonly kind: 'scalar' | 'message' | 'enum';
  /** The oneof (including proto3 `optional`'s synthetic `_name`) this field belongs to. */
  readonly oneof?: string;
}

/** A message type, fields keyed by JSON name. */
export interface MessageInfo {
  readonly fullName: string;
  readonly fields: ReadonlyMap<string, FieldInfo>;
}

/** An enum type: names by number and numbers by name. */
export interface EnumInfo {
  readonly fullName: string;
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
}

/** A service and its methods, as declared. */
export interface ServiceInfo {
  readonly fullName: string;
  readonly methods: Readonly<Record<string, JsonMethod>>;
  /** The scope method type names resolve in. */
  readonly scope: string;
}

/** `fooBar` → `foo_bar`. */
export function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `foo_bar` → `fooBar` (names already in lowerCamelCase are unchanged). */
export function toCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A protobuf.js JSON root, indexed. */
export class DescriptorRoot {
  private readonly nodes = new Map<string, JsonNode>();
  private readonly messages = new Map<string, MessageInfo>();
  private readonly enums = new Map<string, EnumInfo>();

  constructor(root: JsonNode) {
    const walk = (node: JsonNode, prefix: string): void => {
      for (const [name, child] of Object.entries(node.nested ?? {})) {
        const full = prefix ? `${prefix}.${name}` : name;
        this.nodes.set(full, child);
        walk(child, full);
      }
    };
    walk(root, '');
  }

  /** True when `fullName` names a message type. */
  isMessage(fullName: string): boolean {
    return this.nodes.get(fullName)?.fields !== undefined;
  }

  /**
   * Resolves a type reference made inside `scope` (a fully qualified message or package name): innermost scope
   * first, then each enclosing one, as protoc does. A leading `.` makes it absolute.
   */
  resolve(ref: string, scope: string): string {
    if (ref.startsWith('.')) return ref.slice(1);
    const parts = scope ? scope.split('.') : [];
    for (let i = parts.length; i >= 0; i--) {
      const candidate = [...parts.slice(0, i), ref].join('.');
      if (this.nodes.has(candidate)) return candidate;
    }
    throw new Error(`type ${ref} (used in ${scope}) is not in the descriptor`);
  }

  /** The message `fullName` (throws when it is not one). */
  message(fullName: string): MessageInfo {
    const cached = this.messages.get(fullName);
    if (cached) return cached;
    const node = this.nodes.get(fullName);
    if (!node?.fields) throw new Error(`${fullName} is not a message in the descriptor`);
    const oneofOf = new Map<string, string>();
    for (const [oneof, { oneof: members }] of Object.entries(node.oneofs ?? {})) {
      for (const m of members) oneofOf.set(m, oneof);
    }
    const fields = new Map<string, FieldInfo>();
    for (const [name, f] of Object.entries(node.fields)) {
      const scalar = SCALARS.has(f.type);
      const type = scalar ? f.type : this.resolve(f.type, fullName);
      const oneof = oneofOf.get(name);
      fields.set(name, {
        name,
        protoName: toSnake(name),
        repeated: f.rule === 'repeated',
        ...(f.keyType ? { mapKey: f.keyType } : {}),
        type,
        kind: scalar ? 'scalar' : this.isMessage(type) ? 'message' : 'enum',
        ...(oneof ? { oneof } : {}),
      });
    }
    const info = { fullName, fields };
    this.messages.set(fullName, info);
    return info;
  }

  /** The enum `fullName` (throws when it is not one). */
  enumType(fullName: string): EnumInfo {
    const cached = this.enums.get(fullName);
    if (cached) return cached;
    const node = this.nodes.get(fullName);
    if (!node?.values) throw new Error(`${fullName} is not an enum in the descriptor`);
    const byName = new Map(Object.entries(node.values));
    const byNumber = new Map<number, string>();
    for (const [name, n] of byName) if (!byNumber.has(n)) byNumber.set(n, name);
    const info = { fullName, byName, byNumber };
    this.enums.set(fullName, info);
    return info;
  }

  /** The service `fullName`, or undefined when the descriptor has none by that name. */
  service(fullName: string): ServiceInfo | undefined {
    const node = this.nodes.get(fullName);
    if (!node?.methods) return undefined;
    return { fullName, methods: node.methods, scope: fullName.split('.').slice(0, -1).join('.') };
  }

  /** Finds a field by its JSON name or its proto name. */
  field(message: MessageInfo, name: string): FieldInfo | undefined {
    return message.fields.get(name) ?? message.fields.get(toCamel(name));
  }
}
