// Sending pre-signed transactions to nodes over HTTP and keeping track of each one until it commits.
import { toHex } from "@cairn/crypto";
import { encode, type SignedTransaction } from "@cairn/messaging";
import { sleep } from "./process.ts";
import { quantile } from "./stats.ts";

export interface SubmitResultJson {
  hash?: string;
  status?: string;
  error?: { code: string; message: string };
}

export const TX_PENDING = 0;
export const TX_ACCEPTED = 1;
export const TX_COMMITTED = 2;
export const TX_FAILED = 3;

export class Load {
  readonly state: Uint8Array;
  readonly firstSent: Float64Array;
  /** Time of the send that was accepted. */
  readonly acceptedSent: Float64Array;
  /** Index (in the urls sent to) of the node that accepted it, -1 before. */
  readonly acceptedBy: Int8Array;
  readonly committedAt: Float64Array;
  readonly rejections = new Map<string, number>();
  readonly receiptFailures = new Map<string, number>();
  readonly httpErrors = new Map<string, number>();
  committed = 0;
  failed = 0;
  accepted = 0;
  requests = 0;
  resent = 0;
  lastAcceptAt = 0;
  /** Set by the caller once sendLoad has returned. */
  sendDone = false;
  constructor(n: number) {
    this.state = new Uint8Array(n);
    this.firstSent = new Float64Array(n).fill(Number.NaN);
    this.acceptedSent = new Float64Array(n).fill(Number.NaN);
    this.acceptedBy = new Int8Array(n).fill(-1);
    this.committedAt = new Float64Array(n).fill(Number.NaN);
  }
  count(map: Map<string, number>, code: string, n = 1): void {
    map.set(code, (map.get(code) ?? 0) + n);
  }
  get finished(): number {
    return this.committed + this.failed;
  }
}

/** Pre-signed transactions, ready to send: their envelopes, an index by hash and the batches. */
export interface Presigned {
  readonly envelopes: Uint8Array[];
  readonly envelopeBytes: number;
  /** Transaction hash (hex) → index. */
  readonly hashIndex: Map<string, number>;
  /** Batches of `batch` transactions, each with its msgpack body already encoded. */
  readonly jobs: Job[];
}

/**
 * Signs `n` transactions with `sign(i)` and cuts them into pre-encoded batches of `batch`;
 * `hashIndex` (filled here) may be one a block follower already holds.
 */
export function presign(
  n: number,
  batch: number,
  sign: (i: number) => SignedTransaction,
  hashIndex = new Map<string, number>(),
): Presigned {
  const envelopes: Uint8Array[] = new Array(n);
  let envelopeBytes = 0;
  for (let i = 0; i < n; i++) {
    const stx = sign(i);
    envelopes[i] = stx.bytes;
    envelopeBytes += stx.bytes.length;
    hashIndex.set(toHex(stx.hash), i);
  }
  const jobs: Job[] = [];
  for (let s = 0; s < n; s += batch) {
    const indices = Array.from({ length: Math.min(batch, n - s) }, (_, k) => s + k);
    jobs.push({ indices, body: encode(indices.map((i) => envelopes[i] as Uint8Array)) });
  }
  return { envelopes, envelopeBytes, hashIndex, jobs };
}

export interface Job {
  readonly indices: number[];
  /** Pre-encoded msgpack body (fresh batches); resends are encoded when sent. */
  readonly body?: Uint8Array;
  /** Open loop: when the batch was due (performance.now()); its send time for the latency. */
  readonly dueAt?: number;
}

export interface SendOptions {
  /** API base URLs; fresh batches go to them in turn, resends to the next one. */
  readonly urls: readonly string[];
  /** Whether urls[i] is still worth sending to (a killed node is skipped). */
  readonly alive?: readonly boolean[];
  readonly envelopes: readonly Uint8Array[];
  readonly jobs: readonly Job[];
  readonly load: Load;
  /** performance.now() after which nothing more is sent. */
  readonly deadline: number;
  /** Transactions per resent batch. */
  readonly batch: number;
  /** POST requests in flight at most. */
  readonly concurrency: number;
  /**
   * Open loop: fresh batch k is due at start + k * batch / rate seconds and its transactions' send
   * time is that due time (so a client that falls behind shows up in the latency). Default: closed
   * loop, as fast as the requests come back.
   */
  readonly rate?: number;
}

/**
 * Sends the pre-encoded batches with POST /txs (msgpack), `concurrency` requests in flight; items
 * refused with MEMPOOL_FULL, and whole requests answered 503 or failing on the network, are resent
 * after a back-off of 10 ms doubling to 500 ms.
 */
