// Macro benchmark of a 4-validator Tendermint cluster on loopback, started the way a user starts it:
// `npm run bench:cluster`.
//
//   1. `cairn testnet --validators 4 --out DIR --base-port P`;
//   2. `cairn start --home DIR/nodeI` for each of the 4 validators, as separate processes; untimed:
//      the workload's setup (`--workload token`: mint native tokens to 64 fresh senders;
//      `wasm-token`: deploy the example WebAssembly token, init, mint to the senders), then pre-sign
//      N transactions (kv puts with the admin key in DIR/keys/admin.json, or token transfers);
//   3. send the transactions over HTTP to all 4 nodes' APIs in turn (POST /txs, msgpack batches,
//      C requests in flight; resent after a back-off when refused with MEMPOOL_FULL or 503), either
//      as fast as admitted (closed loop, default) or at a fixed rate (`--rate`, open loop);
//   4. watch node0's GET /events for the blocks that commit them.
//
// Optional faults during the measured phase: `--kill-validator` SIGKILLs node3 and compares the
// throughput before and after; `--kill-proposer` SIGKILLs the validator due to propose the next
// height and measures the time from the kill to the next commit.
//
// Reports committed tx/s (first send -> last commit), commit latency, rejections by code, blocks
// and rounds, per-node CPU (by thread) and memory; prints a Markdown table and writes
// benchmarks/results/cluster-latest.json.
import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fromHex, keyPairFromSecret } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { formatSummary, type ProfileSummary, summariseProfile } from "../lib/cpuprofile.ts";
import { type BlockEvent, followEvents } from "../lib/events.ts";
import { formatCodes, formatNumber, intOption, markdownTable, parseArgs } from "../lib/format.ts";
import { Load, loadStats, type Percentiles, presign, recordBlock, sendLoad } from "../lib/load.ts";
import {
  type ContentionReport,
  describeContention,
  describeMachine,
  LoadMonitor,
  type MachineInfo,
  machineInfo,
  waitForQuiet,
} from "../lib/machine.ts";
import {
  CAIRN,
  freePort,
  type ProcSample,
  procSample,
  ROOT,
  sleep,
  startCairnNode,
  stopNode,
  threadCpu,
  waitHealthy,
} from "../lib/process.ts";
import { isWorkload, prepareWorkload, WORKLOADS, type Workload, type WorkloadSetup } from "../lib/workloads.ts";

const USAGE = `usage: npm run bench:cluster -- [options]
  --workload W        kv (default): kv puts by the admin key; token: native token transfers;
                      wasm-token: transfers in the example Wasm token (deployed and funded untimed)
  --senders S         funded sender keys of the token workloads (default 64)
  --txs N             transactions to commit (default 30000, at most 1000000)
  --batch B           transactions per POST /txs (default 500; 100 with --rate)
  --concurrency C     POST requests in flight, over all nodes (default 8; 32 with --rate)
  --rate R            open loop: send R tx/s (batches due at fixed times) instead of as fast as admitted
  --kill-validator    SIGKILL node3 --kill-after seconds into the measured phase; throughput before/after
  --kill-proposer     SIGKILL the validator due to propose the next height --kill-after seconds in;
                      time from the kill to the next commit
  --kill-after S      seconds into the measured phase for the kill (default 5)
  --json FILE         results file (default benchmarks/results/cluster-latest.json for kv,
                      cluster-<workload>-latest.json for the others)
  --timeout S         abort the measured phase after S seconds (default 300)
  --expiry H          expiry height of every transaction (default: the height when signing + maxTxTtl)
  --cpu-prof DIR      run node0 under \`node --cpu-prof\`, write its profile to DIR and summarise it
  --log-level SPEC    passed to \`cairn start --log-level\` (default: the node's config)
  --wait-quiet        wait (up to 5 min) for other processes to leave the CPU idle before measuring
  --keep              keep the testnet directory and the node logs`;

