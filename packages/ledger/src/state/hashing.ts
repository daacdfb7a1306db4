// The hashes that define the state root (docs/spec/state.md). Browser-safe: only @cairn/crypto.
import { concatBytes, sha256, taggedHash } from "@cairn/crypto";
import { StateError } from "./errors.ts";

export const STATE_HASH_LENGTH = 32;
/** Longest contract id, in UTF-8 bytes: its length is encoded in two bytes. */
export const MAX_CONTRACT_ID_BYTES = 0xffff;

const LEAF_TAG = new Uint8Array([0x00]);
const INTERNAL_TAG = new Uint8Array([0x01]);

/** The root of the empty state, and the hash of every empty subtree: 32 zero bytes. */
export function emptyStateRoot(): Uint8Array {
  return new Uint8Array(STATE_HASH_LENGTH);
}

const encoder = new TextEncoder();
// A block touches few contracts many times: their encoded prefixes are kept (a bounded memo).
const prefixes = new Map<string, Uint8Array>();

/** u16be(len(utf8(contract))) ‖ utf8(contract): the prefix of all of one contract's state keys. */
export function encodeContractPrefix(contract: string): Uint8Array {
  return sharedPrefix(contract).slice();
}

/** As encodeContractPrefix, but the memo's own array: never modify it. */
function sharedPrefix(contract: string): Uint8Array {
  const known = prefixes.get(contract);
  if (known !== undefined) return known;
  if (typeof contract !== "string") throw new StateError("STATE_BAD_CONTRACT", "a contract id must be a string");
  const c = encoder.encode(contract);
  if (c.length > MAX_CONTRACT_ID_BYTES) {
    throw new StateError("STATE_BAD_CONTRACT", `contract id is ${c.length} UTF-8 bytes, at most 65535 allowed`);
  }
  const out = new Uint8Array(2 + c.length);
  out[0] = c.length >>> 8;
  out[1] = c.length & 0xff;
  out.set(c, 2);
  if (prefixes.size >= 1024) prefixes.clear();
  prefixes.set(contract, out);
  return out;
}

/** u16be(len(utf8(contract))) ‖ utf8(contract) ‖ key: unambiguous, and sorts by contract then key. */
export function encodeStateKey(contract: string, key: Uint8Array): Uint8Array {
  return concatBytes(sharedPrefix(contract), key);
}

/** keyHash = SHA-256(u16be(len) ‖ contract ‖ key): the key's position in the state tree. */
export function stateKeyHash(contract: string, key: Uint8Array): Uint8Array {
  return sha256(encodeStateKey(contract, key));
}

/** SHA-256(0x00 ‖ keyHash ‖ valueHash). */
export function stateLeafHash(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return taggedHash(LEAF_TAG, keyHash, valueHash);
}

/** SHA-256(0x01 ‖ leftHash ‖ rightHash). */
export function stateInternalHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(INTERNAL_TAG, left, right);
}

/** Bit `i` of a hash, most significant bit of byte 0 first: 0 = left, 1 = right. */
export function bitAt(hash: Uint8Array, i: number): number {
  return ((hash[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The contract and key of an encoded state key (the inverse of encodeStateKey). */
export function decodeStateKey(stateKey: Uint8Array): { contract: string; key: Uint8Array } {
  if (stateKey.length < 2) throw new StateError("STATE_BAD_CONTRACT", "a state key starts with a two-byte length");
  const len = ((stateKey[0] as number) << 8) | (stateKey[1] as number);
  if (stateKey.length < 2 + len)
    throw new StateError("STATE_BAD_CONTRACT", "a state key is shorter than its contract id");
  return {
    contract: decoder.decode(stateKey.subarray(2, 2 + len)),
    key: stateKey.slice(2 + len),
  };
}