export async function sendLoad(o: SendOptions): Promise<void> {
  const { urls, envelopes, load, deadline } = o;
  const BATCH = o.batch;
  const bodies = o.jobs;
  const start = performance.now();
  let turn = 0;
  const nextUrl = (): number => {
    for (let k = 0; k < urls.length; k++) {
      const i = turn++ % urls.length;
      if (o.alive?.[i] !== false) return i;
    }
    return 0;
  };
  const fresh = [...bodies];
  let next = 0;
  // Refused with MEMPOOL_FULL (or a transient HTTP failure): sent again once `readyAt` has passed.
  const retry: { index: number; readyAt: number }[] = [];
  let backoff = 10;

  const dueAt = (k: number) => start + (k * BATCH * 1000) / (o.rate ?? Number.POSITIVE_INFINITY);
  const take = (): Job | "wait" | undefined => {
    const now = performance.now();
    if (retry.length > 0 && (retry[0] as { readyAt: number }).readyAt <= now) {
      const indices: number[] = [];
      while (indices.length < BATCH && retry.length > 0 && (retry[0] as { readyAt: number }).readyAt <= now) {
        indices.push((retry.shift() as { index: number }).index);
      }
      return { indices };
    }
    if (next < fresh.length) {
      if (o.rate === undefined) return fresh[next++];
      const due = dueAt(next);
      if (due > now) return "wait";
      return { ...(fresh[next++] as Job), dueAt: due };
    }
    return retry.length > 0 ? "wait" : undefined;
  };

  const requeue = (indices: readonly number[]) => {
    const readyAt = performance.now() + backoff;
    for (const index of indices) retry.push({ index, readyAt });
    load.resent += indices.length;
    backoff = Math.min(backoff * 2, 500);
  };

  const worker = async () => {
    for (;;) {
      if (performance.now() > deadline) return;
      const job = take();
      if (job === undefined) return;
      if (job === "wait") {
        const wake = Math.min(
          retry[0]?.readyAt ?? Number.POSITIVE_INFINITY,
          next < fresh.length ? dueAt(next) : Number.POSITIVE_INFINITY,
        );
        await sleep(Math.max(1, Math.min(wake, performance.now() + 50) - performance.now()));
        continue;
      }
      const body = (job.body ?? encode(job.indices.map((i) => envelopes[i] as Uint8Array))) as Uint8Array<ArrayBuffer>;
      const sentAt = performance.now();
      const firstAt = job.dueAt ?? sentAt;
      for (const i of job.indices) if (Number.isNaN(load.firstSent[i] as number)) load.firstSent[i] = firstAt;
      const node = nextUrl();
      const url = urls[node] as string;
      load.requests++;
      let res: Response;
      try {
        res = await fetch(`${url}/txs`, {
          method: "POST",
          headers: { "content-type": "application/msgpack", accept: "application/json" },
          body,
        });
      } catch (e) {
        load.count(load.httpErrors, `network: ${(e as Error).message}`);
        requeue(job.indices);
        continue;
      }
      const text = await res.text();
      if (res.status !== 200) {
        let code = `HTTP ${res.status}`;
        try {
          code = `${code} ${(JSON.parse(text) as { error: { code: string } }).error.code}`;
        } catch {
          // not our error format
        }
        load.count(load.httpErrors, code);
        if (res.status === 503) requeue(job.indices);
        else {
          for (const i of job.indices) load.state[i] = TX_FAILED;
          load.failed += job.indices.length;
        }
        continue;
      }
      const results = (JSON.parse(text) as { results: SubmitResultJson[] }).results;
      const full: number[] = [];
      for (let k = 0; k < job.indices.length; k++) {
        const i = job.indices[k] as number;
        const r = results[k] as SubmitResultJson;
        if (r.status === "pending") {
          // The commit may already have been seen (a fast block): keep it.
          if (load.state[i] === TX_PENDING) load.state[i] = TX_ACCEPTED;
          load.acceptedSent[i] = sentAt;
          load.acceptedBy[i] = node;
          load.accepted++;
          continue;
        }
        const code = r.error?.code ?? "UNKNOWN";
        load.count(load.rejections, code);
        if (code === "MEMPOOL_FULL") full.push(i);
        else if (load.state[i] !== TX_COMMITTED) {
          load.state[i] = TX_FAILED;
          load.failed++;
        }
      }
      load.lastAcceptAt = performance.now();
      if (full.length > 0) requeue(full);
      else backoff = 10;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}

/** Marks the transactions of a committed block (seen at `at`) in `load`; returns how many were ours. */
export function recordBlock(
  load: Load,
  hashIndex: ReadonlyMap<string, number>,
  receipts: readonly { txHash: string; code: string }[],
  at: number,
): number {
  let ours = 0;
  for (const r of receipts) {
    const i = hashIndex.get(r.txHash);
    if (i === undefined || load.state[i] === TX_COMMITTED) continue;
    if (load.state[i] === TX_FAILED) load.failed--;
    load.state[i] = TX_COMMITTED;
    load.committedAt[i] = at;
    load.committed++;
    ours++;
    if (r.code !== "OK") load.count(load.receiptFailures, r.code);
  }
  return ours;
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

function percentiles(sorted: readonly number[]): Percentiles {
  const r = (x: number) => Math.round(x * 10) / 10;
  const q = (p: number) => quantile(sorted, p);
  return {
    p50: r(q(0.5)),
    p95: r(q(0.95)),
    p99: r(q(0.99)),
    max: r(sorted.at(-1) ?? Number.NaN),
    mean: r(sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length)),
  };
}

/** First send, last commit, and commit latencies (from the first send and from the accepted send), ms. */
export function loadStats(load: Load): {
  sent: number;
  firstSend: number;
  lastCommit: number;
  latencyMs: Percentiles;
  latencyFromAcceptedSendMs: Percentiles;
} {
  let firstSend = Number.POSITIVE_INFINITY;
  let lastCommit = 0;
  let sent = 0;
  const lat: number[] = [];
  const latAccepted: number[] = [];
  for (let i = 0; i < load.state.length; i++) {
    const f = load.firstSent[i] as number;
    if (!Number.isNaN(f)) {
      sent++;
      firstSend = Math.min(firstSend, f);
    }
    const c = load.committedAt[i] as number;
    if (!Number.isNaN(c)) {
      lastCommit = Math.max(lastCommit, c);
      lat.push(c - f);
      const a = load.acceptedSent[i] as number;
      if (!Number.isNaN(a)) latAccepted.push(c - a);
    }
  }
  lat.sort((a, b) => a - b);
  latAccepted.sort((a, b) => a - b);
  return {
    sent,
    firstSend,
    lastCommit,
    latencyMs: percentiles(lat),
    latencyFromAcceptedSendMs: percentiles(latAccepted),
  };
}
