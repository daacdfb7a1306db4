// The benchmark report: every figure of a `cairn bench` run with the full disclosure the FG DLT
// assessment criteria ask for (../shared/reference/fg-dlt.md section 3: the Hyperledger PSWG
// metrics that Caliper implements, and BLOCKBENCH's scalability and fault tolerance). The runner
// writes it as JSON; the Markdown and HTML renderers read nothing else.

import type { ProfileAccount } from "./profile.ts";

export const REPORT_SCHEMA = "cairn-bench-report/1";

/** Latency distribution in milliseconds. */
export interface LatencyStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Histogram for charts: upper bounds (ms) and counts per bucket, same length. */
  readonly histogram?: { readonly bounds: readonly number[]; readonly counts: readonly number[] };
}

/** One sample of the time series (one per second of the run). */
export interface TimelinePoint {
  /** Seconds since the start of the measured phase (negative during warm-up). */
  readonly t: number;
  /** Transactions committed in this second (on the first validator to commit them). */
  readonly committed: number;
  /** Transactions sent in this second. */
  readonly sent: number;
  /** Reads completed in this second. */
  readonly reads?: number;
  /** Chain height at the end of the second. */
  readonly height: number;
}

/** Resource use of one node over the measured phase. */
export interface NodeResources {
  readonly name: string;
  /** Process CPU time over the phase, seconds, and as a share of cores. */
  readonly cpuSec: number;
  readonly cpuCores: number;
  readonly rssMiB: { readonly mean: number; readonly peak: number };
  /** Bytes written to and read from disk by the process (/proc/PID/io) during the phase. */
  readonly diskWriteMiB: number;
  readonly diskReadMiB: number;
  /** Size of the node's data directory at the end. */
  readonly storageMiB: number;
  /** Peer-to-peer payload bytes sent and received during the phase (from the node's /metrics). */
  readonly netSentMiB: number;
  readonly netReceivedMiB: number;
}

/** A fault injected during a run, with what it did to the cluster. */
export interface FaultReport {
  readonly kind: "kill-validator" | "kill-proposer" | "partition" | "restart" | "pause";
  /** The node(s) it hit. */
  readonly targets: readonly string[];
  /** Seconds into the measured phase when it was injected, and when it was healed (if it was). */
  readonly at: number;
  readonly healedAt?: number;
  /** Committed tx/s in the window before the fault, during it, and after it was healed. */
  readonly throughputBefore: number;
  readonly throughputDuring: number;
  readonly throughputAfter?: number;
  /** Seconds from the fault to the next commit (the cluster's recovery time). */
  readonly recoverySec: number | null;
  /** Whether every honest node ended with the same blocks (safety). */
  readonly safe: boolean;
  /**
   * What recoverySec counts from: the fault (kills, restart, pause), or the heal (a partition, whose
   * sides cannot commit until it heals).
   */
  readonly recoveryFrom?: "fault" | "heal";
  /** Seconds from the heal until the nodes the fault hit had caught up with the cluster's head (null: never). */
  readonly caughtUpSec?: number | null;
  /** kill-proposer: the height the killed validator was due to propose (recoverySec is to its commit). */
  readonly victimHeight?: number;
  /** Why injecting or healing the fault failed, if it did. */
  readonly error?: string;
}

