import type { Column } from "@cairn/storage";

// Every column of the node's database, allocated in one place so no two layers collide.
export const Columns = {
  /** "head" → the latest committed block pointer; "genesis" → the genesis hash. */
  meta: 0x01,
  /** u64be height → encoded block. */
  blocks: 0x02,
  /** block hash → u64be height. */
  blockHashes: 0x03,
  /** u64be height → encoded commit certificate of that block. */
  commits: 0x04,
  /** u64be height → canonical array of the block's encoded receipts (binaries). */
  receipts: 0x05,
  /** tx hash → u64be height ‖ u32be index. */
  txIndex: 0x06,
  /** sender ‖ nonce → u32be expiry: the replay-protection window. */
  replay: 0x07,
  /** u32be expiry ‖ sender ‖ nonce → empty: lets expired replay entries be pruned in order. */
  replayByExpiry: 0x08,
  /** Consensus engine's own durable state (evidence; the safety record of older nodes), kept by @cairn/node. */
  consensus: 0x09,
  /** tx hash → envelope: transactions this node admitted and has not seen committed (the mempool journal). */
  mempool: 0x0a,
  /** Private data (docs/privacy.md), kept by member nodes only and never hashed into the state root. */
  /** tx hash → [expiry, encoded private writes]: plaintext received before its transaction commits. */
  privateTransient: 0x0b,
  /** u32be expiry ‖ tx hash → empty: transient entries in the order they can be dropped. */
  privateTransientByExpiry: 0x0c,
  /** "<collection>/" ‖ keyHash → a private record: the plaintext of the key's committed hash. */
  privateData: 0x0d,
  /** u64be purge height ‖ "<collection>/" ‖ keyHash → value hash: blockToLive purges, in height order. */
  privateExpiry: 0x0e,
  /** "<collection>/" ‖ keyHash → [valueHash, height, txHash]: committed writes whose plaintext this member lacks. */
  privateMissing: 0x0f,
  /** World-state values and state-tree nodes (see ./state). */
  state: 0x10,
  stateTree: 0x11,
} as const satisfies Record<string, Column>;

export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset));
}

export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function readU32be(b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset);
}
