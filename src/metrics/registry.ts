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
  type: 'counter' | 'gauge';
  samples(): Sample[] | Promise<Sample[]>;
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

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    const counter = new Counter();
    this.metrics.push({ name, help, type: 'counter', samples: () => counter.samples() });
    return counter;
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
        for (const sample of await samples()) lines.push(`${name}${labelText(sample.labels)} ${number(sample.value)}`);
        return lines.join('\n');
      }),
    );
    return `${blocks.join('\n')}\n`;
  }
}
