// The standard suite of `cairn bench` (`npm run bench:cluster`): the figures the FG DLT assessment
// criteria ask for, on this machine, in about ten minutes.
import type { ClusterPlan, RoundSpec } from "./bench.ts";

export const SUITES = ["standard"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface SuiteOptions {
  /** Validator counts of the network-size sweep (default 4 and 7; 10 and 16 take much longer). */
  readonly sizes?: readonly number[];
}

/**
 * On 4 validators: kv closed loop (the saturation point) and open loop at half of it; YCSB-A with
 * reads; SmallBank transfers; Wasm token calls; the do-nothing transaction; large payloads; and kv
 * at half load with a validator killed a third of the way in. Then kv's saturation point on each
 * further size of the sweep (the 4-validator point is the first round's).
 */
export function standardSuite(o: SuiteOptions = {}): ClusterPlan[] {
  const sizes = [...new Set(o.sizes ?? [4, 7])].sort((a, b) => a - b);
  const sweep = (v: number): RoundSpec["sweep"] =>
    sizes.length > 1 ? { name: "kv saturation by network size", parameter: "validators", value: v } : undefined;
  const plans: ClusterPlan[] = [];
  for (const v of sizes) {
    // Saturation steps of 3 s warm-up and 8 s measured.
    const rounds: RoundSpec[] = [
      { workload: "kv", mode: "closed", warmupSec: 3, durationSec: 8, ...withSweep(sweep(v)) },
    ];
    if (v === (sizes.includes(4) ? 4 : sizes[0])) {
      rounds.push(
        { workload: "kv", mode: "half" },
        { workload: "ycsb-a", mode: "open" },
        { workload: "smallbank", mode: "open" },
        { workload: "wasm", mode: "open" },
        { workload: "noop", mode: "open" },
        { workload: "large-payload", mode: "open" },
        {
          workload: "kv",
          mode: "half",
          durationSec: 24,
          fault: { kind: "kill-validator", atSec: 8 },
        },
      );
    }
    plans.push({ validators: v, rounds });
  }
  return plans;
}

function withSweep(s: RoundSpec["sweep"]): { sweep?: NonNullable<RoundSpec["sweep"]> } {
  return s === undefined ? {} : { sweep: s };
}
