import { HASH_LENGTH, PUBLIC_KEY_LENGTH, sha256 } from "@cairn/crypto";
import { decode, encode, type Value } from "./codec.ts";
import { MessagingError } from "./errors.ts";
import { asArray, asBytes, asString, asUint } from "./schema.ts";
import { type Commit, commitFromValue, commitToValue } from "./vote.ts";

export const BLOCK_VERSION = 1;

// Block bounds, defined once: a chain's genesis params (maxBlockTxs, maxBlockBytes) default to the
// first two and may not exceed the last; the engines and the wire decoders read them from here.
/** Default bound on the transactions of a block (genesis params.maxBlockTxs). */
export const DEFAULT_MAX_BLOCK_TXS = 10_000;
/** Default bound on the transaction bytes of a block (genesis params.maxBlockBytes). */
export const DEFAULT_MAX_BLOCK_BYTES = 8 * 1024 * 1024;
/** Room for a block's header and parent certificate on top of its transaction bytes. */
export const BLOCK_OVERHEAD_BYTES = 1024 * 1024;
/** Hard bound on an encoded block (a proposal's block, a synced block). */
export const MAX_ENCODED_BLOCK_BYTES = 64 * 1024 * 1024;
/** Hard bound on a chain's params.maxBlockBytes: its blocks must still fit MAX_ENCODED_BLOCK_BYTES. */
export const MAX_BLOCK_BYTES = MAX_ENCODED_BLOCK_BYTES - BLOCK_OVERHEAD_BYTES;
export const ZERO_HASH = new Uint8Array(HASH_LENGTH);

/** A block header: everything a light client needs to check a block, its transactions and its results. */
export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Proposer's clock, milliseconds since the Unix epoch; never earlier than the parent's. */
  readonly time: number;
  /** Hash of the parent header; at height 1 the genesis hash. */
  readonly prevHash: Uint8Array;
  /** RFC 6962 Merkle root over the transaction envelopes, in block order. */
  readonly txRoot: Uint8Array;
  /** World-state root AFTER executing this block's transactions. */
  readonly stateRoot: Uint8Array;
  /** RFC 6962 Merkle root over the encoded receipts, in block order. */
  readonly receiptRoot: Uint8Array;
  /** SHA-256 of the parent's commit certificate carried in this block (ZERO_HASH at height 1). */
  readonly lastCommitHash: Uint8Array;
  /** Hash of the validator set that must sign this block. */
  readonly validatorsHash: Uint8Array;
  /** Public key of the validator that proposed the block. */
  readonly proposer: Uint8Array;
  readonly txCount: number;
}

/** A block: header, transaction envelopes, and the parent's commit certificate. */
export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly Uint8Array[];
  readonly lastCommit: Commit | null;
}

export function headerToValue(h: BlockHeader): Value {
  return [
    BLOCK_VERSION,
    h.chainId,
    h.height,
    h.time,
    h.prevHash,
    h.txRoot,
    h.stateRoot,
    h.receiptRoot,
    h.lastCommitHash,
    h.validatorsHash,
    h.proposer,
    h.txCount,
  ];
}

export function headerFromValue(v: Value): BlockHeader {
  const f = asArray(v, "header", 12);
  if (f[0] !== BLOCK_VERSION) throw new MessagingError("BAD_VERSION", `unsupported block version ${String(f[0])}`);
  return {
    chainId: asString(f[1] as Value, "header.chainId", 64),
    height: asUint(f[2] as Value, "header.height"),
    time: asUint(f[3] as Value, "header.time"),
    prevHash: asBytes(f[4] as Value, "header.prevHash", HASH_LENGTH),
    txRoot: asBytes(f[5] as Value, "header.txRoot", HASH_LENGTH),
    stateRoot: asBytes(f[6] as Value, "header.stateRoot", HASH_LENGTH),
    receiptRoot: asBytes(f[7] as Value, "header.receiptRoot", HASH_LENGTH),
    lastCommitHash: asBytes(f[8] as Value, "header.lastCommitHash", HASH_LENGTH),
    validatorsHash: asBytes(f[9] as Value, "header.validatorsHash", HASH_LENGTH),
    proposer: asBytes(f[10] as Value, "header.proposer", PUBLIC_KEY_LENGTH),
    txCount: asUint(f[11] as Value, "header.txCount"),
  };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return encode(headerToValue(h));
}

/** The block hash: SHA-256 of the canonical header encoding. */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256(encodeHeader(h));
}

export function encodeBlock(b: Block): Uint8Array {
  return encode([
    headerToValue(b.header),
    b.txs as Value[],
    b.lastCommit === null ? null : commitToValue(b.lastCommit),
  ]);
}

export function decodeBlock(bytes: Uint8Array): Block {
  const f = asArray(decode(bytes), "block", 3);
  const header = headerFromValue(f[0] as Value);
  const txs = asArray(f[1] as Value, "block.txs").map((t, i) => asBytes(t, `block.txs[${i}]`));
  if (txs.length !== header.txCount) throw new MessagingError("BAD_FIELD", "header.txCount does not match block.txs");
  const lastCommit = f[2] === null ? null : commitFromValue(f[2] as Value);
  return { header, txs, lastCommit };
}
