import { concatBytes, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sha256, sign, utf8, type VerifyItem } from "@cairn/crypto";
import { decode, encode, type Value } from "./codec.ts";
import { MessagingError } from "./errors.ts";
import { type PrivateRef, privateRefsFromValue, privateRefToValue } from "./private.ts";
import { asArray, asBytes, asString, asUint } from "./schema.ts";

export const TX_VERSION = 1;
/** The body version of a transaction that names private writes (a ninth field; docs/spec/transaction.md). */
export const TX_VERSION_PRIVATE = 2;
/** Hard bound on an encoded transaction; a chain's genesis may set a lower one. */
export const MAX_TX_BYTES = 1 << 20;
export const MAX_NAME_BYTES = 64;
/** The chain's rule for the names of deployed contracts (native contracts' names follow it too). */
export const CONTRACT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
export const MIN_NONCE_BYTES = 8;
export const MAX_NONCE_BYTES = 32;
export const MAX_EXPIRY = 0xffffffff;

/** Prefix of the bytes a transaction's signature covers, so it can never be a valid vote or anything else. */
export const TX_SIGN_DOMAIN = utf8.encode("CAIRN_TX_V1\0");

/** A contract call, as the sender signs it. */
export interface Transaction {
  readonly chainId: string;
  /** The sender's Ed25519 public key: also its account address. */
  readonly sender: Uint8Array;
  /** Random bytes, unique per sender: with `expiry` they make replay impossible. */
  readonly nonce: Uint8Array;
  /** Last block height at which the transaction may be included. */
  readonly expiry: number;
  readonly contract: string;
  readonly method: string;
  readonly args: readonly Value[];
  /**
   * Salted hashes of the private writes this transaction makes (docs/privacy.md): the plaintext
   * travels beside the transaction, to member nodes only. Absent or empty: a version 1 body.
   */
  readonly private?: readonly PrivateRef[];
}

/** A signed transaction with its canonical bytes and hash, as it travels and is stored. */
export interface SignedTransaction {
  readonly tx: Transaction;
  readonly signature: Uint8Array;
  /** Canonical encoding of the body: what is signed (after TX_SIGN_DOMAIN). */
  readonly body: Uint8Array;
  /** Canonical encoding of the envelope [body, signature]: what is sent, stored and hashed. */
  readonly bytes: Uint8Array;
  /** SHA-256 of `bytes`. */
  readonly hash: Uint8Array;
}

export function encodeTxBody(tx: Transaction): Uint8Array {
  const fields: Value[] = [tx.chainId, tx.sender, tx.nonce, tx.expiry, tx.contract, tx.method, tx.args as Value[]];
  // Version 1 stays byte for byte what it was: only a transaction with private writes is version 2.
  if (tx.private === undefined || tx.private.length === 0) return encode([TX_VERSION, ...fields]);
  return encode([TX_VERSION_PRIVATE, ...fields, tx.private.map(privateRefToValue)]);
}

/** The exact bytes an Ed25519 transaction signature covers. */
export function txSigningBytes(body: Uint8Array): Uint8Array {
  return concatBytes(TX_SIGN_DOMAIN, body);
}

/** A transaction's signature check as a batch verifier takes it (the verify pool's item). */
export function txSignatureCheck(stx: SignedTransaction): VerifyItem {
  return { publicKey: stx.tx.sender, message: txSigningBytes(stx.body), signature: stx.signature };
}

