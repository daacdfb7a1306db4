// What a round's collected samples come to: the reads' throughput and latency, the timeline (one
// point per second) and each node's resources over the measured phase. Pure functions over what
// runRound gathered, so they can be read (and tested) without a cluster.
import { type Generator, TX_REFUSED, TX_UNSENT } from "./generator.ts";
import type { NodeMetrics } from "./metrics.ts";
import type { NodeResources, RoundResult, TimelinePoint } from "./report.ts";
import { latencyStats } from "./stats.ts";
import type { NodeUsage } from "./target.ts";

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const MiB = 1024 * 1024;

/** Reads due in the measured phase [T0, T1): their latencies and failures, and OK reads per second. */
export function readsOf(
  gen: Generator,
  readCount: number,
  T0: number,
  T1: number,
  durationSec: number,
  notes: string[],
): NonNullable<RoundResult["reads"]> {
  const lat: number[] = [];
  let readFailed = 0;
  let okInWin = 0;
  for (let k = 0; k < readCount; k++) {
    const due = gen.readDue[k] as number;
    const done = gen.readDone[k] as number;
    if (gen.readOk[k] === 1 && done >= T0 && done < T1) okInWin++;
    if (!(due >= T0 && due < T1)) continue;
    if (gen.readOk[k] === 1) lat.push(done - due);
    else if (!Number.isNaN(done)) readFailed++;
  }
  const out = { throughput: r1(okInWin / durationSec), latency: latencyStats(lat), failed: readFailed };
  if (gen.readFailures.size > 0) {
    notes.push(`read failures: ${[...gen.readFailures].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  return out;
}

/** One point per second from the start of the warm-up to `endAt`: commits, sends, reads and the height. */
export function timelineOf(o: {
  gen: Generator;
  commitsFirst: Float64Array;
  txCount: number;
  readCount: number;
  heights: readonly { at: number; height: number }[];
  T0: number;
  endAt: number;
  warmupSec: number;
}): TimelinePoint[] {
  const { gen, commitsFirst, txCount, readCount, heights, T0, endAt, warmupSec } = o;
  const timeline: TimelinePoint[] = [];
  const firstSec = -warmupSec;
  const lastSec = Math.ceil((endAt - T0) / 1000);
  const bucket = (t: number) => Math.floor((t - T0) / 1000) - firstSec;
  const nb = lastSec - firstSec;
  const committedPer = new Array<number>(nb).fill(0);
  const sentPer = new Array<number>(nb).fill(0);
  const readsPer = new Array<number>(nb).fill(0);
  for (let i = 0; i < txCount; i++) {
    const c = commitsFirst[i] as number;
    if (!Number.isNaN(c)) {
      const b = bucket(c);
      if (b >= 0 && b < nb) committedPer[b] = (committedPer[b] as number) + 1;
    }
    if (!Number.isNaN(gen.firstTry[i] as number)) {
      const b = bucket(gen.firstTry[i] as number);
      if (b >= 0 && b < nb) sentPer[b] = (sentPer[b] as number) + 1;
    }
  }
  for (let k = 0; k < readCount; k++) {
    if (gen.readOk[k] !== 1) continue;
    const b = bucket(gen.readDone[k] as number);
    if (b >= 0 && b < nb) readsPer[b] = (readsPer[b] as number) + 1;
  }
  for (let b = 0; b < nb; b++) {
    const endOfSecond = T0 + (b + firstSec + 1) * 1000;
    let height = heights[0]?.height ?? 0;
    for (const h of heights) if (h.at <= endOfSecond) height = h.height;
    timeline.push({
      t: b + firstSec,
      committed: committedPer[b] as number,
      sent: sentPer[b] as number,
      ...(readCount > 0 ? { reads: readsPer[b] as number } : {}),
      height,
    });
  }
  return timeline;
}

/** Each node's CPU, memory, disk, storage and network over the measured phase [T0, T1). */
export function nodeResourcesOf(o: {
  names: readonly string[];
  usage0: readonly (NodeUsage | undefined)[];
  usageLast: readonly (NodeUsage | undefined)[];
  /** When a node's last sample was taken before it died (NaN: it lived through the phase). */
  usageUntil: readonly number[];
  rss: readonly (readonly number[])[];
  metrics0: readonly (NodeMetrics | undefined)[];
  metricsLast: readonly (NodeMetrics | undefined)[];
  T0: number;
  T1: number;
  storageBytes: (name: string) => number | undefined;
}): NodeResources[] {
  const { names, usage0, usageLast, usageUntil, rss, metrics0, metricsLast, T0, T1, storageBytes } = o;
  return names.map((name, i) => {
    const a = usage0[i];
    const b = usageLast[i];
    const until = Math.min(T1, Number.isNaN(usageUntil[i] as number) ? T1 : (usageUntil[i] as number));
    const secs = Math.max(0.001, (until - T0) / 1000);
    const cpuSec = a !== undefined && b !== undefined ? b.cpuSec - a.cpuSec : Number.NaN;
    const samples = rss[i] as number[];
    const m0 = metrics0[i];
    const m1 = metricsLast[i];
    const disk = (k: "diskReadBytes" | "diskWriteBytes") =>
      a?.[k] !== undefined && b?.[k] !== undefined ? r1(((b[k] as number) - (a[k] as number)) / MiB) : Number.NaN;
    const storage = storageBytes(name) ?? m1?.storageBytes ?? Number.NaN;
    return {
      name,
      cpuSec: r2(cpuSec),
      cpuCores: r2(cpuSec / secs),
      rssMiB: {
        mean:
          samples.length === 0
            ? r1((b?.rssBytes ?? Number.NaN) / MiB)
            : r1(samples.reduce((s, x) => s + x, 0) / samples.length),
        peak: r1(Math.max(...samples, (b?.rssBytes ?? 0) / MiB)),
      },
      diskWriteMiB: disk("diskWriteBytes"),
      diskReadMiB: disk("diskReadBytes"),
      storageMiB: r1(storage / MiB),
      netSentMiB: m0 !== undefined && m1 !== undefined ? r2((m1.netSentBytes - m0.netSentBytes) / MiB) : Number.NaN,
      netReceivedMiB:
        m0 !== undefined && m1 !== undefined ? r2((m1.netReceivedBytes - m0.netReceivedBytes) / MiB) : Number.NaN,
    };
  });
}

/** The commits the round saw: per transaction its outcome (0 pending, 1 OK, 2 failed) and commit times. */
export interface CommitTimes {
  readonly outcome: Uint8Array;
  readonly first: Float64Array;
  readonly perNode: readonly Float64Array[];
  readonly receiptCodes: ReadonlyMap<number, string>;
}

/**
 * Latencies of the measured transactions, from their scheduled send: to the first validator's
 * commit, and to the last live validator's (`excludedAt`: a node a fault took out at that time);
 * and what became of the others, by code.
 */
export function latenciesOf(o: {
  measured: Iterable<number>;
  gen: Generator;
  commits: CommitTimes;
  nodes: number;
  excludedAt: (node: number, t: number) => boolean;
}): { latFirst: number[]; latAll: number[]; notOnAll: number; succeeded: number; failures: Record<string, number> } {
  const { measured, gen, commits, nodes, excludedAt } = o;
  const latFirst: number[] = [];
  const latAll: number[] = [];
  let notOnAll = 0;
  let succeeded = 0;
  const failures: Record<string, number> = {};
  const fail = (code: string) => {
    failures[code] = (failures[code] ?? 0) + 1;
  };
  for (const i of measured) {
    const sent = gen.sentAt[i] as number;
    const outcome = commits.outcome[i];
    if (outcome === 1) {
      succeeded++;
      const first = commits.first[i] as number;
      latFirst.push(first - sent);
      let last = first;
      let complete = true;
      for (let j = 0; j < nodes; j++) {
        if (excludedAt(j, first)) continue;
        const t = (commits.perNode[j] as Float64Array)[i] as number;
        if (Number.isNaN(t)) {
          complete = false;
          break;
        }
        if (t > last) last = t;
      }
      if (complete) latAll.push(last - sent);
      else notOnAll++;
    } else if (outcome === 2) fail(commits.receiptCodes.get(i) ?? "FAILED");
    else if (gen.state[i] === TX_REFUSED) fail(gen.refusal.get(i) ?? "REFUSED");
    else if (gen.state[i] === TX_UNSENT) fail("NOT_SENT");
    else fail("NOT_COMMITTED");
  }
  return { latFirst, latAll, notOnAll, succeeded, failures };
}
