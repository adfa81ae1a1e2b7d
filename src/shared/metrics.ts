import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The bot's Prometheus metrics (`/metrics`, docs/operations.md lists them): the process metrics of prom-client's
 * defaults (memory, CPU, event-loop lag, GC) and the bot's own counters, gauges and histograms, in one registry per
 * bot (tests run several bots in one process).
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { readonly defaults?: boolean } = {}) {
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter; the returned function adds `by` (default 1) for a set of labels among `labelNames`. */
  counter(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
  ): (labels?: Record<string, string>, by?: number) => void {
    const c = new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
    return (labels = {}, by = 1) => c.inc(labels, by);
  }

  /** A gauge read when scraped. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A histogram of seconds; the returned function observes one value. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): (seconds: number, labels?: Record<string, string>) => void {
    const h = new Histogram({
      name,
      help,
      labelNames: [...labelNames],
      buckets: [...buckets],
      registers: [this.registry],
    });
    return (seconds, labels = {}) => h.observe(labels, seconds);
  }

  /**
   * Current value of a counter or gauge, summed over the label sets that include `labels` (for tests and the
   * benchmark); for a histogram, its observation count.
   */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    const want = Object.entries(labels);
    return values
      .filter((v) => !('metricName' in v) || v.metricName === undefined || v.metricName === `${name}_count`)
      .filter((v) => want.every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
      .reduce((sum, v) => sum + v.value, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
