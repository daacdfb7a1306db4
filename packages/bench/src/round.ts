// One round: a workload at one offered rate on a running cluster, measured the way the FG DLT
// assessment criteria define it (../shared/reference/fg-dlt.md section 3):
//
//   pre-sign every transaction of the round (untimed) -> warm-up -> measured phase -> drain.
//
// Throughput is the transactions committed with receipt OK during the measured phase (first
// validator's commit time) over its length: goodput. Latency is per transaction sent during the
// measured phase, from its (scheduled) send to its commit on every live validator (GET /events on
// each node, the last node's arrival time: the PSWG threshold for BFT) and on the first. Reads are
// timed one by one. Every loop is bounded in count and in time, and a progress line is printed
// each second.
import { caughtUpAt, type FaultPlan, type FaultRecord, faultReport, injectFault } from "./faults.ts";
import { Generator, TX_REFUSED, TX_UNSENT } from "./generator.ts";
import { fetchNodeMetrics, type NodeMetrics } from "./metrics.ts";
import type { PreparedWorkload } from "./ops.ts";
import { settleWithin, sleep, threadCpu } from "./process.ts";
import {
  endProfileWindow,
  isProfilerThread,
  type ProfileWindow,
  type ProfileWindowStart,
  startProfileWindow,
} from "./profile.ts";
import type { FaultReport, LatencyStats, RoundResult } from "./report.ts";
import { latenciesOf, nodeResourcesOf, readsOf, timelineOf } from "./round-summary.ts";
import { type BlockSink, getJson, type Session } from "./session.ts";
import { latencyStats } from "./stats.ts";
import type { NodeUsage } from "./target.ts";
import { splitRate } from "./workload.ts";

export interface RoundPlan {
  /** Caliper's "Name" of the round. */
  readonly name: string;
  readonly workload: PreparedWorkload;
  readonly mode: "open" | "closed";
  /** Offered operations per second (transactions and reads together; the report's targetRate is the transactions'). */
  readonly rate: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  /** Longest wait after the measured phase for its transactions to commit (default 15 s). */
  readonly drainSec?: number;
  readonly fault?: FaultPlan;
  /** Block settings of the cluster, for the report. */
  readonly block: { readonly maxTxs: number; readonly emptyBlockIntervalMs?: number };
  /** After a fault: restart killed nodes, resume, heal, and wait for them to catch up (default true). */
  readonly restore?: boolean;
}

export interface RoundContext {
  readonly session: Session;
  /** Native Ed25519 verifications per second on all cores (measured at the start of the run). */
  readonly verifiesPerSec: number;
  readonly log: (line: string) => void;
  /** Progress lines (one a second); default `log`. */
  readonly progress?: (line: string) => void;
  /** With `cairn bench --profile`: each result's measured phase and thread CPU (profile.ts), set by runRound. */
  readonly profileWindows?: Map<RoundResult, ProfileWindow>;
}

/** Commit times of one round's transactions on every node, from the session's event followers. */
class RoundCommits implements BlockSink {
  readonly first: Float64Array;
  readonly perNode: Float64Array[];
  /** 0 not committed, 1 receipt OK, 2 committed with another receipt code. */
  readonly outcome: Uint8Array;
  readonly receiptCodes = new Map<number, string>();
  committed = 0;
  failedReceipts = 0;
  readonly #index: ReadonlyMap<string, number>;

  constructor(n: number, nodes: number, index: ReadonlyMap<string, number>) {
    this.first = new Float64Array(n).fill(Number.NaN);
    this.perNode = Array.from({ length: nodes }, () => new Float64Array(n).fill(Number.NaN));
    this.outcome = new Uint8Array(n);
    this.#index = index;
  }

