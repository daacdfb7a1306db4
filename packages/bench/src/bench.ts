// `cairn bench`: runs a plan of rounds (one workload at one setting each) on one cluster per
// configuration (validator count, block bound), measures the machine's signature-verification bound
// first, and assembles the BenchReport: every round, the sweeps over network size and block
// settings, the assessment criteria and the notes a reader must see.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, type as osType, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { BFT_MAX_BLOCK_TXS } from "@cairn/cluster";
import { buildCriteria } from "./criteria.ts";
import type { FaultPlan } from "./faults.ts";
import { CLK_TCK, cpuModel, gitCommit, machineCpuSeconds, measureVerifiesPerSec, waitForQuiet } from "./machine.ts";
import { emulationUnavailable } from "./netns.ts";
import { EMULATION_METHOD, emulates, type NetworkProfile, networkLabel } from "./network/profile.ts";
import { type PreparedWorkload, prepareWorkload } from "./ops.ts";
import { ROOT } from "./process.ts";
import { accountRound, type ProfileWindow } from "./profile.ts";
import { renderHtml, renderMarkdown } from "./render/index.ts";
import {
  type BenchReport,
  type EngineComparison,
  REPORT_SCHEMA,
  type Reproduction,
  type RoundResult,
  type SaturationStep,
  type SweepResult,
} from "./report.ts";
import { runRound, summaryLine } from "./round.ts";
import { searchSaturation } from "./saturation.ts";
import { Session } from "./session.ts";
import { runSimulation, type SimulationPlan } from "./simulation/plan.ts";
import type { BenchTarget, ClusterSpec } from "./target.ts";
import { AttachedTarget } from "./targets/attached.ts";
import { ProcessTarget } from "./targets/processes.ts";
import { mergeTrials } from "./trials.ts";
import { loadWorkload, splitRate, type WorkloadSpec, workloadPath } from "./workload.ts";

/** One round of a plan, before it runs. */
export interface RoundSpec {
  /** Workload name (benchmarks/workloads/NAME.json) or file. */
  readonly workload: string;
  /**
   * open: at `rate` (default the workload's); closed: saturation search; half: open loop at half
   * the saturation throughput of an earlier closed round of the same workload on the same cluster.
   */
  readonly mode: "open" | "closed" | "half";
  readonly rate?: number;
  readonly durationSec?: number;
  readonly warmupSec?: number;
  readonly fault?: FaultPlan;
  /** A point of a sweep: the sweep's name and parameter, and this point's value. */
  readonly sweep?: { readonly name: string; readonly parameter: string; readonly value: number };
}

/** One cluster configuration and the rounds run on it. */
export interface ClusterPlan {
  readonly validators: number;
  readonly maxBlockTxs?: number;
  /** The chain's consensus engine (default "tendermint"). */
  readonly engine?: "tendermint" | "raft";
  /** An emulated network between the validators (network/profile.ts); default: the plain local network. */
  readonly network?: NetworkProfile;
  readonly rounds: readonly RoundSpec[];
}

export interface SaturationSettings {
  /** First step's rate; default 25 % of the verification bound of the cluster (at least 50). */
  readonly startRate?: number;
  readonly factor?: number;
  readonly maxSteps?: number;
  /** Warm-up and measured seconds of each step (default 3 and 10). */
  readonly stepWarmupSec?: number;
  readonly stepDurationSec?: number;
}

