import { describe, expect, it } from "vitest";
import { histogram, histogramBounds, latencyStats, quantile, stddev } from "../../src/stats.ts";

describe("quantile (nearest rank)", () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("gives the nearest-rank percentiles of 1..100", () => {
    expect(quantile(oneToHundred, 0.5)).toBe(50);
    expect(quantile(oneToHundred, 0.95)).toBe(95);
    expect(quantile(oneToHundred, 0.99)).toBe(99);
    expect(quantile(oneToHundred, 1)).toBe(100);
    expect(quantile(oneToHundred, 0)).toBe(1);
  });

  it("handles one value, and no value", () => {
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("p99 of ten values is the largest (a small sample has no room above the 90th)", () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});

describe("stddev (population)", () => {
  it("is 2 for the textbook sample 2, 4, 4, 4, 5, 5, 7, 9", () => {
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
  });
  it("is 0 for equal values and NaN for none", () => {
    expect(stddev([3, 3, 3])).toBe(0);
    expect(stddev([])).toBeNaN();
  });
});

describe("histogram", () => {
  it("uses 1-2-5 bounds per decade when the values span more than a factor of 20", () => {
    expect(histogramBounds(1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(histogramBounds(1001).at(-1)).toBe(2000);
    expect(histogramBounds(5000, 30)).toEqual([10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
  });

  it("fits about 25 equal buckets of a nice width to values within a factor of 20 (a saturated round's seconds-long latencies)", () => {
    const b = histogramBounds(4_300, 1_700);
    expect(b.length).toBeGreaterThanOrEqual(20);
    expect(b.length).toBeLessThanOrEqual(30);
    expect(b[0]).toBeLessThanOrEqual(1_700 + (b[1]! - b[0]!));
    expect(b.at(-1)).toBeGreaterThanOrEqual(4_300);
    const widths = new Set(b.slice(1).map((x, i) => Math.round((x - b[i]!) * 1000)));
    expect(widths.size).toBe(1);
    expect(
      [1, 2, 2.5, 5].some(
        (m) => [...widths][0]! / 1000 / m === 10 ** Math.round(Math.log10([...widths][0]! / 1000 / m)),
      ),
    ).toBe(true);
  });

  it("counts each value in the first bucket whose bound is at or above it; overflow in the last", () => {
    const h = histogram([0.5, 1, 1.5, 2, 3, 10, 11, 99], [1, 2, 5, 10]);
    expect(h.counts).toEqual([2, 2, 1, 3]);
    expect(h.counts.reduce((s, x) => s + x, 0)).toBe(8);
  });
});

describe("latencyStats", () => {
  it("gives min, max, mean, stddev, percentiles and a histogram that counts every value", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1).reverse();
    const s = latencyStats(values);
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.mean).toBe(500.5);
    expect(s.stddev).toBeCloseTo(288.7, 1);
    expect([s.p50, s.p95, s.p99]).toEqual([500, 950, 990]);
    expect(s.histogram?.bounds.at(-1)).toBe(1000);
    expect(s.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it("rounds to 0.1 ms and does not sort the caller's array", () => {
    const values = [3.14, 1.23456, 2.5];
    const s = latencyStats(values);
    expect(values).toEqual([3.14, 1.23456, 2.5]);
    expect(s.min).toBe(1.2);
    expect(s.max).toBe(3.1);
    expect(s.p50).toBe(2.5);
  });

  it("has count 0 and NaN figures when nothing was measured", () => {
    const s = latencyStats([]);
    expect(s.count).toBe(0);
    expect(s.p99).toBeNaN();
    expect(s.histogram?.counts).toEqual([]);
  });
});
