// The standard suite of `cairn bench` (`npm run bench:cluster`): the figures the FG DLT assessment
// criteria ask for, on this machine, in about ten minutes.
import type { ClusterPlan, RoundSpec } from "./bench.ts";
import { THREE_REGIONS_FILE } from "./network/files.ts";
import { loadLatencyMatrix, type NetworkProfile } from "./network/profile.ts";

/** The standard suite's emulated round: 50 ms one way between every two validators (docs: benchmarks/README.md). */
export const STANDARD_WAN: NetworkProfile = { latencyMs: 50, jitterMs: 0, lossPercent: 0 };

export const SUITES = ["standard", "wan"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface SuiteOptions {
  /** Validator counts of the network-size sweep (default 4 and 7; 10 and 16 take much longer). */
  readonly sizes?: readonly number[];
  /** Engines compared on 4 validators (default both: Tendermint, then Raft). */
  readonly engines?: readonly ("tendermint" | "raft")[];
  /** The kv rounds again with 50 ms between the validators (default true; needs root, else skipped with a note). */
  readonly wan?: boolean;
}

/** Trials of each round in the standard suite (`--repeat` overrides it). */
export const STANDARD_REPEAT = 3;

/**
 * On 4 validators: kv closed loop (the saturation point) and open loop at half of it; YCSB-A with
 * reads; SmallBank transfers; Wasm token calls; the do-nothing transaction; large payloads; and kv
 * at half load with a validator killed, then with the proposer killed. Then kv's saturation point on
 * each further size of the sweep (the 4-validator point is the first round's). With Raft among the
 * engines, the kv rounds (saturation, half load, the leader killed) run on a Raft chain of 4 too,
 * so the report sets the engines side by side. Then kv's saturation and half load on Tendermint with
 * 50 ms one way between every two validators (STANDARD_WAN, an emulated network). Each round runs
 * STANDARD_REPEAT times.
 */
export function standardSuite(o: SuiteOptions = {}): ClusterPlan[] {
  const sizes = [...new Set(o.sizes ?? [4, 7])].sort((a, b) => a - b);
  const sweep = (v: number): RoundSpec["sweep"] =>
    sizes.length > 1 ? { name: "kv saturation by network size", parameter: "validators", value: v } : undefined;
  const plans: ClusterPlan[] = [];
  for (const v of sizes) {
    // Saturation steps of 3 s warm-up and 8 s measured.
    const rounds: RoundSpec[] = [
      { workload: "kv", mode: "closed", warmupSec: 3, durationSec: 10, ...withSweep(sweep(v)) },
    ];
    if (v === (sizes.includes(4) ? 4 : sizes[0])) {
      rounds.push(
        { workload: "kv", mode: "half" },
        { workload: "ycsb-a", mode: "open" },
        { workload: "smallbank", mode: "open" },
        { workload: "wasm", mode: "open" },
        { workload: "noop", mode: "open" },
        { workload: "large-payload", mode: "open" },
        { workload: "kv", mode: "half", durationSec: 30, fault: { kind: "kill-validator", atSec: 10 } },
        { workload: "kv", mode: "half", durationSec: 30, fault: { kind: "kill-proposer", atSec: 10 } },
      );
    }
    plans.push({ validators: v, rounds });
  }
  const engines = o.engines ?? ["tendermint", "raft"];
  if (engines.includes("raft")) {
    // The same kv rounds on a Raft chain of 4, beside Tendermint's.
    plans.push({ validators: 4, engine: "raft", rounds: engineRounds() });
  }
  if (!engines.includes("tendermint")) return plans.filter((p) => p.engine === "raft");
  if (o.wan !== false) {
    plans.push({
      validators: 4,
      network: STANDARD_WAN,
      rounds: [
        { workload: "kv", mode: "closed", warmupSec: 3, durationSec: 10 },
        { workload: "kv", mode: "half" },
      ],
    });
  }
  return plans;
}

/** The rounds both engines run in a comparison: kv saturation, half load, and the leader/proposer killed. */
export function engineRounds(): RoundSpec[] {
  return [
    { workload: "kv", mode: "closed", warmupSec: 3, durationSec: 10 },
    { workload: "kv", mode: "half" },
    { workload: "kv", mode: "half", durationSec: 30, fault: { kind: "kill-proposer", atSec: 10 } },
  ];
}

function withSweep(s: RoundSpec["sweep"]): { sweep?: NonNullable<RoundSpec["sweep"]> } {
  return s === undefined ? {} : { sweep: s };
}

/** benchmarks/networks/three-regions.json as a latency matrix for 4 validators. */
export function threeRegionsNetwork(): NetworkProfile {
  return { latencyMs: 0, jitterMs: 0, lossPercent: 0, ...loadLatencyMatrix(THREE_REGIONS_FILE, 4) };
}

/**
 * The `wan` suite (`npm run bench:wan`): kv saturation and half load on 4 Tendermint validators on
 * the local network, at 50 ms between every two, and across three regions, in one run so their
 * ratios are comparable; with the consensus simulation beside them. Needs root (namespaces).
 */
export function wanSuite(): ClusterPlan[] {
  const rounds = (): RoundSpec[] => [
    { workload: "kv", mode: "closed", warmupSec: 3, durationSec: 10 },
    { workload: "kv", mode: "half" },
  ];
  return [
    { validators: 4, rounds: rounds() },
    { validators: 4, network: STANDARD_WAN, rounds: rounds() },
    { validators: 4, network: threeRegionsNetwork(), rounds: rounds() },
  ];
}