export interface BenchOptions {
  readonly title?: string;
  readonly plans: readonly ClusterPlan[];
  /** Trials of each round (default 1): the report gives each figure's mean and 95 % interval. */
  readonly repeat?: number;
  /** The command line that started the run, for the report's "reproduce" section. */
  readonly command?: string;
  /** Attach to a running cluster instead of starting one (then exactly one plan). */
  readonly attach?: { readonly urls: readonly string[]; readonly keysDir: string };
  /** Override every workload's senders. */
  readonly senders?: number;
  readonly emptyBlockIntervalMs?: number;
  readonly saturation?: SaturationSettings;
  /** Bound on the whole run (s): rounds that would start after it are skipped, with a note. */
  readonly timeLimitSec?: number;
  readonly keep?: boolean;
  readonly logLevel?: string;
  /** Wait (up to 5 min) for the machine to be idle before starting. */
  readonly waitQuiet?: boolean;
  /** Reported as the Cairn version. */
  readonly cairnVersion?: string;
  /** The `cairn` launcher to start nodes with (default: this repository's). */
  readonly cairn?: string;
  /** Working directory for relative workload paths. */
  readonly cwd?: string;
  /**
   * Profile every node (`cairn start --cpu-profile`) and account each round's CPU per committed transaction
   * by layer (profile.ts): the directory the profiles are written to (kept), or true for a
   * temporary one (removed at the end).
   */
  readonly profile?: boolean | string;
  /** Consensus at scale in simulation, run after the clusters (simulation/plan.ts); default: none. */
  readonly simulation?: SimulationPlan;
  readonly log?: (line: string) => void;
  readonly progress?: (line: string) => void;
  /** Builds the target for a cluster (tests and the Docker target plug in here); default processes or attached. */
  readonly makeTarget?: (cluster: ClusterSpec) => BenchTarget;
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m?.[1] !== undefined) return `${m[1]}, ${osType()} ${release()}`;
  } catch {
    // not Linux
  }
  return `${osType()} ${release()}`;
}

