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

interface Pending {
  resolve: (r: Uint8Array) => void;
  reject: (e: Error) => void;
}

/**
 * Verifies Ed25519 signatures in parallel across cores with node:crypto. A batch is split into one
 * chunk per worker; small batches stay on the calling thread.
 */
export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly inlineBelow: number;
  private nextId = 0;
  private closed = false;

  constructor(options: VerifyPoolOptions = {}) {
    const opts = { ...defaultVerifyPoolOptions, ...options };
    this.inlineBelow = opts.inlineBelow;
    for (let i = 0; i < opts.workers; i++) {
      const w = new Worker(new URL("./verify-worker.ts", import.meta.url));
      w.unref();
      w.on("message", (msg: { id: number; result: Uint8Array }) => {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        p.resolve(msg.result);
      });
      w.on("error", (err) => this.failAll(err));
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Resolves to one boolean per item, in order. */
  async verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (this.workers.length === 0 || items.length < this.inlineBelow) {
      return items.map((it) => nativeVerify(it.signature, it.message, it.publicKey));
    }
    if (this.closed) throw new Error("VerifyPool is closed");
    const chunk = Math.ceil(items.length / this.workers.length);
    const parts: Promise<Uint8Array>[] = [];
    for (let w = 0; w * chunk < items.length; w++) {
      const slice = items.slice(w * chunk, (w + 1) * chunk);
      parts.push(this.run(this.workers[w] as Worker, slice));
    }
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const b of r) out.push(b === 1);
    return out;
  }

  private run(worker: Worker, items: readonly VerifyItem[]): Promise<Uint8Array> {
    const id = this.nextId++;
    const buf = packItems(items);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A worker with jobs in flight must keep the process alive until they answer.
      worker.ref();
      worker.postMessage({ id, buf, count: items.length }, [buf]);
    }).finally(() => {
      if (this.pending.size === 0) for (const w of this.workers) w.unref();
    }) as Promise<Uint8Array>;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error("VerifyPool closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