const opts = parseArgs(
  process.argv.slice(2),
  {
    workload: "string",
    senders: "string",
    txs: "string",
    batch: "string",
    concurrency: "string",
    rate: "string",
    "kill-validator": "boolean",
    "kill-proposer": "boolean",
    "kill-after": "string",
    json: "string",
    timeout: "string",
    expiry: "string",
    "log-level": "string",
    "cpu-prof": "string",
    keep: "boolean",
    "wait-quiet": "boolean",
  },
  USAGE,
);
const VALIDATORS = 4;
const workloadOpt = opts.get("workload") ?? "kv";
if (!isWorkload(workloadOpt)) {
  process.stderr.write(`--workload must be one of ${WORKLOADS.join(", ")}, got ${String(workloadOpt)}\n`);
  process.exit(2);
}
const WORKLOAD: Workload = workloadOpt;
const SENDERS = intOption(opts, "senders", 64);
const N = intOption(opts, "txs", 30_000);
const RATE = opts.has("rate") ? intOption(opts, "rate", 1) : undefined;
const BATCH = intOption(opts, "batch", RATE === undefined ? 500 : 100);
const CONCURRENCY = intOption(opts, "concurrency", RATE === undefined ? 8 : 32);
const TIMEOUT_MS = Math.min(intOption(opts, "timeout", 300), 300) * 1000;
const EXPIRY_OPT = opts.has("expiry") ? intOption(opts, "expiry", 1) : undefined;
const KILL_AFTER_MS = intOption(opts, "kill-after", 5) * 1000;
const KILL: "validator" | "proposer" | undefined = opts.has("kill-proposer")
  ? "proposer"
  : opts.has("kill-validator")
    ? "validator"
    : undefined;
const LOG_LEVEL = opts.get("log-level") as string | undefined;
const CPU_PROF = opts.has("cpu-prof") ? resolve(String(opts.get("cpu-prof"))) : undefined;
const JSON_OUT = resolve(
  String(
    opts.get("json") ??
      join(ROOT, "benchmarks/results", WORKLOAD === "kv" ? "cluster-latest.json" : `cluster-${WORKLOAD}-latest.json`),
  ),
);
/** Once everything is sent, the run ends when no transaction of ours commits for this long. */
const STALL_MS = 90_000;
if (N > 1_000_000) {
  process.stderr.write("--txs is bounded at 1,000,000\n");
  process.exit(2);
}
if (opts.has("kill-proposer") && opts.has("kill-validator")) {
  process.stderr.write("--kill-validator and --kill-proposer exclude each other\n");
  process.exit(2);
}

const log = (s: string) => process.stderr.write(`[bench:cluster] ${s}\n`);

/** `cairn start` of one validator; only node0 is profiled (it times the commits). */
function startNode(home: string, logFile: string, profile: boolean): ChildProcess {
  return startCairnNode(home, logFile, {
    ...(profile && CPU_PROF !== undefined ? { cpuProfDir: CPU_PROF } : {}),
    ...(LOG_LEVEL === undefined ? {} : { logLevel: LOG_LEVEL }),
  });
}