function defaultVersion(): string {
  try {
    const p = new URL("../../node/package.json", import.meta.url).pathname;
    return (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** "300 tx/s", or "300 tx/s + 300 reads/s" for a mix with reads, at an offered rate of operations. */
export function rateLabel(spec: WorkloadSpec, opsRate: number): string {
  const { txRate, readRate } = splitRate(spec, opsRate);
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  return readRate > 0 ? `${f(txRate)} tx/s + ${f(readRate)} reads/s` : `${f(txRate)} tx/s`;
}

/** Caliper's "Name" of a round: unique within a report. */
export function roundName(
  spec: WorkloadSpec,
  round: RoundSpec,
  opsRate: number,
  cluster: { validators: number; maxBlockTxs?: number; engine?: "tendermint" | "raft"; network?: NetworkProfile },
  showBlock: boolean,
  showEngine = false,
): string {
  const parts = [
    spec.name,
    round.mode === "closed"
      ? "closed loop (saturation)"
      : round.mode === "half"
        ? `half load, ${rateLabel(spec, opsRate)}`
        : rateLabel(spec, opsRate),
    `${cluster.validators} validators`,
  ];
  if (showBlock) parts.push(`blocks ≤ ${(cluster.maxBlockTxs ?? BFT_MAX_BLOCK_TXS).toLocaleString("en-US")}`);
  if (round.fault !== undefined) parts.push(round.fault.kind);
  if (showEngine) parts.push(ENGINE_LABEL[cluster.engine ?? "tendermint"]);
  if (emulates(cluster.network)) parts.push(`${networkLabel(cluster.network)} between validators (emulated)`);
  return parts.join(" · ");
}

export const ENGINE_LABEL = { tendermint: "Tendermint", raft: "Raft" } as const;

/** What a round run on an emulated network tells about it (RoundResult.network). */
export function networkDisclosure(p: NetworkProfile): NonNullable<RoundResult["network"]> {
  return {
    label: networkLabel(p),
    method: EMULATION_METHOD,
    latencyMs: p.latencyMs,
    jitterMs: p.jitterMs,
    lossPercent: p.lossPercent,
    ...(p.bandwidthMbit === undefined ? {} : { bandwidthMbit: p.bandwidthMbit }),
    ...(p.matrix === undefined ? {} : { matrix: p.matrix.map((r) => [...r]) }),
  };
}

/** Runs the plans and returns the report (criteria included). */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const progress = o.progress ?? log;
  const started = new Date();
  const t0 = performance.now();
  // The code that runs is the code at the start (files edited during a long run do not count).
  const commitAtStart = gitCommit();
  const headAtStart = gitHead();
  const deadline = o.timeLimitSec === undefined ? Number.POSITIVE_INFINITY : t0 + o.timeLimitSec * 1000;
  const notes: string[] = [];
  if (o.attach !== undefined && o.plans.length !== 1)
    throw new Error("attached to a running cluster: one configuration only");

  // Every workload file is read and validated before anything starts.
  const specs = new Map<string, WorkloadSpec>();
  for (const p of o.plans) {
    for (const r of p.rounds) {
      if (!specs.has(r.workload)) {
        const spec = loadWorkload(r.workload, o.cwd);
        specs.set(r.workload, o.senders === undefined ? spec : { ...spec, senders: o.senders });
      }
    }
  }
  const maxSenders = Math.max(1, ...[...specs.values()].map((s) => s.senders));

  if (o.waitQuiet === true) {
    if (!(await waitForQuiet(300_000, 0.15, log))) notes.push("The machine was not idle when the run started.");
  }
  log(`measuring native Ed25519 verifications per second on ${availableParallelism()} cores...`);
  const verifiesPerSec = await measureVerifiesPerSec(1500);
  log(`${verifiesPerSec.toLocaleString("en-US")} verifies/s`);
  // Other processes' share of the machine over the run: machine busy time minus this process's and
  // its (reaped) children's, the nodes, CPU.
  const machine0 = machineCpuSeconds();
  const own0 = processTreeCpuSec();
  const wall0 = performance.now();
  const showBlock = new Set(o.plans.map((p) => p.maxBlockTxs ?? BFT_MAX_BLOCK_TXS)).size > 1;
  const engines = [...new Set(o.plans.map((p) => p.engine ?? "tendermint"))];
  const showEngine = engines.length > 1;
  const repeat = Math.max(1, Math.floor(o.repeat ?? 1));
  const clusters: Reproduction["clusters"][number][] = [];

  const rounds: RoundResult[] = [];
  // --profile: where the nodes write their CPU profiles (attached clusters cannot be profiled).
  const profileRoot =
    o.profile === undefined || o.profile === false || o.attach !== undefined
      ? undefined
      : typeof o.profile === "string"
        ? o.profile
        : mkdtempSync(join(tmpdir(), "cairn-profiles-"));
  if (o.profile !== undefined && o.profile !== false && o.attach !== undefined)
    notes.push("--profile ignored: an attached cluster's nodes are not started by the benchmark.");
  const sweepPoints = new Map<string, { parameter: string; points: { value: number; round: string }[] }>();
  let network = "loopback TCP on one machine; libp2p TCP + gossipsub";
  let plainSeen = false;
  let targetKind: "processes" | "docker" = "processes";
  const blockBounds = new Set<number>();

  for (const plan of o.plans) {
    if (performance.now() > deadline) {
      notes.push(`Time limit reached: the ${plan.validators}-validator configuration was not run.`);
      continue;
    }
    const partitionable = plan.rounds.some((r) => r.fault?.kind === "partition");
    const emulated = emulates(plan.network) ? plan.network : undefined;
    if (emulated !== undefined) {
      const why = o.attach !== undefined ? "attached to a running cluster" : emulationUnavailable();
      if (why !== undefined && o.makeTarget === undefined) {
        notes.push(`Emulated-network rounds (${networkLabel(emulated)}) skipped: ${why}.`);
        continue;
      }
    }
    const profDir = profileRoot === undefined ? undefined : join(profileRoot, `cluster-${clusters.length + 1}`);
    const cluster: ClusterSpec = {
      validators: plan.validators,
      ...(profDir === undefined ? {} : { cpuProfDir: profDir }),
      clients: maxSenders,
      ...(plan.maxBlockTxs === undefined ? {} : { maxBlockTxs: plan.maxBlockTxs }),
      ...(o.emptyBlockIntervalMs === undefined ? {} : { emptyBlockIntervalMs: o.emptyBlockIntervalMs }),
      partitionable,
      logLevel: o.logLevel ?? "warn",
      ...(plan.engine === undefined ? {} : { engine: plan.engine }),
      ...(emulated === undefined ? {} : { network: emulated }),
    };
    const target: BenchTarget =
      o.makeTarget?.(cluster) ??
      (o.attach !== undefined
        ? new AttachedTarget({ urls: o.attach.urls, keysDir: o.attach.keysDir, log })
        : new ProcessTarget({
            cluster,
            ...(o.keep === undefined ? {} : { keep: o.keep }),
            ...(o.cairn === undefined ? {} : { cairn: o.cairn }),
            log,
          }));
    // The report's network is the plain one; emulated rounds disclose theirs (RoundResult.network).
    if (emulated === undefined || !plainSeen) network = target.network;
    if (emulated === undefined) plainSeen = true;
    targetKind = target.kind;
    if (partitionable && target.capabilities.partition !== true) {
      notes.push(`Partition runs skipped: ${target.capabilities.partition}.`);
    }
    log(
      `${o.attach === undefined ? "starting" : "attaching to"} ${plan.validators} validators${
        plan.maxBlockTxs === undefined ? "" : `, blocks of at most ${plan.maxBlockTxs} txs`
      }${plan.engine === undefined ? "" : ` (${ENGINE_LABEL[plan.engine]})`}...`,
    );
    let session: Session;
    try {
      session = await Session.open(target, log);
    } catch (e) {
      await target.stop().catch(() => {});
      throw e;
    }
    const validators = session.target.nodes().length;
    clusters.push({
      name: `${validators} validators${plan.maxBlockTxs === undefined ? "" : `, blocks ≤ ${plan.maxBlockTxs}`} · ${ENGINE_LABEL[session.engine]}`,
      ...clusterFiles(session.target.nodes()[0]?.home),
    });
    const block = {
      maxTxs: plan.maxBlockTxs ?? BFT_MAX_BLOCK_TXS,
      ...(o.emptyBlockIntervalMs === undefined ? {} : { emptyBlockIntervalMs: o.emptyBlockIntervalMs }),
    };
    blockBounds.add(block.maxTxs);
    const saturationOf = new Map<string, number>();
    // --profile: each round's measured phase, and the report's rounds to account once the nodes exited.
    const profileWindows = profDir === undefined ? undefined : new Map<RoundResult, ProfileWindow>();
    const toAccount: { index: number; window: ProfileWindow }[] = [];
    const prepared = new Map<string, PreparedWorkload>();
    const bound = verifiesPerSec / validators;
    try {
      for (const rs of plan.rounds) {
        if (performance.now() > deadline) {
          notes.push(`Time limit reached: round ${rs.workload} (${rs.mode}) on ${validators} validators was not run.`);
          continue;
        }
        if (rs.fault?.kind === "partition" && target.capabilities.partition !== true) continue;
        const spec = specs.get(rs.workload) as WorkloadSpec;
        const trials: RoundResult[] = [];
        for (let trial = 0; trial < repeat; trial++) {
          if (trial > 0 && performance.now() > deadline) {
            notes.push(
              `Time limit reached: round ${rs.workload} (${rs.mode}) on ${validators} validators ran ${trial} of ${repeat} trials.`,
            );
            break;
          }
          let pw = prepared.get(rs.workload);
          if (pw === undefined) {
            pw = await prepareWorkload(session, spec, log);
            prepared.set(rs.workload, pw);
          } else {
            // A fresh signing stream for the next round of the same workload (new unique keys).
            pw = await prepareWorkload(session, spec, () => {});
          }
          const ctx = {
            session,
            verifiesPerSec,
            log,
            progress,
            ...(profileWindows === undefined ? {} : { profileWindows }),
          };
          const durationSec = rs.durationSec ?? spec.durationSec;
          const warmupSec = rs.warmupSec ?? spec.warmupSec;
          let one: RoundResult;
          if (rs.mode === "closed") {
            const st = o.saturation ?? {};
            const steps: { step: SaturationStep; round: RoundResult }[] = [];
            const name = roundName(spec, rs, 0, plan, showBlock, showEngine);
            // The search is in transactions per second; a mix with reads offers reads in proportion.
            const txShare = splitRate(spec, 1).txRate;
            const stepWarmup = rs.warmupSec ?? st.stepWarmupSec ?? 3;
            const stepDuration = rs.durationSec ?? st.stepDurationSec ?? 10;
            const outcome = await searchSaturation(
              {
                step: async (rate, k) => {
                  const round = await runRound(ctx, {
                    name: `${name} step ${k + 1} @ ${rate} tx/s`,
                    workload: k === 0 ? (pw as PreparedWorkload) : await prepareWorkload(session, spec, () => {}),
                    mode: "closed",
                    rate: rate / txShare,
                    durationSec: stepDuration,
                    warmupSec: stepWarmup,
                    drainSec: 8,
                    block,
                  });
                  const step: SaturationStep = {
                    rate,
                    sendRate: round.sendRate,
                    throughput: round.throughput,
                    p50: round.latencyAll.p50,
                    p99: Number.isNaN(round.latencyAll.p99) ? Number.POSITIVE_INFINITY : round.latencyAll.p99,
                    successRate: round.successRate,
                  };
                  steps.push({ step, round });
                  return step;
                },
              },
              {
                startRate: st.startRate ?? Math.max(50, Math.round(bound * 0.25)),
                ...(st.factor === undefined ? {} : { factor: st.factor }),
                ...(st.maxSteps === undefined ? {} : { maxSteps: st.maxSteps }),
                deadline,
              },
            );
            const bestStep = steps[outcome.best] as { step: SaturationStep; round: RoundResult };
            one = {
              ...bestStep.round,
              name,
              saturation: {
                steps: steps.map((s) => ({ ...s.step, p99: Number.isFinite(s.step.p99) ? s.step.p99 : Number.NaN })),
                rate: bestStep.step.rate,
                throughput: bestStep.step.throughput,
                reason: outcome.reason,
              },
            };
            // The search's round is its best step's, and so is its profile.
            const bestWindow = profileWindows?.get(bestStep.round);
            if (bestWindow !== undefined) profileWindows?.set(one, bestWindow);
            saturationOf.set(rs.workload, bestStep.round.throughput);
            log(
              `${name}: saturation at ${bestStep.round.throughput} tx/s (offered ${bestStep.step.rate}); ${outcome.reason}`,
            );
          } else {
            let rate = rs.rate ?? spec.rate;
            if (rs.mode === "half") {
              const sat = saturationOf.get(rs.workload);
              if (sat === undefined)
                throw new Error(`a half-load round of ${rs.workload} needs a closed-loop round before it`);
              rate = Math.max(1, Math.round(sat / 2)) / splitRate(spec, 1).txRate;
            }
            const name = roundName(spec, rs, rate, plan, showBlock, showEngine);
            one = await runRound(ctx, {
              name,
              workload: pw,
              mode: "open",
              rate,
              durationSec,
              warmupSec,
              block,
              ...(rs.fault === undefined ? {} : { fault: rs.fault }),
            });
          }
          trials.push(one);
          if (repeat > 1) log(`trial ${trial + 1} of ${repeat} done`);
        }
        if (trials.length === 0) continue;
        const merged = mergeTrials(trials);
        const result: RoundResult =
          emulated === undefined ? merged : { ...merged, network: networkDisclosure(emulated) };
        if (rs.mode === "closed") saturationOf.set(rs.workload, result.throughput);
        rounds.push(result);
        // The first trial's, like the rest of the round's detail (mergeTrials).
        const window = profileWindows?.get(trials[0] as RoundResult);
        if (window !== undefined && window.nodes.length > 0) toAccount.push({ index: rounds.length - 1, window });
        if (rs.sweep !== undefined) {
          const s = sweepPoints.get(rs.sweep.name) ?? { parameter: rs.sweep.parameter, points: [] };
          s.points.push({ value: rs.sweep.value, round: result.name });
          sweepPoints.set(rs.sweep.name, s);
        }
      }
    } finally {
      log(`stopping the ${validators}-validator cluster...`);
      await session.close();
      // The nodes wrote their profiles as they exited.
      for (const { index, window } of toAccount) {
        const r = rounds[index] as RoundResult;
        rounds[index] = {
          ...r,
          profile: accountRound(window, r.committed ?? 0, (node) => join(profDir as string, node)),
        };
      }
    }
  }

  if (profileRoot !== undefined) {
    notes.push(
      "Profiled (--profile): every node's main thread was sampled each millisecond (`cairn start --cpu-profile`), which costs some throughput; compare profiled rounds with profiled rounds.",
    );
    if (o.profile === true) rmSync(profileRoot, { recursive: true, force: true });
    else log(`CPU profiles kept in ${profileRoot} (cluster-K/nodeI/*.cpuprofile; open them in Chrome DevTools)`);
  }
  const machine1 = machineCpuSeconds();
  const own1 = processTreeCpuSec();
  const wallSec = (performance.now() - wall0) / 1000;
  if (
    o.attach === undefined &&
    machine0 !== undefined &&
    machine1 !== undefined &&
    own0 !== undefined &&
    own1 !== undefined
  ) {
    const busy = (machine1.busy - machine0.busy) / wallSec;
    const other = Math.max(0, busy - (own1 - own0) / wallSec);
    if (targetKind === "docker") {
      // Containers run under containerd, not under this process: their CPU cannot be told apart
      // from other processes' here, so only the machine's total is reported.
      notes.push(
        `The machine was busy ${busy.toFixed(2)} of ${availableParallelism()} cores on average during the run, containers included (other processes are not separated for the Docker target).`,
      );
    } else if (other > 0.2) {
      notes.push(
        `Other processes used ${other.toFixed(2)} cores on average during the run (machine busy ${busy.toFixed(
          2,
        )} of ${availableParallelism()} cores): the figures are lower than this machine gives when idle.`,
      );
    } else
      notes.push(`The machine was quiet: other processes used ${other.toFixed(2)} cores on average during the run.`);
  }
  notes.push(...targetNotes(rounds));
  const sweeps: SweepResult[] = [...sweepPoints].map(([name, s]) => ({
    name,
    parameter: s.parameter,
    points: s.points,
  }));
  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    title: o.title ?? "Cairn benchmark",
    date: started.toISOString(),
    durationSec: Math.round((performance.now() - t0) / 100) / 10,
    system: {
      cairnVersion: o.cairnVersion ?? defaultVersion(),
      commit: commitAtStart,
      consensus: `${engines
        .map((e) =>
          e === "raft"
            ? "Raft (crash-fault tolerant; pre-vote, check-quorum; election timeout 0.8-1.6 s, heartbeat 150 ms)"
            : "Tendermint BFT: propose timeout 1 s + 0.5 s per round",
        )
        .join(" and ")}; blocks of at most ${[...blockBounds]
        .map((b) => b.toLocaleString("en-US"))
        .join(" / ")} transactions; equal voting power`,
      dataStore: "LevelDB (classic-level) per node, fsync on every block commit; sparse Merkle state tree",
      network,
      target: targetKind,
      hardware: {
        cpuModel: cpuModel(),
        cores: availableParallelism(),
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      },
      os: osName(),
      node: process.version,
      verifiesPerSec,
    },
    rounds,
    sweeps,
    ...(showEngine ? { comparisons: engineComparisons(rounds) } : {}),
    reproduce: {
      command: o.command ?? "cairn bench (programmatic run)",
      commit: headAtStart,
      dirty: commitAtStart?.endsWith("+dirty") ?? false,
      repeat,
      clusters,
      workloads: Object.fromEntries(
        [...specs.keys()].map((w) => {
          try {
            return [w, JSON.parse(readFileSync(workloadPath(w, o.cwd), "utf8"))];
          } catch {
            return [w, "unreadable"];
          }
        }),
      ),
    },
    criteria: [],
    ...(o.simulation === undefined ? {} : { simulation: runSimulation(o.simulation, rounds, log) }),
    notes,
  };
  return { ...report, criteria: buildCriteria(report) };
}

/** The rounds run on both engines, paired by name. */
export function engineComparisons(rounds: readonly RoundResult[]): EngineComparison[] {
  const byName = new Map<string, Partial<Record<"tendermint" | "raft", string>>>();
  for (const r of rounds) {
    const key = comparisonKey(r);
    byName.set(key, { ...byName.get(key), [r.engine ?? "tendermint"]: r.name });
  }
  return [...byName]
    .filter(([, e]) => e.tendermint !== undefined && e.raft !== undefined)
    .map(([name, e]) => ({ name, rounds: e }));
}

/**
 * What pairs a round on one engine with the same round on the other: workload, load (a half-load
 * round's rate is half each engine's own saturation), network size, block bound and fault.
 */
export function comparisonKey(r: RoundResult): string {
  const load =
    r.mode === "closed"
      ? "saturation"
      : r.name.includes("half load")
        ? "half load"
        : `${(r.targetRate ?? 0).toLocaleString("en-US")} tx/s`;
  const parts = [r.workload, load, `${r.validators} validators`, `blocks ≤ ${r.block.maxTxs.toLocaleString("en-US")}`];
  if (r.faults[0] !== undefined)
    parts.push(r.faults[0].kind === "kill-proposer" ? "proposer/leader killed" : r.faults[0].kind);
  return parts.join(" · ");
}

/** node0's genesis and config.json, when the cluster's homes are on this machine. */
function clusterFiles(home: string | undefined): { genesis?: unknown; config?: unknown } {
  if (home === undefined) return {};
  try {
    return {
      genesis: JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")),
      config: JSON.parse(readFileSync(join(home, "config.json"), "utf8")),
    };
  } catch {
    return {};
  }
}

/** The full commit hash of this repository, if it is a git checkout. */
function gitHead(): string | undefined {
  try {
    const cwd = new URL("../../../", import.meta.url).pathname;
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of this process and of its children that have exited (the nodes, once stopped):
 * /proc/self/stat utime + stime + cutime + cstime.
 */
function processTreeCpuSec(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** The project's performance targets, stated as met or not (never asserted in tests). */
export function targetNotes(rounds: readonly RoundResult[]): string[] {
  const out: string[] = [];
  out.push(...engineTargetNotes(rounds));
  const kv4 = rounds.filter(
    (r) =>
      r.workload === "kv" && r.validators === 4 && r.faults.length === 0 && (r.engine ?? "tendermint") === "tendermint",
  );
  const sat = kv4.find((r) => r.mode === "closed");
  if (sat !== undefined) {
    const b = sat.verifyBound;
    out.push(
      `Target kv ≥ 2,000 tx/s on 4 validators: ${sat.throughput >= 2000 ? "met" : "NOT met"} (${sat.throughput.toLocaleString(
        "en-US",
      )} tx/s at saturation, ${Math.round((sat.throughput / 2000) * 100)} % of the target). The signature-verification bound of this machine is ${b.verifiesPerSec.toLocaleString(
        "en-US",
      )} verifies/s / 4 validators = ${b.boundTxPerSec.toLocaleString("en-US")} tx/s; the cluster reached ${Math.round(
        b.ratio * 100,
      )} % of it${b.boundTxPerSec < 2000 ? " (the target is above the bound: no implementation could meet it on this machine)" : ""}.`,
    );
    const half = kv4.find((r) => r.mode === "open" && r.name.includes("half load"));
    if (half !== undefined) {
      const p99 = half.latencyAll.p99;
      out.push(
        `Target p99 ≤ 1 s at half load (open loop at ${half.targetRate?.toLocaleString("en-US")} tx/s, half the saturation throughput): ${
          p99 <= 1000 ? "met" : "NOT met"
        } (p99 ${Math.round(p99).toLocaleString("en-US")} ms to commit on all validators, p50 ${Math.round(half.latencyAll.p50)} ms).`,
      );
    }
  }
  return out;
}

/**
 * The Raft targets, from rounds of one run on both engines (4 validators, kv): Raft's p50 at half load
 * at most 0.6 of Tendermint's, its saturation throughput at least Tendermint's, and commits resuming
 * within 2 s after its leader is killed.
 */
export function engineTargetNotes(rounds: readonly RoundResult[]): string[] {
  const kv4 = (engine: string) =>
    rounds.filter((r) => r.workload === "kv" && r.validators === 4 && (r.engine ?? "tendermint") === engine);
  const raft = kv4("raft");
  const bft = kv4("tendermint");
  if (raft.length === 0 || bft.length === 0) return [];
  const out: string[] = [];
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  const half = (rs: RoundResult[]) =>
    rs.find((r) => r.mode === "open" && r.faults.length === 0 && r.name.includes("half load"));
  const [rh, th] = [half(raft), half(bft)];
  if (rh !== undefined && th !== undefined) {
    const ratio = rh.latencyAll.p50 / th.latencyAll.p50;
    out.push(
      `Target Raft p50 at half load ≤ 0.6 × Tendermint's: ${ratio <= 0.6 ? "met" : "NOT met"} (Raft ${f(rh.latencyAll.p50)} ms at ${f(rh.targetRate ?? 0)} tx/s, Tendermint ${f(th.latencyAll.p50)} ms at ${f(th.targetRate ?? 0)} tx/s: ${ratio.toFixed(2)}).`,
    );
  }
  const sat = (rs: RoundResult[]) => rs.find((r) => r.mode === "closed");
  const [rs, ts] = [sat(raft), sat(bft)];
  if (rs !== undefined && ts !== undefined) {
    out.push(
      `Target Raft saturation throughput ≥ Tendermint's: ${rs.throughput >= ts.throughput ? "met" : "NOT met"} (Raft ${f(rs.throughput)} tx/s, Tendermint ${f(ts.throughput)} tx/s).`,
    );
  }
  const killed = raft.find((r) => r.faults[0]?.kind === "kill-proposer");
  const rec = killed?.trials?.figures.recoverySec?.mean ?? killed?.faults[0]?.recoverySec;
  if (killed !== undefined) {
    out.push(
      `Target commits resume within 2 s after the Raft leader is killed: ${rec !== null && rec !== undefined && rec <= 2 ? "met" : "NOT met"} (${rec === null || rec === undefined ? "no commit after the kill" : `${rec.toFixed(2)} s to the next commit`}).`,
    );
  }
  return out;
}

/** Writes DIR/NAME.json (criteria included), NAME.md and NAME.html; returns the paths. */
export function writeReports(report: BenchReport, dir: string, name = "bench-latest"): string[] {
  mkdirSync(dir, { recursive: true });
  const full: BenchReport = report.criteria.length > 0 ? report : { ...report, criteria: buildCriteria(report) };
  const paths = [join(dir, `${name}.json`), join(dir, `${name}.md`), join(dir, `${name}.html`)];
  writeFileSync(paths[0] as string, `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(paths[1] as string, renderMarkdown(full));
  writeFileSync(paths[2] as string, renderHtml(full));
  return paths;
}

/** Where `cairn bench` writes its reports by default: benchmarks/results of this repository. */
export const RESULTS_DIR = join(ROOT, "benchmarks", "results");

/** A few lines for the terminal: one per round, then the notes. */
export function reportSummary(report: BenchReport): string[] {
  const lines = [
    `${report.title}: ${report.rounds.length} rounds in ${Math.round(report.durationSec)} s; ${report.system.verifiesPerSec.toLocaleString(
      "en-US",
    )} Ed25519 verifies/s on ${report.system.hardware.cores} cores`,
  ];
  for (const r of report.rounds) lines.push(`  ${summaryLine(r)}`);
  for (const f of report.rounds.flatMap((r) => r.faults.map((x) => ({ r, x })))) {
    lines.push(
      `  ${f.r.name}: ${f.x.kind} of ${f.x.targets.join(", ")} at ${f.x.at} s: ${f.x.throughputBefore} -> ${f.x.throughputDuring} tx/s, recovery ${
        f.x.recoverySec ?? "never"
      } s, ${f.x.safe ? "no fork" : "FORK"}`,
    );
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines;
}
