// Signed transactions for tests, built with the messaging layer directly.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, type KeyPair, keyPairFromSecret, toHex } from "@cairn/crypto";
import { type SignedTransaction, signTransaction, type Value } from "@cairn/messaging";

export function readKey(home: string, name = "admin"): KeyPair {
  const f = JSON.parse(readFileSync(join(home, "keys", `${name}.json`), "utf8"));
  return keyPairFromSecret(fromHex(f.secretKey));
}

let counter = 0;

export function signedCall(
  key: KeyPair,
  chainId: string,
  contract: string,
  method: string,
  args: Value[],
  expiry = 900,
): SignedTransaction {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  new DataView(nonce.buffer).setUint32(0, ++counter);
  return signTransaction({ chainId, sender: key.publicKey, nonce, expiry, contract, method, args }, key.secretKey);
}

export function kvPut(key: KeyPair, chainId: string, k: string, v: string, expiry = 900): SignedTransaction {
  const enc = new TextEncoder();
  return signedCall(key, chainId, "kv", "put", [enc.encode(k), enc.encode(v)], expiry);
}

export async function postTxs(
  url: string,
  txs: SignedTransaction[],
  wait = false,
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/txs${wait ? "?wait=commit&timeout=20000" : ""}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ txs: txs.map((t) => toHex(t.bytes)) }),
  });
  return { status: r.status, body: await r.json() };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}
