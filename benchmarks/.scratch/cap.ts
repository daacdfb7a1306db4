import { generateKeyPair } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { Mempool } from "@cairn/mempool";
import { kvPut } from "../lib/txs.ts";
const kp = generateKeyPair(); const s = createNativeSigner(kp.secretKey, kp.publicKey);
const txs = Array.from({ length: 1600 }, (_, i) => kvPut("c", s, 500, "k", i).bytes);
const mp = new Mempool(
  { admission: { checkAdmission: async (t) => t.map(() => null) }, verifier: { verifyBatch: async (t) => t.map(() => true) }, maxTxBytes: 65536 },
  { maxTxs: 1000 },
);
const [a, b] = await Promise.all([mp.add(txs.slice(0, 800)), mp.add(txs.slice(800))]);
console.log("maxTxs 1000; accepted", a.filter((r) => r.ok).length + b.filter((r) => r.ok).length, "size", mp.size, "maxSize", mp.maxSize);
