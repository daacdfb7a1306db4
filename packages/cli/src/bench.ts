// `cairn bench`: benchmark a cluster against the FG DLT assessment criteria (@cairn/bench). Starts a
// local cluster of validator processes (or attaches to a running one with --url and --keys), runs
// the standard suite or the workloads given, and writes the JSON, Markdown and HTML reports.
import { resolve } from "node:path";
import { VERSION } from "@cairn/node/version";
import type { Command } from "commander";
import { printLine } from "./output.ts";
import { CliError } from "./shared.ts";

interface BenchCliOptions {
  suite?: string;
  simulate?: string | boolean;
  latency?: string;
  jitter?: string;
  loss?: string;
  bandwidth?: string;
  latencyMatrix?: string;
  consensus?: string;
  repeat?: string;
  workload?: string;
  validators?: string;
  maxBlockTxs?: string;
  rate?: string;
  saturate?: boolean;
  halfLoad?: boolean;
  duration?: string;
  warmup?: string;
  fault?: string;
  faultAt?: string;
  faultDuration?: string;
  faultNode?: string;
  partition?: string;
  senders?: string;
  url?: string;
  keys?: string;
  out?: string;
  name: string;
  title?: string;
  timeLimit: string;
  startRate?: string;
  maxSteps?: string;
  emptyBlockInterval?: string;
  keep?: boolean;
  profile?: boolean | string;
  logLevel: string;
  waitQuiet?: boolean;
  quiet?: boolean;
  target: string;
  image?: string;
  buildImage?: string;
}

function list(s: string | undefined, flag: string, min: number, max: number): number[] | undefined {
  if (s === undefined) return undefined;
  const out = s.split(",").map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((x) => !Number.isInteger(x) || x < min || x > max)) {
    throw new CliError("BAD_ARGS", `${flag} takes whole numbers from ${min} to ${max}, comma-separated, got "${s}"`);
  }
  return [...new Set(out)];
}

function num(s: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new CliError("BAD_ARGS", `${flag} must be a number from ${min} to ${max}, got "${s}"`);
  }
  return n;
}

