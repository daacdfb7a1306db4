import { randomBytes } from "node:crypto";
import { toHex } from "@cairn/crypto";

const N = 30000;
const hashes = Array.from({ length: N }, () => new Uint8Array(randomBytes(32)));
for (const [label, hex] of [
  ["toHex (+= rope)", (b: Uint8Array) => toHex(b)],
  [
    "Buffer.toString('hex') (flat)",
    (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex"),
  ],
] as const) {
  for (let round = 0; round < 2; round++) {
    const m = new Map<string, number>();
    let t = performance.now();
    for (let i = 0; i < N; i++) m.set(hex(hashes[i]!), i);
    const tset = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < N; i++) m.get(hex(hashes[i]!));
    const tget = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < N; i++) m.delete(hex(hashes[i]!));
    const tdel = performance.now() - t;
    console.log(
      `${label}: set ${((tset * 1000) / N).toFixed(2)} µs, get ${((tget * 1000) / N).toFixed(2)} µs, delete ${((tdel * 1000) / N).toFixed(2)} µs per key`,
    );
  }
}
