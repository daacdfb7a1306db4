// Building and signing the transactions the benchmarks feed to the node, outside any measured phase.
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "@cairn/crypto";
import { createNativeSigner, type NativeSigner } from "@cairn/crypto/native";
import {
  encodeTxBody,
  type SignedTransaction,
  type Transaction,
  txSigningBytes,
  type Value,
  withSignature,
} from "@cairn/messaging";

export const NONCE_BYTES = 16;

/** Signs `tx` natively (OpenSSL, the signer's key object reused) and assembles the envelope. */
export function signNative(tx: Transaction, signer: NativeSigner): SignedTransaction {
  return withSignature(tx, signer.sign(txSigningBytes(encodeTxBody(tx))));
}

export interface CallParams {
  readonly chainId: string;
  readonly signer: NativeSigner;
  readonly expiry: number;
  readonly contract: string;
  readonly method: string;
  readonly args: readonly Value[];
}

/** A signed transaction with a fresh random 16-byte nonce. */
export function signedCall(p: CallParams): SignedTransaction {
  return signNative(
    {
      chainId: p.chainId,
      sender: p.signer.publicKey,
      nonce: new Uint8Array(randomBytes(NONCE_BYTES)),
      expiry: p.expiry,
      contract: p.contract,
      method: p.method,
      args: p.args,
    },
    p.signer,
  );
}

const textEncoder = new TextEncoder();

/** `kv put` of a unique key (`prefix` + zero-padded index) and a random `valueBytes`-byte value. */
export function kvPut(
  chainId: string,
  signer: NativeSigner,
  expiry: number,
  prefix: string,
  i: number,
  valueBytes = 32,
): SignedTransaction {
  const key = textEncoder.encode(`${prefix}${String(i).padStart(8, "0")}`);
  return signedCall({
    chainId,
    signer,
    expiry,
    contract: "kv",
    method: "put",
    args: [key, new Uint8Array(randomBytes(valueBytes))],
  });
}

/** `n` fresh keys, each with its native signer. */
export function freshSigners(n: number): NativeSigner[] {
  return Array.from({ length: n }, () => {
    const kp = generateKeyPair();
    return createNativeSigner(kp.secretKey, kp.publicKey);
  });
}

export interface TransfersParams {
  readonly chainId: string;
  /** Transfer k is signed by senders[(first + k) % senders.length]. */
  readonly senders: readonly NativeSigner[];
  readonly expiry: number;
  /** `token` (native) or the name of a deployed token with the same `transfer(to, amount)` method. */
  readonly contract: string;
  readonly count: number;
  /** Index of the first transfer, for spreading consecutive calls over the senders (default 0). */
  readonly first?: number;
  /** Default 1: small enough that a funded sender never runs out. */
  readonly amount?: number;
}

/**
 * `count` signed `transfer(to, amount)` calls spread round-robin over the senders, each to a new
 * random 32-byte account (so every transfer reads and writes two balances, one of them new).
 */
export function tokenTransfers(p: TransfersParams): SignedTransaction[] {
  const first = p.first ?? 0;
  return Array.from({ length: p.count }, (_, k) =>
    signedCall({
      chainId: p.chainId,
      signer: p.senders[(first + k) % p.senders.length] as NativeSigner,
      expiry: p.expiry,
      contract: p.contract,
      method: "transfer",
      args: [new Uint8Array(randomBytes(32)), p.amount ?? 1],
    }),
  );
}