/** A word of a command line, quoted when the shell would split or expand it. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`;
}

export function benchCommand(program: Command): void {
  const bench = program
    .command("bench")
    .description(
      "benchmark a cluster against the FG DLT assessment criteria; writes JSON, Markdown and HTML reports (default: the standard suite)",
    )
    .option(
      "--suite <name>",
      "a predefined suite: standard (the default when no --workload is given), or wan (kv on the local network, at 50 ms and across three regions; needs root)",
    )
    .option("--workload <list>", "workloads to run, comma-separated: names in benchmarks/workloads, or .json files")
    .option("--validators <list>", "validator counts; a list sweeps the network size (e.g. 4,7,10,16)", undefined)
    .option(
      "--consensus <list>",
      "engines, comma-separated: tendermint, raft; two run the same rounds on each, side by side (default tendermint; the standard suite: both)",
    )
    .option(
      "--repeat <n>",
      "trials of each round: figures are means with 95 % intervals (default 1; the standard suite: 3)",
    )
    .option("--max-block-txs <list>", "the chain's block bound; a list sweeps it (default 2000)")
    .option("--rate <ops/s>", "open loop at this offered rate (default: the workload's)")
    .option("--saturate", "closed loop: search the saturation point (rising open-loop steps)")
    .option("--half-load", "with --saturate: then open loop at half the saturation throughput")
    .option("--duration <s>", "measured seconds of each round (default: the workload's)")
    .option("--warmup <s>", "warm-up seconds of each round (default: the workload's)")
    .option("--fault <kind>", "during each round: kill-validator, kill-proposer, restart, pause or partition")
    .option("--fault-at <s>", "seconds into the measured phase (default: a third of it)")
    .option("--fault-duration <s>", "seconds a restart, pause or partition lasts before it is healed (default 5)")
    .option("--fault-node <name>", "the node a kill, restart or pause hits (default: the last validator)")
    .option("--partition <names>", "the nodes a partition cuts off, comma-separated (default: the second half)")
    .option("--senders <n>", "signing keys of every workload (overrides the workload files)")
    .option("--latency <time>", "emulate this one-way delay between validators, e.g. 50ms (needs root; docs below)")
    .option("--jitter <time>", "with --latency: each delay drawn from latency ± jitter, e.g. 10ms")
    .option("--loss <percent>", "emulate random packet loss between validators, e.g. 0.5%")
    .option("--bandwidth <rate>", "limit each validator's link, each way, e.g. 100mbit")
    .option(
      "--simulate [sizes]",
      "also simulate consensus at scale (both engines, loopback, 50 ms and three regions): at these validator counts (default 4,7,10,16,25,50,100; the standard suite: always)",
    )
    .option(
      "--latency-matrix <file>",
      "per-pair one-way delays: a JSON file, {matrix} or {regions, latency} (benchmarks/networks/three-regions.json)",
    )
    .option(
      "--target <kind>",
      "where the cluster runs: processes (on loopback) or docker (containers, docs/docker.md)",
      "processes",
    )
    .option("--image <tag>", "with --target docker: the node image (default cairn-node:latest)")
    .option(
      "--build-image <base>",
      "with --target docker: build the node image first from this base (e.g. cairn-base:24)",
    )
    .option("--url <list>", "attach to a running cluster: its validators' API URLs, comma-separated")
    .option("--keys <dir>", "with --url: the keys directory `cairn testnet` wrote (admin.json, client*.json)")
    .option("--out <dir>", "directory of the reports (default: benchmarks/results of this repository)")
    .option("--name <base>", "file name of the reports, without extension", "bench-latest")
    .option("--title <text>", "title of the report")
    .option("--time-limit <s>", "bound on the whole run; rounds past it are skipped and noted", "1800")
    .option("--start-rate <ops/s>", "first step of a saturation search (default: 25 % of the verification bound)")
    .option("--max-steps <n>", "steps of a saturation search at most (default 8)")
    .option("--empty-block-interval <ms>", "node config: how often an idle chain makes an empty block")
    .option("--log-level <spec>", "log level of the nodes", "warn")
    .option("--keep", "keep the cluster's directory (homes, keys, node logs)")
    .option(
      "--profile [dir]",
      "record every node's CPU profile during the measured phases and account the CPU per committed transaction by layer (processes target; keeps the .cpuprofile files in dir if given)",
    )
    .option("--wait-quiet", "wait (up to 5 min) for the machine to be idle before measuring")
    .option("--quiet", "no progress lines, only the result")
    .action(async (o: BenchCliOptions) => {
      const bench = await import("@cairn/bench");
      const { BFT_MAX_BLOCK_TXS } = await import("@cairn/cluster");
      const fault = (() => {
        if (o.fault === undefined) return undefined;
        if (!bench.isFaultKind(o.fault)) {
          throw new CliError("BAD_ARGS", `--fault must be one of ${bench.FAULT_KINDS.join(", ")}, got "${o.fault}"`);
        }
        return o.fault;
      })();
      const validators = list(o.validators, "--validators", 1, 64);
      const engines = (() => {
        if (o.consensus === undefined) return undefined;
        const e = [...new Set(o.consensus.split(",").map((x) => x.trim()))];
        if (e.length === 0 || e.some((x) => x !== "tendermint" && x !== "raft")) {
          throw new CliError(
            "BAD_ARGS",
            `--consensus takes tendermint and/or raft, comma-separated, got "${o.consensus}"`,
          );
        }
        return e as ("tendermint" | "raft")[];
      })();
      const repeat = num(o.repeat, "--repeat", 1, 20);
      if (repeat !== undefined && !Number.isInteger(repeat))
        throw new CliError("BAD_ARGS", "--repeat must be a whole number");
      if (engines !== undefined && o.url !== undefined) {
        throw new CliError("BAD_ARGS", "--consensus starts clusters of each engine; it does not go with --url");
      }
      const maxBlockTxs = list(o.maxBlockTxs, "--max-block-txs", 1, 10_000);
      const rate = num(o.rate, "--rate", 0.1, 100_000);
      const durationSec = num(o.duration, "--duration", 1, 3600);
      const warmupSec = num(o.warmup, "--warmup", 0, 600);
      if (o.url !== undefined && o.keys === undefined) {
        throw new CliError("BAD_ARGS", "--url needs --keys DIR (the keys directory `cairn testnet` wrote)");
      }
      const attach =
        o.url === undefined
          ? undefined
          : { urls: o.url.split(",").map((u) => u.trim()), keysDir: resolve(o.keys as string) };
      if (attach !== undefined && ((validators?.length ?? 1) > 1 || (maxBlockTxs?.length ?? 1) > 1)) {
        throw new CliError("BAD_ARGS", "attached to a running cluster (--url), sweeps are not possible");
      }
      if (o.target !== "processes" && o.target !== "docker") {
        throw new CliError("BAD_ARGS", `--target must be processes or docker, got "${o.target}"`);
      }
      if (o.target === "docker" && attach !== undefined) {
        throw new CliError("BAD_ARGS", "--target docker starts its own containers; it does not go with --url");
      }
      if (o.suite !== undefined && o.suite !== "standard" && o.suite !== "wan") {
        throw new CliError("BAD_ARGS", `--suite must be standard or wan, got "${o.suite}"`);
      }
      if (o.suite !== undefined && o.workload !== undefined) {
        throw new CliError("BAD_ARGS", "--suite and --workload exclude each other");
      }
      const network = (() => {
        try {
          const latencyMs = o.latency === undefined ? 0 : bench.parseDuration(o.latency, "--latency");
          const jitterMs = o.jitter === undefined ? 0 : bench.parseDuration(o.jitter, "--jitter");
          const lossPercent = o.loss === undefined ? 0 : bench.parsePercent(o.loss, "--loss");
          if (jitterMs > latencyMs && o.latencyMatrix === undefined) {
            throw new CliError("BAD_ARGS", "--jitter must not exceed --latency (delays are never negative)");
          }
          const profile: import("@cairn/bench").NetworkProfile = {
            latencyMs,
            jitterMs,
            lossPercent,
            ...(o.bandwidth === undefined ? {} : { bandwidthMbit: bench.parseBandwidth(o.bandwidth, "--bandwidth") }),
          };
          if (o.latencyMatrix === undefined) return bench.emulates(profile) ? profile : undefined;
          if (o.latency !== undefined)
            throw new CliError("BAD_ARGS", "--latency and --latency-matrix exclude each other");
          const sizes = validators ?? (o.workload === undefined ? [] : [4]);
          if (sizes.length !== 1) {
            throw new CliError(
              "BAD_ARGS",
              "--latency-matrix is for one network size: give --validators N (the matrix's size)",
            );
          }
          const { matrix, label } = bench.loadLatencyMatrix(resolve(o.latencyMatrix), sizes[0] as number);
          return { ...profile, matrix, label };
        } catch (e) {
          if (e instanceof bench.NetworkProfileError) throw new CliError("BAD_ARGS", e.message);
          throw e;
        }
      })();
      if (network !== undefined && (attach !== undefined || o.target === "docker")) {
        throw new CliError(
          "BAD_ARGS",
          "network emulation runs the nodes as processes in namespaces: not with --url or --target docker",
        );
      }
      let plans: import("@cairn/bench").ClusterPlan[];
      let title = o.title;
      if (o.suite === "wan") {
        plans = bench.wanSuite();
        title ??= "Cairn on an emulated wide-area network";
      } else if (o.workload === undefined) {
        plans = bench.standardSuite({
          ...(validators === undefined ? {} : { sizes: validators }),
          ...(engines === undefined ? {} : { engines }),
        });
        title ??= "Cairn standard benchmark suite";
      } else {
        const names = o.workload
          .split(",")
          .map((w) => w.trim())
          .filter((w) => w !== "");
        const sizes = attach !== undefined ? [attach.urls.length] : (validators ?? [4]);
        const blocks: (number | undefined)[] = maxBlockTxs ?? [undefined];
        const faultPlan =
          fault === undefined
            ? undefined
            : {
                kind: fault,
                atSec: num(o.faultAt, "--fault-at", 0, 3600) ?? -1,
                ...(o.faultDuration === undefined
                  ? {}
                  : { durationSec: num(o.faultDuration, "--fault-duration", 0.1, 3600) }),
                ...(o.faultNode === undefined ? {} : { targets: [o.faultNode] }),
                ...(o.partition === undefined ? {} : { side: o.partition.split(",").map((x) => x.trim()) }),
              };
        plans = [];
        for (const v of sizes) {
          for (const b of blocks) {
            const rounds: import("@cairn/bench").RoundSpec[] = [];
            for (const w of names) {
              const sweep =
                sizes.length > 1
                  ? { name: `${w} by network size`, parameter: "validators", value: v }
                  : blocks.length > 1
                    ? { name: `${w} by block bound`, parameter: "maxBlockTxs", value: b ?? BFT_MAX_BLOCK_TXS }
                    : undefined;
              const common = {
                workload: w,
                ...(durationSec === undefined ? {} : { durationSec }),
                ...(warmupSec === undefined ? {} : { warmupSec }),
              };
              if (o.saturate === true) {
                rounds.push({ ...common, mode: "closed", ...(sweep === undefined ? {} : { sweep }) });
                if (o.halfLoad === true) rounds.push({ ...common, mode: "half" });
              } else {
                rounds.push({
                  ...common,
                  mode: "open",
                  ...(rate === undefined ? {} : { rate }),
                  ...(sweep === undefined ? {} : { sweep }),
                });
              }
              if (faultPlan !== undefined) {
                const last = rounds.at(-1) as import("@cairn/bench").RoundSpec;
                const mode = last.mode === "closed" ? "half" : last.mode;
                const faulted = { ...last, mode, fault: faultPlan } as import("@cairn/bench").RoundSpec;
                // Alone in the plan, the fault round replaces the open round; after a saturation search
                // (and its half-load round) it follows them.
                if (last.mode === "closed" || last.mode === "half") rounds.push(faulted);
                else rounds[rounds.length - 1] = faulted;
              }
            }
            for (const engine of engines ?? [undefined]) {
              plans.push({
                validators: v,
                ...(b === undefined ? {} : { maxBlockTxs: b }),
                ...(engine === undefined ? {} : { engine }),
                rounds,
              });
            }
          }
        }
        // A fault with no time given: a third into the measured phase.
        for (const p of plans) {
          p.rounds.forEach((r, i) => {
            if (r.fault !== undefined && r.fault.atSec < 0) {
              const spec = bench.loadWorkload(r.workload);
              const d = r.durationSec ?? spec.durationSec;
              (p.rounds as import("@cairn/bench").RoundSpec[])[i] = {
                ...r,
                fault: { ...r.fault, atSec: Math.round(d / 3) },
              };
            }
          });
        }
      }
      const simulation =
        o.simulate === undefined && o.workload !== undefined
          ? undefined
          : {
              ...bench.defaultSimulation(),
              ...(typeof o.simulate === "string" ? { sizes: list(o.simulate, "--simulate", 2, 200) as number[] } : {}),
            };
      // The network options apply to every cluster of the run (the standard suite's own emulated round too).
      if (network !== undefined) plans = plans.map((p) => ({ ...p, network }));
      const progress = o.quiet === true ? () => {} : (s: string) => process.stderr.write(`[bench] ${s}\n`);
      const docker = o.target === "docker";
      const report = await bench.runBench({
        ...(docker
          ? {
              makeTarget: (cluster: import("@cairn/bench").ClusterSpec) =>
                new bench.DockerTarget({
                  cluster,
                  ...(o.image === undefined ? {} : { image: o.image }),
                  ...(o.buildImage === undefined ? {} : { build: { base: o.buildImage } }),
                  ...(o.keep === true ? { keep: true } : {}),
                  log: progress,
                }),
            }
          : {}),
        ...(title === undefined ? {} : { title }),
        plans,
        ...(simulation === undefined ? {} : { simulation }),
        repeat: repeat ?? (o.workload === undefined && o.suite !== "wan" ? bench.STANDARD_REPEAT : 1),
        command: ["cairn", ...process.argv.slice(2)].map(shellWord).join(" "),
        ...(attach === undefined ? {} : { attach }),
        ...(o.senders === undefined ? {} : { senders: list(o.senders, "--senders", 1, 10_000)?.[0] as number }),
        ...(o.emptyBlockInterval === undefined
          ? {}
          : { emptyBlockIntervalMs: num(o.emptyBlockInterval, "--empty-block-interval", 10, 600_000) as number }),
        saturation: {
          ...(o.startRate === undefined ? {} : { startRate: num(o.startRate, "--start-rate", 1, 100_000) as number }),
          ...(o.maxSteps === undefined ? {} : { maxSteps: num(o.maxSteps, "--max-steps", 1, 20) as number }),
        },
        timeLimitSec: num(o.timeLimit, "--time-limit", 10, 86_400) as number,
        ...(o.keep === true ? { keep: true } : {}),
        ...(typeof o.profile === "string"
          ? { profile: resolve(o.profile) }
          : o.profile === true
            ? { profile: true }
            : {}),
        logLevel: o.logLevel,
        ...(o.waitQuiet === true ? { waitQuiet: true } : {}),
        cairnVersion: VERSION,
        cwd: process.cwd(),
        log: progress,
        progress,
      });
      const dir = resolve(o.out ?? bench.RESULTS_DIR);
      const paths = bench.writeReports(report, dir, o.name);
      for (const line of bench.reportSummary(report)) printLine(line);
      printLine("");
      for (const p of paths) printLine(`wrote ${p}`);
    });
  bench
    .command("compare")
    .description("two reports side by side (Markdown and HTML): each figure, the difference, and whether it is shown")
    .argument("<a>", "the first report (a cairn bench JSON file)")
    .argument("<b>", "the second report")
    .option("--out <dir>", "directory of the comparison files (default: the first report's)")
    .option("--name <base>", "file name of the comparison, without extension", "compare-latest")
    .action(async (a: string, b: string, o: { out?: string; name: string }) => {
      const { compareReports, renderComparisonHtml, renderComparisonMarkdown, validateReport } = await import(
        "@cairn/bench"
      );
      const { readFileSync, writeFileSync, mkdirSync } = await import("node:fs");
      const { basename, dirname, join } = await import("node:path");
      const read = (file: string) => {
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(file, "utf8"));
        } catch (e) {
          throw new CliError("BAD_REPORT", `cannot read the report ${file}: ${(e as Error).message}`);
        }
        const errors = validateReport(json);
        if (errors.length > 0) {
          throw new CliError("BAD_REPORT", `${file} is not a cairn bench report: ${errors.slice(0, 3).join("; ")}`);
        }
        return json as import("@cairn/bench").BenchReport;
      };
      const [la, lb] = [basename(a, ".json"), basename(b, ".json")];
      const c = compareReports(read(a), read(b), la === lb ? ["A", "B"] : [la, lb]);
      // `cairn bench` itself has --out and --name: given after "compare", commander hands them to it.
      const parent = bench.opts<{ out?: string; name: string }>();
      const name = o.name !== "compare-latest" ? o.name : parent.name !== "bench-latest" ? parent.name : o.name;
      const dir = resolve(o.out ?? parent.out ?? dirname(a));
      mkdirSync(dir, { recursive: true });
      const md = join(dir, `${name}.md`);
      const html = join(dir, `${name}.html`);
      writeFileSync(md, renderComparisonMarkdown(c));
      writeFileSync(html, renderComparisonHtml(c));
      for (const row of c.table.rows) printLine(`${row[0]} · ${row[1]}: ${row[2]} vs ${row[3]}: ${row[5]}`);
      if (c.pairs.length === 0) printLine("no round of one report matches a round of the other");
      printLine(`wrote ${md}`);
      printLine(`wrote ${html}`);
    });
}