/** The result of one point of a run: one workload at one configuration. */
export interface RoundResult {
  /** Caliper's "Name": the workload and its parameters, e.g. "kv-ycsb-a @ 1000 tx/s". */
  readonly name: string;
  readonly workload: string;
  readonly validators: number;
  /** The chain's consensus engine (absent in reports from before there were two). */
  readonly engine?: "tendermint" | "raft";
  /** Open loop at a fixed send rate, or closed loop (as fast as the cluster accepts). */
  readonly mode: "open" | "closed";
  /** Target send rate (tx/s) in open loop. */
  readonly targetRate?: number;
  /** Block settings of this point (sweeps vary them). */
  readonly block: { readonly maxTxs: number; readonly emptyBlockIntervalMs?: number };
  readonly durationSec: number;
  readonly warmupSec: number;
  /** Measured transactions (sent in the measured phase) committed with receipt OK by the end of the drain, and the rest by error or receipt code. */
  readonly succeeded: number;
  /**
   * Transactions committed OK during the measured phase, at most `succeeded` (throughput × duration):
   * the work the phase's CPU paid for, so the divisor of `cpuMsPerTx` and of `profile`. A lagging
   * cluster commits fewer than it was sent. With --repeat, the first trial's (as `succeeded` and
   * `profile` are), while throughput is the trials' mean. Absent in reports written before 8
   * December 2026.
   */
  readonly committed?: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly successRate: number;
  /** Achieved send rate and committed-valid throughput (goodput), tx/s. */
  readonly sendRate: number;
  readonly throughput: number;
  /** Submit to commit on every validator (the PSWG threshold for BFT), and on the first. */
  readonly latencyAll: LatencyStats;
  readonly latencyFirst: LatencyStats;
  readonly reads?: { readonly throughput: number; readonly latency: LatencyStats; readonly failed: number };
  readonly timeline: readonly TimelinePoint[];
  readonly nodes: readonly NodeResources[];
  /** The load generator's own CPU (so a reader can see it was not the bottleneck). */
  readonly generator: { readonly cpuSec: number; readonly cpuCores: number; readonly presignSec: number };
  readonly faults: readonly FaultReport[];
  /** Signature-verification bound of this machine for this validator count (tx/s), and the ratio to it. */
  readonly verifyBound: { readonly verifiesPerSec: number; readonly boundTxPerSec: number; readonly ratio: number };
  /** What the workload sends (from its file). */
  readonly description?: string;
  /** Distinct signing keys of the load. */
  readonly senders?: number;
  /** Blocks committed during the measured phase (as the first validator saw them). */
  readonly blocks?: {
    readonly count: number;
    readonly meanTxs: number;
    readonly maxTxs: number;
    readonly perSec: number;
    /** Blocks by the consensus round they committed in ("0": first try; more: after a timeout). */
    readonly rounds?: Readonly<Record<string, number>>;
  };
  /** Closed loop: the steps of the saturation search; this round's figures are those of the best step. */
  readonly saturation?: SaturationSummary;
  /** The workload's untimed setup on this cluster (preloaded keys, deployed contract). */
  readonly setup?: { readonly txs: number; readonly seconds: number };
  /** Measured transactions that committed with receipt OK but were not seen on every (live) validator. */
  readonly notOnAll?: number;
  /** Node CPU (all validators) over the measured phase per transaction committed OK in it (`committed`), ms. */
  readonly cpuMsPerTx?: number;
  /** Consensus messages and their bytes sent by all validators per block committed in the measured phase. */
  readonly consensus?: { readonly messagesPerBlock: number; readonly bytesPerBlock: number };
  /** With --repeat N: each headline figure over the N trials (mean and 95 % interval). */
  readonly trials?: TrialSummary;
  /** Set when the round ran on an emulated network between the validators: what, and how. */
  readonly network?: {
    /** e.g. "50 ms", "50 ms ± 10, 0.5 % loss, 100 Mbit/s", or the latency matrix's label. */
    readonly label: string;
    /** How it was emulated (namespaces, relay, iptables). */
    readonly method: string;
    /** One-way delay between validators (ms), jitter (± ms), packet loss (%), link rate (Mbit/s). */
    readonly latencyMs: number;
    readonly jitterMs: number;
    readonly lossPercent: number;
    readonly bandwidthMbit?: number;
    /** One-way delay from validator i (row) to j (column), ms, when not uniform. */
    readonly matrix?: readonly (readonly number[])[];
  };
  /** With --profile: every node's CPU over the measured phase, per committed transaction, by layer (profile.ts). */
  readonly profile?: ProfileAccount;
  /** Warnings about this round. */
  readonly notes?: readonly string[];
}

/** One step of a saturation search: open loop at `rate` for a short measured phase. */
export interface SaturationStep {
  readonly rate: number;
  readonly sendRate: number;
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly successRate: number;
}

export interface SaturationSummary {
  readonly steps: readonly SaturationStep[];
  /** The offered rate of the best step, and its throughput: the saturation point. */
  readonly rate: number;
  readonly throughput: number;
  /** Why the search stopped. */
  readonly reason: string;
}

/** A sweep: the same workload at several settings, one row per point. */
export interface SweepResult {
  readonly name: string;
  /** What varies: "validators", "maxBlockTxs", ... */
  readonly parameter: string;
  readonly points: readonly { readonly value: number; readonly round: string }[];
}

/** One row of the assessment-criteria table (fg-dlt.md section 3). */
export interface CriterionRow {
  readonly criterion: string;
  /** The measured value with its unit, or how Cairn meets it. */
  readonly value: string;
  /** The round(s) or test(s) it comes from. */
  readonly source: string;
}

