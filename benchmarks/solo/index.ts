// Macro benchmark of a one-node (solo) chain, driven the way a user runs it: `npm run bench:solo`.
//
//   1. `cairn init` a fresh chain in a temp dir, pre-sign N kv puts with its admin key (untimed);
//   2. `cairn start` it as a separate process;
//   3. send the transactions over HTTP (POST /txs, msgpack batches, C requests in flight), resending
//      those refused with MEMPOOL_FULL after a back-off;
//   4. watch GET /events (server-sent events) for the blocks that commit them.
//
// Reports committed tx/s over the window first send -> last commit, commit latency per transaction
// (block seen committed minus the first send of its batch), rejections by code, and the node
// process's CPU and memory; prints a Markdown table and writes benchmarks/results/solo-latest.json.
import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  CAIRN,
  type ContentionReport,
  describeContention,
  describeMachine,
  followEvents,
  formatCodes,
  formatNumber,
  formatSummary,
  freePort,
  intOption,
  kvPut,
  Load,
  LoadMonitor,
  loadStats,
  type MachineInfo,
  machineInfo,
  markdownTable,
  type ProfileSummary,
  parseArgs,
  presign,
  procSample,
  ROOT,
  recordBlock,
  sendLoad,
  startCairnNode,
  stopNode,
  summariseProfile,
  threadCpu,
  waitForQuiet,
  waitHealthy,
} from "@cairn/bench";
import { fromHex, keyPairFromSecret } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";

const USAGE = `usage: npm run bench:solo -- [options]
  --txs N            transactions to commit (default 60000, at most 1000000)
  --batch B          transactions per POST /txs (default 500)
  --concurrency C    POST requests in flight (default 4)
  --json FILE        results file (default benchmarks/results/solo-latest.json)
  --timeout S        abort the measured phase after S seconds (default 300)
  --expiry H         expiry height of every transaction (default 900; the chain starts at 0)
  --value-bytes V    size of each kv value (default 32)
  --log-level SPEC   passed to \`cairn start --log-level\` (default: the node's config, "info")
  --node-config JSON merged into the node's config.json after \`cairn init\`, e.g. '{"verifyWorkers":1}'
  --cpu-prof DIR     run the node under \`node --cpu-prof\`, write profiles to DIR and summarise them
  --wait-quiet       wait (up to 5 min) for other processes to leave the CPU idle before measuring
  --keep             keep the node's home directory`;

const opts = parseArgs(
  process.argv.slice(2),
  {
    txs: "string",
    batch: "string",
    concurrency: "string",
    json: "string",
    timeout: "string",
    expiry: "string",
    "value-bytes": "string",
    "log-level": "string",
    "node-config": "string",
    "cpu-prof": "string",
    keep: "boolean",
    "wait-quiet": "boolean",
  },
  USAGE,
);
const N = intOption(opts, "txs", 60_000);
const BATCH = intOption(opts, "batch", 500);
const CONCURRENCY = intOption(opts, "concurrency", 4);
const TIMEOUT_MS = intOption(opts, "timeout", 300) * 1000;
const EXPIRY = intOption(opts, "expiry", 900);
const VALUE_BYTES = intOption(opts, "value-bytes", 32);
const LOG_LEVEL = opts.get("log-level") as string | undefined;
const NODE_CONFIG = parseNodeConfig(opts.get("node-config"));
const CPU_PROF = opts.has("cpu-prof") ? resolve(String(opts.get("cpu-prof"))) : undefined;
const JSON_OUT = resolve(String(opts.get("json") ?? join(ROOT, "benchmarks/results/solo-latest.json")));
if (N > 1_000_000) {
  process.stderr.write("--txs is bounded at 1,000,000\n");
  process.exit(2);
}

function parseNodeConfig(v: string | true | undefined): Record<string, unknown> | undefined {
  if (typeof v !== "string") return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    if (typeof o === "object" && o !== null && !Array.isArray(o)) return o as Record<string, unknown>;
  } catch {
    // reported below
  }
  process.stderr.write(`--node-config must be a JSON object, got ${v}\n`);
  process.exit(2);
}

