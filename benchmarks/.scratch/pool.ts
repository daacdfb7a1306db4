import { generateKeyPair, sign } from "@cairn/crypto";
import { VerifyPool } from "@cairn/crypto/native";
const kp = generateKeyPair();
const items = Array.from({ length: 100 }, (_, i) => { const m = new Uint8Array([i, 1, 2]); return { publicKey: kp.publicKey, message: m, signature: sign(m, kp.secretKey) }; });
const pool = new VerifyPool({ workers: 2 });
console.log("before:", (await pool.verifyBatch(items)).every(Boolean));
// A worker thread dies (crash, OOM, terminate): the pool does not notice.
await (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]!.terminate();
const r = await Promise.race([pool.verifyBatch(items).then(() => "resolved"), new Promise((res) => setTimeout(() => res("still pending after 5 s"), 5000))]);
console.log("after a worker died:", r);
process.exit(0);
