/**
 * `google.api.http` rules: reading them from a method's options (the main binding and its `additional_bindings`),
 * and the path template syntax of `google/api/http.proto` — literals, `*`, `**`, variables with or without a
 * sub-template (`{name=projects/*\/locations/*}`, `{project_id}`) and a trailing custom verb (`:getIamPolicy`).
 */
import type { JsonMethod } from './descriptors.ts';

/** One HTTP binding of a method. */
export interface HttpBinding {
  /** Upper-case HTTP method. */
  readonly verb: string;
  readonly template: PathTemplate;
  /** `*` (the whole body is the request), a top-level field name, or undefined (no body). */
  readonly body?: string;
  /** The response field sent as the body, when not the whole response. */
  readonly responseBody?: string;
}

type Matcher = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'rest' };

interface Variable {
  /** Dotted field path, as written in the template (snake_case). */
  readonly field: string;
  readonly start: number;
  /** Exclusive; `Infinity` when the variable ends with `**`. */
  readonly end: number;
}

/** A compiled path template. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Matcher[];
  readonly variables: readonly Variable[];
  readonly verb?: string;
}

/** Thrown for a template the grammar does not allow. */
export class TemplateError extends Error {}

function parseSegment(text: string, source: string): Matcher {
  if (text === '*') return { kind: 'one' };
  if (text === '**') return { kind: 'rest' };
  if (!text || /[{}=*]/.test(text)) throw new TemplateError(`bad segment "${text}" in ${source}`);
  return { kind: 'literal', text };
}

/** Compiles a path template such as `/v1/{resource=projects/*\/locations/*\/repositories/*}:getIamPolicy`. */
export function parseTemplate(source: string): PathTemplate {
  if (!source.startsWith('/')) throw new TemplateError(`template must start with "/": ${source}`);
  let rest = source.slice(1);
  let verb: string | undefined;
  const lastBrace = rest.lastIndexOf('}');
  const colon = rest.indexOf(':', lastBrace + 1);
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    verb = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!verb) throw new TemplateError(`empty verb in ${source}`);
  }
  const segments: Matcher[] = [];
  const variables: Variable[] = [];
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === '{') {
      const close = rest.indexOf('}', i);
      if (close < 0) throw new TemplateError(`unclosed variable in ${source}`);
      const inner = rest.slice(i + 1, close);
      const eq = inner.indexOf('=');
      const field = eq < 0 ? inner : inner.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(field)) {
        throw new TemplateError(`bad field path "${field}" in ${source}`);
      }
      const sub = eq < 0 ? ['*'] : inner.slice(eq + 1).split('/');
      const start = segments.length;
      for (const s of sub) segments.push(parseSegment(s, source));
      const last = segments[segments.length - 1];
      variables.push({ field, start, end: last?.kind === 'rest' ? Number.POSITIVE_INFINITY : segments.length });
      i = close + 1;
    } else {
      const slash = rest.indexOf('/', i);
      const end = slash < 0 ? rest.length : slash;
      segments.push(parseSegment(rest.slice(i, end), source));
      i = end;
    }
    if (i < rest.length) {
      if (rest[i] !== '/') throw new TemplateError(`expected "/" at ${i + 1} in ${source}`);
      i += 1;
      if (i === rest.length) throw new TemplateError(`trailing "/" in ${source}`);
    }
  }
  if (segments.slice(0, -1).some((s) => s.kind === 'rest')) throw new TemplateError(`"**" must be last in ${source}`);
  return { source, segments, variables, ...(verb ? { verb } : {}) };
}

/** Decodes one path segment; `/` stays encoded inside a multi-segment value (http.proto's rule for `**`). */
function decodeSegment(text: string, multi: boolean): string {
  return decodeURIComponent(multi ? text.replace(/%2F/gi, '%252F') : text);
}

/**
 * Matches a URL path (without query) against a template. Returns the variable bindings as `[field path, value]`
 * pairs, or undefined when the path does not match.
 */
export function matchTemplate(template: PathTemplate, path: string): [string, string][] | undefined {
  if (!path.startsWith('/')) return undefined;
  let rest = path.slice(1);
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!rest.endsWith(suffix)) return undefined;
    rest = rest.slice(0, -suffix.length);
  }
  const parts = rest === '' ? [] : rest.split('/');
  const segs = template.segments;
  const restAt = segs.findIndex((s) => s.kind === 'rest');
  if (restAt < 0 ? parts.length !== segs.length : parts.length < segs.length) return undefined;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const part = parts[i] ?? '';
    if (seg?.kind === 'literal' && seg.text !== part) return undefined;
    if (seg?.kind === 'one' && part === '') return undefined;
  }
  try {
    return template.variables.map((v) => {
      const end = Number.isFinite(v.end) ? v.end : parts.length;
      const multi = end - v.start > 1;
      return [
        v.field,
        parts
          .slice(v.start, end)
          .map((p) => decodeSegment(p, multi))
          .join('/'),
      ];
    });
  } catch {
    return undefined; // malformed percent-encoding never matches
  }
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface RawRule {
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind: string; path: string };
  body?: string;
  response_body?: string;
  responseBody?: string;
  additional_bindings?: RawRule | RawRule[];
  additionalBindings?: RawRule | RawRule[];
}

function toBinding(rule: RawRule): HttpBinding | undefined {
  const body = rule.body || undefined;
  const responseBody = rule.response_body || rule.responseBody || undefined;
  const extra = { ...(body ? { body } : {}), ...(responseBody ? { responseBody } : {}) };
  for (const verb of VERBS) {
    const path = rule[verb];
    if (path) return { verb: verb.toUpperCase(), template: parseTemplate(path), ...extra };
  }
  if (rule.custom?.path) {
    return { verb: rule.custom.kind.toUpperCase(), template: parseTemplate(rule.custom.path), ...extra };
  }
  return undefined;
}

/** The HTTP bindings declared for a method as an `HttpRule` object (the main one first). */
export function bindingsOfRule(rule: RawRule): HttpBinding[] {
  const main = toBinding(rule);
  const more = rule.additional_bindings ?? rule.additionalBindings ?? [];
  return [
    ...(main ? [main] : []),
    ...(Array.isArray(more) ? more : [more]).flatMap((r) => (toBinding(r) ? [toBinding(r) as HttpBinding] : [])),
  ];
}

/** The HTTP bindings of a method from its `(google.api.http)` option; none when it has no REST mapping. */
export function httpBindings(method: JsonMethod): HttpBinding[] {
  const parsed = method.parsedOptions?.find((o) => '(google.api.http)' in o)?.['(google.api.http)'];
  if (parsed) return bindingsOfRule(parsed as RawRule);
  const flat = method.options ?? {};
  const rule: RawRule = {};
  for (const verb of VERBS) {
    const v = flat[`(google.api.http).${verb}`];
    if (typeof v === 'string') rule[verb] = v;
  }
  const body = flat['(google.api.http).body'];
  if (typeof body === 'string') rule.body = body;
  return bindingsOfRule(rule);
}
