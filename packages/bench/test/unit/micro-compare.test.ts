// The run-to-run comparison of `npm run bench` (benchmarks/micro/compare.ts).
import { describe, expect, it } from "vitest";
import { compareRuns, formatChange } from "../../../../benchmarks/micro/compare.ts";

describe("micro-benchmark comparison with the previous run", () => {
  const then = [
    { name: "a", meanMs: 1.0, otherCores: 0.01 },
    { name: "b", meanMs: 2.0, otherCores: 0.02 },
    { name: "c", meanMs: 4.0, otherCores: 0.01 },
    { name: "d", meanMs: 1.0, otherCores: 0.6 },
  ];
  const now = [
    { name: "a", meanMs: 1.1, otherCores: 0.01 }, // 10 % slower: noise
    { name: "b", meanMs: 2.5, otherCores: 0.0 }, // 25 % slower: a regression
    { name: "c", meanMs: 3.0, otherCores: 0.03 }, // 25 % faster
    { name: "d", meanMs: 1.5, otherCores: 0.02 }, // slower, but the machine was busy then
    { name: "e", meanMs: 9.0, otherCores: 0.0 }, // new case
  ];

  it("flags cases whose mean time grew beyond the threshold, unless the CPU was busy", () => {
    const changes = compareRuns(then, now, 15);
    expect([...changes.keys()]).toEqual(["a", "b", "c", "d"]);
    expect(changes.get("a")?.regression).toBe(false);
    expect(changes.get("b")).toMatchObject({ regression: true, thenMs: 2, nowMs: 2.5 });
    expect(changes.get("b")?.change).toBeCloseTo(0.25);
    expect(changes.get("c")?.regression).toBe(false);
    expect(changes.get("d")).toMatchObject({ regression: false, slowerWhileBusy: true });
    expect(compareRuns(then, now, 5).get("a")?.regression).toBe(true);
  });

  it("prints the change as a signed percentage with the verdict", () => {
    const changes = compareRuns(then, now, 15);
    expect(formatChange(changes.get("a"))).toBe("+10 %");
    expect(formatChange(changes.get("b"))).toBe("+25 % SLOWER");
    expect(formatChange(changes.get("c"))).toBe("−25 %");
    expect(formatChange(changes.get("d"))).toBe("+50 % slower (busy)");
    expect(formatChange(changes.get("e"))).toBe("new");
  });
});