export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly title: string;
  /** ISO 8601 start time. */
  readonly date: string;
  readonly durationSec: number;
  /** Full disclosure. */
  readonly system: {
    readonly cairnVersion: string;
    readonly commit: string | undefined;
    readonly consensus: string;
    readonly dataStore: string;
    readonly network: string;
    readonly target: "processes" | "docker";
    readonly hardware: { readonly cpuModel: string; readonly cores: number; readonly memoryGiB: number };
    readonly os: string;
    readonly node: string;
    /** Native Ed25519 verifications per second on all cores, measured at the start of the run. */
    readonly verifiesPerSec: number;
  };
  readonly rounds: readonly RoundResult[];
  readonly sweeps: readonly SweepResult[];
  /** The same rounds on each engine, side by side (`--consensus raft,tendermint`). */
  readonly comparisons?: readonly EngineComparison[];
  /** What reproduces the report. */
  readonly reproduce?: Reproduction;
  readonly criteria: readonly CriterionRow[];
  /** Consensus at scale, in simulation (not measured): ./simulation/scale.ts. */
  readonly simulation?: SimulationReport;
  /** Warnings a reader must see (machine busy, a target missed, a fault not healed). */
  readonly notes: readonly string[];
}

/** One simulated configuration: an engine on n validators over a latency model (simulation/scale.ts). */
export interface SimulatedPoint {
  readonly engine: "tendermint" | "raft";
  readonly validators: number;
  /** The latency model, e.g. "uniform 50 ms". */
  readonly model: string;
  /** Blocks measured. */
  readonly blocks: number;
  /** Consensus messages the validators broadcast per block (what cairn_consensus_messages_total{direction="sent"} counts). */
  readonly messagesPerBlock: number;
  /** Link transmissions per block once gossip relays them, and their bytes. */
  readonly transmissionsPerBlock: number;
  readonly bytesPerBlock: number;
  /** Mean consensus rounds per block: 1 when every block commits in its first round (Raft: always 1). */
  readonly roundsPerBlock: number;
  /** From a block's first proposal to its commit on every validator, ms. */
  readonly commitLatencyMs: { readonly mean: number; readonly p50: number; readonly p95: number };
  /** Mean time between successive blocks committed on every validator, ms. */
  readonly blockTimeMs: number;
}

/** A measured round beside the simulation of the same engine, size and network. */
export interface SimulationComparison {
  readonly round: string;
  readonly engine: "tendermint" | "raft";
  readonly validators: number;
  readonly model: string;
  /** Measured: consensus messages broadcast per block, and the mean time between blocks (ms). */
  readonly measured: { readonly messagesPerBlock?: number; readonly blockTimeMs?: number };
  readonly simulated: { readonly messagesPerBlock: number; readonly blockTimeMs: number };
}

export interface SimulationReport {
  /** Always "simulation": these figures are a model's, not measurements. */
  readonly kind: "simulation";
  /** What is modelled and what is not. */
  readonly method: string;
  readonly points: readonly SimulatedPoint[];
  readonly comparisons: readonly SimulationComparison[];
  /** Seconds the simulation took to run. */
  readonly seconds: number;
}

/** One round run on each engine: its rounds' names, by engine. */
export interface EngineComparison {
  /** The round without the engine: "kv · half load · 4 validators". */
  readonly name: string;
  readonly rounds: Readonly<Partial<Record<"tendermint" | "raft", string>>>;
}

/** Everything needed to run the report again. */
export interface Reproduction {
  /** The command line, as typed (`cairn bench ...`). */
  readonly command: string;
  /** Full commit hash, and whether the working tree had uncommitted changes. */
  readonly commit: string | undefined;
  readonly dirty: boolean;
  /** Repeated trials per round. */
  readonly repeat: number;
  /** Each cluster's genesis (chain parameters, engine) and node0's config.json, by configuration. */
  readonly clusters: readonly { readonly name: string; readonly genesis?: unknown; readonly config?: unknown }[];
  /** The workload files' contents, by workload name. */
  readonly workloads: Readonly<Record<string, unknown>>;
}

// Repeated trials (`--repeat N`; summarised by ./trials.ts).

/** A figure over repeated trials: its values, their mean and the half-width of the 95 % interval. */
export interface TrialFigure {
  readonly values: readonly number[];
  readonly mean: number;
  /** Half-width of the 95 % confidence interval of the mean; NaN with a single trial. */
  readonly ci95: number;
}

/** The headline figures a round's trials are summarised by. */
export const TRIAL_FIGURES = [
  "throughput",
  "p50",
  "p95",
  "p99",
  "cpuMsPerTx",
  "messagesPerBlock",
  "bytesPerBlock",
  "recoverySec",
] as const;
export type TrialFigureName = (typeof TRIAL_FIGURES)[number];

export interface TrialSummary {
  readonly n: number;
  readonly figures: Readonly<Partial<Record<TrialFigureName, TrialFigure>>>;
}