  onBlock(node: number, e: { receipts: readonly { txHash: string; code: string }[] }, at: number): void {
    const mine = this.perNode[node];
    if (mine === undefined) return;
    for (const r of e.receipts) {
      const i = this.#index.get(r.txHash);
      if (i === undefined) continue;
      if (Number.isNaN(mine[i] as number)) mine[i] = at;
      if (Number.isNaN(this.first[i] as number)) {
        this.first[i] = at;
        this.committed++;
        if (r.code === "OK") this.outcome[i] = 1;
        else {
          this.outcome[i] = 2;
          this.failedReceipts++;
          this.receiptCodes.set(i, r.code);
        }
      }
    }
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const MiB = 1024 * 1024;

/** Batch size of POST /txs for an offered tx rate: ~20 requests a second, at most 200 txs or 1 MiB. */
export function batchSize(txRate: number, envelopeBytes: number): number {
  const byRate = Math.max(1, Math.round(txRate / 20));
  const byBytes = Math.max(1, Math.floor(MiB / Math.max(1, envelopeBytes)));
  return Math.min(200, byRate, byBytes);
}

export async function runRound(ctx: RoundContext, plan: RoundPlan): Promise<RoundResult> {
  const { session, log } = ctx;
  const progress = ctx.progress ?? log;
  const spec = plan.workload.spec;
  const nodes = session.target.nodes();
  const names = nodes.map((n) => n.name);
  const notes: string[] = [...plan.workload.setup.notes];
  const { txRate, readRate } = splitRate(spec, plan.rate);
  const totalSec = plan.warmupSec + plan.durationSec;
  const txCount = Math.max(1, Math.round(txRate * totalSec));
  const readCount = Math.round(readRate * totalSec);
  const drainMs = (plan.drainSec ?? 15) * 1000;

  // Untimed: a cluster with nothing pending (the previous round's backlog cleared), then every
  // transaction of the round signed.
  const idle = await waitIdle(session, 60_000);
  if (!idle) notes.push("the mempools still held transactions of an earlier round when this one started");
  const status = await session.status();
  const expiry = status.height + session.maxTxTtl;
  const t0sign = performance.now();
  const envelopes: Uint8Array[] = new Array(txCount);
  const index = new Map<string, number>();
  let envelopeBytes = 0;
  for (let i = 0; i < txCount; i++) {
    const stx = plan.workload.signTx(i, expiry);
    envelopes[i] = stx.bytes;
    envelopeBytes += stx.bytes.length;
    index.set(Buffer.from(stx.hash).toString("hex"), i);
  }
  const presignSec = (performance.now() - t0sign) / 1000;
  const batch = batchSize(txRate, envelopeBytes / txCount);
  log(
    `${plan.name}: ${txCount.toLocaleString("en-US")} txs pre-signed in ${presignSec.toFixed(1)} s (${Math.round(
      envelopeBytes / txCount,
    )} B each); ${readCount.toLocaleString("en-US")} reads; warm-up ${plan.warmupSec} s, measured ${plan.durationSec} s`,
  );

  const commits = new RoundCommits(txCount, nodes.length, index);
  session.setSink(commits);
  const down = new Set<number>();
  const start = performance.now() + 50;
  const T0 = start + plan.warmupSec * 1000;
  const T1 = T0 + plan.durationSec * 1000;
  const gen = new Generator({
    urls: () => session.target.nodes().flatMap((n, i) => (down.has(i) ? [] : [n.url])),
    envelopes,
    batch,
    txRate,
    start,
    deadline: T1,
    retryDeadline: T1 + 5000,
    ...(readCount > 0
      ? { reads: { rate: readRate, count: readCount, next: (k: number) => plan.workload.read(k) } }
      : {}),
  });

  // Resources: counters at T0 and T1 (or just before a node dies), RSS every second.
  const usage0: (NodeUsage | undefined)[] = names.map(() => undefined);
  const usageLast: (NodeUsage | undefined)[] = names.map(() => undefined);
  const usageUntil: number[] = names.map(() => Number.NaN);
  const rss: number[][] = names.map(() => []);
  const metrics0: (NodeMetrics | undefined)[] = names.map(() => undefined);
  const metricsLast: (NodeMetrics | undefined)[] = names.map(() => undefined);
  let cpu0: NodeJS.CpuUsage | undefined;
  const attached = nodes.every((n) => n.pid === undefined);
  const sampleUsage = async (i: number): Promise<NodeUsage | undefined> => {
    const name = names[i] as string;
    const u = session.target.usage(name);
    if (u !== undefined || !attached) return u;
    const m = await fetchNodeMetrics((session.target.nodes()[i] as { url: string }).url, 1500);
    return m === undefined || !Number.isFinite(m.cpuSec) ? undefined : { cpuSec: m.cpuSec, rssBytes: m.rssBytes };
  };
  const heights: { at: number; height: number }[] = [];
  const stopSampling = new Set<number>();
  let measuring = false;
  const sampler = setInterval(() => {
    heights.push({ at: performance.now(), height: session.maxHeight });
    if (!measuring) return;
    void Promise.all(
      names.map(async (_, i) => {
        if (down.has(i) || stopSampling.has(i)) return;
        const u = await sampleUsage(i);
        if (u === undefined) return;
        usageLast[i] = u;
        usageUntil[i] = performance.now();
        (rss[i] as number[]).push(u.rssBytes / MiB);
      }),
    );
  }, 1000);
  let lastCommitted = 0;
  let lastReads = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    const phase = now < T0 ? "warm-up" : now < T1 ? "measure" : "drain";
    const t = now < T0 ? (now - start) / 1000 : now < T1 ? (now - T0) / 1000 : (now - T1) / 1000;
    const of = now < T0 ? plan.warmupSec : now < T1 ? plan.durationSec : drainMs / 1000;
    let sent = 0;
    for (let i = 0; i < txCount; i++) if (gen.state[i] !== TX_UNSENT) sent++;
    const refused = gen.refusal.size;
    progress(
      `${plan.name} | ${phase} ${Math.min(of, Math.floor(t))}/${of} s | sent ${sent.toLocaleString("en-US")} | committed ${commits.committed.toLocaleString(
        "en-US",
      )} (+${commits.committed - lastCommitted}/s)${
        readCount > 0 ? ` | reads ${gen.readsDone} (+${gen.readsDone - lastReads}/s)` : ""
      } | height ${session.maxHeight}${refused + commits.failedReceipts > 0 ? ` | failed ${refused + commits.failedReceipts}` : ""}${
        down.size > 0 ? ` | down ${[...down].map((i) => names[i]).join(",")}` : ""
      }`,
    );
    lastCommitted = commits.committed;
    lastReads = gen.readsDone;
  }, 1000);

