// A workload made runnable on a session's chain: its untimed setup (preloading the key space,
// deploying and funding the Wasm token) and how to sign its transactions and build its reads.
import { randomBytes } from "node:crypto";
import { toHex } from "@cairn/crypto";
import { createNativeSigner, type NativeSigner } from "@cairn/crypto/native";
import { encode, type SignedTransaction } from "@cairn/messaging";
import { buildExampleToken, WASM_TOKEN } from "./contracts.ts";
import { Generator, type ReadRequest } from "./generator.ts";
import { keyPicker, kvKey, prng } from "./keys.ts";
import { sleep } from "./process.ts";
import type { Session } from "./session.ts";
import { signedCall } from "./txs.ts";
import { OPERATIONS, type OperationName, opPicker, type WorkloadSpec } from "./workload.ts";

export interface WorkloadSetupInfo {
  /** Transactions the setup committed (all with receipt OK), and how long it took (s). */
  readonly txs: number;
  readonly seconds: number;
  readonly notes: readonly string[];
}

export interface PreparedWorkload {
  readonly spec: WorkloadSpec;
  readonly senders: number;
  readonly setup: WorkloadSetupInfo;
  /** Signs transaction i of a round (untimed), valid up to height `expiry`. */
  signTx(i: number, expiry: number): SignedTransaction;
  /** The k-th read of a round. */
  read(k: number): ReadRequest;
}

const textEncoder = new TextEncoder();

/**
 * Sends signed transactions (untimed setup) and waits, through the session's event followers, until
 * every one committed; throws unless each was accepted and committed with receipt OK. (POST /txs
 * ?wait=commit answers a large batch much later than its block commits, so the setup does not use it.)
 */
export async function commitEnvelopes(
  session: Session,
  txs: readonly SignedTransaction[],
  what: string,
  batch = 500,
  timeoutMs = 120_000,
): Promise<void> {
  const index = new Map<string, number>();
  txs.forEach((t, i) => {
    index.set(toHex(t.hash), i);
  });
  const codes: (string | undefined)[] = txs.map(() => undefined);
  let committed = 0;
  session.setSink({
    onBlock(node, e) {
      if (node < 0) return;
      for (const r of e.receipts) {
        const i = index.get(r.txHash);
        if (i !== undefined && codes[i] === undefined) {
          codes[i] = r.code;
          committed++;
        }
      }
    },
  });
  try {
    const start = performance.now();
    const gen = new Generator({
      urls: () => session.target.nodes().map((n) => n.url),
      envelopes: txs.map((t) => t.bytes),
      batch,
      txRate: 1e9,
      start,
      deadline: start + timeoutMs,
      concurrency: 4,
      maxAttempts: 50,
    });
    await gen.run();
    if (gen.refusal.size > 0) {
      const [i, code] = [...gen.refusal][0] as [number, string];
      throw new Error(`setup (${what}): ${gen.refusal.size} of ${txs.length} refused, e.g. #${i}: ${code}`);
    }
    const deadline = start + timeoutMs;
    while (committed < txs.length && performance.now() < deadline) await sleep(50);
    if (committed < txs.length) {
      throw new Error(
        `setup (${what}): ${txs.length - committed} of ${txs.length} not committed within ${timeoutMs / 1000} s`,
      );
    }
    const bad = codes.filter((c) => c !== "OK");
    if (bad.length > 0)
      throw new Error(`setup (${what}): ${bad.length} of ${txs.length} failed, e.g. receipt ${bad[0]}`);
  } finally {
    session.setSink(undefined);
  }
}

async function contractExists(url: string, name: string): Promise<boolean> {
  const res = await fetch(`${url}/contracts/${name}`, { headers: { accept: "application/json" } });
  await res.text();
  return res.status === 200;
}

