// The node's Prometheus exposition (GET /metrics) read as numbers, for dashboards in the browser
// such as the console. Only what the text format needs for samples: comments and types are skipped.

/** One sample: metric name, its labels, its value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format into samples (lines it cannot read are skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line.trim());
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) {
      for (const l of m[2].matchAll(LABEL)) {
        labels[l[1] as string] = (l[2] as string).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
      }
    }
    const raw = m[3] as string;
    const value = raw === "+Inf" ? Number.POSITIVE_INFINITY : raw === "-Inf" ? Number.NEGATIVE_INFINITY : Number(raw);
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

/** A parsed exposition with lookups by name. */
export class Metrics {
  readonly samples: readonly MetricSample[];
  private readonly byName = new Map<string, MetricSample[]>();

  constructor(samples: readonly MetricSample[]) {
    this.samples = samples;
    for (const s of samples) {
      const list = this.byName.get(s.name);
      if (list === undefined) this.byName.set(s.name, [s]);
      else list.push(s);
    }
  }

  /** The sum of every sample of `name` whose labels include `where` (0 when there is none). */
  sum(name: string, where: Readonly<Record<string, string>> = {}): number {
    let total = 0;
    for (const s of this.byName.get(name) ?? []) {
      if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }

  /** Whether the exposition has a metric `name`. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Every sample of `name`. */
  all(name: string): readonly MetricSample[] {
    return this.byName.get(name) ?? [];
  }
}