  let profileFrom: ProfileWindowStart | undefined;
  let profileWindow: ProfileWindow | undefined;
  const phaseStart = (async () => {
    await sleep(Math.max(0, T0 - performance.now()));
    measuring = true;
    cpu0 = process.cpuUsage();
    if (ctx.profileWindows !== undefined) profileFrom = startProfileWindow(session.target.nodes());
    await Promise.all(
      names.map(async (_, i) => {
        const u = await sampleUsage(i);
        usage0[i] = u;
        usageLast[i] = u;
        usageUntil[i] = performance.now();
        const m = await fetchNodeMetrics((session.target.nodes()[i] as { url: string }).url);
        metrics0[i] = m;
        metricsLast[i] = m;
      }),
    );
  })();

  // The fault, if any, at its time in the measured phase.
  let fault: FaultRecord | undefined;
  let faultDone: Promise<void> = Promise.resolve();
  let faultError: string | undefined;
  const faultTask = (async () => {
    if (plan.fault === undefined) return;
    await sleep(Math.max(0, T0 + plan.fault.atSec * 1000 - performance.now()));
    // Counters of the victims just before: a killed node's resources end here.
    try {
      const f = await injectFault(session, plan.fault, log);
      fault = f.record;
      for (const i of f.record.down) down.add(i);
      // A killed node's counters end with it (a restarted one is a new process).
      if (plan.fault.kind !== "pause" && plan.fault.kind !== "partition") {
        for (const i of f.record.affected) stopSampling.add(i);
      }
      faultDone = f.done.then(() => {
        down.clear();
        for (const i of f.record.down) down.add(i);
      });
    } catch (e) {
      faultError = (e as Error).message;
      log(`fault not injected: ${faultError}`);
    }
  })();
  // Snapshot the nodes a fault will hit, shortly before it (their /proc and /metrics vanish with them).
  const preFault = (async () => {
    if (plan.fault === undefined) return;
    await sleep(Math.max(0, T0 + plan.fault.atSec * 1000 - 300 - performance.now()));
    await Promise.all(
      names.map(async (_, i) => {
        const m = await fetchNodeMetrics((session.target.nodes()[i] as { url: string }).url, 250);
        if (m !== undefined) metricsLast[i] = m;
      }),
    );
  })();