/** Whether the API (base+i) and p2p (base+100+i) ports of the 4 validators can be bound now. */
async function portsFree(base: number): Promise<boolean> {
  const ports = Array.from({ length: VALIDATORS }, (_, i) => [base + i, base + 100 + i]).flat();
  for (const port of ports) {
    const free = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once("error", () => res(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
    });
    if (!free) return false;
  }
  return true;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

interface StatusJson {
  nodeId: string;
  height: number;
  validators: { publicKey: string; name: string }[];
}
interface BlockJson {
  height: number;
  header: { proposer: string; txCount: number; time: number };
  commit: { round: number } | null;
}

interface Timeline {
  /** Seconds since the first send. */
  readonly t: number;
  readonly accepted: number;
  readonly committed: number;
  /** Our transactions committed in the last interval, per second. */
  readonly committedPerSec: number;
  readonly height: number;
  /** Each node's CPU over the last interval, in cores (NaN once it is dead). */
  readonly nodeCores: number[];
  readonly rssMiB: number[];
}

interface NodeReport {
  readonly name: string;
  readonly pid: number;
  readonly killed: boolean;
  readonly cpuSec: number;
  /** Average cores over the measured window (until the kill, for a killed node). */
  readonly cores: number;
  readonly rssMiBEnd: number;
  readonly rssMiBMax: number;
  readonly threadCpuSec: Record<string, number>;
  readonly exit: number | string | null;
}

interface KillReport {
  readonly kind: "validator" | "proposer";
  readonly node: string;
  /** Seconds after the first send. */
  readonly atSec: number;
  /** Height committed when the kill was sent. */
  readonly heightAtKill: number;
  /** ms from the kill to the next block seen committed on node0. */
  readonly nextCommitMs: number;
  /** Our committed tx/s from the first send to the kill, and from the kill to the last commit. */
  readonly txPerSecBefore: number;
  readonly txPerSecAfter: number;
  readonly afterOverBefore: number;
  /** Transactions the killed node had accepted that never committed. */
  readonly lostOnKilledNode: number;
  /** Round and proposer of the first blocks committed after the kill. */
  readonly blocksAfter: { height: number; round: number; proposer: string; txCount: number; atMs: number }[];
}

export interface ClusterResults {
  readonly kind: "cairn-cluster";
  readonly machine: MachineInfo;
  readonly options: {
    readonly workload: Workload;
    readonly validators: number;
    readonly txs: number;
    readonly batch: number;
    readonly concurrency: number;
    readonly rate: number | null;
    readonly kill: string | null;
    readonly killAfterSec: number;
    readonly expiry: number | null;
    readonly logLevel: string | null;
  };
  readonly nodeConfig: Record<string, unknown>;
  /** The workload and its untimed setup (funded senders, the deployed token). */
  readonly workload: WorkloadSetup;
  readonly presign: { readonly seconds: number; readonly txPerSec: number; readonly envelopeBytes: number };
  readonly outcome: "completed" | "timeout" | "stalled";
  readonly committedTxPerSec: number;
  readonly windowSec: number;
  /**
   * From the first block with our transactions to the last commit: seconds after the first send of
   * that first block, and the tx/s committed after it (the cluster's execution rate once it commits).
   */
  readonly afterFirstCommit: { readonly firstCommitSec: number; readonly txPerSec: number };
  readonly sent: number;
  readonly accepted: number;
  readonly acceptedByNode: number[];
  readonly committed: number;
  readonly committedOk: number;
  readonly failed: number;
  readonly requests: number;
  readonly resent: number;
  readonly rejections: Record<string, number>;
  readonly receiptFailures: Record<string, number>;
  readonly httpErrors: Record<string, number>;
  readonly latencyMs: Percentiles;
  readonly latencyFromAcceptedSendMs: Percentiles;
  readonly blocks: {
    readonly count: number;
    readonly meanTxs: number;
    readonly maxTxs: number;
    /** Mean ms between consecutive blocks with transactions (as seen on node0). */
    readonly meanIntervalMs: number;
    readonly lastHeight: number;
    /** Blocks of the window by the round they committed in. */
    readonly rounds: Record<string, number>;
    /** Blocks of the window by proposer name. */
    readonly proposers: Record<string, number>;
  };
  readonly nodes: NodeReport[];
  readonly kill?: KillReport;
  readonly client: { readonly cpuSec: number; readonly cores: number };
  readonly contention: ContentionReport;
  readonly timeline: Timeline[];
  /** node0's CPU profile summary, with --cpu-prof. */
  readonly profiles?: ProfileSummary[];
}

async function main(): Promise<ClusterResults> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-bench-cluster-"));
  const out = join(dir, "testnet");
  const children: ChildProcess[] = [];
  const abort = new AbortController();
  try {
    // API ports base+i, p2p ports base+100+i: a base picked from a free port, like the e2e test.
    let base = 20_000 + ((await freePort()) % 20_000);
    for (let tries = 0; tries < 20 && !(await portsFree(base)); tries++) {
      base = 20_000 + ((await freePort()) % 20_000);
    }
    const made = spawnSync(
      process.execPath,
      // The chain is permissioned: the token workloads' senders are registered clients.
      [
        CAIRN,
        "testnet",
        "--validators",
        String(VALIDATORS),
        "--out",
        out,
        "--base-port",
        String(base),
        "--clients",
        String(SENDERS),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`cairn testnet failed (${made.status}):\n${made.stdout}${made.stderr}`);
    const homes = Array.from({ length: VALIDATORS }, (_, i) => join(out, `node${i}`));
    const names = homes.map((_, i) => `node${i}`);
    const urls = homes.map((_, i) => `http://127.0.0.1:${base + i}`);
    const logs = homes.map((_, i) => join(dir, `node${i}.log`));
    const nodeConfig = JSON.parse(readFileSync(join(homes[0] as string, "config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const genesis = JSON.parse(readFileSync(join(homes[0] as string, "genesis.json"), "utf8")) as {
      chainId: string;
      params?: { maxTxTtl?: number };
    };
    const keyFile = JSON.parse(readFileSync(join(out, "keys", "admin.json"), "utf8")) as { secretKey: string };
    const admin = keyPairFromSecret(fromHex(keyFile.secretKey));
    const signer = createNativeSigner(admin.secretKey, admin.publicKey);
    const clientKeys = Array.from({ length: SENDERS }, (_, i) => {
      const f = join(out, "keys", i === 0 ? "client.json" : `client-${i}.json`);
      return keyPairFromSecret(fromHex((JSON.parse(readFileSync(f, "utf8")) as { secretKey: string }).secretKey));
    });

    if (CPU_PROF !== undefined) mkdirSync(CPU_PROF, { recursive: true });
    const profilesBefore = new Set(CPU_PROF === undefined ? [] : readdirSync(CPU_PROF));
    for (let i = 0; i < VALIDATORS; i++) children.push(startNode(homes[i] as string, logs[i] as string, i === 0));
    await Promise.all(urls.map((u, i) => waitHealthy(u, children[i] as ChildProcess, logs[i] as string)));
    const pids = children.map((c) => c.pid as number);
    const statuses = await Promise.all(urls.map((u) => getJson<StatusJson>(`${u}/status`)));
    const nodeIds = statuses.map((s) => s.nodeId);
    const validatorOrder = (statuses[0] as StatusJson).validators.map((v) => v.publicKey);
    const nameOfKey = new Map(nodeIds.map((id, i) => [id, names[i] as string]));
    log(`4 nodes started (pids ${pids.join(", ")}), API ports ${base}..${base + 3}`);

    // Commits as seen by node0 (the load's hashes are filled in once it is signed, after the setup).
    const load = new Load(N);
    const hashIndex = new Map<string, number>();
    const blocks: { height: number; txCount: number; ours: number; at: number }[] = [];
    let allDone: () => void = () => {};
    const finished = new Promise<void>((r) => {
      allDone = r;
    });
    let lastOurCommit = performance.now();
    const events = followEvents(
      urls[0] as string,
      (e: BlockEvent, at) => {
        const ours = recordBlock(load, hashIndex, e.receipts, at);
        if (ours > 0) lastOurCommit = at;
        blocks.push({ height: e.height, txCount: e.txCount, ours, at });
        if (load.finished >= N) allDone();
      },
      abort.signal,
    );
    events.done.catch((e) => {
      log(`event stream failed: ${(e as Error).message}`);
      allDone();
    });
    await events.ready;
    // The cluster is live once it has committed a block (peers connected, rounds going).
    const liveDeadline = performance.now() + 60_000;
    while ((await getJson<StatusJson>(`${urls[0]}/status`)).height < 1) {
      if (performance.now() > liveDeadline) throw new Error("the cluster committed no block within 60 s of starting");
      await sleep(100);
    }

    // Untimed: the workload's setup on the live chain, then the pre-signed load.
    const workload = await prepareWorkload({
      workload: WORKLOAD,
      urls,
      chainId: genesis.chainId,
      admin,
      adminSigner: signer,
      senders: SENDERS,
      senderKeys: clientKeys,
      log,
    });
    // The furthest expiry the chain accepts now is its height + maxTxTtl.
    const signedAt = (await getJson<StatusJson>(`${urls[0]}/status`)).height;
    const EXPIRY = EXPIRY_OPT ?? signedAt + (genesis.params?.maxTxTtl ?? 1000);
    log(`pre-signing ${N.toLocaleString("en-US")} txs: ${workload.setup.description} (expiry ${EXPIRY})...`);
    const t0 = performance.now();
    const { envelopes, envelopeBytes, jobs } = presign(N, BATCH, (i) => workload.sign(i, EXPIRY), hashIndex);
    const presignSec = (performance.now() - t0) / 1000;
    log(`pre-signed in ${presignSec.toFixed(1)} s`);

    if (opts.has("wait-quiet")) await waitForQuiet(300_000, 0.15, log);
    const machine = machineInfo();

    // Measured phase.
    const alive = urls.map(() => true);
    const monitor = new LoadMonitor();
    const clientCpu0 = process.cpuUsage();
    const proc0 = pids.map((p) => procSample(p));
    const threads0 = pids.map((p) => threadCpu(p));
    const procLast: (ProcSample | undefined)[] = [...proc0];
    const threadsLast = [...threads0];
    const rssMax = proc0.map((s) => s?.rssMiB ?? 0);
    const killedAt: (number | undefined)[] = urls.map(() => undefined);
    const start = performance.now();
    const deadline = start + TIMEOUT_MS;
    lastOurCommit = start;
    const timeline: Timeline[] = [];
    let lastT = start;
    let lastCommitted = 0;
    const sample = () => {
      const now = performance.now();
      const cores: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < pids.length; i++) {
        const s = alive[i] ? procSample(pids[i] as number) : undefined;
        if (s === undefined) {
          cores.push(Number.NaN);
          rss.push(Number.NaN);
          continue;
        }
        cores.push(Math.round(((s.cpuSec - (procLast[i]?.cpuSec ?? 0)) / ((now - lastT) / 1000)) * 100) / 100);
        rss.push(Math.round(s.rssMiB));
        rssMax[i] = Math.max(rssMax[i] ?? 0, s.rssMiB);
        procLast[i] = s;
        threadsLast[i] = threadCpu(pids[i] as number);
      }
      timeline.push({
        t: Math.round((now - start) / 100) / 10,
        accepted: load.accepted,
        committed: load.committed,
        committedPerSec: Math.round((load.committed - lastCommitted) / ((now - lastT) / 1000)),
        height: blocks.at(-1)?.height ?? 0,
        nodeCores: cores,
        rssMiB: rss,
      });
      lastCommitted = load.committed;
      lastT = now;
    };
    const sampler = setInterval(sample, 1000);
    const progress = setInterval(() => {
      log(
        `${((performance.now() - start) / 1000).toFixed(0)} s: accepted ${load.accepted}, committed ${load.committed}, height ${
          blocks.at(-1)?.height ?? 0
        }`,
      );
    }, 10_000);

    // The fault, if any.
    let kill: { node: number; at: number; heightAtKill: number } | undefined;
    const killTask = (async () => {
      if (KILL === undefined) return;
      await sleep(KILL_AFTER_MS);
      let victim = 3;
      if (KILL === "proposer") {
        // Proposer of (height, round 0) is validators[(height + round) % n] for equal powers (see
        // consensus/bft/proposer.ts); checked against the last block's proposer: the next height's
        // is the one after it. Skip node0, whose event stream times the commits.
        for (;;) {
          const latest = await getJson<BlockJson>(`${urls[0]}/blocks/latest`);
          const p = validatorOrder.indexOf(latest.header.proposer);
          const nextKey = validatorOrder[(p + 1) % validatorOrder.length] as string;
          const idx = nodeIds.indexOf(nextKey);
          if (idx > 0 && (blocks.at(-1)?.height ?? 0) === latest.height) {
            victim = idx;
            break;
          }
          await sleep(20);
        }
      }
      // Its CPU up to the kill.
      const s = procSample(pids[victim] as number);
      if (s !== undefined) procLast[victim] = s;
      threadsLast[victim] = threadCpu(pids[victim] as number);
      alive[victim] = false;
      const heightAtKill = blocks.at(-1)?.height ?? 0;
      const at = performance.now();
      (children[victim] as ChildProcess).kill("SIGKILL");
      killedAt[victim] = at;
      kill = { node: victim, at, heightAtKill };
      log(`killed ${names[victim]} (pid ${pids[victim]}) at height ${heightAtKill}`);
    })();

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), Math.max(0, deadline - performance.now()));
    });
    let stallTimer: NodeJS.Timeout | undefined;
    const stalled = new Promise<"stalled">((r) => {
      stallTimer = setInterval(() => {
        if (load.sendDone && performance.now() - lastOurCommit > STALL_MS) r("stalled");
      }, 500);
    });
    const sending = sendLoad({
      urls,
      alive,
      envelopes,
      jobs,
      load,
      deadline,
      batch: BATCH,
      concurrency: CONCURRENCY,
      ...(RATE === undefined ? {} : { rate: RATE }),
    }).then(() => {
      load.sendDone = true;
      if (load.finished >= N) allDone();
    });
    const outcome = await Promise.race([finished.then(() => "completed" as const), timeout, stalled]);
    await killTask;
    const end = performance.now();
    clearTimeout(timer);
    clearInterval(stallTimer);
    clearInterval(sampler);
    clearInterval(progress);
    sample();
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientCpuSec = (clientCpu.user + clientCpu.system) / 1e6;
    const nodeCpu = pids.map((_, i) => (procLast[i]?.cpuSec ?? Number.NaN) - (proc0[i]?.cpuSec ?? Number.NaN));
    const contention = monitor.stop(nodeCpu.reduce((s, x) => s + x, 0) + clientCpuSec);
    if (outcome !== "completed") log(`${outcome}: ${load.committed} of ${N} committed`);

    // Rounds and proposers of the window's blocks, from node0.
    const firstHeight = (blocks.find((b) => b.ours > 0)?.height ?? 1) - 0;
    const lastHeight = blocks.at(-1)?.height ?? 0;
    const rounds: Record<string, number> = {};
    const proposers: Record<string, number> = {};
    const blockInfo = new Map<number, BlockJson>();
    for (let h = firstHeight; h <= lastHeight && h - firstHeight < 2000; h++) {
      const b = await getJson<BlockJson>(`${urls[0]}/blocks/${h}`).catch(() => undefined);
      if (b === undefined) continue;
      blockInfo.set(h, b);
      const round = String(b.commit?.round ?? "?");
      rounds[round] = (rounds[round] ?? 0) + 1;
      const who = nameOfKey.get(b.header.proposer) ?? b.header.proposer.slice(0, 8);
      proposers[who] = (proposers[who] ?? 0) + 1;
    }

    abort.abort();
    await sending.catch(() => {});
    await events.done.catch(() => {});
    const exits = await Promise.all(children.map((c) => stopNode(c)));
    log(`nodes stopped (exit ${exits.join(", ")})`);

    let profiles: ProfileSummary[] | undefined;
    if (CPU_PROF !== undefined) {
      const fresh = readdirSync(CPU_PROF).filter((f) => f.endsWith(".cpuprofile") && !profilesBefore.has(f));
      profiles = fresh.sort().map((f) => summariseProfile(join(CPU_PROF, f), 30));
    }

    // Statistics.
    const st = loadStats(load);
    const windowSec = load.committed === 0 ? Number.NaN : (st.lastCommit - st.firstSend) / 1000;
    const txBlocks = blocks.filter((b) => b.ours > 0);
    const firstTxBlock = txBlocks[0];
    const afterFirstCommit =
      firstTxBlock === undefined || txBlocks.length < 2
        ? { firstCommitSec: Number.NaN, txPerSec: Number.NaN }
        : {
            firstCommitSec: Math.round((firstTxBlock.at - st.firstSend) / 100) / 10,
            txPerSec: Math.round((load.committed - firstTxBlock.ours) / ((st.lastCommit - firstTxBlock.at) / 1000)),
          };
    const acceptedByNode = urls.map(() => 0);
    for (let i = 0; i < N; i++) {
      const by = load.acceptedBy[i] as number;
      if (by >= 0) acceptedByNode[by] = (acceptedByNode[by] ?? 0) + 1;
    }
    let ok = load.committed;
    for (const r of load.receiptFailures.values()) ok -= r;

    let killReport: KillReport | undefined;
    if (kill !== undefined) {
      const k = kill;
      let before = 0;
      let after = 0;
      let lost = 0;
      for (let i = 0; i < N; i++) {
        const c = load.committedAt[i] as number;
        if (Number.isNaN(c)) {
          if (load.acceptedBy[i] === k.node) lost++;
        } else if (c < k.at) before++;
        else after++;
      }
      const beforeRate = before / ((k.at - st.firstSend) / 1000);
      const afterRate = after / Math.max(1e-3, (st.lastCommit - k.at) / 1000);
      const next = blocks.find((b) => b.at > k.at);
      killReport = {
        kind: KILL as "validator" | "proposer",
        node: names[k.node] as string,
        atSec: Math.round((k.at - start) / 100) / 10,
        heightAtKill: k.heightAtKill,
        nextCommitMs: next === undefined ? Number.NaN : Math.round(next.at - k.at),
        txPerSecBefore: Math.round(beforeRate),
        txPerSecAfter: Math.round(afterRate),
        afterOverBefore: Math.round((afterRate / beforeRate) * 100) / 100,
        lostOnKilledNode: lost,
        blocksAfter: blocks
          .filter((b) => b.at > k.at)
          .slice(0, 5)
          .map((b) => {
            const info = blockInfo.get(b.height);
            return {
              height: b.height,
              round: info?.commit?.round ?? -1,
              proposer: info === undefined ? "?" : (nameOfKey.get(info.header.proposer) ?? "?"),
              txCount: b.txCount,
              atMs: Math.round(b.at - k.at),
            };
          }),
      };
    }

    const r1 = (x: number) => Math.round(x * 10) / 10;
    const nodes: NodeReport[] = pids.map((pid, i) => {
      const until = killedAt[i] ?? end;
      const threadCpuSec: Record<string, number> = {};
      for (const [k, v] of threadsLast[i] ?? new Map<string, number>()) {
        const d = v - (threads0[i]?.get(k) ?? 0);
        if (d > 0.005) threadCpuSec[k] = Math.round(d * 100) / 100;
      }
      return {
        name: names[i] as string,
        pid,
        killed: killedAt[i] !== undefined,
        cpuSec: r1(nodeCpu[i] as number),
        cores: Math.round(((nodeCpu[i] as number) / Math.max(1e-3, (until - start) / 1000)) * 100) / 100,
        rssMiBEnd: Math.round(procLast[i]?.rssMiB ?? Number.NaN),
        rssMiBMax: Math.round(Math.max(rssMax[i] ?? 0, procLast[i]?.hwmMiB ?? 0)),
        threadCpuSec,
        exit: exits[i] ?? null,
      };
    });
    const intervals: number[] = [];
    for (let i = 1; i < txBlocks.length; i++) intervals.push((txBlocks[i]?.at ?? 0) - (txBlocks[i - 1]?.at ?? 0));

    return {
      kind: "cairn-cluster",
      machine,
      options: {
        workload: WORKLOAD,
        validators: VALIDATORS,
        txs: N,
        batch: BATCH,
        concurrency: CONCURRENCY,
        rate: RATE ?? null,
        kill: KILL ?? null,
        killAfterSec: KILL_AFTER_MS / 1000,
        expiry: EXPIRY_OPT ?? null,
        logLevel: LOG_LEVEL ?? null,
      },
      nodeConfig,
      workload: workload.setup,
      presign: {
        seconds: r1(presignSec),
        txPerSec: Math.round(N / presignSec),
        envelopeBytes: Math.round(envelopeBytes / N),
      },
      outcome,
      committedTxPerSec: Math.round(load.committed / windowSec),
      windowSec: Math.round(windowSec * 1000) / 1000,
      afterFirstCommit,
      sent: st.sent,
      accepted: load.accepted,
      acceptedByNode,
      committed: load.committed,
      committedOk: ok,
      failed: load.failed,
      requests: load.requests,
      resent: load.resent,
      rejections: Object.fromEntries(load.rejections),
      receiptFailures: Object.fromEntries(load.receiptFailures),
      httpErrors: Object.fromEntries(load.httpErrors),
      latencyMs: st.latencyMs,
      latencyFromAcceptedSendMs: st.latencyFromAcceptedSendMs,
      blocks: {
        count: txBlocks.length,
        meanTxs: Math.round(txBlocks.reduce((s, b) => s + b.txCount, 0) / Math.max(1, txBlocks.length)),
        maxTxs: Math.max(0, ...txBlocks.map((b) => b.txCount)),
        meanIntervalMs: Math.round(intervals.reduce((s, x) => s + x, 0) / Math.max(1, intervals.length)),
        lastHeight,
        rounds,
        proposers,
      },
      nodes,
      ...(killReport === undefined ? {} : { kill: killReport }),
      client: { cpuSec: r1(clientCpuSec), cores: Math.round((clientCpuSec / windowSec) * 100) / 100 },
      contention,
      timeline,
      ...(profiles === undefined ? {} : { profiles }),
    };
  } finally {
    abort.abort();
    for (const c of children) await stopNode(c).catch(() => {});
    if (opts.has("keep")) log(`kept ${dir} (node logs: ${dir}/node*.log)`);
    else await rm(dir, { recursive: true, force: true });
  }
}

