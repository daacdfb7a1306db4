import { hashPair, sha256String } from "./fast-hash.ts";
import { INode, Leaf } from "./tree.ts";
const N = 200000;
const g = (globalThis as any).gc;
const m = () => { g(); g(); return process.memoryUsage().heapUsed; };
let h0 = m();
const strs: string[] = []; for (let i = 0; i < N; i++) strs.push(hashPair(1, "a".repeat(32), String(i).padEnd(32, "x")));
console.log("hashPair string B", ((m() - h0) / N).toFixed(0)); h0 = m();
const strs2: string[] = []; for (let i = 0; i < N; i++) strs2.push(sha256String(new Uint8Array([i, i >> 8, i >> 16])));
console.log("sha256String B", ((m() - h0) / N).toFixed(0)); h0 = m();
const nodes: INode[] = []; for (let i = 0; i < N; i++) nodes.push(new INode(strs[i]!, null, null));
console.log("INode B", ((m() - h0) / N).toFixed(0)); h0 = m();
const leaves: Leaf[] = []; for (let i = 0; i < N; i++) leaves.push(new Leaf(strs[i]!, strs2[i]!, strs[i]!));
console.log("Leaf B (no strings)", ((m() - h0) / N).toFixed(0)); h0 = m();
const b = Buffer.alloc(96, 7); const s3: string[] = []; for (let i = 0; i < N; i++) { b[0] = i; s3.push(b.toString("latin1", 0, 32)); }
console.log("latin1 slice B", ((m() - h0) / N).toFixed(0));
console.log(strs.length + strs2.length + nodes.length + leaves.length + s3.length);