/** `patch` merged into `base`, objects recursively. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> =>
      typeof x === "object" && x !== null && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? merge(b, v) : v;
  }
  return out;
}

const log = (s: string) => process.stderr.write(`[bench:solo] ${s}\n`);

// ---------------------------------------------------------------------------------------------
// The node process

function startNode(home: string, logFile: string): ChildProcess {
  return startCairnNode(home, logFile, {
    ...(CPU_PROF === undefined ? {} : { cpuProfDir: CPU_PROF }),
    ...(LOG_LEVEL === undefined ? {} : { logLevel: LOG_LEVEL }),
  });
}

// ---------------------------------------------------------------------------------------------
// The committed-block stream

interface BlockSeen {
  readonly height: number;
  readonly txCount: number;
  /** performance.now() when the event arrived. */
  readonly at: number;
  /** Block header time (node clock, ms since epoch). */
  readonly time: number;
}

// ---------------------------------------------------------------------------------------------
// Run

interface Timeline {
  /** Seconds since the first send. */
  readonly t: number;
  readonly accepted: number;
  readonly committed: number;
  readonly height: number;
  /** Node CPU over the last interval, in cores (1.0 = one core busy). */
  readonly nodeCores: number;
  readonly rssMiB: number;
}

export interface SoloResults {
  readonly kind: "cairn-solo";
  readonly machine: MachineInfo;
  readonly options: {
    readonly txs: number;
    readonly batch: number;
    readonly concurrency: number;
    readonly expiry: number;
    readonly valueBytes: number;
    readonly logLevel: string | null;
    readonly cpuProfile: boolean;
  };
  /** The node's config.json as it ran. */
  readonly nodeConfig: Record<string, unknown>;
  readonly presign: { readonly seconds: number; readonly txPerSec: number; readonly envelopeBytes: number };
  readonly outcome: "completed" | "timeout";
  readonly committedTxPerSec: number;
  readonly windowSec: number;
  readonly sent: number;
  readonly accepted: number;
  readonly committed: number;
  readonly committedOk: number;
  readonly failed: number;
  readonly requests: number;
  readonly resent: number;
  readonly rejections: Record<string, number>;
  readonly receiptFailures: Record<string, number>;
  readonly httpErrors: Record<string, number>;
  /** Commit latency from the first send of a transaction's batch, ms. */
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Commit latency from the send that was accepted (excludes MEMPOOL_FULL back-off), ms. */
  readonly latencyFromAcceptedSendMs: { p50: number; p95: number; p99: number; max: number };
  /** Admission rate: accepted transactions per second, first send to last accepted response. */
  readonly acceptedTxPerSec: number;
  readonly blocks: {
    readonly count: number;
    readonly meanTxs: number;
    readonly maxTxs: number;
    readonly lastHeight: number;
  };
  readonly node: {
    readonly pid: number;
    readonly cpuSec: number;
    readonly userSec: number;
    readonly sysSec: number;
    /** Average cores used over the measured window. */
    readonly cores: number;
    readonly rssMiBEnd: number;
    readonly rssMiBMax: number;
    readonly threads: number;
    /** CPU seconds by thread name over the measured window. */
    readonly threadCpuSec: Record<string, number>;
    readonly exit: number | string | null;
  };
  readonly client: { readonly cpuSec: number; readonly cores: number };
  readonly contention: ContentionReport;
  readonly timeline: Timeline[];
  readonly profiles?: ProfileSummary[];
}

