import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "@cairn/storage";
import { createWorldState } from "./index.ts";
const size = Number(process.argv[2] ?? 100000);
const key = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
const value = (i: number, salt: number) => { const v = new Uint8Array(32); new DataView(v.buffer).setUint32(0, i); new DataView(v.buffer).setUint32(4, salt); return v; };
const dir = await mkdtemp(join(tmpdir(), "cairn-prof-"));
const db = await openDatabase(join(dir, "db"));
const ws = await createWorldState(db, { maxCachedNodes: Number(process.argv[4] ?? 1_000_000) });
for (let start = 0; start < size; start += 100000) {
  const o = ws.overlay();
  let t = performance.now();
  for (let i = start; i < Math.min(size, start + 100000); i++) o.set("bench", key(i), value(i, 0));
  const tset = performance.now() - t; t = performance.now();
  const p = await ws.prepare(o);
  const tprep = performance.now() - t; t = performance.now();
  const batch = db.batch(); ws.commit(p, batch);
  const tcommit = performance.now() - t; t = performance.now();
  await batch.write({ sync: false });
  if (start + 100000 >= size) console.log("build chunk", { tset, tprep, tcommit, twrite: performance.now() - t });
}
for (let r = 0; r < Number(process.argv[3] ?? 5); r++) {
  const o = ws.overlay();
  for (let j = 0; j < 10000; j++) { const i = Math.floor(Math.random() * size); o.set("bench", key(i), value(i, r + 1)); }
  let t = performance.now();
  const p = await ws.prepare(o);
  const tprep = performance.now() - t; t = performance.now();
  const batch = db.batch(); ws.commit(p, batch);
  const tcommit = performance.now() - t; const n = batch.length; t = performance.now();
  await batch.write({ sync: true });
  console.log("block", { tprep, tcommit, ops: n, twrite: performance.now() - t });
}
(globalThis as any).gc?.(); console.log("heapUsed MiB", (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0), "rss", (process.memoryUsage().rss / 2 ** 20).toFixed(0));
await db.close();
