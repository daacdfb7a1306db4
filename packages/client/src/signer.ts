// A signer: builds and signs contract calls as one account (chain id and expiry from the cached
// status) and sends them, re-signing once when a stale cached height made the node refuse them.
import { type KeyPair, toHex } from "@cairn/crypto";
import { type PrivateWrite, privateRef, type SignedTransaction, signTransaction } from "@cairn/messaging";
import { CairnApiError } from "./errors.ts";
import type { Transport } from "./transport.ts";
import { buildTransaction, type ContractCall } from "./tx.ts";
import type { BatchSubmitResult, SubmitResult } from "./types.ts";

export interface SubmitOptions {
  /** Hold the request until the transactions commit (or the timeout passes). */
  readonly wait?: "commit";
  /** With `wait`: how long the node waits, ms (the node bounds it). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface SignerOptions {
  /** Blocks a transaction stays valid for; capped by the chain's maxTxTtl. Default 1000. */
  readonly ttl?: number;
}

export interface SendOptions extends SubmitOptions {
  /** An explicit expiry height instead of height + ttl. */
  readonly expiry?: number;
}

/** Signs and sends contract calls as one account. */
export interface Signer {
  readonly key: KeyPair;
  /** The account address: the public key, hex. */
  readonly address: string;
  /** Builds and signs a call with the chain id and an expiry from the (cached) node status. */
  sign(
    call: ContractCall,
    opts?: { expiry?: number; nonce?: Uint8Array; private?: readonly PrivateWrite[] },
  ): Promise<SignedTransaction>;
  send(call: ContractCall, opts?: SendOptions): Promise<SubmitResult>;
  send(calls: readonly ContractCall[], opts?: SendOptions): Promise<BatchSubmitResult>;
  /**
   * Signs a call that makes private writes (the body carries their salted hashes) and submits it
   * with their plaintext to the client's node, which must belong to a member organisation of each
   * collection written (POST /txs/private; docs/privacy.md).
   */
  sendPrivate(call: ContractCall, writes: readonly PrivateWrite[], opts?: SendOptions): Promise<SubmitResult>;
  balance(): Promise<bigint>;
}

/** What a signer sends with: the client's submit and balance. */
export interface SignerClient {
  submit(
    txs: SignedTransaction | readonly SignedTransaction[],
    o: SendOptions,
  ): Promise<SubmitResult | BatchSubmitResult>;
  balance(account: Uint8Array | string): Promise<bigint>;
  submitPrivate(tx: SignedTransaction, writes: readonly PrivateWrite[], o: SendOptions): Promise<SubmitResult>;
}

const STALE_STATUS_CODES = new Set(["EXPIRED", "EXPIRY_TOO_FAR", "WRONG_CHAIN"]);

export function createSigner(t: Transport, client: SignerClient, key: KeyPair, so: SignerOptions = {}): Signer {
  const { chainStatus } = t;
  const { submit, balance } = client;
  async function signWith(
    c: ContractCall,
    force: boolean,
    o: { expiry?: number; nonce?: Uint8Array; private?: readonly PrivateWrite[] },
  ): Promise<SignedTransaction> {
    const s = await chainStatus(force);
    const ttl = Math.max(1, Math.min(so.ttl ?? 1000, s.maxTxTtl));
    const tx = buildTransaction({
      chainId: s.chainId,
      sender: key.publicKey,
      contract: c.contract,
      method: c.method,
      args: c.args,
      expiry: o.expiry ?? s.height + ttl,
      ...(o.nonce ? { nonce: o.nonce } : {}),
    });
    const refs = o.private === undefined || o.private.length === 0 ? {} : { private: o.private.map(privateRef) };
    return signTransaction({ ...tx, ...refs }, key.secretKey);
  }

  async function send(
    calls: ContractCall | readonly ContractCall[],
    o: SendOptions = {},
  ): Promise<SubmitResult | BatchSubmitResult> {
    const expiry = o.expiry === undefined ? {} : { expiry: o.expiry };
    if (Array.isArray(calls)) {
      const txs = await Promise.all(calls.map((c) => signWith(c, false, expiry)));
      return submit(txs, o);
    }
    const single = calls as ContractCall;
    try {
      return await submit(await signWith(single, false, expiry), o);
    } catch (err) {
      // A stale cached height (or a chain reset) shows up as an expiry error: refresh and re-sign once.
      if (!(err instanceof CairnApiError) || !STALE_STATUS_CODES.has(err.code) || o.expiry !== undefined) throw err;
      return submit(await signWith(single, true, expiry), o);
    }
  }

  async function sendPrivate(c: ContractCall, writes: readonly PrivateWrite[], o: SendOptions = {}) {
    const opts = { private: writes, ...(o.expiry === undefined ? {} : { expiry: o.expiry }) };
    try {
      return await client.submitPrivate(await signWith(c, false, opts), writes, o);
    } catch (err) {
      if (!(err instanceof CairnApiError) || !STALE_STATUS_CODES.has(err.code) || o.expiry !== undefined) throw err;
      return client.submitPrivate(await signWith(c, true, opts), writes, o);
    }
  }

  return {
    key,
    address: toHex(key.publicKey),
    sign: (c, o = {}) => signWith(c, false, o),
    send: send as Signer["send"],
    sendPrivate,
    balance: () => balance(key.publicKey),
  };
}
