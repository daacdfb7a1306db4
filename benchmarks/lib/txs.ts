// Building and signing the transactions the benchmarks feed to the node, outside any measured phase.
import { randomBytes } from "node:crypto";
import type { NativeSigner } from "@cairn/crypto/native";
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