/** Runs the workload's setup on the session's chain (once per cluster) and returns how to sign and read. */
export async function prepareWorkload(
  session: Session,
  spec: WorkloadSpec,
  log: (s: string) => void = () => {},
): Promise<PreparedWorkload> {
  const t0 = performance.now();
  const urls = session.target.nodes().map((n) => n.url);
  const url = urls[0] as string;
  const notes: string[] = [];
  const available = session.keys.clients;
  const senderKeys = available.slice(0, spec.senders);
  if (senderKeys.length < spec.senders) {
    notes.push(`${spec.name}: ${spec.senders} senders asked for, ${senderKeys.length} client keys available`);
  }
  const senders: NativeSigner[] = senderKeys.map((k) => createNativeSigner(k.secretKey, k.publicKey));
  const chainId = session.chainId;
  const ops = spec.mix.map((m) => m.op);
  let setupTxs = 0;
  const status = await session.status();
  const setupExpiry = status.height + Math.min(session.maxTxTtl, 600);

  // YCSB's load phase: every key of the key space once.
  const ks = spec.keySpace;
  if (ks?.preload === true) {
    const tag = `kv:${ks.keys}:${spec.valueBytes}`;
    if (!session.prepared.has(tag)) {
      log(`setup: preloading ${ks.keys.toLocaleString("en-US")} kv keys of ${spec.valueBytes} B...`);
      const envs: SignedTransaction[] = [];
      for (let k = 0; k < ks.keys; k++) {
        envs.push(
          signedCall({
            chainId,
            signer: senders[k % senders.length] as NativeSigner,
            expiry: setupExpiry,
            contract: "kv",
            method: "put",
            args: [textEncoder.encode(kvKey(k)), new Uint8Array(randomBytes(spec.valueBytes))],
          }),
        );
      }
      await commitEnvelopes(session, envs, "kv preload", spec.valueBytes > 4096 ? 50 : 500);
      session.prepared.set(tag, true);
      setupTxs += envs.length;
    }
  }

  // The Wasm token: built, deployed as `wtoken`, initialised, and minted to every sender.
  if (ops.some((o) => o.startsWith("wasm-token."))) {
    const minted = (session.prepared.get("wtoken:minted") as Set<string> | undefined) ?? new Set<string>();
    if (!session.prepared.has("wtoken")) {
      const admin = session.keys.admin;
      if (admin === undefined) throw new Error("the wasm-token workload needs keys/admin.json (it deploys the token)");
      const adminSigner = createNativeSigner(admin.secretKey, admin.publicKey);
      if (await contractExists(url, WASM_TOKEN)) {
        log(`setup: ${WASM_TOKEN} is already deployed; reusing it`);
      } else {
        log("setup: building the example token (packages/contract-examples/contracts/token)...");
        const wasm = await buildExampleToken();
        log(`setup: deploying it as ${WASM_TOKEN} (${wasm.length} B) and initialising it...`);
        const sign = (contract: string, method: string, args: SignedTransaction["tx"]["args"]) =>
          signedCall({ chainId, signer: adminSigner, expiry: setupExpiry, contract, method, args });
        await commitEnvelopes(session, [sign("contracts", "deploy", [WASM_TOKEN, wasm])], "deploy");
        await commitEnvelopes(session, [sign(WASM_TOKEN, "init", ["Bench token", "BNCH"])], "init");
        setupTxs += 2;
      }
      session.prepared.set("wtoken", adminSigner);
    }
    const adminSigner = session.prepared.get("wtoken") as NativeSigner;
    const toMint = senders.filter((s) => !minted.has(toHex(s.publicKey)));
    if (toMint.length > 0) {
      log(`setup: minting ${WASM_TOKEN} to ${toMint.length} senders...`);
      await commitEnvelopes(
        session,
        toMint.map((s) =>
          signedCall({
            chainId,
            signer: adminSigner,
            expiry: setupExpiry,
            contract: WASM_TOKEN,
            method: "mint",
            args: [s.publicKey, 1_000_000_000],
          }),
        ),
        `${WASM_TOKEN}.mint`,
      );
      for (const s of toMint) minted.add(toHex(s.publicKey));
      session.prepared.set("wtoken:minted", minted);
      setupTxs += toMint.length;
    }
  }

  if (setupTxs > 0) {
    // Every node must hold the setup before the load reaches it.
    const h = (await session.status()).height;
    const all = session.target.nodes().map((_, i) => i);
    if (!(await session.waitForHeight(all, h, 60_000)))
      notes.push(`setup: not every node reached height ${h} within 60 s`);
    await sleep(200);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (setupTxs > 0) log(`setup: ${setupTxs} transactions committed in ${seconds.toFixed(1)} s`);

  // Signing and reading, with choices from seeded streams.
  const rand = prng(spec.seed);
  const readRand = prng(spec.seed ^ 0x9e3779b9);
  const pickTx = opPicker(spec, "tx");
  const hasReads = spec.mix.some((m) => OPERATIONS[m.op].kind === "read");
  const pickRead = hasReads ? opPicker(spec, "read") : undefined;
  const keyFor = ks === undefined ? undefined : keyPicker(ks.keys, ks.distribution, rand);
  const readKeyFor = ks === undefined ? undefined : keyPicker(ks.keys, ks.distribution, readRand);
  const roundTag = (session.prepared.get("insert-seq") as number | undefined) ?? 0;
  session.prepared.set("insert-seq", roundTag + 1);
  const recipient = (s: number): Uint8Array => {
    if (senders.length < 2) return new Uint8Array(randomBytes(32));
    const j = (s + 1 + Math.floor(rand() * (senders.length - 1))) % senders.length;
    return (senders[j] as NativeSigner).publicKey;
  };
  const sign = (i: number, expiry: number): SignedTransaction => {
    const op: OperationName = pickTx(rand());
    const s = i % senders.length;
    const signer = senders[s] as NativeSigner;
    const base = { chainId, signer, expiry };
    switch (op) {
      case "kv.put": {
        const key = keyFor === undefined ? `ins${roundTag}-${i}` : kvKey(keyFor());
        return signedCall({
          ...base,
          contract: "kv",
          method: "put",
          args: [textEncoder.encode(key), new Uint8Array(randomBytes(spec.valueBytes))],
        });
      }
      case "token.transfer":
        return signedCall({ ...base, contract: "token", method: "transfer", args: [recipient(s), spec.amount] });
      case "wasm-token.transfer":
        return signedCall({ ...base, contract: WASM_TOKEN, method: "transfer", args: [recipient(s), spec.amount] });
      case "noop":
        return signedCall({ ...base, contract: "noop", method: "noop", args: [] });
      default:
        throw new Error(`${op} is not a transaction operation`);
    }
  };
  const read = (_k: number): ReadRequest => {
    const op = (pickRead as (u: number) => OperationName)(readRand());
    const account = () => toHex((senders[Math.floor(readRand() * senders.length)] as NativeSigner).publicKey);
    switch (op) {
      case "kv.get":
        return { path: `/state/kv/${toHex(textEncoder.encode(kvKey((readKeyFor as () => number)())))}?encoding=hex` };
      case "token.balance":
        return { path: `/state/token/${account()}?encoding=hex` };
      case "wasm-token.balance":
        return {
          path: "/query",
          body: JSON.stringify({
            contract: WASM_TOKEN,
            method: "balance",
            args: toHex(encode([fromHexBytes(account())])),
          }),
        };
      default:
        throw new Error(`${op} is not a read operation`);
    }
  };
  return { spec, senders: senders.length, setup: { txs: setupTxs, seconds, notes }, signTx: sign, read };
}

function fromHexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}
