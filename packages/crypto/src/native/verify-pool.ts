import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { nativeVerify } from "./ed25519.ts";
import { packItems, type VerifyItem } from "./verify-batch.ts";

export interface VerifyPoolOptions {
  /** Worker threads; defaults to the number of cores. 0 verifies everything on the calling thread. */
  workers?: number;
  /** Batches smaller than this are verified inline: posting to a worker costs more than they do. */
  inlineBelow?: number;
  /**
   * Most signatures in one job sent to a worker. A batch is cut into jobs of at most this many, and
   * a worker runs its waiting jobs urgent first, so an urgent batch waits behind at most the job
   * each worker is running, never behind a whole backlog.
   */
  chunk?: number;
  /**
   * How far below the process's the worker threads' priority is on Linux: added to their nice
   * value, at most 19 (0 to 19; 0: the process's priority). When the cores
   * are short, the node's main thread (consensus, the network, the API) then runs before the
   * checks of transactions waiting for admission, and admission slows down instead of consensus:
   * on a machine whose cores admissions fill, a chain whose main threads competed with their
   * checks on equal terms stalled for seconds per height (benchmarks/README.md). Other systems
   * ignore it (their nice value is the whole process's).
   */
  nice?: number;
}

export const defaultVerifyPoolOptions: Required<VerifyPoolOptions> = {
  workers: availableParallelism(),
  inlineBelow: 32,
  chunk: 64,
  nice: 5,
};

/** How a batch is scheduled: `urgent` batches go ahead of every waiting `normal` one. */
export interface VerifyBatchOptions {
  readonly urgent?: boolean;
}

interface Job {
  readonly count: number;
  readonly resolve: (r: Uint8Array) => void;
  readonly reject: (e: Error) => void;
}

/** One worker thread, the jobs it has not answered yet, and how many signatures they hold. */
interface Slot {
  worker: Worker;
  readonly jobs: Map<number, Job>;
  load: number;
}

export class VerifyPoolError extends Error {
  readonly code = "VERIFY_POOL";
  constructor(message: string) {
    super(message);
    this.name = "VerifyPoolError";
  }
}

/**
 * Verifies Ed25519 signatures in parallel across cores with node:crypto. A batch is cut into jobs
 * of at most `chunk` signatures, each handed at once to the least loaded worker; a worker runs its
 * waiting jobs urgent first. So a block's transactions checked for consensus (urgent) overtake a
 * backlog of admissions (normal) instead of waiting behind it past the round's timeout, and a
 * worker never idles while it has work. Small batches stay on the calling thread. A worker that
 * dies fails only its own jobs and is replaced, so one crash cannot hang every later batch.
 */
export class VerifyPool {
  private readonly slots: Slot[] = [];
  private readonly opts: Required<VerifyPoolOptions>;
  private nextId = 0;
  private closed = false;

  constructor(options: VerifyPoolOptions = {}) {
    this.opts = { ...defaultVerifyPoolOptions, ...options };
    if (!(this.opts.chunk >= 1)) throw new VerifyPoolError("chunk must be at least 1");
    const { nice } = this.opts;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new VerifyPoolError("nice must be 0 to 19");
    for (let i = 0; i < this.opts.workers; i++) {
      const slot: Slot = { worker: undefined as unknown as Worker, jobs: new Map(), load: 0 };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Signatures handed to the workers and not answered yet. */
  get pending(): number {
    return this.slots.reduce((n, s) => n + s.load, 0);
  }

  private spawn(slot: Slot): void {
    const w = new Worker(new URL("./verify-worker.ts", import.meta.url), { workerData: { nice: this.opts.nice } });
    w.unref();
    slot.worker = w;
    slot.load = 0;
    w.on("message", (msg: { id: number; result: Uint8Array }) => {
      const job = slot.jobs.get(msg.id);
      if (job === undefined) return;
      slot.jobs.delete(msg.id);
      slot.load -= job.count;
      if (slot.jobs.size === 0) w.unref();
      job.resolve(msg.result);
    });
    const died = (why: string) => {
      if (slot.worker !== w) return; // already replaced
      for (const job of slot.jobs.values()) job.reject(new VerifyPoolError(`verification worker ${why}`));
      slot.jobs.clear();
      if (!this.closed) this.spawn(slot);
    };
    w.on("error", (err) => died(`failed: ${err.message}`));
    w.on("exit", (code) => died(`exited with code ${code}`));
  }

  /** Resolves to one boolean per item, in order. */
  async verifyBatch(items: readonly VerifyItem[], options: VerifyBatchOptions = {}): Promise<boolean[]> {
    if (this.slots.length === 0 || items.length < this.opts.inlineBelow) {
      return items.map((it) => nativeVerify(it.signature, it.message, it.publicKey));
    }
    if (this.closed) throw new VerifyPoolError("the pool is closed");
    const size = Math.min(this.opts.chunk, Math.ceil(items.length / this.slots.length));
    const urgent = options.urgent === true;
    const parts: Promise<Uint8Array>[] = [];
    for (let at = 0; at < items.length; at += size) parts.push(this.run(items.slice(at, at + size), urgent));
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const b of r) out.push(b === 1);
    return out;
  }

  /** Hands one job to the worker with the fewest signatures waiting. */
  private run(items: readonly VerifyItem[], urgent: boolean): Promise<Uint8Array> {
    let slot = this.slots[0] as Slot;
    for (const s of this.slots) if (s.load < slot.load) slot = s;
    const id = this.nextId++;
    const buf = packItems(items);
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { count: items.length, resolve, reject });
      slot.load += items.length;
      // A worker with jobs in flight must keep the process alive until it answers.
      slot.worker.ref();
      slot.worker.postMessage({ id, buf, count: items.length, urgent }, [buf]);
    });
  }

  /** For tests: the worker threads, to simulate a crash. */
  workersForTesting(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker);
    for (const s of this.slots) {
      for (const job of s.jobs.values()) job.reject(new VerifyPoolError("the pool is closed"));
      s.jobs.clear();
    }
    this.slots.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
