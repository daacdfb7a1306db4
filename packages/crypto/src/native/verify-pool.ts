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
   * Most signatures in one job sent to a worker. A batch is cut into jobs of at most this many, so
   * an urgent batch waits behind at most `inFlight` jobs per worker, never behind a whole backlog.
   */
  chunk?: number;
  /** Jobs a worker holds at once (the rest wait in the pool's queues, urgent ones first). */
  inFlight?: number;
}

export const defaultVerifyPoolOptions: Required<VerifyPoolOptions> = {
  workers: availableParallelism(),
  inlineBelow: 32,
  chunk: 64,
  inFlight: 2,
};

/** How a batch is scheduled: `urgent` batches go ahead of every queued `normal` one. */
export interface VerifyBatchOptions {
  readonly urgent?: boolean;
}

/** A part of a batch, queued until a worker has room for it. */
interface Job {
  readonly items: readonly VerifyItem[];
  readonly resolve: (r: Uint8Array) => void;
  readonly reject: (e: Error) => void;
}

/** One worker thread and the jobs it has not answered yet. */
interface Slot {
  worker: Worker;
  readonly jobs: Map<number, Job>;
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
 * that wait in two queues, urgent and normal; a worker is handed the next job (urgent first) while
 * it holds fewer than `inFlight`. So a block's transactions checked for consensus (urgent) overtake
 * a backlog of admissions (normal) instead of waiting behind it past the round's timeout. Small
 * batches stay on the calling thread. A worker that dies fails only its own jobs and is replaced,
 * so one crash cannot hang every later batch.
 */
export class VerifyPool {
  private readonly slots: Slot[] = [];
  private readonly opts: Required<VerifyPoolOptions>;
  private readonly urgent: Job[] = [];
  private readonly normal: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: VerifyPoolOptions = {}) {
    this.opts = { ...defaultVerifyPoolOptions, ...options };
    if (!(this.opts.chunk >= 1) || !(this.opts.inFlight >= 1)) {
      throw new VerifyPoolError("chunk and inFlight must be at least 1");
    }
    for (let i = 0; i < this.opts.workers; i++) {
      const slot: Slot = { worker: undefined as unknown as Worker, jobs: new Map() };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Signatures waiting for a worker (not yet handed to one), by queue. */
  get queued(): { urgent: number; normal: number } {
    const count = (q: readonly Job[]) => q.reduce((n, j) => n + j.items.length, 0);
    return { urgent: count(this.urgent), normal: count(this.normal) };
  }

  private spawn(slot: Slot): void {
    const w = new Worker(new URL("./verify-worker.ts", import.meta.url));
    w.unref();
    slot.worker = w;
    w.on("message", (msg: { id: number; result: Uint8Array }) => {
      const job = slot.jobs.get(msg.id);
      if (job === undefined) return;
      slot.jobs.delete(msg.id);
      if (slot.jobs.size === 0) w.unref();
      job.resolve(msg.result);
      this.dispatch();
    });
    const died = (why: string) => {
      if (slot.worker !== w) return; // already replaced
      for (const job of slot.jobs.values()) job.reject(new VerifyPoolError(`verification worker ${why}`));
      slot.jobs.clear();
      if (this.closed) return;
      this.spawn(slot);
      this.dispatch();
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
    const queue = options.urgent === true ? this.urgent : this.normal;
    const parts: Promise<Uint8Array>[] = [];
    for (let at = 0; at < items.length; at += size) {
      const part = items.slice(at, at + size);
      parts.push(new Promise((resolve, reject) => queue.push({ items: part, resolve, reject })));
    }
    this.dispatch();
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const b of r) out.push(b === 1);
    return out;
  }

  /** Hands queued jobs, urgent first, to the least busy workers that have room. */
  private dispatch(): void {
    while (this.urgent.length > 0 || this.normal.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (slot === undefined || s.jobs.size < slot.jobs.size) slot = s;
      if (slot === undefined || slot.jobs.size >= this.opts.inFlight) return;
      const job = (this.urgent.length > 0 ? this.urgent : this.normal).shift() as Job;
      const id = this.nextId++;
      const buf = packItems(job.items);
      slot.jobs.set(id, job);
      // A worker with jobs in flight must keep the process alive until it answers.
      slot.worker.ref();
      slot.worker.postMessage({ id, buf, count: job.items.length }, [buf]);
    }
  }

  /** For tests: the worker threads, to simulate a crash. */
  workersForTesting(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker);
    for (const job of [...this.urgent.splice(0), ...this.normal.splice(0)]) {
      job.reject(new VerifyPoolError("the pool is closed"));
    }
    for (const s of this.slots) {
      for (const job of s.jobs.values()) job.reject(new VerifyPoolError("the pool is closed"));
      s.jobs.clear();
    }
    this.slots.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
