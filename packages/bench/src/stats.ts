// Latency statistics as the report gives them (PSWG / Caliper: min, max, mean, standard deviation,
// percentiles) and a histogram for the charts.
import type { LatencyStats } from "./report.ts";

/** Value at quantile q (0..1) of an ascending array, nearest-rank (p50 of 1..100 is 50, p99 is 99). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** Population standard deviation (every transaction of the phase is measured, not a sample of them). */
export function stddev(values: ArrayLike<number>, mean?: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  let m = mean;
  if (m === undefined) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[i] as number;
    m = s / n;
  }
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - m;
    sq += d * d;
  }
  return Math.sqrt(sq / n);
}

/** The "nice" step (1, 2, 2.5 or 5 × 10^k) nearest to `x` on a log scale. */
function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const candidates = [1, 2, 2.5, 5, 10].map((m) => m * p);
  return candidates.reduce((best, c) => (Math.abs(Math.log(c / x)) < Math.abs(Math.log(best / x)) ? c : best));
}

/**
 * Histogram bounds (bucket upper bounds, ms) fitted to the data between `min` and `max`: about 25
 * buckets of one nice width when the values span less than a factor of 20 (a saturated round's
 * latencies, all seconds long, still get many bars), else 1-2-5 steps per decade from below `min`.
 */
export function histogramBounds(max: number, min = 1): number[] {
  if (!Number.isFinite(max) || max <= 0) return [1];
  const lo0 = Math.max(0, Number.isFinite(min) ? min : 0);
  if (lo0 > 0 && max / lo0 <= 20) {
    const width = niceStep(Math.max((max - lo0) / 25, 0.001));
    const lo = Math.floor(lo0 / width) * width;
    const bounds: number[] = [];
    for (let b = lo + width; bounds.length < 60; b += width) {
      bounds.push(Math.round(b * 1000) / 1000);
      if (b >= max) break;
    }
    return bounds;
  }
  const bounds: number[] = [];
  const steps = [1, 2, 5];
  const start = 10 ** Math.floor(Math.log10(Math.max(1, lo0)));
  for (let decade = start; bounds.length < 40; decade *= 10) {
    for (const s of steps) {
      const b = s * decade;
      bounds.push(b);
      if (b >= max) return bounds;
    }
  }
  return bounds;
}

/**
 * Counts per bucket: bucket i holds the values v with bounds[i-1] < v <= bounds[i] (the first from
 * -infinity); values above the last bound are counted in the last bucket.
 */
export function histogram(
  values: ArrayLike<number>,
  bounds: readonly number[],
): { bounds: readonly number[]; counts: number[] } {
  const counts = bounds.map(() => 0);
  if (bounds.length === 0) return { bounds, counts };
  for (let k = 0; k < values.length; k++) {
    const v = values[k] as number;
    // Binary search for the first bound >= v.
    let lo = 0;
    let hi = bounds.length - 1;
    if (v > (bounds[hi] as number)) {
      counts[hi] = (counts[hi] as number) + 1;
      continue;
    }
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((bounds[mid] as number) >= v) hi = mid;
      else lo = mid + 1;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  return { bounds, counts };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The empty distribution (no value measured): count 0, every figure NaN (null in JSON). */
export const EMPTY_LATENCY: LatencyStats = {
  count: 0,
  min: Number.NaN,
  max: Number.NaN,
  mean: Number.NaN,
  stddev: Number.NaN,
  p50: Number.NaN,
  p95: Number.NaN,
  p99: Number.NaN,
  histogram: { bounds: [], counts: [] },
};

/** min, max, mean, stddev, p50/p95/p99 (nearest rank) and a histogram fitted to the values (ms, 0.1 ms rounding). */
export function latencyStats(values: ArrayLike<number>): LatencyStats {
  const n = values.length;
  if (n === 0) return EMPTY_LATENCY;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const mean = sum / n;
  const max = sorted[n - 1] as number;
  const h = histogram(sorted, histogramBounds(max, sorted[0] as number));
  return {
    count: n,
    min: round1(sorted[0] as number),
    max: round1(max),
    mean: round1(mean),
    stddev: round1(stddev(sorted, mean)),
    p50: round1(quantile(sorted, 0.5)),
    p95: round1(quantile(sorted, 0.95)),
    p99: round1(quantile(sorted, 0.99)),
    histogram: h,
  };
}
