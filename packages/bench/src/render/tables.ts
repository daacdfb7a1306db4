// The report's tables as plain data (header, alignment, rows of text), built once and rendered by
// both the Markdown and the HTML renderer, so the two always show the same figures.

import { buildCriteria } from "../criteria.ts";
import {
  type BenchReport,
  type CriterionRow,
  type RoundResult,
  TRIAL_FIGURES,
  type TrialFigureName,
} from "../report.ts";
import { compareFigures, FIGURE_INFO, figureOf, formatFigure, verdict } from "../trials.ts";
import { formatCodes, formatCount, formatNumber, formatPercent, formatRate, formatSeconds } from "./format.ts";

export interface Table {
  /** Stable id (HTML anchors, tests). */
  readonly id: string;
  readonly title: string;
  /** What the table shows and how its figures were taken; plain text. */
  readonly caption?: string;
  readonly header: readonly string[];
  /** "r" for numeric columns. */
  readonly align: readonly ("l" | "r")[];
  readonly rows: readonly (readonly string[])[];
  /** Shown instead of an empty table. */
  readonly empty: string;
}

function table(t: Omit<Table, "align"> & { readonly numeric?: readonly number[] }): Table {
  const numeric = new Set(t.numeric ?? []);
  return { ...t, align: t.header.map((_, i) => (numeric.has(i) ? "r" : "l")) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Caliper's summary layout; latency is submit → commit on every validator (the PSWG threshold for BFT). */
/** The one line under the title: when, how long, which Cairn (commit), consensus, hardware, target. */
export function headline(report: BenchReport): string {
  const s = report.system;
  const commit = s.commit === undefined ? "" : ` (${s.commit})`;
  return `${report.date} · ${formatNumber(report.durationSec)} s · Cairn ${s.cairnVersion}${commit} · ${s.consensus} · ${s.hardware.cpuModel}, ${s.hardware.cores} cores · ${s.target}`;
}

export function summaryTable(report: BenchReport): Table {
  return table({
    id: "summary",
    title: "Summary",
    caption:
      "Caliper's columns. Succ/Fail: transactions committed with receipt OK / refused or failed. Throughput: committed valid transactions per second (goodput). Latency: submit to commit on all validators (100 %, the threshold that is meaningful for BFT).",
    header: [
      "Name",
      "Succ",
      "Fail",
      "Send Rate (TPS)",
      "Max Latency (s)",
      "Min Latency (s)",
      "Avg Latency (s)",
      "Throughput (TPS)",
    ],
    numeric: range(1, 7),
    rows: report.rounds.map((r) => [
      r.name,
      formatCount(r.succeeded),
      formatCount(r.failed),
      formatRate(r.sendRate),
      formatSeconds(r.latencyAll.max),
      formatSeconds(r.latencyAll.min),
      formatSeconds(r.latencyAll.mean),
      formatRate(r.throughput),
    ]),
    empty: "No round in this report.",
  });
}

function modeText(r: RoundResult): string {
  return r.mode === "open" ? `open loop @ ${formatCount(r.targetRate ?? Number.NaN)} tx/s` : "closed loop";
}

export function roundsTable(report: BenchReport): Table {
  return table({
    id: "rounds",
    title: "Rounds",
    caption:
      "How each round ran. Verification bound: this machine's native Ed25519 verifications per second on all cores divided by the number of validators (every validator checks every signature); the ratio is the round's throughput over it.",
    header: [
      "Name",
      "Workload",
      "Validators",
      "Load",
      "Max block txs",
      "Blocks: count · mean / max txs · per s",
      "Warm-up (s)",
      "Measured (s)",
      "Verify bound (TPS)",
      "Ratio to bound",
    ],
    numeric: [2, 4, 6, 7, 8, 9],
    rows: report.rounds.map((r) => [
      r.name,
      r.workload,
      String(r.validators),
      modeText(r),
      formatCount(r.block.maxTxs),
      r.blocks === undefined
        ? "–"
        : `${formatCount(r.blocks.count)} · ${formatCount(r.blocks.meanTxs)} / ${formatCount(r.blocks.maxTxs)} · ${formatNumber(r.blocks.perSec)}`,
      formatNumber(r.warmupSec),
      formatNumber(r.durationSec),
      formatRate(r.verifyBound.boundTxPerSec),
      formatPercent(r.verifyBound.ratio),
    ]),
    empty: "No round in this report.",
  });
}

export function latencyTable(report: BenchReport): Table {
  return table({
    id: "latency",
    title: "Latency percentiles and success",
    caption:
      "Seconds from submit to commit on all validators, then on the first validator to commit. Failures are counted by error or receipt code; the last column counts transactions committed OK that some live validator was not seen to commit (they have no all-validators latency).",
    header: [
      "Name",
      "p50 (s)",
      "p95 (s)",
      "p99 (s)",
      "Std dev (s)",
      "First p50 (s)",
      "First p99 (s)",
      "Success rate",
      "Failures by code",
      "OK but not seen on all validators",
    ],
    numeric: [...range(1, 7), 9],
    rows: report.rounds.map((r) => [
      r.name,
      formatSeconds(r.latencyAll.p50),
      formatSeconds(r.latencyAll.p95),
      formatSeconds(r.latencyAll.p99),
      formatSeconds(r.latencyAll.stddev),
      formatSeconds(r.latencyFirst.p50),
      formatSeconds(r.latencyFirst.p99),
      formatPercent(r.successRate, 2),
      formatCodes(r.failures),
      r.notOnAll === undefined ? "–" : formatCount(r.notOnAll),
    ]),
    empty: "No round in this report.",
  });
}

export function readsTable(report: BenchReport): Table {
  const rounds = report.rounds.filter((r) => r.reads !== undefined);
  return table({
    id: "reads",
    title: "Reads",
    caption: "Queries issued alongside the writes: completed reads per second and their latency (request to answer).",
    header: [
      "Name",
      "Reads",
      "Read throughput (reads/s)",
      "Avg (s)",
      "p50 (s)",
      "p95 (s)",
      "p99 (s)",
      "Max (s)",
      "Failed",
    ],
    numeric: range(1, 8),
    rows: rounds.map((r) => {
      const reads = r.reads as NonNullable<RoundResult["reads"]>;
      return [
        r.name,
        formatCount(reads.latency.count),
        formatRate(reads.throughput),
        formatSeconds(reads.latency.mean),
        formatSeconds(reads.latency.p50),
        formatSeconds(reads.latency.p95),
        formatSeconds(reads.latency.p99),
        formatSeconds(reads.latency.max),
        formatCount(reads.failed),
      ];
    }),
    empty: "No round measured reads.",
  });
}

/** What the per-node resource tables show (one table per round, under one heading). */
export const RESOURCES_CAPTION =
  "Over the measured phase of each round: process CPU (seconds, and cores on average), resident memory, disk I/O of the process (/proc/PID/io), the data directory's size at the end, and peer-to-peer payload bytes. One table per round, one row per node.";

/** The per-node resources of one round: a row per node, every figure on one line. */
export function resourcesTable(r: RoundResult, index: number): Table {
  return table({
    id: `resources-${index}`,
    title: r.name,
    header: [
      "Node",
      "CPU (s)",
      "CPU (cores)",
      "RSS mean (MiB)",
      "RSS peak (MiB)",
      "Disk write (MiB)",
      "Disk read (MiB)",
      "Storage (MiB)",
      "Net sent (MiB)",
      "Net recv (MiB)",
    ],
    numeric: range(1, 9),
    rows: r.nodes.map((n) => [
      n.name,
      formatNumber(n.cpuSec),
      formatNumber(n.cpuCores),
      formatNumber(n.rssMiB.mean),
      formatNumber(n.rssMiB.peak),
      formatNumber(n.diskWriteMiB),
      formatNumber(n.diskReadMiB),
      formatNumber(n.storageMiB),
      formatNumber(n.netSentMiB),
      formatNumber(n.netReceivedMiB),
    ]),
    empty: "No per-node resources were recorded in this round.",
  });
}

export function resourcesTables(report: BenchReport): Table[] {
  return report.rounds.map((r, i) => resourcesTable(r, i));
}

/** What the profile tables show (one per profiled round). */
export const PROFILE_CAPTION =
  "cairn bench --profile: every node's CPU over the measured phase divided by the transactions committed OK in it, in µs per transaction per node, by layer. The main thread's CPU (/proc) is split in the proportions of its V8 CPU profile samples in the phase (a sample belongs to the innermost frame of a Cairn package or a known library); the verify workers' threads count as signature verification, libuv's pool as storage (LevelDB), V8's helper threads as GC. Top functions are self time on the main thread.";

/** One profiled round: µs of CPU per committed transaction per node, by layer, with each layer's top functions. */
export function profileTable(r: RoundResult, index: number): Table {
  const p = r.profile;
  const nodes = p?.nodes ?? [];
  return table({
    id: `profile-${index}`,
    title: r.name,
    ...(p === undefined
      ? {}
      : {
          caption: `${formatCount(p.committed)} transactions committed OK; ${formatNumber(p.usPerTx)} µs of CPU per transaction per node (${formatNumber(
            p.usPerTx * nodes.length,
          )} µs over the ${nodes.length} nodes); ${formatCount(p.samples)} main-thread samples; the profiler's own threads (not in the table) ${formatNumber(
            p.profilerUsPerTx,
          )} µs per transaction per node.${(p.notes ?? []).length > 0 ? ` ${(p.notes ?? []).join("; ")}.` : ""}`,
        }),
    header: ["Layer", "µs/tx per node", "Share", ...nodes, "Top functions (µs/tx per node)"],
    numeric: range(1, 2 + nodes.length),
    rows:
      p === undefined
        ? []
        : [
            ...p.layers
              .filter((l) => l.usPerTx > 0)
              .sort((a, b) => b.usPerTx - a.usPerTx)
              .map((l) => [
                l.layer,
                formatNumber(l.usPerTx),
                formatPercent(l.pct / 100),
                ...l.perNode.map((x) => formatNumber(x)),
                l.top.map((f) => `${f.name} ${formatNumber(f.usPerTx)}`).join("; "),
              ]),
            ["total", formatNumber(p.usPerTx), "100 %", ...p.usPerTxPerNode.map((x) => formatNumber(x)), ""],
          ],
    empty: "This round was not profiled.",
  });
}

export function profileTables(report: BenchReport): Table[] {
  return report.rounds.flatMap((r, i) => (r.profile === undefined ? [] : [profileTable(r, i)]));
}

/** What each engine costs per unit of work: node CPU per committed transaction, consensus traffic per block. */
export function costTable(report: BenchReport): Table {
  return table({
    id: "cost",
    title: "Consensus cost",
    caption:
      "Node CPU of all validators per transaction committed with receipt OK; consensus messages and their bytes sent by all validators (cairn_consensus_messages_total, each broadcast counted once) per block committed in the measured phase; blocks per second.",
    header: ["Name", "Engine", "CPU per tx (ms)", "Messages per block", "Bytes per block", "Blocks/s", "Txs per block"],
    numeric: range(2, 6),
    rows: report.rounds.map((r) => [
      r.name,
      r.engine === "raft" ? "Raft" : "Tendermint",
      r.cpuMsPerTx === undefined ? "–" : formatNumber(r.cpuMsPerTx),
      r.consensus === undefined ? "–" : formatNumber(r.consensus.messagesPerBlock),
      r.consensus === undefined ? "–" : formatCount(r.consensus.bytesPerBlock),
      r.blocks === undefined ? "–" : formatNumber(r.blocks.perSec),
      r.blocks === undefined ? "–" : formatNumber(r.blocks.meanTxs),
    ]),
    empty: "No round in this report.",
  });
}

const figureDigits = (name: TrialFigureName) => (name === "cpuMsPerTx" || name === "recoverySec" ? 2 : 0);

/** With --repeat: every headline figure of every round as mean ± 95 % interval, and the trials' values. */
export function trialsTable(report: BenchReport): Table {
  const rows: string[][] = [];
  for (const r of report.rounds) {
    if (r.trials === undefined) continue;
    for (const name of TRIAL_FIGURES) {
      const f = r.trials.figures[name];
      if (f === undefined) continue;
      const info = FIGURE_INFO[name];
      rows.push([
        r.name,
        `${info.label}${info.unit === "" ? "" : ` (${info.unit})`}`,
        formatFigure(f, figureDigits(name)),
        f.values.map((v) => formatFigure({ values: [v], mean: v, ci95: Number.NaN }, figureDigits(name))).join(", "),
      ]);
    }
  }
  return table({
    id: "trials",
    title: "Repeated trials",
    caption:
      "Each round ran several times on the same cluster. Mean ± the half-width of its 95 % confidence interval (Student's t with n − 1 degrees of freedom), then each trial's value. Two figures differ only when their intervals do not overlap.",
    header: ["Name", "Figure", "Mean ± 95 % CI", "Trials"],
    numeric: [2],
    rows,
    empty:
      "Each round ran once (no --repeat): no intervals; two reports' single figures cannot be told apart from noise.",
  });
}

/**
 * Two rounds figure by figure: the round's name, the figure, A's and B's value (± 95 % interval),
 * B / A, and whether the difference is shown. Used by the engine comparison and `cairn bench compare`.
 */
export function figureComparisonRows(
  round: string,
  a: RoundResult,
  b: RoundResult,
  labels: [string, string],
): string[][] {
  const rows: string[][] = [];
  for (const name of TRIAL_FIGURES) {
    const fa = figureOf(a, name);
    const fb = figureOf(b, name);
    if (fa === undefined || fb === undefined) continue;
    const info = FIGURE_INFO[name];
    const cmp = compareFigures(fa, fb);
    rows.push([
      round,
      `${info.label}${info.unit === "" ? "" : ` (${info.unit})`}`,
      formatFigure(fa, figureDigits(name)),
      formatFigure(fb, figureDigits(name)),
      Number.isFinite(cmp.ratio) ? cmp.ratio.toFixed(2) : "–",
      verdict(cmp, info.higherIsBetter, labels),
    ]);
  }
  return rows;
}

/** The same rounds on Tendermint and Raft, figure by figure, with whether the difference is shown. */
export function engineComparisonTable(report: BenchReport): Table {
  const byName = new Map(report.rounds.map((r) => [r.name, r]));
  const rows: string[][] = [];
  for (const c of report.comparisons ?? []) {
    const t = c.rounds.tendermint === undefined ? undefined : byName.get(c.rounds.tendermint);
    const r = c.rounds.raft === undefined ? undefined : byName.get(c.rounds.raft);
    if (t === undefined || r === undefined) continue;
    rows.push(...figureComparisonRows(c.name, t, r, ["Tendermint", "Raft"]));
  }
  return table({
    id: "engines",
    title: "Tendermint and Raft side by side",
    caption:
      "The same workload on a chain of each engine in one run (a half-load round offers half that engine's own saturation throughput). Figures are means ± 95 % intervals over the trials; a difference is reported only when the intervals do not overlap.",
    header: ["Round", "Figure", "Tendermint", "Raft", "Raft / Tendermint", "Difference"],
    numeric: [2, 3, 4],
    rows,
    empty: "This report ran one engine (compare engines with --consensus tendermint,raft).",
  });
}

/** What reproduces the report: the command, the commit, each cluster's configuration, the workload files. */
export function reproduceTable(report: BenchReport): Table {
  const p = report.reproduce;
  const rows: string[][] =
    p === undefined
      ? []
      : [
          ["Command", p.command],
          [
            "Commit",
            `${p.commit ?? "unknown (not a git checkout)"}${p.dirty ? " (uncommitted changes in the working tree)" : ""}`,
          ],
          ["Trials per round", String(p.repeat)],
          ...p.clusters.flatMap((c) => [
            [
              `Genesis: ${c.name}`,
              c.genesis === undefined ? "not available (attached cluster)" : JSON.stringify(c.genesis),
            ],
            [
              `Node config (node0): ${c.name}`,
              c.config === undefined ? "not available (attached cluster)" : JSON.stringify(c.config),
            ],
          ]),
          ...Object.entries(p.workloads).map(([name, w]) => [`Workload file: ${name}`, JSON.stringify(w)]),
        ];
  return table({
    id: "reproduce",
    title: "Reproduce",
    caption:
      "Everything this run used: check out the commit, put the workload files in benchmarks/workloads, run the command.",
    header: ["Item", "Value"],
    rows,
    empty: "This report predates the reproduce section.",
  });
}

export function generatorTable(report: BenchReport): Table {
  return table({
    id: "generator",
    title: "Load generator",
    caption:
      "The benchmark's own process: transactions are signed before the measured phase, so its CPU during the phase shows it was not the bottleneck.",
    header: ["Round", "CPU (s)", "CPU (cores)", "Pre-signing (s)", "CPU per committed tx (µs)"],
    numeric: [1, 2, 3, 4],
    rows: report.rounds.map((r) => [
      r.name,
      formatNumber(r.generator.cpuSec),
      formatNumber(r.generator.cpuCores),
      formatNumber(r.generator.presignSec),
      formatNumber(r.succeeded > 0 ? (r.generator.cpuSec * 1e6) / r.succeeded : Number.NaN),
    ]),
    empty: "No round in this report.",
  });
}

export function faultsTable(report: BenchReport): Table {
  return table({
    id: "faults",
    title: "Faults",
    caption:
      "Committed tx/s in the window before the fault, while it lasted, and after it was healed; recovery is the time from the fault (or from the heal, for a partition) to the next commit; caught up is the time from the heal until the nodes it hit reached the cluster's head; safe means every honest node ended with the same blocks.",
    header: [
      "Round",
      "Fault",
      "Targets",
      "At (s)",
      "Healed at (s)",
      "Before (TPS)",
      "During (TPS)",
      "After (TPS)",
      "During / before",
      "Recovery (s)",
      "Caught up (s)",
      "Safe",
      "Notes",
    ],
    numeric: [...range(3, 8), 10],
    rows: report.rounds.flatMap((r) =>
      r.faults.map((f) => [
        r.name,
        f.kind,
        f.targets.join(", "),
        formatNumber(f.at),
        f.healedAt === undefined ? "not healed" : formatNumber(f.healedAt),
        formatRate(f.throughputBefore),
        formatRate(f.throughputDuring),
        f.throughputAfter === undefined ? "–" : formatRate(f.throughputAfter),
        f.throughputBefore > 0 ? formatPercent(f.throughputDuring / f.throughputBefore) : "–",
        f.recoverySec === null
          ? `no commit after the ${f.recoveryFrom === "heal" ? "heal" : "fault"}`
          : `${formatNumber(f.recoverySec)}${f.recoveryFrom === "heal" ? " after the heal" : ""}`,
        f.caughtUpSec === undefined ? "–" : f.caughtUpSec === null ? "never" : formatNumber(f.caughtUpSec),
        f.safe ? "yes" : "NO",
        [
          f.victimHeight === undefined ? "" : `the killed proposer was due at height ${formatCount(f.victimHeight)}`,
          f.error === undefined ? "" : `error: ${f.error}`,
        ]
          .filter((x) => x !== "")
          .join("; ") || "–",
      ]),
    ),
    empty: "No fault was injected in this report.",
  });
}

export function sweepTables(report: BenchReport): Table[] {
  const byName = new Map(report.rounds.map((r) => [r.name, r]));
  return report.sweeps.map((s, i) =>
    table({
      id: `sweep-${i}`,
      title: `Sweep: ${s.name}`,
      caption: `The same workload at each value of ${s.parameter}; one row per point.`,
      header: [
        s.parameter,
        "Round",
        "Throughput (TPS)",
        "Avg latency (s)",
        "p99 latency (s)",
        "Success rate",
        "Ratio to bound",
      ],
      numeric: [0, 2, 3, 4, 5, 6],
      rows: s.points.map((p) => {
        const r = byName.get(p.round);
        if (r === undefined) return [formatNumber(p.value), p.round, "–", "–", "–", "–", "missing round"];
        return [
          formatNumber(p.value),
          r.name,
          formatRate(r.throughput),
          formatSeconds(r.latencyAll.mean),
          formatSeconds(r.latencyAll.p99),
          formatPercent(r.successRate, 2),
          formatPercent(r.verifyBound.ratio),
        ];
      }),
      empty: "This sweep has no point.",
    }),
  );
}

export function workloadsTable(report: BenchReport): Table {
  const seen = new Map<string, RoundResult>();
  for (const r of report.rounds) if (!seen.has(r.workload)) seen.set(r.workload, r);
  return table({
    id: "workloads",
    title: "Workloads",
    caption:
      "What each workload sends, by how many signing keys, and its untimed setup (preloaded keys, deployed contract). Transactions are signed before the measured phase.",
    header: ["Workload", "Description", "Senders", "Setup"],
    numeric: [2],
    rows: [...seen.values()].map((r) => [
      r.workload,
      r.description ?? "–",
      r.senders === undefined ? "–" : formatCount(r.senders),
      r.setup === undefined ? "none" : `${formatCount(r.setup.txs)} txs in ${formatNumber(r.setup.seconds)} s`,
    ]),
    empty: "No round in this report.",
  });
}

export function saturationTable(report: BenchReport): Table {
  return table({
    id: "saturation",
    title: "Saturation search",
    caption:
      "Closed-loop rounds search for the saturation point with short open-loop steps at rising offered rates; the round's figures are those of the best step (marked).",
    header: [
      "Round",
      "Offered (TPS)",
      "Send rate (TPS)",
      "Throughput (TPS)",
      "p50 (s)",
      "p99 (s)",
      "Success rate",
      "Step",
    ],
    numeric: range(1, 6),
    rows: report.rounds.flatMap((r) =>
      (r.saturation?.steps ?? []).map((st) => [
        r.name,
        formatCount(st.rate),
        formatRate(st.sendRate),
        formatRate(st.throughput),
        formatSeconds(st.p50),
        formatSeconds(st.p99),
        formatPercent(st.successRate, 2),
        st.rate === r.saturation?.rate ? `saturation point (search stopped: ${r.saturation.reason})` : "",
      ]),
    ),
    empty: "No round searched for its saturation point.",
  });
}

/** The report's notes, then each round's, prefixed with the round's name. */
export function allNotes(report: BenchReport): string[] {
  return [...report.notes, ...report.rounds.flatMap((r) => (r.notes ?? []).map((n) => `${r.name}: ${n}`))];
}

/** The criteria the report carries, or computed from it when the runner left them out. */
export function criteriaOf(report: BenchReport): readonly CriterionRow[] {
  return report.criteria.length > 0 ? report.criteria : buildCriteria(report);
}

export function criteriaTable(report: BenchReport): Table {
  return table({
    id: "criteria",
    title: "Assessment criteria",
    caption:
      "Each criterion of the FG DLT assessment framework (fg-dlt.md section 3: the Hyperledger PSWG metrics Caliper implements, BLOCKBENCH's scalability and fault tolerance, the disclosure a report owes, and the F.751.7 / X.1404 groups a benchmark does not measure) with its value in this run or how Cairn meets it.",
    header: ["Criterion", "Value", "Source"],
    rows: criteriaOf(report).map((c) => [c.criterion, c.value, c.source]),
    empty: "No criteria.",
  });
}

/** Rounds run on an emulated network between the validators: what the network was, and how it was made. */
export function networksTable(report: BenchReport): Table {
  const emulated = report.rounds.filter((r) => r.network !== undefined);
  const ms = (v: number) => `${formatNumber(v)} ms`;
  return table({
    id: "networks",
    title: "Emulated networks",
    caption: `${emulated[0]?.network?.method ?? "Rounds can run on an emulated network (cairn bench --latency, --jitter, --loss, --bandwidth, --latency-matrix)."} Latency is one way: a round trip between two validators takes twice it. A real WAN adds what this does not model: routes that change, congestion from other traffic, asymmetric links and the validators' own distance from their clients.`,
    header: ["Round", "Network", "One-way latency", "Jitter", "Loss", "Bandwidth (each link, each way)"],
    rows: emulated.map((r) => {
      const n = r.network as NonNullable<RoundResult["network"]>;
      const latency =
        n.matrix === undefined
          ? ms(n.latencyMs)
          : `${n.matrix.map((row, i) => `node${i}: ${row.map((v) => formatNumber(v)).join(" / ")}`).join("; ")} ms`;
      return [
        r.name,
        n.label,
        latency,
        n.jitterMs > 0 ? `± ${ms(n.jitterMs)}` : "none",
        n.lossPercent > 0 ? `${formatNumber(n.lossPercent)} %` : "none",
        n.bandwidthMbit === undefined ? "not limited" : `${formatNumber(n.bandwidthMbit)} Mbit/s`,
      ];
    }),
    empty: "No round ran on an emulated network: every figure is from the local network named in the disclosure.",
  });
}

/** Consensus at scale, in simulation: one row per engine, latency model and n. */
export function simulationTable(report: BenchReport): Table {
  const sim = report.simulation;
  const ms = (v: number) => (Number.isFinite(v) ? formatNumber(v) : "–");
  return table({
    id: "simulation",
    title: "Consensus at scale (SIMULATION, not measured)",
    caption: sim?.method ?? "Not simulated in this run (cairn bench --simulate; the standard suite simulates).",
    header: [
      "Engine",
      "Latency model",
      "Validators",
      "Messages per block",
      "Transmissions per block",
      "KiB per block",
      "Rounds per block",
      "Commit latency mean / p95 (ms)",
      "Block time (ms)",
    ],
    numeric: [2, 3, 4, 5, 6, 7, 8],
    rows: (sim?.points ?? []).map((p) => [
      p.engine === "raft" ? "Raft" : "Tendermint",
      p.model,
      String(p.validators),
      formatNumber(p.messagesPerBlock),
      formatCount(Math.round(p.transmissionsPerBlock)),
      formatCount(Math.round(p.bytesPerBlock / 1024)),
      formatNumber(p.roundsPerBlock),
      `${ms(p.commitLatencyMs.mean)} / ${ms(p.commitLatencyMs.p95)}`,
      ms(p.blockTimeMs),
    ]),
    empty: "Not simulated in this run (cairn bench --simulate; the standard suite simulates).",
  });
}

/** The simulation's small-n figures beside the measured saturation rounds of the same engine, size and network. */
export function simulationComparisonTable(report: BenchReport): Table {
  const c = report.simulation?.comparisons ?? [];
  const v = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : formatNumber(x));
  return table({
    id: "simulation-vs-measured",
    title: "Simulation against measurement",
    caption:
      "Each measured closed-loop round beside the simulated point of the same engine, validator count and network (loopback, or one emulated delay). The measured block time includes executing and storing full blocks, which the model leaves out: where it is far above the simulated one, the node's own work, not the network, sets the pace.",
    header: [
      "Measured round",
      "Model",
      "Messages per block (measured / simulated)",
      "Block time, ms (measured / simulated)",
    ],
    rows: c.map((x) => [
      x.round,
      x.model,
      `${v(x.measured.messagesPerBlock)} / ${v(x.simulated.messagesPerBlock)}`,
      `${v(x.measured.blockTimeMs)} / ${v(x.simulated.blockTimeMs)}`,
    ]),
    empty: "No measured closed-loop round matches a simulated point (engine, validator count and network).",
  });
}

export function disclosureTable(report: BenchReport): Table {
  const s = report.system;
  const rows: [string, string][] = [
    ["Cairn version", s.cairnVersion],
    ["Commit", s.commit ?? "unknown (not a git checkout)"],
    ["Consensus", s.consensus],
    ["Validators", [...new Set(report.rounds.map((r) => r.validators))].join(", ") || "–"],
    ["Workloads", [...new Set(report.rounds.map((r) => r.workload))].join(", ") || "–"],
    [
      "Faults injected",
      report.rounds
        .flatMap((r) =>
          r.faults.map((f) => `${f.kind} of ${f.targets.join(", ")} at ${formatNumber(f.at)} s (${r.name})`),
        )
        .join("; ") || "none",
    ],
    ["Data store", s.dataStore],
    ["Network", s.network],
    [
      "Emulated network",
      [...new Set(report.rounds.flatMap((r) => (r.network === undefined ? [] : [r.network.label])))].join("; ") ||
        "none",
    ],
    ["Nodes run as", s.target === "docker" ? "Docker containers" : "processes on one machine"],
    ["Hardware", `${s.hardware.cpuModel}, ${s.hardware.cores} cores, ${formatNumber(s.hardware.memoryGiB)} GiB memory`],
    ["Operating system", s.os],
    ["Node.js", s.node],
    ["Ed25519 verifications/s (all cores, native)", formatCount(s.verifiesPerSec)],
    ["Started", report.date],
    ["Duration", `${formatNumber(report.durationSec)} s`],
  ];
  return table({
    id: "disclosure",
    title: "Full disclosure",
    caption: "What the assessment criteria ask a report to disclose, so that a reader can reproduce or discount it.",
    header: ["Item", "Value"],
    rows,
    empty: "",
  });
}

/** Every table of the report, in the order both renderers show them (sweeps included). */
export function allTables(report: BenchReport): Table[] {
  return [
    summaryTable(report),
    roundsTable(report),
    workloadsTable(report),
    saturationTable(report),
    latencyTable(report),
    readsTable(report),
    costTable(report),
    trialsTable(report),
    engineComparisonTable(report),
    ...resourcesTables(report),
    ...profileTables(report),
    generatorTable(report),
    faultsTable(report),
    networksTable(report),
    simulationTable(report),
    simulationComparisonTable(report),
    ...sweepTables(report),
    criteriaTable(report),
    disclosureTable(report),
    reproduceTable(report),
  ];
}
