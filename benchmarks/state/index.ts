// Throughput of the state tree: prepare + commit + write of 10k changed keys on a large tree.
// Building the 1M-key tree takes about a minute:
//   npm run bench:state -- 100000,1000000
// CAIRN_STATE_BENCH_NODES sets maxCachedNodes (default: the WorldState default).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorldState, type StateProof, verifyStateProof, type WorldState } from "@cairn/ledger";
import { openDatabase } from "@cairn/storage";

const sizes = (process.argv[2] ?? "100000")
  .split(",")
  .filter((s) => s !== "")
  .map(Number);

const CONTRACT = "bench";
const key = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
const value = (i: number, salt: number) => {
  const v = new Uint8Array(32);
  new DataView(v.buffer).setUint32(0, i);
  new DataView(v.buffer).setUint32(4, salt);
  return v;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

for (const size of sizes) {
  {
    const dir = await mkdtemp(join(tmpdir(), "cairn-state-bench-"));
    let db = await openDatabase(join(dir, "db"));
    try {
      const cap = process.env.CAIRN_STATE_BENCH_NODES;
      const options = cap ? { maxCachedNodes: Number(cap) } : {};
      let ws: WorldState = await createWorldState(db, options);
      let t0 = performance.now();
      const chunk = 100_000;
      for (let start = 0; start < size; start += chunk) {
        const o = ws.overlay();
        for (let i = start; i < Math.min(size, start + chunk); i++) o.set(CONTRACT, key(i), value(i, 0));
        const p = await ws.prepare(o);
        const batch = db.batch();
        ws.commit(p, batch);
        await batch.write({ sync: false });
      }
      const buildMs = performance.now() - t0;
      let next = size;
      let salt = 1;
      // 10k changes: 6k updates of existing keys, 2k inserts, 2k deletes (then re-inserted later).
      const block = async (label: string) => {
        const o = ws.overlay();
        const s = salt++;
        for (let j = 0; j < 6000; j++) {
          const i = Math.floor(Math.random() * size);
          o.set(CONTRACT, key(i), value(i, s));
        }
        for (let j = 0; j < 2000; j++) o.set(CONTRACT, key(next), value(next++, s));
        for (let j = 0; j < 2000; j++) o.delete(CONTRACT, key(Math.floor(Math.random() * size)));
        const a = performance.now();
        const p = await ws.prepare(o);
        const b = performance.now();
        const batch = db.batch();
        ws.commit(p, batch);
        const c = performance.now();
        const ops = batch.length;
        await batch.write({ sync: true });
        const d = performance.now();
        return { label, changes: o.size, ops, prepare: b - a, commit: c - b, write: d - c };
      };
      const warm: Awaited<ReturnType<typeof block>>[] = [];
      for (let r = 0; r < 7; r++) warm.push(await block("warm"));
      const root = ws.root();
      await db.close();
      db = await openDatabase(join(dir, "db"));
      t0 = performance.now();
      ws = await createWorldState(db, options);
      const reopenMs = performance.now() - t0;
      if (Buffer.compare(ws.root(), root) !== 0) throw new Error("the root changed across a reopen");
      const cold = await block("cold (first block after reopen, empty caches)");
      // Proofs of 1000 random keys (their paths partly on disk), then the same again (in memory).
      const sample = Array.from({ length: 1000 }, () => Math.floor(Math.random() * size));
      const timeProofs = async () => {
        const start = performance.now();
        const proofs = [];
        for (const i of sample) proofs.push(await ws.prove(CONTRACT, key(i)));
        return { proofs, us: ((performance.now() - start) * 1000) / sample.length };
      };
      const coldProofs = await timeProofs();
      const { proofs, us: proveUs } = await timeProofs();
      const values = await Promise.all(sample.map((i) => ws.get(CONTRACT, key(i))));
      const verifyStart = performance.now();
      const currentRoot = ws.root();
      for (let j = 0; j < sample.length; j++) {
        const ok = verifyStateProof(
          currentRoot,
          CONTRACT,
          key(sample[j] as number),
          values[j],
          proofs[j] as StateProof,
        );
        if (!ok) throw new Error("proof did not verify");
      }
      const verifyUs = ((performance.now() - verifyStart) * 1000) / sample.length;
      const m = (k: "prepare" | "commit" | "write") => median(warm.map((w) => w[k])).toFixed(1);
      console.log(
        [
          `state tree, ${size} keys, maxCachedNodes ${cap ?? "default"}: built in ${(buildMs / 1000).toFixed(1)} s (blocks of ${chunk}, sync: false)`,
          `  warm, median of ${warm.length} blocks of ${warm[0]?.changes} changes (${warm[0]?.ops} batch ops): ` +
            `prepare ${m("prepare")} ms, commit ${m("commit")} ms, batch write (sync) ${m("write")} ms`,
          `  ${cold.label}: reopen ${reopenMs.toFixed(1)} ms, prepare ${cold.prepare.toFixed(1)} ms, ` +
            `commit ${cold.commit.toFixed(1)} ms, write ${cold.write.toFixed(1)} ms`,
          `  prove: ${coldProofs.us.toFixed(0)} us per key (paths partly on disk), ${proveUs.toFixed(0)} us (in memory); ` +
            `verifyStateProof: ${verifyUs.toFixed(0)} us (@noble/hashes); ${proofs[0]?.siblings.length} siblings`,
          `  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
        ].join("\n"),
      );
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
}
