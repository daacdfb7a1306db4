import { equalBytes } from "./bytes.ts";
import { CryptoError } from "./errors.ts";
import { sha256 } from "./hash.ts";

// RFC 6962 section 2.1: leaves and interior nodes are hashed with different one-byte prefixes,
// so an interior node can never be passed off as a leaf (second-preimage protection).
const EMPTY_ROOT = sha256(new Uint8Array(0));
// Interior nodes hash 0x01 ‖ left ‖ right; one scratch buffer serves every call (hashing is synchronous).
const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;

export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(data.length + 1);
  input.set(data, 1);
  return sha256(input);
}

export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) {
    throw new CryptoError("BAD_HASH", "Merkle node children must be 32-byte hashes");
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return sha256(nodeInput);
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/** Merkle tree hash (RFC 6962 MTH) over already leaf-hashed entries. */
function rootOfLeafHashes(hashes: Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return hashes[start] as Uint8Array;
  const k = splitPoint(n);
  return merkleNodeHash(rootOfLeafHashes(hashes, start, start + k), rootOfLeafHashes(hashes, start + k, end));
}

/** RFC 6962 Merkle tree hash of a list of data items; the empty list hashes to SHA-256(""). */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return EMPTY_ROOT;
  return rootOfLeafHashes(items.map(merkleLeafHash), 0, items.length);
}

/** An audit path (RFC 6962 section 2.1.1) proving that item `index` is in a tree of `size` items. */
export interface MerkleProof {
  readonly index: number;
  readonly size: number;
  /** Sibling hashes from the leaf up to the root. */
  readonly path: Uint8Array[];
}

/**
 * A Merkle tree over a fixed list of items that answers many audit paths without hashing the
 * items again: leaf hashes are computed once and subtree roots remembered (a block's 2,000
 * transactions cost one pass, not one pass per proof).
 */
export class MerkleTree {
  readonly size: number;
  private readonly hashes: Uint8Array[];
  private readonly subtrees = new Map<number, Uint8Array>();

  constructor(items: readonly Uint8Array[]) {
    this.size = items.length;
    this.hashes = items.map(merkleLeafHash);
  }

  root(): Uint8Array {
    return this.size === 0 ? EMPTY_ROOT : this.subtree(0, this.size);
  }

  private subtree(start: number, end: number): Uint8Array {
    if (end - start === 1) return this.hashes[start] as Uint8Array;
    const key = start * (this.size + 1) + end;
    let h = this.subtrees.get(key);
    if (h === undefined) {
      const k = splitPoint(end - start);
      h = merkleNodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
      this.subtrees.set(key, h);
    }
    return h;
  }

  /** The audit path (RFC 6962 section 2.1.1) of item `index`. */
  proof(index: number): MerkleProof {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new CryptoError("BAD_PROOF_INDEX", `index ${index} is outside a tree of ${this.size} items`);
    }
    // Recursive PATH(m, D[n]) of RFC 6962, collecting siblings from the root down, then reversed.
    let start = 0;
    let end = this.size;
    let m = index;
    const topDown: Uint8Array[] = [];
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (m < k) {
        topDown.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        topDown.push(this.subtree(start, start + k));
        start += k;
        m -= k;
      }
    }
    return { index, size: this.size, path: topDown.reverse() };
  }
}

export function merkleProof(items: readonly Uint8Array[], index: number): MerkleProof {
  return new MerkleTree(items).proof(index);
}

/** Recomputes the root from an item and its audit path (RFC 9162 section 2.1.3.2) and compares it. */
export function verifyMerkleProof(item: Uint8Array, proof: MerkleProof, root: Uint8Array): boolean {
  const { index, size, path } = proof;
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = merkleLeafHash(item);
  for (const p of path) {
    if (sn === 0 || p.length !== 32) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}
