/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters we increment and
 * gauges read at scrape time. Small enough to own; no global default registry.
 */
export type Labels = Record<string, string>;
export interface Sample {
  labels?: Labels;
  value: number;
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Histograms name their own series (`_bucket`, `_sum`, `_count`) through `suffix`. */
  samples(): (Sample & { suffix?: string })[] | Promise<(Sample & { suffix?: string })[]>;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels?: Labels) => {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};
const number = (value: number) => (Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf');

export class Counter {
  private readonly values = new Map<string, { labels?: Labels; value: number }>();
  inc(labels?: Labels, by = 1) {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels?: Labels): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  samples(): Sample[] {
    return this.values.size === 0 ? [{ value: 0 }] : [...this.values.values()];
  }
}

/** Cumulative buckets plus sum and count, as Prometheus expects; one series per label set. */
export class Histogram {
  private readonly series = new Map<string, { labels?: Labels; counts: number[]; sum: number; count: number }>();
  constructor(private readonly buckets: readonly number[]) {}
  observe(value: number, labels?: Labels) {
    const key = labelText(labels);
    let entry = this.series.get(key);
    if (!entry) this.series.set(key, (entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((bound, i) => {
      if (value <= bound) entry.counts[i]!++;
    });
    entry.sum += value;
    entry.count++;
  }
  samples(): (Sample & { suffix: string })[] {
    return [...this.series.values()].flatMap(({ labels, counts, sum, count }) => [
      ...this.buckets.map((bound, i) => ({ suffix: '_bucket', labels: { ...labels, le: String(bound) }, value: counts[i]! })),
      { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count },
      { suffix: '_sum', labels, value: sum },
      { suffix: '_count', labels, value: count },
    ]);
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    const counter = new Counter();
    this.metrics.push({ name, help, type: 'counter', samples: () => counter.samples() });
    return counter;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const histogram = new Histogram(buckets);
    this.metrics.push({ name, help, type: 'histogram', samples: () => histogram.samples() });
    return histogram;
  }

  gauge(name: string, help: string, samples: () => Sample[] | Promise<Sample[]> | number) {
    this.metrics.push({
      name,
      help,
      type: 'gauge',
      samples: async () => {
        const value = await samples();
        return typeof value === 'number' ? [{ value }] : value;
      },
    });
  }

  async render(): Promise<string> {
    const blocks = await Promise.all(
      this.metrics.map(async ({ name, help, type, samples }) => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
        for (const sample of await samples()) lines.push(`${name}${sample.suffix ?? ''}${labelText(sample.labels)} ${number(sample.value)}`);
        return lines.join('\n');
      }),
    );
    return `${blocks.join('\n')}\n`;
  }
}
