// What the macro benchmarks' transactions do, and the untimed setup a workload needs on a running
// chain: `kv` (kv puts by the admin key, no setup), `token` (native token transfers by senders the
// admin funds with `token.mint`) and `wasm-token` (transfers in the example WebAssembly token,
// deployed, initialised and minted to the senders by the admin). The setup goes through the
// client SDK (`@cairn/client`) and waits for its commits; the load itself is pre-signed natively.

import { type ContractCall, call, contracts, createClient, type Signer, type SubmitResult, token } from "@cairn/client";
import type { KeyPair } from "@cairn/crypto";
import { createNativeSigner, type NativeSigner } from "@cairn/crypto/native";
import type { SignedTransaction } from "@cairn/messaging";
import { buildExampleToken, WASM_TOKEN } from "./contracts.ts";
import { sleep } from "./process.ts";
import { freshSigners, kvPut, tokenTransfers } from "./txs.ts";

export const WORKLOADS = ["kv", "token", "wasm-token"] as const;
export type Workload = (typeof WORKLOADS)[number];

export function isWorkload(s: unknown): s is Workload {
  return typeof s === "string" && (WORKLOADS as readonly string[]).includes(s);
}

/** Tokens minted to each sender: far more than its transfers (of 1) can spend. */
export const SENDER_FUNDS = 1_000_000_000;

export interface WorkloadSetup {
  readonly workload: Workload;
  /** What one transaction is. */
  readonly description: string;
  /** The contract the load calls. */
  readonly contract: string;
  readonly method: string;
  /** Distinct signing keys of the load. */
  readonly senders: number;
  /** Transactions of the setup (deploy, init, mints), all committed with receipt OK. */
  readonly setupTxs: number;
  /** Wall-clock seconds of the setup, including the commits it waited for (0 for kv). */
  readonly seconds: number;
  /** wasm-token: the module as built and as deployed (instrumented). */
  readonly code?: { readonly builtBytes: number; readonly codeHash: string; readonly methods: readonly string[] };
}

export interface PreparedWorkload {
  readonly setup: WorkloadSetup;
  /** Signs transaction `i` of the load (untimed), valid up to height `expiry`. */
  sign(i: number, expiry: number): SignedTransaction;
}

export interface WorkloadOptions {
  readonly workload: Workload;
  /** APIs of the running chain's nodes: the setup goes to the first, and waits for all to commit it. */
  readonly urls: readonly string[];
  readonly chainId: string;
  /** A genesis admin key: it signs kv puts, mints, and deploys the Wasm token. */
  readonly admin: KeyPair;
  readonly adminSigner: NativeSigner;
  /** Senders of the token workloads (default 64). */
  readonly senders?: number;
  /**
   * The senders' keys, when the chain is permissioned and only registered clients may send (e.g.
   * the keys/client*.json of `cairn testnet --clients N`); default: fresh keys (open chains).
   */
  readonly senderKeys?: readonly KeyPair[];
  readonly log?: (s: string) => void;
}

/** Sends `calls` as one batch and waits for their commit; throws unless every receipt is OK. */
async function commitAll(signer: Signer, calls: readonly ContractCall[], what: string): Promise<void> {
  const r = await signer.send(calls, { wait: "commit", timeoutMs: 60_000 });
  const bad = r.results.filter((x: SubmitResult) => x.status !== "committed" || x.receipt?.code !== "OK");
  if (bad.length > 0) {
    const x = bad[0] as SubmitResult;
    const why = x.error?.code ?? (x.receipt === undefined ? x.status : `${x.receipt.code}: ${x.receipt.message}`);
    throw new Error(`setup (${what}): ${bad.length} of ${calls.length} did not commit with receipt OK, e.g. ${why}`);
  }
}

/** Runs the workload's setup on the running chain (`urls`) and returns how to sign its transactions. */
export async function prepareWorkload(o: WorkloadOptions): Promise<PreparedWorkload> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  if (o.workload === "kv") {
    return {
      setup: {
        workload: "kv",
        description: "kv put of a unique key and a 32 B value, by the admin key",
        contract: "kv",
        method: "put",
        senders: 1,
        setupTxs: 0,
        seconds: 0,
      },
      sign: (i, expiry) => kvPut(o.chainId, o.adminSigner, expiry, "bench-", i),
    };
  }
  const senders =
    o.senderKeys === undefined
      ? freshSigners(o.senders ?? 64)
      : o.senderKeys.map((k) => createNativeSigner(k.secretKey, k.publicKey));
  const client = createClient({ url: o.urls[0] as string });
  const admin = client.signer(o.admin);
  let contract = "token";
  let setupTxs = senders.length;
  let code: WorkloadSetup["code"];
  if (o.workload === "token") {
    log(`setup: minting ${SENDER_FUNDS.toLocaleString("en-US")} native tokens to each of ${senders.length} senders...`);
    await commitAll(
      admin,
      senders.map((s) => token.mint(s.publicKey, SENDER_FUNDS)),
      "token.mint",
    );
  } else {
    contract = WASM_TOKEN;
    log("setup: building the example token (packages/contract-examples/contracts/token)...");
    const wasm = await buildExampleToken();
    log(`setup: deploying it as ${WASM_TOKEN} (${wasm.length} B), init, minting to ${senders.length} senders...`);
    await commitAll(admin, [contracts.deploy(WASM_TOKEN, wasm)], "contracts.deploy");
    await commitAll(admin, [call(WASM_TOKEN, "init", ["Bench token", "BNCH"])], `${WASM_TOKEN}.init`);
    await commitAll(
      admin,
      senders.map((s) => call(WASM_TOKEN, "mint", [s.publicKey, SENDER_FUNDS])),
      `${WASM_TOKEN}.mint`,
    );
    const info = await client.getContract(WASM_TOKEN);
    if (info === undefined || info.kind !== "wasm") throw new Error(`setup: ${WASM_TOKEN} is not a deployed contract`);
    code = { builtBytes: wasm.length, codeHash: info.codeHash ?? "", methods: info.methods };
    setupTxs += 2;
  }
  // Every node must hold the setup before the load reaches it (a deployed contract unknown to a node
  // that lags by a block would be refused at admission).
  const height = (await client.status()).height;
  for (const url of o.urls) {
    const c = createClient({ url });
    for (let tries = 0; (await c.status()).height < height; tries++) {
      if (tries > 600) throw new Error(`setup: ${url} did not reach height ${height} within 60 s`);
      await sleep(100);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`setup: ${setupTxs} transactions committed in ${seconds.toFixed(1)} s`);
  return {
    setup: {
      workload: o.workload,
      description: `${o.workload === "token" ? "native token" : `Wasm token (${WASM_TOKEN})`} transfer of 1 to a new account, by ${senders.length} funded senders in turn`,
      contract,
      method: "transfer",
      senders: senders.length,
      setupTxs,
      seconds,
      ...(code === undefined ? {} : { code }),
    },
    sign: (i, expiry) =>
      tokenTransfers({ chainId: o.chainId, senders, expiry, contract, count: 1, first: i })[0] as SignedTransaction,
  };
}