  // End of the measured phase: counters (while retries of the last batches may still go on).
  let cpuGen: NodeJS.CpuUsage | undefined;
  const phaseEnd = (async () => {
    await phaseStart;
    await sleep(Math.max(0, T1 - performance.now()));
    cpuGen = process.cpuUsage(cpu0);
    measuring = false;
    if (profileFrom !== undefined) profileWindow = endProfileWindow(profileFrom, session.target.nodes());
    await Promise.all(
      names.map(async (_, i) => {
        if (down.has(i) || stopSampling.has(i)) return;
        const u = await sampleUsage(i);
        if (u !== undefined) {
          usageLast[i] = u;
          usageUntil[i] = performance.now();
        }
        const m = await fetchNodeMetrics((session.target.nodes()[i] as { url: string }).url);
        if (m !== undefined) metricsLast[i] = m;
      }),
    );
  })();

  await gen.run();
  await phaseStart;
  await faultTask;
  await preFault;
  await phaseEnd;

  // Drain: wait (bounded) until every transaction sent during the measured phase is final.
  const measured: number[] = [];
  for (let i = 0; i < txCount; i++) {
    const s = gen.sentAt[i] as number;
    if (s >= T0 && s < T1) measured.push(i);
  }
  const drainEnd = performance.now() + drainMs;
  const pendingCount = () => {
    let p = 0;
    for (const i of measured) if (commits.outcome[i] === 0 && gen.state[i] !== TX_REFUSED) p++;
    return p;
  };
  while (performance.now() < drainEnd && pendingCount() > 0) await sleep(100);
  // Then a moment for the slowest validators' events of the last blocks.
  const settle = Math.min(2000, Math.max(0, drainEnd - performance.now()));
  if (settle > 0) await sleep(Math.min(settle, 1000));
  await settleWithin(faultDone, drainEnd - performance.now());
  clearInterval(ticker);
  clearInterval(sampler);
  session.setSink(undefined);
  const endAt = performance.now();

  // Latencies of the measured transactions.
  const excludedAt = (node: number, t: number): boolean => {
    if (fault === undefined || !fault.affected.includes(node)) return false;
    if (t < fault.at) return false;
    return t < caughtUpAt(session, node, fault);
  };
  const { latFirst, latAll, notOnAll, succeeded, failures } = latenciesOf({
    measured,
    gen,
    commits,
    nodes: nodes.length,
    excludedAt,
  });
  if (notOnAll > 0)
    notes.push(`${notOnAll} committed transactions were not seen on every live validator within the drain`);

  // Throughput (goodput): transactions committed with receipt OK during the measured phase (on
  // the first validator), per second; but no more than the measured phase's own transactions that
  // committed OK, per second, so that a warm-up backlog clearing during the measured phase does not
  // count as extra throughput. (Below saturation both are the offered rate; above it the first is
  // the cluster's capacity.) Also the OK commit times, for the fault windows.
  let okInWindow = 0;
  const okTimes: number[] = [];
  for (let i = 0; i < txCount; i++) {
    if (commits.outcome[i] !== 1) continue;
    const t = commits.first[i] as number;
    okTimes.push(t);
    if (t >= T0 && t < T1) okInWindow++;
  }
  const committed = Math.min(okInWindow, succeeded);
  const throughput = committed / plan.durationSec;
  let sentInWindow = 0;
  for (let i = 0; i < txCount; i++) {
    const t = gen.firstTry[i] as number;
    if (t >= T0 && t < T1) sentInWindow++;
  }
  const sendRate = sentInWindow / plan.durationSec;

  // Reads.
  const reads = readCount > 0 ? readsOf(gen, readCount, T0, T1, plan.durationSec, notes) : undefined;

  // Timeline, one point per second from the start of the warm-up to the end of the drain.
  const timeline = timelineOf({
    gen,
    commitsFirst: commits.first,
    txCount,
    readCount,
    heights,
    T0,
    endAt,
    warmupSec: plan.warmupSec,
  });

  // Blocks of the measured phase on the first node that saw them.
  const blockTxs: number[] = [];
  const heightsSeen = new Map<number, number>();
  for (let j = 0; j < nodes.length; j++) {
    for (const [h, c] of session.commitsOf(j)) {
      if (c.at >= T0 && c.at < T1 && !heightsSeen.has(h)) {
        heightsSeen.set(h, c.txCount);
        blockTxs.push(c.txCount);
      }
    }
  }
  const rounds = await blockRounds(session, [...heightsSeen.keys()]);

