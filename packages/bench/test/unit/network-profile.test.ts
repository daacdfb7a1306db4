import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  delayBetween,
  emulates,
  latencyMatrix,
  networkLabel,
  parseBandwidth,
  parseDuration,
  parsePercent,
} from "../../src/network/profile.ts";

// The emulated network's options (cairn bench --latency, --jitter, --loss, --bandwidth,
// --latency-matrix): what they accept, what they refuse, and the matrix a regions file makes.

describe("network profile", () => {
  it("parses durations, percentages and rates, and refuses the rest", () => {
    expect(parseDuration("50ms", "--latency")).toBe(50);
    expect(parseDuration("0.05s", "--latency")).toBe(50);
    expect(parseDuration("12", "--latency")).toBe(12);
    expect(() => parseDuration("fast", "--latency")).toThrow(/--latency is a duration like 50ms/);
    expect(() => parseDuration("11s", "--latency")).toThrow(/at most 10 s/);
    expect(parsePercent("0.5%", "--loss")).toBe(0.5);
    expect(() => parsePercent("80%", "--loss")).toThrow(/0% to 50%/);
    expect(parseBandwidth("100mbit", "--bandwidth")).toBe(100);
    expect(parseBandwidth("1gbit", "--bandwidth")).toBe(1000);
    expect(parseBandwidth("500kbit", "--bandwidth")).toBe(0.5);
    expect(() => parseBandwidth("100MB", "--bandwidth")).toThrow(/a rate like 100mbit/);
  });

  it("builds a per-pair matrix from regions, symmetric, with the delay inside a region", () => {
    const file = JSON.parse(
      readFileSync(new URL("../../../../benchmarks/networks/three-regions.json", import.meta.url), "utf8"),
    );
    const { matrix, label } = latencyMatrix(file, 4);
    expect(matrix).toEqual([
      [0, 1, 40, 110],
      [1, 0, 40, 110],
      [40, 40, 0, 75],
      [110, 110, 75, 0],
    ]);
    expect(label).toMatch(/^three regions/);
    const p = { latencyMs: 0, jitterMs: 0, lossPercent: 0, matrix, label };
    expect(delayBetween(p, 3, 0)).toBe(110);
    expect(emulates(p)).toBe(true);
    expect(networkLabel(p)).toBe(label);
    expect(() => latencyMatrix(file, 5)).toThrow(/validator 4 is in no region/);
    expect(() => latencyMatrix({ ...file, latency: { "europe-north-america": 40 } }, 4)).toThrow(
      /no "europe-asia-pacific"/,
    );
    expect(() => latencyMatrix({ matrix: [[0, 1]] }, 2)).toThrow(/2 rows of 2/);
  });

  it("labels a uniform profile by what it changes; a zero profile emulates nothing", () => {
    expect(networkLabel({ latencyMs: 50, jitterMs: 10, lossPercent: 0.5, bandwidthMbit: 100 })).toBe(
      "50 ms ± 10, 0.5 % loss, 100 Mbit/s",
    );
    expect(emulates({ latencyMs: 0, jitterMs: 0, lossPercent: 0 })).toBe(false);
    expect(emulates(undefined)).toBe(false);
  });
});
