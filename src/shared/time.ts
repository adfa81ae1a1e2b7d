/** Human duration between two instants: `42s`, `3m 5s`, `2h 10m`. */
export function duration(from: Date, to: Date): string {
  const s = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * Orders two RFC 3339 UTC timestamps of the same form (`toISOString()`), earliest first; a missing one first. Plain
 * code-unit order, which for that form is time order — `localeCompare` would give the same order, but its first call
 * loads the ICU collator (~10 ms on the critical path of a fresh process's first alert).
 */
export function byInstant(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
