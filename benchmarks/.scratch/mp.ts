import { generateKeyPair, toHex } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { Mempool } from "@cairn/mempool";
import { kvPut } from "../lib/txs.ts";

const kp = generateKeyPair();
const s = createNativeSigner(kp.secretKey, kp.publicKey);
const txs = Array.from({ length: 30000 }, (_, i) => kvPut("c", s, 500, "k", i));
const mp = new Mempool({
  admission: { checkAdmission: async (t) => t.map(() => null) },
  verifier: { verifyBatch: async (t) => t.map(() => true) },
  maxTxBytes: 65536,
});
for (let i = 0; i < txs.length; i += 1000) await mp.add(txs.slice(i, i + 1000).map((t) => t.bytes));
console.log("size", mp.size);
for (let b = 0; b < 10; b++) {
  const chunk = txs.slice(b * 2500, b * 2500 + 2500);
  let t = performance.now();
  mp.removeCommitted(chunk);
  const rc = performance.now() - t;
  t = performance.now();
  mp.dropExpired(1);
  const de = performance.now() - t;
  t = performance.now();
  mp.reap(10000, 8e6, 1);
  const rp = performance.now() - t;
  console.log(
    `removeCommitted(2500) ${rc.toFixed(1)} ms = ${((rc * 1000) / 2500).toFixed(1)} µs/tx; dropExpired ${de.toFixed(1)} ms; reap ${rp.toFixed(1)} ms; size ${mp.size}`,
  );
}
const h = txs[0]!.hash;
let t = performance.now();
for (let i = 0; i < 100000; i++) toHex(h);
console.log("toHex µs", (((performance.now() - t) * 10) / 1000).toFixed(2));
t = performance.now();
for (let i = 0; i < 100000; i++) Buffer.from(h.buffer, h.byteOffset, 32).toString("hex");
console.log("Buffer hex µs", (((performance.now() - t) * 10) / 1000).toFixed(2));
