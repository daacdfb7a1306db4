import { Columns } from "@cairn/ledger";
import type { MempoolJournal } from "@cairn/mempool";
import type { SignedTransaction } from "@cairn/messaging";
import type { Database } from "@cairn/storage";

/**
 * The mempool's journal in the node's database. Admitted transactions are durable before the API
 * answers 202, by group commit: batches that arrive while a write is in flight wait for it and
 * then go down together in one write with one fsync. Committed and expired transactions are
 * deleted without an fsync (a crash leaves them, and the next start drops them at re-admission).
 */
export function createMempoolJournal(db: Database): MempoolJournal & { load(): Promise<Uint8Array[]> } {
  let waiting: { txs: readonly SignedTransaction[]; done: (err?: unknown) => void }[] = [];
  let writing = false;
  const flush = async () => {
    writing = true;
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      const batch = db.batch();
      for (const w of group) for (const t of w.txs) batch.put(Columns.mempool, t.hash, t.bytes);
      try {
        await batch.write({ sync: true });
        for (const w of group) w.done();
      } catch (err) {
        for (const w of group) w.done(err);
      }
    }
    writing = false;
  };
  return {
    append(txs) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ txs, done: (err) => (err === undefined ? resolve() : reject(err)) });
        if (!writing) void flush();
      });
    },
    remove(hashes) {
      const batch = db.batch();
      for (const h of hashes) batch.del(Columns.mempool, h);
      void batch.write({ sync: false }).catch(() => {});
    },
    async load() {
      const out: Uint8Array[] = [];
      for await (const [, value] of db.iterate(Columns.mempool)) out.push(value);
      return out;
    },
  };
}
