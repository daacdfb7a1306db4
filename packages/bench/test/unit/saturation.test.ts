// The saturation search against a fake target: a cluster model with a fixed capacity, whose
// latency grows as the offered load approaches it and which falls behind above it.
import { describe, expect, it } from "vitest";
import type { SaturationStep } from "../../src/report.ts";
import { type SaturationProbe, searchSaturation } from "../../src/saturation.ts";

/** A cluster that commits min(rate, capacity) (with a little noise) and queues the rest. */
function fakeCluster(capacity: number, o: { failAbove?: number; sendCap?: number } = {}) {
  const offered: number[] = [];
  const probe: SaturationProbe = {
    async step(rate) {
      offered.push(rate);
      const sendRate = Math.min(rate, o.sendCap ?? Number.POSITIVE_INFINITY);
      const throughput = Math.min(sendRate, capacity) * 0.995;
      const load = sendRate / capacity;
      const p50 = load < 1 ? 100 / (1 - Math.min(load, 0.95)) : 3000;
      return {
        rate,
        sendRate,
        throughput,
        p50,
        p99: p50 * 2,
        successRate: o.failAbove !== undefined && rate > o.failAbove ? 0.5 : 1,
      } satisfies SaturationStep;
    },
  };
  return { probe, offered };
}

describe("searchSaturation", () => {
  it("raises the rate until the cluster stops keeping up; the saturation point is the best step that kept up", async () => {
    const { probe, offered } = fakeCluster(800);
    const r = await searchSaturation(probe, { startRate: 300, factor: 1.5, maxP99Ms: 1e9, refine: 0 });
    expect(offered).toEqual([300, 450, 675, 1013]);
    // The saturation point is the best step that kept up with its load, not the overloaded one.
    const best = r.steps[r.best] as SaturationStep;
    expect(best.rate).toBe(675);
    expect(best.throughput).toBeCloseTo(671.6, 1);
    expect(r.reason).toMatch(/no longer keeps up/);
    // One refining step bisects between the last rate that kept up and the first that did not.
    const refined = await searchSaturation(fakeCluster(800).probe, { startRate: 300, factor: 1.5, maxP99Ms: 1e9 });
    expect(refined.steps.map((s) => s.rate)).toEqual([300, 450, 675, 1013, 844]);
    expect(refined.steps[refined.best]?.rate).toBe(844);
    expect(refined.reason).toMatch(/no longer keeps up .*; refined between 844 and 1013 tx\/s$/);
    // A step just above capacity that still commits 90 % of it goes on; the next one ends it.
    const plateau = await searchSaturation(fakeCluster(1000).probe, {
      startRate: 300,
      factor: 1.5,
      maxP99Ms: 1e9,
      refine: 0,
    });
    expect(plateau.steps.map((s) => s.rate)).toEqual([300, 450, 675, 1013, 1519]);
    expect(plateau.steps[plateau.best]?.rate).toBe(1013);
    expect(plateau.reason).toMatch(/no longer keeps up/);
  });

  it("halves the rate while the first guess is above the saturation point, then climbs again", async () => {
    const { probe, offered } = fakeCluster(300);
    const r = await searchSaturation(probe, { startRate: 1000, factor: 1.5, maxP99Ms: 1e9 });
    expect(offered).toEqual([1000, 500, 250, 375, 313]);
    expect(r.steps[r.best]?.rate).toBe(313);
    expect(r.reason).toMatch(/no longer keeps up/);
    // At most maxBackoffs halvings.
    const never = await searchSaturation(fakeCluster(1).probe, { startRate: 1000, maxBackoffs: 2, maxP99Ms: 1e9 });
    expect(never.steps.map((s) => s.rate)).toEqual([1000, 500, 250]);
  });

  it("stops when throughput stops growing even if the cluster seemed to keep up", async () => {
    const steps = [
      { rate: 100, throughput: 100 },
      { rate: 130, throughput: 128 },
      { rate: 169, throughput: 129 },
    ];
    let k = 0;
    const r = await searchSaturation(
      {
        async step(rate) {
          const s = steps[k++] as { rate: number; throughput: number };
          expect(rate).toBe(s.rate);
          return { rate, sendRate: rate, throughput: s.throughput, p50: 10, p99: 20, successRate: 1 };
        },
      },
      { startRate: 100, keepUp: 0.5 },
    );
    expect(r.steps).toHaveLength(3);
    expect(r.best).toBe(2);
    expect(r.reason).toMatch(/stopped growing/);
  });

  it("stops when latency blows up, and when failures do", async () => {
    const slow = await searchSaturation(fakeCluster(1000).probe, { startRate: 800, factor: 1.1, maxP99Ms: 2000 });
    expect(slow.reason).toMatch(/^latency/);
    const failing = await searchSaturation(fakeCluster(10_000, { failAbove: 500 }).probe, { startRate: 400 });
    expect(failing.reason).toMatch(/^failures/);
    expect(failing.steps.map((s) => s.rate)).toEqual([400, 520, 460]);
    expect(failing.steps[failing.best]?.rate).toBe(460);
  });

  it("says so when the load generator, not the cluster, was the limit", async () => {
    const r = await searchSaturation(fakeCluster(10_000, { sendCap: 600 }).probe, { startRate: 400, factor: 2 });
    expect(r.reason).toMatch(/load generator/);
  });

  it("is bounded in steps, in rate and in time", async () => {
    const many = await searchSaturation(fakeCluster(1e9).probe, { startRate: 10, factor: 2, maxSteps: 5 });
    expect(many.steps).toHaveLength(5);
    expect(many.reason).toMatch(/step limit/);
    const capped = await searchSaturation(fakeCluster(1e9).probe, { startRate: 10, factor: 10, maxRate: 1000 });
    expect(capped.steps.map((s) => s.rate)).toEqual([10, 100, 1000]);
    expect(capped.reason).toMatch(/rate limit/);
    let clock = 0;
    const timed = await searchSaturation(
      {
        async step(rate) {
          clock += 10;
          return { rate, sendRate: rate, throughput: rate, p50: 1, p99: 1, successRate: 1 };
        },
      },
      { startRate: 10, deadline: 25, now: () => clock },
    );
    expect(timed.steps).toHaveLength(3);
    expect(timed.reason).toBe("time limit");
  });

  it("refuses nonsense options", async () => {
    await expect(searchSaturation(fakeCluster(1).probe, { startRate: 0 })).rejects.toThrow(RangeError);
    await expect(searchSaturation(fakeCluster(1).probe, { startRate: 1, factor: 1 })).rejects.toThrow(RangeError);
  });
});
