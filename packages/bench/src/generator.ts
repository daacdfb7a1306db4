// The load generator: sends pre-signed transactions in batches on a fixed schedule (open loop) and
// issues reads on their own schedule, spread over the live nodes. A transaction's send time is the
// time its batch was due, not when a connection was free, so a generator that falls behind shows up
// in the latency instead of hiding it (no coordinated omission). Everything is bounded: the
// schedule by a count, sending by a deadline, retries by attempts and a deadline.
import { encode } from "@cairn/messaging";
import { sleep } from "./process.ts";

/** A read the generator issues: GET path, or POST path with a JSON body. */
export interface ReadRequest {
  readonly path: string;
  readonly body?: string;
}

export const TX_UNSENT = 0;
export const TX_SENT = 1;
export const TX_ACCEPTED = 2;
export const TX_REFUSED = 3;

export interface GeneratorOptions {
  /** The API base URLs to send to now (called for each request: a killed node drops out). */
  readonly urls: () => readonly string[];
  /** Pre-signed transaction envelopes, sent in this order. */
  readonly envelopes: readonly Uint8Array[];
  /** Transactions per POST /txs. */
  readonly batch: number;
  /** Transactions per second (0: none). */
  readonly txRate: number;
  /** performance.now() of the schedule's start. */
  readonly start: number;
  /** Nothing new is sent after this (performance.now()); retries stop at `retryDeadline`. */
  readonly deadline: number;
  readonly retryDeadline?: number;
  /** Requests in flight at most, for transactions and for reads (default 32 and 64). */
  readonly concurrency?: number;
  readonly readConcurrency?: number;
  /** Reads: `count` of them at `rate` per second, the k-th being `next(k)`. */
  readonly reads?: { readonly rate: number; readonly count: number; next(k: number): ReadRequest };
  /** Attempts per transaction refused with MEMPOOL_FULL / NOT_READY / 503 or lost on the network (default 20). */
  readonly maxAttempts?: number;
  /** Timeout of one HTTP request (default 30 s). */
  readonly requestTimeoutMs?: number;
}

export class Generator {
  /** Per transaction: when it was (first) due, and when its first request actually started. */
  readonly sentAt: Float64Array;
  readonly firstTry: Float64Array;
  readonly state: Uint8Array;
  readonly attempts: Uint8Array;
  /** Final refusal code of transactions in state TX_REFUSED. */
  readonly refusal = new Map<number, string>();
  /** Every refusal seen, retried ones included, by code. */
  readonly rejections = new Map<string, number>();
  readonly httpErrors = new Map<string, number>();
  requests = 0;
  resent = 0;
  accepted = 0;
  /** Reads: due time, completion time (NaN until done), and whether it succeeded. */
  readonly readDue: Float64Array;
  readonly readDone: Float64Array;
  readonly readOk: Uint8Array;
  readonly readFailures = new Map<string, number>();
  readsDone = 0;
  readonly #o: GeneratorOptions;
  #stopped = false;
  #turn = 0;

  constructor(o: GeneratorOptions) {
    this.#o = o;
    const n = o.envelopes.length;
    this.sentAt = new Float64Array(n).fill(Number.NaN);
    this.firstTry = new Float64Array(n).fill(Number.NaN);
    this.state = new Uint8Array(n);
    this.attempts = new Uint8Array(n);
    const r = o.reads?.count ?? 0;
    this.readDue = new Float64Array(r).fill(Number.NaN);
    this.readDone = new Float64Array(r).fill(Number.NaN);
    this.readOk = new Uint8Array(r);
  }

  /** Stops sending (what is in flight completes). */
  stop(): void {
    this.#stopped = true;
  }

