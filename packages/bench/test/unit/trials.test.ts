import { describe, expect, it } from "vitest";
import { compareReports, renderComparisonMarkdown } from "../../src/compare.ts";
import type { RoundResult } from "../../src/report.ts";
import { compareFigures, mergeTrials, tQuantile95, trialFigure, verdict } from "../../src/trials.ts";
import { fixture } from "./fixture.ts";

describe("repeated trials", () => {
  it("gives the mean and the half-width of the 95 % interval (Student's t)", () => {
    const f = trialFigure([10, 12, 14]);
    expect(f.mean).toBe(12);
    // sd 2, n 3: t(2) = 4.303, 4.303 × 2 / √3
    expect(f.ci95).toBeCloseTo((4.303 * 2) / Math.sqrt(3), 6);
    expect(trialFigure([5]).ci95).toBeNaN();
    expect(tQuantile95(40)).toBe(1.96);
  });

  it("says no difference is shown when the intervals overlap, and the difference when they do not", () => {
    const a = trialFigure([100, 110, 90]);
    const near = trialFigure([105, 115, 95]);
    const far = trialFigure([200, 205, 195]);
    expect(compareFigures(a, near).significant).toBe(false);
    expect(verdict(compareFigures(a, near), true, ["A", "B"])).toBe("no difference shown (95 % intervals overlap)");
    const c = compareFigures(a, far);
    expect(c.significant).toBe(true);
    expect(verdict(c, true, ["A", "B"])).toBe("B 100 % higher (better); intervals apart");
    expect(verdict(compareFigures(trialFigure([1]), trialFigure([2])), false, ["A", "B"])).toContain("no intervals");
  });

  it("merges trials into one round: headline figures are the means, the detail is the first trial's", () => {
    const base = fixture().rounds[0] as RoundResult;
    const trials = [100, 120, 140].map((t, i) => ({
      ...base,
      throughput: t,
      latencyAll: { ...base.latencyAll, p50: 10 * (i + 1) },
    }));
    const m = mergeTrials(trials);
    expect(m.throughput).toBe(120);
    expect(m.latencyAll.p50).toBe(20);
    expect(m.trials?.n).toBe(3);
    expect(m.trials?.figures.throughput?.values).toEqual([100, 120, 140]);
    expect(m.timeline).toBe(base.timeline);
  });
});

describe("cairn bench compare", () => {
  it("pairs the rounds of two reports and renders each figure with its difference", () => {
    const a = fixture();
    const b = fixture();
    const c = compareReports(a, b, ["before", "after"]);
    expect(c.pairs.length).toBe(a.rounds.length);
    expect(c.onlyA).toEqual([]);
    expect(c.table.rows.length).toBeGreaterThan(a.rounds.length * 4);
    expect(c.table.rows.every((r) => r.length === 6)).toBe(true);
    const md = renderComparisonMarkdown(c);
    expect(md).toContain("# Benchmark comparison: before and after");
    expect(md).toContain("the same (no intervals)");
    // A round only one report has is listed, not paired.
    const fewer = { ...b, rounds: b.rounds.slice(1) };
    expect(compareReports(a, fewer).onlyA).toEqual([a.rounds[0]?.name]);
  });
});
