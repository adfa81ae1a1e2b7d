import { canonicalKey, unresolved } from './fields.ts';

/**
 * Labels a Monitoring notification carries in free text (docs/alerts.md, "Monitoring"): `key: value` lines in the
 * policy's documentation, and the `{k=v, …}` of a log-match summary, whose values may contain commas, brackets and
 * quotes. Pure.
 */

// Monitoring log-match summary (docs/alerts.md, "Monitoring"):
// "Log match condition with labels {k=v, …} fired for <Resource> with {…}."
const SUMMARY_LABELS = /with labels \{/;
/**
 * `key: value` lines from `documentation.content` (markdown allowed: `- **message**: …`). Keys the bot does not
 * know and values left as `${…}` placeholders are skipped.
 */
export function parseDocumentationFields(content: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of content.split(/\r?\n/)) {
    const m = /^\s*(?:[-*]\s+)?(?:\*\*|__)?([A-Za-z][\w .-]{0,40}?)(?:\*\*|__)?\s*[:=]\s?(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const key = canonicalKey(m[1]);
    const value = m[2].trim().replace(/^`(.*)`$/, '$1');
    if (!key || value === '' || unresolved(value) || fields[key] !== undefined) continue;
    fields[key] = value;
  }
  return fields;
}

const OPENERS: Readonly<Record<string, string>> = { '{': '}', '[': ']', '(': ')' };
const CLOSERS = new Set(['}', ']', ')']);

/**
 * Walks `text` from `start`, outside quotes (when `quotes`), tracking bracket nesting; `visit` sees each such
 * character with the depth after it and may stop the walk. `unbalanced`: a closer that does not match, or an open
 * quote or bracket at the end.
 */
function walkBrackets(
  text: string,
  start: number,
  quotes: boolean,
  visit: (i: number, ch: string, depth: number) => boolean,
): 'stopped' | 'balanced' | 'unbalanced' {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (quotes && (ch === '"' || ch === "'")) {
      quote = ch;
      continue;
    }
    const close = OPENERS[ch];
    if (close) stack.push(close);
    else if (CLOSERS.has(ch) && stack.pop() !== ch) return 'unbalanced';
    if (visit(i, ch, stack.length)) return 'stopped';
  }
  return quote !== undefined || stack.length > 0 ? 'unbalanced' : 'balanced';
}

/** Index of the brace that closes the `{` at `start`; -1 when the text is unbalanced. */
function matchingBrace(text: string, start: number, quotes: boolean): number {
  let found = -1;
  const r = walkBrackets(text, start, quotes, (i, ch, depth) => {
    if (CLOSERS.has(ch) && depth === 0) found = i;
    return found >= 0;
  });
  return r === 'stopped' ? found : -1;
}

// A `key=` right after a comma, matched in place (sticky) rather than on a copy of the rest of the text: copying
// the tail at every comma was quadratic in the length of the summary.
const KEY_AFTER = /\s*([A-Za-z_][\w.-]*)=/y;

function keyAt(body: string, cut: number): string {
  KEY_AFTER.lastIndex = cut + 1;
  return KEY_AFTER.exec(body)?.[1] ?? '';
}

/**
 * Monitoring prints label keys in sorted order (`{action=…,service=…}`, `{cluster_name=…, location=…, …}`).
 * A free-text value such as a kubelet message can itself contain `, word=`. Among the candidate cuts we keep
 * the chain of strictly increasing keys that holds the most keys the bot knows (`message`, `pod`, …), then the
 * most keys, then the earliest cuts: `message=… 403, retries=3, pod=…` keeps `pod` and leaves `retries=3`
 * inside the message. Limit: a spurious key that sorts after the last real label still splits the value.
 */
function dropSpuriousCuts(body: string, cuts: readonly number[]): number[] {
  if (cuts.length === 0 || cuts.length > 2000) return [...cuts];
  const first = /^\s*([A-Za-z_][\w.-]*)=/.exec(body)?.[1] ?? '';
  const keys = cuts.map((cut) => keyAt(body, cut));
  const KNOWN = 1000;
  // best[i]: the best chain that starts at the first label and ends with cut i.
  const best = keys.map((key) => ({ weight: key > first ? (canonicalKey(key) ? KNOWN : 1) : -1, count: 1, prev: -1 }));
  for (let i = 0; i < keys.length; i++) {
    const here = best[i];
    const key = keys[i] as string;
    if (!here || here.weight < 0) continue;
    const own = canonicalKey(key) ? KNOWN : 1;
    for (let j = 0; j < i; j++) {
      const before = best[j];
      if (!before || before.weight < 0 || !((keys[j] as string) < key)) continue;
      const weight = before.weight + own;
      const count = before.count + 1;
      if (weight > here.weight || (weight === here.weight && count > here.count)) {
        here.weight = weight;
        here.count = count;
        here.prev = j;
      }
    }
  }
  let end = -1;
  best.forEach((b, i) => {
    const top = best[end];
    if (b.weight >= 0 && (!top || b.weight > top.weight || (b.weight === top.weight && b.count > top.count))) end = i;
  });
  const kept: number[] = [];
  for (let i = end; i >= 0; i = best[i]?.prev ?? -1) kept.unshift(cuts[i] as number);
  return kept;
}

/** Splits `k=v, k2=v2` at top-level commas that start a new `key=`, keeping commas inside values. */
function splitLabels(body: string, quotes: boolean): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const cuts: number[] = [];
  const r = walkBrackets(body, 0, quotes, (i, ch, depth) => {
    if (ch === ',' && depth === 0 && keyAt(body, i) !== '') cuts.push(i);
    return false;
  });
  if (r !== 'balanced') return undefined;
  const kept = dropSpuriousCuts(body, cuts);
  let from = 0;
  for (const cut of [...kept, body.length]) {
    const pair = body.slice(from, cut);
    from = cut + 1;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key !== '' && out[key] === undefined) out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/**
 * The labels of a log-match summary: `Log match condition with labels {k=v, …} fired for …`.
 *
 * Values may contain commas, `=`, brackets and braces (`impactedLocations=['europe-central2', 'europe-west1']`,
 * a kubelet message with `code = Unknown desc = …, …`): a comma only separates labels when it is outside any
 * bracket or quote and is followed by `key=`. Unbalanced quotes or brackets in a value fall back to a
 * bracket-only, then a plain scan, and finally to the text up to the last `} fired for`.
 */
export function parseSummaryLabels(summary: string): Record<string, string> {
  const m = SUMMARY_LABELS.exec(summary);
  if (!m) return {};
  const open = m.index + m[0].length - 1;
  for (const quotes of [true, false]) {
    const close = matchingBrace(summary, open, quotes);
    if (close < 0) continue;
    const labels = splitLabels(summary.slice(open + 1, close), quotes);
    if (labels) return labels;
  }
  const end = summary.lastIndexOf('} fired for');
  const body = summary.slice(open + 1, end > open ? end : summary.length);
  const out: Record<string, string> = {};
  const pairs = body.split(/,\s*(?=[A-Za-z_][\w.-]*=)/);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Canonical fields from summary labels (unknown keys and `${…}` values dropped). */
export function canonicalLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const canonical = canonicalKey(key);
    if (!canonical || value === '' || unresolved(value) || out[canonical] !== undefined) continue;
    out[canonical] = value;
  }
  return out;
}