  #count(m: Map<string, number>, code: string): void {
    m.set(code, (m.get(code) ?? 0) + 1);
  }

  #nextUrl(): string | undefined {
    const urls = this.#o.urls();
    if (urls.length === 0) return undefined;
    return urls[this.#turn++ % urls.length];
  }

  async run(): Promise<void> {
    const o = this.#o;
    const n = o.envelopes.length;
    const batches = o.txRate > 0 ? Math.ceil(n / o.batch) : 0;
    const txDue = (k: number) => o.start + (k * o.batch * 1000) / o.txRate;
    const reads = o.reads;
    const readDue = (k: number) => o.start + (k * 1000) / (reads?.rate ?? 1);
    const conc = o.concurrency ?? 32;
    const readConc = o.readConcurrency ?? 64;
    const maxAttempts = o.maxAttempts ?? 20;
    const retryDeadline = o.retryDeadline ?? o.deadline;
    let nextBatch = 0;
    let nextRead = 0;
    let txInFlight = 0;
    let readsInFlight = 0;
    const retry: { i: number; readyAt: number }[] = [];
    let backoff = 50;
    const inflight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };

    const requeue = (indices: readonly number[], code: string) => {
      const readyAt = performance.now() + backoff;
      backoff = Math.min(backoff * 2, 1000);
      for (const i of indices) {
        if ((this.attempts[i] as number) >= maxAttempts || readyAt > retryDeadline) {
          this.state[i] = TX_REFUSED;
          this.refusal.set(i, code);
          continue;
        }
        this.state[i] = TX_SENT;
        retry.push({ i, readyAt });
        this.resent++;
      }
    };

    const sendBatch = async (indices: readonly number[], body?: Uint8Array): Promise<void> => {
      const url = this.#nextUrl();
      for (const i of indices) this.attempts[i] = (this.attempts[i] as number) + 1;
      if (url === undefined) {
        requeue(indices, "NO_NODE");
        return;
      }
      this.requests++;
      const payload = (body ?? encode(indices.map((i) => o.envelopes[i] as Uint8Array))) as Uint8Array<ArrayBuffer>;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${url}/txs`, {
          method: "POST",
          headers: { "content-type": "application/msgpack", accept: "application/json" },
          body: payload,
          signal: AbortSignal.timeout(o.requestTimeoutMs ?? 30_000),
        });
        text = await res.text();
      } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        this.#count(this.httpErrors, `network: ${err.cause?.code ?? err.name}`);
        requeue(indices, "NETWORK");
        return;
      }
      if (res.status !== 200) {
        let code = `HTTP ${res.status}`;
        try {
          code = (JSON.parse(text) as { error: { code: string } }).error.code;
        } catch {
          // not our error format
        }
        this.#count(this.httpErrors, `HTTP ${res.status} ${code}`);
        if (res.status === 503) requeue(indices, code);
        else {
          for (const i of indices) {
            this.state[i] = TX_REFUSED;
            this.refusal.set(i, code);
          }
        }
        return;
      }
      const results = (JSON.parse(text) as { results: { status?: string; error?: { code: string } }[] }).results;
      const again: number[] = [];
      let againCode = "MEMPOOL_FULL";
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k] as number;
        const r = results[k];
        const code = r?.error?.code;
        if (r?.status === "pending" || code === "DUPLICATE") {
          // DUPLICATE: a node already holds it (an earlier attempt got through).
          if (this.state[i] !== TX_ACCEPTED) this.accepted++;
          this.state[i] = TX_ACCEPTED;
          continue;
        }
        const c = code ?? "UNKNOWN";
        this.#count(this.rejections, c);
        if (c === "MEMPOOL_FULL" || c === "NOT_READY") {
          again.push(i);
          againCode = c;
        } else {
          this.state[i] = TX_REFUSED;
          this.refusal.set(i, c);
        }
      }
      if (again.length > 0) requeue(again, againCode);
      else backoff = 50;
    };

    const doRead = async (k: number, req: ReadRequest): Promise<void> => {
      const url = this.#nextUrl();
      if (url === undefined) {
        this.#count(this.readFailures, "NO_NODE");
        this.readDone[k] = performance.now();
        this.readsDone++;
        return;
      }
      try {
        const res = await fetch(`${url}${req.path}`, {
          method: req.body === undefined ? "GET" : "POST",
          headers:
            req.body === undefined
              ? { accept: "application/json" }
              : { accept: "application/json", "content-type": "application/json" },
          ...(req.body === undefined ? {} : { body: req.body }),
          signal: AbortSignal.timeout(o.requestTimeoutMs ?? 30_000),
        });
        const text = await res.text();
        let ok = res.status === 200;
        let code = `HTTP ${res.status}`;
        if (ok && req.body !== undefined) {
          // POST /query: a contract failure is a 200 with ok: false.
          const q = JSON.parse(text) as { ok: boolean; code?: string };
          ok = q.ok;
          code = q.code ?? "QUERY_FAILED";
        } else if (!ok) {
          try {
            code = (JSON.parse(text) as { error: { code: string } }).error.code;
          } catch {
            // not our error format
          }
        }
        this.readDone[k] = performance.now();
        if (ok) this.readOk[k] = 1;
        else this.#count(this.readFailures, code);
      } catch (e) {
        this.readDone[k] = performance.now();
        this.#count(
          this.readFailures,
          `network: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? "error"}`,
        );
      }
      this.readsDone++;
    };

    const readCount = reads?.count ?? 0;
    for (;;) {
      if (this.#stopped) break;
      const now = performance.now();
      const sending = now <= o.deadline;
      // Fresh batches that are due.
      while (sending && txInFlight < conc && nextBatch < batches && txDue(nextBatch) <= now) {
        const k = nextBatch++;
        const due = txDue(k);
        const indices: number[] = [];
        for (let i = k * o.batch; i < Math.min(n, (k + 1) * o.batch); i++) {
          indices.push(i);
          this.sentAt[i] = due;
          this.firstTry[i] = now;
          this.state[i] = TX_SENT;
        }
        txInFlight++;
        track(sendBatch(indices).finally(() => txInFlight--));
      }
      // Retries whose back-off has passed.
      while (txInFlight < conc && retry.length > 0 && (retry[0] as { readyAt: number }).readyAt <= now) {
        const indices: number[] = [];
        while (indices.length < o.batch && retry.length > 0 && (retry[0] as { readyAt: number }).readyAt <= now) {
          indices.push((retry.shift() as { i: number }).i);
        }
        if (now > retryDeadline) {
          for (const i of indices) {
            this.state[i] = TX_REFUSED;
            this.refusal.set(i, this.refusal.get(i) ?? "MEMPOOL_FULL");
          }
          continue;
        }
        txInFlight++;
        track(sendBatch(indices).finally(() => txInFlight--));
      }
      // Reads that are due.
      while (sending && readsInFlight < readConc && nextRead < readCount && readDue(nextRead) <= now) {
        const k = nextRead++;
        this.readDue[k] = readDue(k);
        readsInFlight++;
        track(doRead(k, (reads as NonNullable<typeof reads>).next(k)).finally(() => readsInFlight--));
      }
      const freshLeft = sending && nextBatch < batches;
      const readsLeft = sending && nextRead < readCount;
      if (!freshLeft && !readsLeft && retry.length === 0 && inflight.size === 0) break;
      if (!sending && retry.length === 0 && inflight.size === 0) break;
      if (performance.now() > retryDeadline + 60_000) break;
      // Sleep until the next due item (at most 5 ms, so retries and freed slots are picked up).
      const nextAt = Math.min(
        freshLeft ? txDue(nextBatch) : Number.POSITIVE_INFINITY,
        readsLeft ? readDue(nextRead) : Number.POSITIVE_INFINITY,
        retry[0]?.readyAt ?? Number.POSITIVE_INFINITY,
      );
      await sleep(Math.max(1, Math.min(5, nextAt - performance.now())));
    }
    // Transactions of the schedule never sent (deadline passed first) stay TX_UNSENT.
    await Promise.allSettled([...inflight]);
    for (const r of retry) {
      if (this.state[r.i] !== TX_ACCEPTED) {
        this.state[r.i] = TX_REFUSED;
        this.refusal.set(r.i, this.refusal.get(r.i) ?? "MEMPOOL_FULL");
      }
    }
  }
}
