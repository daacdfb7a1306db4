// Repeated trials (`cairn bench --repeat N`): each round runs N times on the same cluster and the
// report gives each headline figure's mean with a 95 % confidence interval (Student's t, N − 1
// degrees of freedom). Two figures differ only when their intervals do not overlap; otherwise the
// report says that no difference is shown.
import { type RoundResult, TRIAL_FIGURES, type TrialFigure, type TrialFigureName } from "./report.ts";

/** Units and labels of the trial figures, and which direction is better. */
export const FIGURE_INFO: Readonly<Record<TrialFigureName, { label: string; unit: string; higherIsBetter: boolean }>> =
  {
    throughput: { label: "throughput", unit: "tx/s", higherIsBetter: true },
    p50: { label: "latency p50", unit: "ms", higherIsBetter: false },
    p95: { label: "latency p95", unit: "ms", higherIsBetter: false },
    p99: { label: "latency p99", unit: "ms", higherIsBetter: false },
    cpuMsPerTx: { label: "CPU per committed tx", unit: "ms", higherIsBetter: false },
    messagesPerBlock: { label: "consensus messages per block", unit: "", higherIsBetter: false },
    bytesPerBlock: { label: "consensus bytes per block", unit: "B", higherIsBetter: false },
    recoverySec: { label: "recovery after the fault", unit: "s", higherIsBetter: false },
  };

/** Two-sided 95 % quantiles of Student's t for 1 ... 30 degrees of freedom (then the normal's 1.96). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile95(df: number): number {
  return df < 1 ? Number.NaN : (T95[df - 1] ?? 1.96);
}

/** Mean and 95 % interval half-width of `values` (NaN-free values only). */
export function trialFigure(values: readonly number[]): TrialFigure {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { values, mean: Number.NaN, ci95: Number.NaN };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { values, mean, ci95: Number.NaN };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { values, mean, ci95: (tQuantile95(n - 1) * sd) / Math.sqrt(n) };
}

/** A round's headline figures (undefined when the round does not have one). */
export function figuresOf(r: RoundResult): Partial<Record<TrialFigureName, number>> {
  const recovery = r.faults[0]?.recoverySec;
  return {
    throughput: r.throughput,
    p50: r.latencyAll.p50,
    p95: r.latencyAll.p95,
    p99: r.latencyAll.p99,
    ...(r.cpuMsPerTx === undefined ? {} : { cpuMsPerTx: r.cpuMsPerTx }),
    ...(r.consensus === undefined
      ? {}
      : { messagesPerBlock: r.consensus.messagesPerBlock, bytesPerBlock: r.consensus.bytesPerBlock }),
    ...(recovery === undefined || recovery === null ? {} : { recoverySec: recovery }),
  };
}

/** The value of a figure: its trials' mean when the round was repeated, else the one measurement. */
export function figureOf(r: RoundResult, name: TrialFigureName): TrialFigure | undefined {
  const t = r.trials?.figures[name];
  if (t !== undefined) return t;
  const v = figuresOf(r)[name];
  return v === undefined ? undefined : { values: [v], mean: v, ci95: Number.NaN };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * One round from N trials: the headline figures are the trials' means (with their intervals in
 * `trials`); the detail (timeline, histogram, per-node resources, blocks) is the first trial's.
 */
export function mergeTrials(results: readonly RoundResult[]): RoundResult {
  const first = results[0];
  if (first === undefined) throw new Error("no trial to merge");
  if (results.length === 1) return first;
  const figures: Partial<Record<TrialFigureName, TrialFigure>> = {};
  for (const name of TRIAL_FIGURES) {
    const values = results.map((r) => figuresOf(r)[name]).filter((v): v is number => v !== undefined);
    if (values.length > 0) figures[name] = trialFigure(values);
  }
  const mean = (name: TrialFigureName, fallback: number) => {
    const f = figures[name];
    return f === undefined || !Number.isFinite(f.mean) ? fallback : round2(f.mean);
  };
  return {
    ...first,
    throughput: mean("throughput", first.throughput),
    sendRate: round2(results.reduce((s, r) => s + r.sendRate, 0) / results.length),
    successRate: Math.round((results.reduce((s, r) => s + r.successRate, 0) / results.length) * 10_000) / 10_000,
    latencyAll: {
      ...first.latencyAll,
      p50: mean("p50", first.latencyAll.p50),
      p95: mean("p95", first.latencyAll.p95),
      p99: mean("p99", first.latencyAll.p99),
    },
    ...(first.cpuMsPerTx === undefined ? {} : { cpuMsPerTx: mean("cpuMsPerTx", first.cpuMsPerTx) }),
    ...(first.consensus === undefined
      ? {}
      : {
          consensus: {
            messagesPerBlock: mean("messagesPerBlock", first.consensus.messagesPerBlock),
            bytesPerBlock: mean("bytesPerBlock", first.consensus.bytesPerBlock),
          },
        }),
    trials: { n: results.length, figures },
    notes: [
      ...(first.notes ?? []),
      `${results.length} trials: throughput, latency percentiles, CPU and consensus traffic are their means (95 % intervals in the trials table); the timeline, histogram and per-node table are the first trial's`,
    ],
  };
}

/** How two figures compare: the ratio b/a, and whether their 95 % intervals are apart. */
export interface FigureComparison {
  readonly a: TrialFigure;
  readonly b: TrialFigure;
  /** b.mean / a.mean. */
  readonly ratio: number;
  /** True when both have intervals and they do not overlap; false when they overlap; null without intervals. */
  readonly significant: boolean | null;
}

export function compareFigures(a: TrialFigure, b: TrialFigure): FigureComparison {
  const ratio = a.mean === 0 ? Number.NaN : b.mean / a.mean;
  const significant =
    Number.isFinite(a.ci95) && Number.isFinite(b.ci95) ? Math.abs(a.mean - b.mean) > a.ci95 + b.ci95 : null;
  return { a, b, ratio, significant };
}

/** "1,234 ± 56" (or the value alone without an interval). */
export function formatFigure(f: TrialFigure, digits = 0): string {
  const n = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  if (!Number.isFinite(f.mean)) return "—";
  return Number.isFinite(f.ci95) ? `${n(f.mean)} ± ${n(f.ci95)}` : n(f.mean);
}

/** The verdict a report prints for a comparison. */
export function verdict(c: FigureComparison, higherIsBetter: boolean, names: [string, string]): string {
  if (!Number.isFinite(c.ratio)) return "—";
  if (c.ratio === 1) return c.significant === null ? "the same (no intervals)" : "the same";
  const pct = Math.round(Math.abs(c.ratio - 1) * 100);
  const direction = c.ratio > 1 ? "higher" : "lower";
  const better = c.ratio === 1 ? "" : c.ratio > 1 === higherIsBetter ? " (better)" : " (worse)";
  if (c.significant === null) return `${names[1]} ${pct} % ${direction}${better}; no intervals (run with --repeat)`;
  if (!c.significant) return "no difference shown (95 % intervals overlap)";
  return `${names[1]} ${pct} % ${direction}${better}; intervals apart`;
}
