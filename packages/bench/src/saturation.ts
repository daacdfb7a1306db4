// Closed loop: the saturation search. Open-loop steps at rising offered rates, each a short measured
// phase, until the committed throughput stops growing, the cluster stops keeping up with the offered
// load, latency or failures blow up, or the step/time bounds are reached. The saturation point is
// the step with the highest committed throughput among those that kept up with their load.
import type { SaturationStep } from "./report.ts";

export interface SaturationOptions {
  /** Offered rate of the first step (ops/s). */
  readonly startRate: number;
  /** Each step offers `factor` times the previous one (default 1.3). */
  readonly factor?: number;
  /** At most this many steps (default 8). */
  readonly maxSteps?: number;
  /** A step must beat the best throughput so far by this share to count as growth (default 0.03). */
  readonly minGain?: number;
  /** The cluster keeps up while throughput >= keepUp x offered rate (default 0.9). */
  readonly keepUp?: number;
  /** Latency blow-up: p99 above this many ms stops the search (default 5,000). */
  readonly maxP99Ms?: number;
  /** Failure blow-up: a success rate below this stops the search (default 0.99). */
  readonly minSuccessRate?: number;
  /** No step above this rate (default 100,000). */
  readonly maxRate?: number;
  /** Steps that bisect between the best rate that kept up and the first that did not (default 1). */
  readonly refine?: number;
  /** Halvings of the rate while no step has kept up yet (default 3). */
  readonly maxBackoffs?: number;
  /** Stop before a step would start after this performance.now() time. */
  readonly deadline?: number;
  /** The clock (tests give a fake one). */
  readonly now?: () => number;
}

/** Runs one open-loop step at an offered rate: what the search needs to know of the cluster. */
export interface SaturationProbe {
  step(rate: number, index: number): Promise<SaturationStep>;
}

export interface SaturationOutcome {
  readonly steps: readonly SaturationStep[];
  /**
   * Index of the saturation point in `steps`: the highest throughput of a step that kept up with
   * its offered load (latency and failures within bounds); if none did, the highest throughput.
   */
  readonly best: number;
  readonly reason: string;
}

export async function searchSaturation(probe: SaturationProbe, o: SaturationOptions): Promise<SaturationOutcome> {
  const factor = o.factor ?? 1.3;
  const maxSteps = o.maxSteps ?? 8;
  const minGain = o.minGain ?? 0.03;
  const keepUp = o.keepUp ?? 0.9;
  const maxP99 = o.maxP99Ms ?? 5000;
  const minSuccess = o.minSuccessRate ?? 0.99;
  const maxRate = o.maxRate ?? 100_000;
  const now = o.now ?? (() => performance.now());
  if (!(o.startRate > 0) || factor <= 1 || maxSteps < 1) throw new RangeError("bad saturation search options");
  const steps: SaturationStep[] = [];
  let best = -1;
  let rate = Math.min(o.startRate, maxRate);
  let reason = `step limit (${maxSteps} steps)`;
  // Until a step has kept up, an overloaded step halves the rate instead of ending the search (the
  // first guess was above the saturation point), at most `maxBackoffs` times.
  let keptUp = false;
  let backoffs = 0;
  const maxBackoffs = o.maxBackoffs ?? 3;
  // Once a step overloads the cluster, up to `refine` steps bisect between the best rate that kept
  // up and the lowest that did not.
  let refinesLeft = o.refine ?? 1;
  let failedRate: number | undefined;
  let stopReason: string | undefined;
  const bestRate = () => (steps[best] as SaturationStep).rate;
  for (let k = 0; k < maxSteps; k++) {
    if (o.deadline !== undefined && now() > o.deadline) {
      reason = stopReason === undefined ? "time limit" : stopReason;
      break;
    }
    const s = await probe.step(Math.round(rate), k);
    steps.push(s);
    const prevBest = best < 0 ? undefined : (steps[best] as SaturationStep).throughput;
    let stop: string | undefined;
    if (s.successRate < minSuccess) {
      stop = `failures: success rate ${(s.successRate * 100).toFixed(1)} % at ${s.rate} tx/s`;
    } else if (s.p99 > maxP99) {
      stop = `latency: p99 ${Math.round(s.p99)} ms at ${s.rate} tx/s`;
    } else if (s.throughput < keepUp * s.rate) {
      // Committing what was sent, but sending less than offered: the generator was the limit.
      stop =
        s.sendRate < keepUp * s.rate && s.throughput >= keepUp * s.sendRate
          ? `the load generator could not send faster (${s.sendRate} of ${s.rate} tx/s)`
          : `the cluster no longer keeps up (${s.throughput} tx/s committed of ${s.rate} offered)`;
    }
    const refining = failedRate !== undefined;
    if (stop !== undefined) {
      if (!keptUp && backoffs < maxBackoffs && rate / 2 >= 1 && k < maxSteps - 1) {
        backoffs++;
        rate /= 2;
        continue;
      }
      stopReason ??= stop;
      failedRate = Math.min(failedRate ?? s.rate, s.rate);
    } else {
      // This step kept up with its offered load: a candidate saturation point.
      if (best < 0 || !keptUp || s.throughput > (steps[best] as SaturationStep).throughput) best = k;
      if (!refining && keptUp && prevBest !== undefined && s.throughput < prevBest * (1 + minGain)) {
        reason = `throughput stopped growing (${s.throughput} tx/s at ${s.rate} offered, best ${prevBest})`;
        break;
      }
      keptUp = true;
    }
    if (failedRate !== undefined) {
      // Overloaded once: bisect (if a step kept up, there is room, and steps are left), else stop.
      if (!keptUp || refinesLeft <= 0 || failedRate < bestRate() * 1.1 || k >= maxSteps - 1) {
        reason = `${stopReason}${refining ? `; refined between ${bestRate()} and ${failedRate} tx/s` : ""}`;
        break;
      }
      refinesLeft--;
      rate = (bestRate() + failedRate) / 2;
      continue;
    }
    if (rate >= maxRate) {
      reason = `rate limit (${maxRate} tx/s)`;
      break;
    }
    rate = Math.min(rate * factor, maxRate);
  }
  if (best < 0) {
    // No step kept up: the one that committed the most.
    best = 0;
    steps.forEach((st, i) => {
      if (st.throughput > (steps[best] as SaturationStep).throughput) best = i;
    });
  }
  return { steps, best, reason };
}