async function main(): Promise<SoloResults> {
  const home = await mkdtemp(join(tmpdir(), "cairn-bench-solo-"));
  const logFile = join(home, "node.log");
  let child: ChildProcess | undefined;
  const abort = new AbortController();
  try {
    const port = await freePort();
    const init = spawnSync(
      process.execPath,
      [CAIRN, "init", "--home", join(home, "node"), "--api-port", String(port)],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    if (init.status !== 0) throw new Error(`cairn init failed (${init.status}):\n${init.stdout}${init.stderr}`);
    const nodeHome = join(home, "node");
    let nodeConfig = JSON.parse(readFileSync(join(nodeHome, "config.json"), "utf8")) as Record<string, unknown>;
    if (NODE_CONFIG !== undefined) {
      nodeConfig = merge(nodeConfig, NODE_CONFIG);
      writeFileSync(join(nodeHome, "config.json"), `${JSON.stringify(nodeConfig, null, 2)}\n`);
    }
    const genesis = JSON.parse(readFileSync(join(nodeHome, "genesis.json"), "utf8")) as { chainId: string };
    const keyFile = JSON.parse(readFileSync(join(nodeHome, "keys", "admin.json"), "utf8")) as { secretKey: string };
    const admin = keyPairFromSecret(fromHex(keyFile.secretKey));
    const signer = createNativeSigner(admin.secretKey, admin.publicKey);

    // Pre-sign everything and pre-encode the batches: none of it is part of the measured phase.
    log(`pre-signing ${N.toLocaleString("en-US")} kv puts (expiry ${EXPIRY}, ${VALUE_BYTES} B values)...`);
    const t0 = performance.now();
    const { envelopes, envelopeBytes, hashIndex, jobs } = presign(N, BATCH, (i) =>
      kvPut(genesis.chainId, signer, EXPIRY, "bench-", i, VALUE_BYTES),
    );
    const presignSec = (performance.now() - t0) / 1000;
    log(`pre-signed in ${presignSec.toFixed(1)} s (${formatNumber(N / presignSec)} tx/s)`);

    if (CPU_PROF !== undefined) mkdirSync(CPU_PROF, { recursive: true });
    const profilesBefore = new Set(CPU_PROF === undefined ? [] : readdirSync(CPU_PROF));
    child = startNode(nodeHome, logFile);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, child, logFile);
    const pid = child.pid as number;
    log(`node started (pid ${pid}) at ${url}`);

    const load = new Load(N);
    const blocks: BlockSeen[] = [];
    let allDone: () => void = () => {};
    const finished = new Promise<void>((r) => {
      allDone = r;
    });
    const events = followEvents(
      url,
      (e, at) => {
        blocks.push({ height: e.height, txCount: e.txCount, at, time: e.time });
        recordBlock(load, hashIndex, e.receipts, at);
        if (load.finished >= N) allDone();
      },
      abort.signal,
    );
    events.done.catch((e) => {
      log(`event stream failed: ${(e as Error).message}`);
      allDone();
    });
    await events.ready;

    if (opts.has("wait-quiet")) await waitForQuiet(300_000, 0.15, log);
    // Measured just before the load, with the node idle: the machine's speed of the moment.
    const machine = machineInfo();

    // Measured phase.
    const monitor = new LoadMonitor();
    const clientCpu0 = process.cpuUsage();
    const node0 = procSample(pid);
    const threads0 = threadCpu(pid);
    const start = performance.now();
    const deadline = start + TIMEOUT_MS;
    const timeline: Timeline[] = [];
    let rssMax = node0?.rssMiB ?? 0;
    let lastCpu = node0?.cpuSec ?? 0;
    let lastT = start;
    const sampler = setInterval(() => {
      const s = procSample(pid);
      if (s === undefined) return;
      const now = performance.now();
      rssMax = Math.max(rssMax, s.rssMiB);
      timeline.push({
        t: Math.round((now - start) / 100) / 10,
        accepted: load.accepted,
        committed: load.committed,
        height: blocks.at(-1)?.height ?? 0,
        nodeCores: Math.round(((s.cpuSec - lastCpu) / ((now - lastT) / 1000)) * 100) / 100,
        rssMiB: Math.round(s.rssMiB),
      });
      lastCpu = s.cpuSec;
      lastT = now;
    }, 1000);
    const progress = setInterval(() => {
      log(
        `${((performance.now() - start) / 1000).toFixed(0)} s: accepted ${load.accepted}, committed ${load.committed}, height ${
          blocks.at(-1)?.height ?? 0
        }`,
      );
    }, 10_000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), Math.max(0, deadline - performance.now()));
    });
    await sendLoad({ urls: [url], envelopes, jobs, load, deadline, batch: BATCH, concurrency: CONCURRENCY });
    if (load.finished >= N) allDone();
    const outcome = await Promise.race([finished.then(() => "completed" as const), timeout]);
    clearTimeout(timer);
    clearInterval(sampler);
    clearInterval(progress);
    const nodeEnd = procSample(pid);
    const threadsEnd = threadCpu(pid);
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientCpuSec = (clientCpu.user + clientCpu.system) / 1e6;
    const nodeCpuSec = (nodeEnd?.cpuSec ?? Number.NaN) - (node0?.cpuSec ?? Number.NaN);
    const contention = monitor.stop(nodeCpuSec + clientCpuSec);
    if (outcome === "timeout") log(`timed out after ${TIMEOUT_MS / 1000} s`);

    abort.abort();
    await events.done.catch(() => {});
    const exit = await stopNode(child);
    log(`node stopped (exit ${exit})`);

    // Statistics.
    const { sent, firstSend, lastCommit, latencyMs, latencyFromAcceptedSendMs } = loadStats(load);
    let ok = load.committed;
    for (const r of load.receiptFailures.values()) ok -= r;
    const windowSec = (lastCommit - firstSend) / 1000;
    const txBlocks = blocks.filter((b) => b.txCount > 0);
    const threadCpuSec: Record<string, number> = {};
    for (const [k, v] of threadsEnd) {
      const d = v - (threads0.get(k) ?? 0);
      if (d > 0.005) threadCpuSec[k] = Math.round(d * 100) / 100;
    }
    let profiles: ProfileSummary[] | undefined;
    if (CPU_PROF !== undefined) {
      const fresh = readdirSync(CPU_PROF).filter((f) => f.endsWith(".cpuprofile") && !profilesBefore.has(f));
      profiles = fresh.sort().map((f) => summariseProfile(join(CPU_PROF, f), 30));
    }
    const r = (x: number) => Math.round(x * 10) / 10;
    return {
      kind: "cairn-solo",
      machine,
      options: {
        txs: N,
        batch: BATCH,
        concurrency: CONCURRENCY,
        expiry: EXPIRY,
        valueBytes: VALUE_BYTES,
        logLevel: LOG_LEVEL ?? null,
        cpuProfile: CPU_PROF !== undefined,
      },
      nodeConfig,
      presign: {
        seconds: r(presignSec),
        txPerSec: Math.round(N / presignSec),
        envelopeBytes: Math.round(envelopeBytes / N),
      },
      outcome,
      committedTxPerSec: Math.round(load.committed / windowSec),
      windowSec: Math.round(windowSec * 1000) / 1000,
      sent,
      accepted: load.accepted,
      committed: load.committed,
      committedOk: ok,
      failed: load.failed,
      requests: load.requests,
      resent: load.resent,
      rejections: Object.fromEntries(load.rejections),
      receiptFailures: Object.fromEntries(load.receiptFailures),
      httpErrors: Object.fromEntries(load.httpErrors),
      latencyMs,
      latencyFromAcceptedSendMs,
      acceptedTxPerSec: Math.round(load.accepted / ((load.lastAcceptAt - firstSend) / 1000)),
      blocks: {
        count: txBlocks.length,
        meanTxs: Math.round(txBlocks.reduce((s, b) => s + b.txCount, 0) / Math.max(1, txBlocks.length)),
        maxTxs: Math.max(0, ...txBlocks.map((b) => b.txCount)),
        lastHeight: blocks.at(-1)?.height ?? 0,
      },
      node: {
        pid,
        cpuSec: r(nodeCpuSec),
        userSec: r((nodeEnd?.userSec ?? 0) - (node0?.userSec ?? 0)),
        sysSec: r((nodeEnd?.sysSec ?? 0) - (node0?.sysSec ?? 0)),
        cores: Math.round((nodeCpuSec / windowSec) * 100) / 100,
        rssMiBEnd: Math.round(nodeEnd?.rssMiB ?? Number.NaN),
        rssMiBMax: Math.round(Math.max(rssMax, nodeEnd?.hwmMiB ?? 0)),
        threads: nodeEnd?.threads ?? 0,
        threadCpuSec,
        exit,
      },
      client: { cpuSec: r(clientCpuSec), cores: Math.round((clientCpuSec / windowSec) * 100) / 100 },
      contention,
      timeline,
      ...(profiles === undefined ? {} : { profiles }),
    };
  } finally {
    abort.abort();
    if (child !== undefined) await stopNode(child).catch(() => {});
    if (opts.has("keep")) log(`kept ${home} (node log: ${logFile})`);
    else await rm(home, { recursive: true, force: true });
  }
}