  // Per-node resources over the measured phase.
  const nodeResources = nodeResourcesOf({
    names,
    usage0,
    usageLast,
    usageUntil,
    rss,
    metrics0,
    metricsLast,
    T0,
    T1,
    storageBytes: (name) => session.target.storageBytes(name),
  });
  if (attached) notes.push("resources from each node's /metrics (no local process to read): disk I/O not measured");
  const genCpu = cpuGen === undefined ? Number.NaN : (cpuGen.user + cpuGen.system) / 1e6;

  // Put the cluster back together for the next round (the fault's report then also sees the
  // affected nodes catch up, and compares every node's blocks).
  if (fault !== undefined && plan.restore !== false) await restore(session, fault, log);
  const faults: FaultReport[] = [];
  if (fault !== undefined) faults.push(faultReport(session, fault, Float64Array.from(okTimes), T0, T1));
  if (faultError !== undefined) notes.push(`fault ${plan.fault?.kind} not injected: ${faultError}`);

  const bound = ctx.verifiesPerSec / nodes.length;
  // Consensus traffic and CPU per unit of work: what the engine costs.
  let sentMsgs = 0;
  let sentBytes = 0;
  for (let i = 0; i < names.length; i++) {
    const a = metrics0[i];
    const b = metricsLast[i];
    if (a === undefined || b === undefined) continue;
    if (Number.isFinite(b.consensusSent - a.consensusSent)) sentMsgs += b.consensusSent - a.consensusSent;
    if (Number.isFinite(b.consensusSentBytes - a.consensusSentBytes))
      sentBytes += b.consensusSentBytes - a.consensusSentBytes;
  }
  const nodeCpu = nodeResources.reduce((sum, n) => sum + (Number.isFinite(n.cpuSec) ? n.cpuSec : 0), 0);
  const result: RoundResult = {
    name: plan.name,
    workload: spec.name,
    validators: nodes.length,
    engine: session.engine,
    mode: plan.mode,
    targetRate: r1(txRate),
    block: plan.block,
    durationSec: plan.durationSec,
    warmupSec: plan.warmupSec,
    succeeded,
    committed,
    failed: measured.length - succeeded,
    failures,
    successRate: measured.length === 0 ? 0 : Math.round((succeeded / measured.length) * 10_000) / 10_000,
    sendRate: r1(sendRate),
    throughput: r1(throughput),
    latencyAll: latencyStats(latAll),
    latencyFirst: latencyStats(latFirst),
    ...(reads === undefined ? {} : { reads }),
    timeline,
    nodes: nodeResources,
    generator: { cpuSec: r2(genCpu), cpuCores: r2(genCpu / plan.durationSec), presignSec: r2(presignSec) },
    faults,
    verifyBound: {
      verifiesPerSec: ctx.verifiesPerSec,
      boundTxPerSec: Math.round(bound),
      ratio: Math.round((throughput / bound) * 1000) / 1000,
    },
    description: spec.description,
    senders: plan.workload.senders,
    blocks: {
      count: blockTxs.length,
      meanTxs: blockTxs.length === 0 ? 0 : r1(blockTxs.reduce((s, x) => s + x, 0) / blockTxs.length),
      maxTxs: Math.max(0, ...blockTxs),
      perSec: r2(blockTxs.length / plan.durationSec),
      ...(rounds === undefined ? {} : { rounds }),
    },
    ...(plan.workload.setup.txs > 0
      ? { setup: { txs: plan.workload.setup.txs, seconds: r1(plan.workload.setup.seconds) } }
      : {}),
    ...(notOnAll > 0 ? { notOnAll } : {}),
    ...(committed > 0 ? { cpuMsPerTx: r2((nodeCpu * 1000) / committed) } : {}),
    ...(blockTxs.length > 0
      ? {
          consensus: {
            messagesPerBlock: r1(sentMsgs / blockTxs.length),
            bytesPerBlock: Math.round(sentBytes / blockTxs.length),
          },
        }
      : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
  if (profileWindow !== undefined) ctx.profileWindows?.set(result, profileWindow);
  log(summaryLine(result));
  return result;
}

/** One line per round for the log. */
export function summaryLine(r: RoundResult): string {
  const l: LatencyStats = r.latencyAll;
  return `${r.name}: ${r.throughput.toLocaleString("en-US")} tx/s committed (sent ${r.sendRate.toLocaleString(
    "en-US",
  )}/s), success ${(r.successRate * 100).toFixed(1)} %, latency (all validators) p50 ${l.p50} / p95 ${l.p95} / p99 ${
    l.p99
  } ms${r.reads === undefined ? "" : `; reads ${r.reads.throughput}/s p99 ${r.reads.latency.p99} ms`}`;
}

/** Restarts killed nodes, resumes paused ones, heals a partition, and waits (bounded) for them to catch up. */
export async function restore(session: Session, fault: FaultRecord, log: (s: string) => void): Promise<void> {
  const target = session.target;
  const names = target.nodes().map((n) => n.name);
  try {
    if (fault.plan.kind === "partition") await target.heal();
    for (const i of fault.affected) {
      const name = names[i] as string;
      if (fault.plan.kind === "pause") await target.resume(name);
      else if (target.nodes()[i]?.pid === undefined && target.capabilities.restart === true) {
        log(`restore: restarting ${name}`);
        await target.restart(name);
      }
    }
    const head = session.maxHeight;
    const ok = await session.waitForHeight(
      names.map((_, i) => i),
      head,
      60_000,
    );
    if (!ok) log(`restore: not every node reached height ${head} within 60 s`);
  } catch (e) {
    log(`restore failed: ${(e as Error).message}`);
  }
}

/**
 * Waits (bounded) until every node's mempool is empty and, where the target can read the nodes'
 * CPU, until they are nearly idle (a previous round's LevelDB compactions and garbage collection
 * done), so that a round does not pay for the one before. False if not idle at the deadline.
 */
export async function waitIdle(session: Session, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let quiet = 0;
  for (;;) {
    const sizes = await Promise.all(
      session.target.nodes().map((n) =>
        getJson<{ mempool: { size: number } }>(`${n.url}/status`, 2000).then(
          (x) => x.mempool.size,
          () => 0,
        ),
      ),
    );
    quiet = sizes.every((x) => x === 0) ? quiet + 1 : 0;
    if (quiet >= 2) break;
    if (performance.now() > deadline) return false;
    await sleep(250);
  }
  const names = session.target.nodes().map((n) => n.name);
  // Without the CPU of V8's profiler threads (--profile), which sample even an idle node.
  const cpu = () =>
    session.target.nodes().map((n) => {
      const sec = session.target.usage(n.name)?.cpuSec;
      if (sec === undefined || n.pid === undefined) return sec;
      let profiler = 0;
      for (const [thread, s] of threadCpu(n.pid)) if (isProfilerThread(thread)) profiler += s;
      return sec - profiler;
    });
  for (;;) {
    const a = cpu();
    if (a.every((x) => x === undefined)) return true;
    const t = performance.now();
    await sleep(1000);
    const b = cpu();
    let cores = 0;
    a.forEach((x, i) => {
      const y = b[i];
      if (x !== undefined && y !== undefined) cores += (y - x) / ((performance.now() - t) / 1000);
    });
    if (cores < 0.1 + 0.03 * names.length) return true;
    if (performance.now() > deadline) return false;
  }
}

/**
 * How many of these heights committed in consensus round 0, 1, ... (GET /blocks/:h `commit.round`
 * from the first node that answers; at most 400 heights): a block that needed more than round 0
 * waited for a timeout, which is where latency tails come from.
 */
export async function blockRounds(
  session: Session,
  heights: readonly number[],
): Promise<Record<string, number> | undefined> {
  const hs = [...heights].sort((a, b) => a - b).slice(0, 400);
  if (hs.length === 0) return undefined;
  const out: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  const urls = session.target.nodes().map((n) => n.url);
  const worker = async () => {
    for (;;) {
      const h = hs[next++];
      if (h === undefined) return;
      for (const url of urls) {
        try {
          const b = await getJson<{ commit: { round: number } | null }>(`${url}/blocks/${h}`, 3000);
          const r = String(b.commit?.round ?? "?");
          out[r] = (out[r] ?? 0) + 1;
          ok++;
          break;
        } catch {
          // the next node
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return ok === 0 ? undefined : out;
}
