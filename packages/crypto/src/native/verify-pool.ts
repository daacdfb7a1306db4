import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { nativeVerify } from "./ed25519.ts";
import { packItems, type VerifyItem } from "./verify-batch.ts";

export interface VerifyPoolOptions {
  /** Worker threads; defaults to the number of cores. 0 verifies everything on the calling thread. */
  workers?: number;
  /** Batches smaller than this are verified inline: posting to a worker costs more than they do. */
  inlineBelow?: number;
}

export const defaultVerifyPoolOptions: Required<VerifyPoolOptions> = {
  workers: availableParallelism(),
  inlineBelow: 32,
};

interface Job {
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
 * Verifies Ed25519 signatures in parallel across cores with node:crypto. A batch is split into one
 * chunk per worker; small batches stay on the calling thread. A worker that dies fails only its own
 * jobs and is replaced, so one crash cannot hang every later batch.
 */
export class VerifyPool {
  private readonly slots: Slot[] = [];
  private readonly inlineBelow: number;
  private nextId = 0;
  private closed = false;

  constructor(options: VerifyPoolOptions = {}) {
    const opts = { ...defaultVerifyPoolOptions, ...options };
    this.inlineBelow = opts.inlineBelow;
    for (let i = 0; i < opts.workers; i++) {
      const slot: Slot = { worker: undefined as unknown as Worker, jobs: new Map() };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  get size(): number {
    return this.slots.length;
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
  async verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (this.slots.length === 0 || items.length < this.inlineBelow) {
      return items.map((it) => nativeVerify(it.signature, it.message, it.publicKey));
    }
    if (this.closed) throw new VerifyPoolError("the pool is closed");
    const chunk = Math.ceil(items.length / this.slots.length);
    const parts: Promise<Uint8Array>[] = [];
    for (let s = 0; s * chunk < items.length; s++) {
      parts.push(this.run(this.slots[s] as Slot, items.slice(s * chunk, (s + 1) * chunk)));
    }
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const b of r) out.push(b === 1);
    return out;
  }

  private run(slot: Slot, items: readonly VerifyItem[]): Promise<Uint8Array> {
    const id = this.nextId++;
    const buf = packItems(items);
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject });
      // A worker with jobs in flight must keep the process alive until it answers.
      slot.worker.ref();
      slot.worker.postMessage({ id, buf, count: items.length }, [buf]);
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