function checkTx(tx: Transaction): void {
  asString(tx.chainId, "tx.chainId", MAX_NAME_BYTES);
  asBytes(tx.sender, "tx.sender", PUBLIC_KEY_LENGTH);
  asBytes(tx.nonce, "tx.nonce");
  if (tx.nonce.length < MIN_NONCE_BYTES || tx.nonce.length > MAX_NONCE_BYTES) {
    throw new MessagingError("BAD_FIELD", `tx.nonce must be ${MIN_NONCE_BYTES} to ${MAX_NONCE_BYTES} bytes`);
  }
  asUint(tx.expiry, "tx.expiry", MAX_EXPIRY);
  asString(tx.contract, "tx.contract", MAX_NAME_BYTES);
  asString(tx.method, "tx.method", MAX_NAME_BYTES);
  if (tx.contract.length === 0 || tx.method.length === 0) {
    throw new MessagingError("BAD_FIELD", "tx.contract and tx.method must not be empty");
  }
  asArray(tx.args as Value, "tx.args");
  if (tx.private !== undefined && tx.private.length > 0) privateRefsFromValue(tx.private.map(privateRefToValue));
}

function assemble(tx: Transaction, body: Uint8Array, signature: Uint8Array): SignedTransaction {
  const bytes = encode([body, signature]);
  return { tx, signature, body, bytes, hash: sha256(bytes) };
}

/** Builds and signs a transaction with @noble/curves (works in browsers). */
export function signTransaction(tx: Transaction, secretKey: Uint8Array): SignedTransaction {
  checkTx(tx);
  const body = encodeTxBody(tx);
  return assemble(tx, body, sign(txSigningBytes(body), secretKey));
}

/** Attaches a signature made elsewhere (a hardware key, the node's native signer). */
export function withSignature(tx: Transaction, signature: Uint8Array): SignedTransaction {
  checkTx(tx);
  asBytes(signature, "signature", SIGNATURE_LENGTH);
  return assemble(tx, encodeTxBody(tx), signature);
}

/**
 * Decodes a transaction envelope and checks its shape and canonical form. It does NOT verify the
 * signature: the node batches that across cores (see @cairn/crypto/native).
 */
export function decodeTransaction(bytes: Uint8Array, maxBytes = MAX_TX_BYTES): SignedTransaction {
  if (bytes.length > maxBytes) {
    throw new MessagingError("TX_TOO_LARGE", `transaction is ${bytes.length} bytes; the limit is ${maxBytes}`);
  }
  const env = asArray(decode(bytes), "envelope", 2);
  const body = asBytes(env[0] as Value, "envelope.body");
  const signature = asBytes(env[1] as Value, "envelope.signature", SIGNATURE_LENGTH);
  const f = asArray(decode(body), "tx");
  if (f[0] !== TX_VERSION && f[0] !== TX_VERSION_PRIVATE) {
    throw new MessagingError("BAD_VERSION", `unsupported transaction version ${String(f[0])}`);
  }
  const fields = f[0] === TX_VERSION ? 8 : 9;
  if (f.length !== fields) throw new MessagingError("BAD_FIELD", `tx must have ${fields} elements, got ${f.length}`);
  const tx: Transaction = {
    chainId: f[1] as string,
    sender: f[2] as Uint8Array,
    nonce: f[3] as Uint8Array,
    expiry: f[4] as number,
    contract: f[5] as string,
    method: f[6] as string,
    args: f[7] as Value[],
    ...(fields === 9 ? { private: privateRefsFromValue(f[8] as Value) } : {}),
  };
  checkTx(tx);
  return { tx, signature, body, bytes, hash: sha256(bytes) };
}

/**
 * Whether an envelope carries a version 2 body (a transaction naming private writes), read from its
 * first bytes without decoding it: canonically, an envelope is 0x92, the body's bin header (bin 8,
 * 16 or 32), then the body, whose first bytes are its array header (0x99: nine fields) and version.
 * False for anything else, malformed envelopes included (decodeTransaction says what is wrong).
 */
export function namesPrivateWrites(envelope: Uint8Array): boolean {
  if (envelope[0] !== 0x92) return false;
  const header = envelope[1];
  const body = header === 0xc4 ? 3 : header === 0xc5 ? 4 : header === 0xc6 ? 6 : -1;
  return body > 0 && envelope[body] === 0x99 && envelope[body + 1] === TX_VERSION_PRIVATE;
}