function report(res: SoloResults): string {
  const codes = formatCodes;
  const ms = (x: number) => `${formatNumber(x)} ms`;
  const threads = Object.entries(res.node.threadCpuSec)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(", ");
  const rows: [string, string][] = [
    [
      "Committed throughput",
      `**${formatNumber(res.committedTxPerSec)} tx/s** (target 5,000 tx/s: ${res.committedTxPerSec >= 5000 ? "met" : "NOT met"})`,
    ],
    [
      "Outcome",
      `${res.outcome}: ${res.committed.toLocaleString("en-US")} of ${res.options.txs.toLocaleString("en-US")} committed in ${res.windowSec.toFixed(2)} s (first send to last commit)`,
    ],
    ["Receipts OK", res.committedOk.toLocaleString("en-US")],
    [
      "Commit latency (from first send)",
      `p50 ${ms(res.latencyMs.p50)}, p95 ${ms(res.latencyMs.p95)}, p99 ${ms(res.latencyMs.p99)}, max ${ms(res.latencyMs.max)}`,
    ],
    [
      "Commit latency (from accepted send)",
      `p50 ${ms(res.latencyFromAcceptedSendMs.p50)}, p95 ${ms(res.latencyFromAcceptedSendMs.p95)}, p99 ${ms(res.latencyFromAcceptedSendMs.p99)}`,
    ],
    ["Admission rate", `${formatNumber(res.acceptedTxPerSec)} tx/s accepted (first send to last accepted response)`],
    ["Rejections at submission", `${codes(res.rejections)} (resent: ${res.resent.toLocaleString("en-US")})`],
    ["Failed receipts", codes(res.receiptFailures)],
    ["HTTP errors", codes(res.httpErrors)],
    [
      "Requests",
      `${res.requests.toLocaleString("en-US")} POST /txs (batch ${res.options.batch}, ${res.options.concurrency} in flight, msgpack)`,
    ],
    [
      "Node config",
      `${NODE_CONFIG === undefined ? "as `cairn init` wrote it" : `overrides ${JSON.stringify(NODE_CONFIG)}`}${
        res.options.logLevel === null ? "" : `, --log-level ${res.options.logLevel}`
      }${res.options.cpuProfile ? ", under --cpu-prof" : ""}`,
    ],
    [
      "Blocks",
      `${res.blocks.count} with txs, mean ${res.blocks.meanTxs} txs, max ${res.blocks.maxTxs}; last height ${res.blocks.lastHeight}`,
    ],
    [
      "Node CPU",
      `${res.node.cpuSec.toFixed(1)} s (user ${res.node.userSec.toFixed(1)}, sys ${res.node.sysSec.toFixed(1)}) = ${res.node.cores.toFixed(2)} cores over the window`,
    ],
    ["Node CPU by thread", threads],
    [
      "Node memory",
      `RSS ${res.node.rssMiBEnd} MiB at end, peak ${res.node.rssMiBMax} MiB, ${res.node.threads} threads`,
    ],
    ["Load client CPU", `${res.client.cpuSec.toFixed(1)} s = ${res.client.cores.toFixed(2)} cores`],
    [
      "Other processes",
      `${res.contention.otherCores.toFixed(2)} cores on average (load average ${res.contention.loadAvgAtStart.toFixed(2)} at start)`,
    ],
    [
      "Pre-signing (untimed)",
      `${res.presign.seconds} s, ${formatNumber(res.presign.txPerSec)} tx/s, ${res.presign.envelopeBytes} B per envelope`,
    ],
  ];
  return `## Cairn solo benchmark\n\n${describeMachine(res.machine)}\n\n${markdownTable(["Metric", "Value"], rows)}\n`;
}

const res = await main();
process.stdout.write(`\n${report(res)}\n`);
process.stdout.write(`Load: ${describeContention(res.contention)}\n`);
if (res.contention.otherCores > 0.2) {
  process.stdout.write("WARNING: other processes were using the CPU during the run; the numbers are not reliable.\n");
}
if (res.profiles !== undefined) for (const p of res.profiles) process.stdout.write(`\n${formatSummary(p)}\n`);
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, `${JSON.stringify(res, null, 2)}\n`);
process.stdout.write(`\nWrote ${JSON_OUT}\n`);
