// State proofs: checked with nothing but the root and @cairn/crypto, so light clients and browsers can.
import { equalBytes, sha256 } from "@cairn/crypto";
import { StateError } from "./errors.ts";
import { bitAt, emptyStateRoot, STATE_HASH_LENGTH, stateInternalHash, stateKeyHash, stateLeafHash } from "./hashing.ts";

/**
 * Proof that a key has a given value (inclusion) or has none (non-inclusion) under a state root.
 * The key's path (the bits of its keyHash) is followed from the root until it ends in a leaf or in an
 * empty subtree, at depth `siblings.length`.
 */
export interface StateProof {
  /** Hash of the sibling subtree at each step, from the root down: `siblings[d]` is the sibling at depth d + 1. */
  readonly siblings: readonly Uint8Array[];
  /**
   * The leaf where the path ends: the key's own (inclusion), or another key's whose keyHash shares the
   * path (non-inclusion); null when the path ends in an empty subtree (non-inclusion).
   */
  readonly leaf: { readonly keyHash: Uint8Array; readonly valueHash: Uint8Array } | null;
}

/**
 * True iff `proof` shows that, under `root`, `contract`/`key` holds `value` (or, for `value`
 * undefined, holds nothing). Pure; never throws on a malformed proof, it returns false.
 */
export function verifyStateProof(
  root: Uint8Array,
  contract: string,
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: StateProof,
): boolean {
  const { siblings, leaf } = proof;
  if (root.length !== STATE_HASH_LENGTH || !Array.isArray(siblings) || siblings.length > 256) return false;
  let keyHash: Uint8Array;
  try {
    keyHash = stateKeyHash(contract, key);
  } catch {
    return false;
  }
  const depth = siblings.length;
  let h: Uint8Array;
  if (leaf === null) {
    if (value !== undefined) return false;
    h = emptyStateRoot();
  } else {
    if (leaf.keyHash.length !== STATE_HASH_LENGTH || leaf.valueHash.length !== STATE_HASH_LENGTH) return false;
    if (value !== undefined) {
      if (!equalBytes(leaf.keyHash, keyHash) || !equalBytes(leaf.valueHash, sha256(value))) return false;
    } else {
      // Another key's leaf proves absence only if it sits where our key's path ends.
      if (equalBytes(leaf.keyHash, keyHash)) return false;
      for (let i = 0; i < depth; i++) if (bitAt(leaf.keyHash, i) !== bitAt(keyHash, i)) return false;
    }
    h = stateLeafHash(leaf.keyHash, leaf.valueHash);
  }
  for (let d = depth - 1; d >= 0; d--) {
    const sibling = siblings[d];
    if (!(sibling instanceof Uint8Array) || sibling.length !== STATE_HASH_LENGTH) return false;
    h = bitAt(keyHash, d) === 0 ? stateInternalHash(h, sibling) : stateInternalHash(sibling, h);
  }
  return equalBytes(h, root);
}

/**
 * Compact binary form of a proof: u16be(number of siblings) ‖ flags (bit 0: leaf present) ‖
 * [leaf keyHash ‖ leaf valueHash] ‖ bitmap of empty siblings (ceil(n/8) bytes, MSB first) ‖ the
 * non-empty siblings (32 bytes each). Empty siblings are frequent near the leaves, so they cost one bit.
 */
export function encodeStateProof(proof: StateProof): Uint8Array {
  const n = proof.siblings.length;
  const bitmapLen = (n + 7) >>> 3;
  let nonEmpty = 0;
  const zero = emptyStateRoot();
  const empty = proof.siblings.map((s) => equalBytes(s, zero));
  for (const e of empty) if (!e) nonEmpty++;
  const out = new Uint8Array(3 + (proof.leaf ? 64 : 0) + bitmapLen + 32 * nonEmpty);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  out[2] = proof.leaf ? 1 : 0;
  let off = 3;
  if (proof.leaf) {
    out.set(proof.leaf.keyHash, off);
    out.set(proof.leaf.valueHash, off + 32);
    off += 64;
  }
  const bitmap = off;
  off += bitmapLen;
  for (let i = 0; i < n; i++) {
    if (empty[i]) out[bitmap + (i >>> 3)] = (out[bitmap + (i >>> 3)] as number) | (0x80 >>> (i & 7));
    else {
      out.set(proof.siblings[i] as Uint8Array, off);
      off += 32;
    }
  }
  return out;
}

/** Inverse of encodeStateProof; throws StateError (STATE_CORRUPT) on malformed input. */
export function decodeStateProof(bytes: Uint8Array): StateProof {
  const bad = (): never => {
    throw new StateError("STATE_CORRUPT", "malformed state proof encoding");
  };
  if (bytes.length < 3) bad();
  const n = ((bytes[0] as number) << 8) | (bytes[1] as number);
  const flags = bytes[2] as number;
  if (n > 256 || flags > 1) bad();
  let off = 3;
  let leaf: StateProof["leaf"] = null;
  if (flags === 1) {
    if (bytes.length < off + 64) bad();
    leaf = { keyHash: bytes.slice(off, off + 32), valueHash: bytes.slice(off + 32, off + 64) };
    off += 64;
  }
  const bitmap = off;
  off += (n + 7) >>> 3;
  const siblings: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (bitmap + (i >>> 3) >= bytes.length) bad();
    if (((bytes[bitmap + (i >>> 3)] as number) & (0x80 >>> (i & 7))) !== 0) siblings.push(emptyStateRoot());
    else {
      if (bytes.length < off + 32) bad();
      siblings.push(bytes.slice(off, off + 32));
      off += 32;
    }
  }
  if (off !== bytes.length) bad();
  return { siblings, leaf };
}
