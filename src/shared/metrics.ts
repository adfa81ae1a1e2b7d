/**
 * A small Prometheus registry: counters and gauges with labels, rendered as the text exposition format on /metrics.
 * Enough for the bot's own numbers without a dependency.
 */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #gauges = new Map<string, { help: string; read: () => number }>();

  counter(name: string, help: string): (labels?: Record<string, string>, by?: number) => void {
    const entry = { help, values: new Map<string, number>() };
    this.#counters.set(name, entry);
    return (labels = {}, by = 1) => {
      const key = labelText(labels);
      entry.values.set(key, (entry.values.get(key) ?? 0) + by);
    };
  }

  gauge(name: string, help: string, read: () => number): void {
    this.#gauges.set(name, { help, read });
  }

  /** Current value of a counter (sum over label sets matching `labels`), for tests and the benchmark. */
  value(name: string, labels: Record<string, string> = {}): number {
    const entry = this.#counters.get(name);
    if (!entry) return this.#gauges.get(name)?.read() ?? 0;
    const want = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    let sum = 0;
    for (const [key, v] of entry.values) if (want.every((w) => key.includes(w))) sum += v;
    return sum;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of values) out.push(`${name}${labels} ${v}`);
    }
    for (const [name, { help, read }] of this.#gauges) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${read()}`);
    }
    return `${out.join('\n')}\n`;
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function escapeLabel(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
