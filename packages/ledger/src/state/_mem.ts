import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "@cairn/storage";
import { createWorldState } from "./index.ts";
const size = Number(process.argv[2] ?? 100000);
const CH = Number(process.argv[4] ?? 100000);
const key = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
const value = (i: number, salt: number) => { const v = new Uint8Array(32); new DataView(v.buffer).setUint32(0, i); new DataView(v.buffer).setUint32(4, salt); return v; };
const db = await openDatabase(join(await mkdtemp(join(tmpdir(), "cairn-mem-")), "db"));
const ws = await createWorldState(db, { maxCachedNodes: 10_000_000, valueCacheBytes: Number(process.argv[3] ?? 64e6) });
(globalThis as any).gc(); const h0 = process.memoryUsage().heapUsed;
for (let start = 0; start < size; start += CH) {
  const o = ws.overlay();
  for (let i = start; i < Math.min(size, start + CH); i++) o.set("bench", key(i), value(i, 0));
  const p = await ws.prepare(o); const batch = db.batch(); ws.commit(p, batch); await batch.write({ sync: false });
}
(globalThis as any).gc(); (globalThis as any).gc();
console.log("heap delta MiB", ((process.memoryUsage().heapUsed - h0) / 2 ** 20).toFixed(1), "per key B", ((process.memoryUsage().heapUsed - h0) / size).toFixed(0), ws.root().length);
await db.close();