function report(res: ClusterResults): string {
  const codes = formatCodes;
  const ms = (x: number) => `${formatNumber(x)} ms`;
  const met = (b: boolean) => (b ? "met" : "NOT met");
  const lat = res.latencyMs;
  const target =
    res.options.rate !== null
      ? `open loop at ${formatNumber(res.options.rate)} tx/s`
      : res.workload.workload === "kv"
        ? `target ≥ 2,000 tx/s: ${met(res.committedTxPerSec >= 2000)}`
        : "closed loop";
  const w = res.workload;
  const setup =
    w.setupTxs === 0
      ? "none"
      : `${w.setupTxs} txs committed OK in ${w.seconds.toFixed(1)} s (${w.senders} senders funded${
          w.code === undefined
            ? ""
            : `; ${w.contract}: ${w.code.builtBytes} B module, code hash ${w.code.codeHash.slice(0, 16)}…`
        })`;
  const rows: [string, string][] = [
    ["Workload", `${w.workload}: ${w.description} (\`${w.contract}.${w.method}\`)`],
    ["Setup (untimed)", setup],
    ["Committed throughput", `**${formatNumber(res.committedTxPerSec)} tx/s** (${target})`],
    [
      "Outcome",
      `${res.outcome}: ${res.committed.toLocaleString("en-US")} of ${res.options.txs.toLocaleString("en-US")} committed in ${res.windowSec.toFixed(2)} s (first send to last commit)`,
    ],
    [
      "After the first commit",
      `first block with our txs committed ${res.afterFirstCommit.firstCommitSec} s after the first send; ${formatNumber(
        res.afterFirstCommit.txPerSec,
      )} tx/s from it to the last commit`,
    ],
    ["Receipts OK", res.committedOk.toLocaleString("en-US")],
    [
      "Commit latency (from first send)",
      `p50 ${ms(lat.p50)}, p95 ${ms(lat.p95)}, p99 ${ms(lat.p99)}, max ${ms(lat.max)}${
        res.options.rate === null
          ? ""
          : ` (targets p50 ≤ 300 ms: ${met(lat.p50 <= 300)}, p99 ≤ 1 s: ${met(lat.p99 <= 1000)})`
      }`,
    ],
    [
      "Commit latency (from accepted send)",
      `p50 ${ms(res.latencyFromAcceptedSendMs.p50)}, p95 ${ms(res.latencyFromAcceptedSendMs.p95)}, p99 ${ms(res.latencyFromAcceptedSendMs.p99)}`,
    ],
    ["Accepted by node", res.acceptedByNode.map((n, i) => `node${i} ${n.toLocaleString("en-US")}`).join(", ")],
    ["Rejections at submission", `${codes(res.rejections)} (resent: ${res.resent.toLocaleString("en-US")})`],
    ["Failed receipts", codes(res.receiptFailures)],
    ["HTTP errors", codes(res.httpErrors)],
    [
      "Requests",
      `${res.requests.toLocaleString("en-US")} POST /txs (batch ${res.options.batch}, ${res.options.concurrency} in flight over 4 nodes, msgpack)`,
    ],
    [
      "Blocks",
      `${res.blocks.count} with our txs, mean ${res.blocks.meanTxs} txs, max ${res.blocks.maxTxs}, one every ${res.blocks.meanIntervalMs} ms; last height ${res.blocks.lastHeight}`,
    ],
    ["Commit rounds", codes(res.blocks.rounds)],
    ["Proposers", codes(res.blocks.proposers)],
  ];
  if (res.kill !== undefined) {
    const k = res.kill;
    rows.push([
      `Kill (${k.kind})`,
      `${k.node} SIGKILLed at ${k.atSec} s (height ${k.heightAtKill}); next commit ${ms(k.nextCommitMs)} later${
        k.kind === "proposer" ? ` (target ≤ 3 s: ${met(k.nextCommitMs <= 3000)})` : ""
      }; blocks after: ${k.blocksAfter.map((b) => `h${b.height} r${b.round} ${b.proposer} +${b.atMs} ms`).join(", ")}`,
    ]);
    rows.push([
      "Throughput before / after the kill",
      `${formatNumber(k.txPerSecBefore)} / ${formatNumber(k.txPerSecAfter)} tx/s = ${Math.round(k.afterOverBefore * 100)} %${
        k.kind === "validator" ? ` (target ≥ 60 %: ${met(k.afterOverBefore >= 0.6)})` : ""
      }; accepted by the killed node and never committed: ${k.lostOnKilledNode}`,
    ]);
  }
  for (const n of res.nodes) {
    const threads = Object.entries(n.threadCpuSec)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(", ");
    rows.push([
      `${n.name}${n.killed ? " (killed)" : ""}`,
      `${n.cpuSec.toFixed(1)} s CPU = ${n.cores.toFixed(2)} cores; RSS ${n.rssMiBEnd} MiB (peak ${n.rssMiBMax}); by thread (s): ${threads}`,
    ]);
  }
  rows.push(["Load client CPU", `${res.client.cpuSec.toFixed(1)} s = ${res.client.cores.toFixed(2)} cores`]);
  rows.push([
    "Other processes",
    `${res.contention.otherCores.toFixed(2)} cores on average (load average ${res.contention.loadAvgAtStart.toFixed(2)} at start)`,
  ]);
  rows.push([
    "Pre-signing (untimed)",
    `${res.presign.seconds} s, ${formatNumber(res.presign.txPerSec)} tx/s, ${res.presign.envelopeBytes} B per envelope`,
  ]);
  return `## Cairn cluster benchmark (4 validators, Tendermint, loopback), workload ${res.workload.workload}\n\n${describeMachine(res.machine)}\n\n${markdownTable(["Metric", "Value"], rows)}\n`;
}

const res = await main();
process.stdout.write(`\n${report(res)}\n`);
process.stdout.write(`Load: ${describeContention(res.contention)}\n`);
if (res.contention.otherCores > 0.2) {
  process.stdout.write("WARNING: other processes were using the CPU during the run; the numbers are not reliable.\n");
}
if (res.committedOk !== res.committed) {
  process.stdout.write(
    `WARNING: ${(res.committed - res.committedOk).toLocaleString("en-US")} committed transactions failed (receipt codes: ${Object.entries(
      res.receiptFailures,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}).\n`,
  );
}
if (res.profiles !== undefined) for (const p of res.profiles) process.stdout.write(`\n${formatSummary(p)}\n`);
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, `${JSON.stringify(res, null, 2)}\n`);
process.stdout.write(`\nWrote ${JSON_OUT}\n`);
