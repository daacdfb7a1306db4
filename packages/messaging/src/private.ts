// Private data (docs/privacy.md, docs/spec/transaction.md "Private data"): a transaction names its
// private writes by salted hashes in its signed body; the plaintext travels beside it, only to the
// nodes of the collection's member organisations. Everything here is what both sides hash, so a
// member can check the plaintext it receives against the hashes every node committed.
import { concatBytes, equalBytes, sha256, toHex, utf8 } from "@cairn/crypto";
import { decode, encode, type Value } from "./codec.ts";
import { MessagingError } from "./errors.ts";
import { asArray, asBytes, asString } from "./schema.ts";

/** Collection names follow governance's names: 1-64 letters, digits, '.', '_' or '-' (never '/'). */
export const COLLECTION_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_PRIVATE_KEY_BYTES = 256;
export const MAX_PRIVATE_VALUE_BYTES = 64 * 1024;
export const PRIVATE_SALT_BYTES = 32;
/** Most private writes one transaction may carry. */
export const MAX_PRIVATE_REFS = 16;

const KEY_DOMAIN = utf8.encode("CAIRN_PKEY_V1\0");
const VALUE_DOMAIN = utf8.encode("CAIRN_PVAL_V1\0");

/** One private write as its submitter knows it: never in a block, never gossiped. */
export interface PrivateWrite {
  readonly collection: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Random bytes that make the value's hash unguessable even for a value from a small set. */
  readonly salt: Uint8Array;
}

/** What the signed body carries of a private write, and what every node's state keeps of it. */
export interface PrivateRef {
  readonly collection: string;
  /** privateKeyHash(collection, key): unsalted, so a member can find the key's entry. */
  readonly keyHash: Uint8Array;
  /** privateValueHash(salt, value). */
  readonly valueHash: Uint8Array;
}

function checkCollection(v: Value, field: string): string {
  const s = asString(v, field, 64);
  if (!COLLECTION_NAME.test(s)) {
    throw new MessagingError("BAD_FIELD", `${field} must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return s;
}

/** H("CAIRN_PKEY_V1\0" ‖ canonical([collection, key])). */
export function privateKeyHash(collection: string, key: Uint8Array): Uint8Array {
  return sha256(concatBytes(KEY_DOMAIN, encode([collection, key])));
}

/** H("CAIRN_PVAL_V1\0" ‖ canonical([salt, value])). */
export function privateValueHash(salt: Uint8Array, value: Uint8Array): Uint8Array {
  return sha256(concatBytes(VALUE_DOMAIN, encode([salt, value])));
}

export function checkPrivateWrite(w: PrivateWrite, field = "private"): void {
  checkCollection(w.collection, `${field}.collection`);
  asBytes(w.key, `${field}.key`);
  if (w.key.length === 0 || w.key.length > MAX_PRIVATE_KEY_BYTES) {
    throw new MessagingError("BAD_FIELD", `${field}.key must be 1 to ${MAX_PRIVATE_KEY_BYTES} bytes`);
  }
  asBytes(w.value, `${field}.value`);
  if (w.value.length > MAX_PRIVATE_VALUE_BYTES) {
    throw new MessagingError("BAD_FIELD", `${field}.value is longer than ${MAX_PRIVATE_VALUE_BYTES} bytes`);
  }
  asBytes(w.salt, `${field}.salt`, PRIVATE_SALT_BYTES);
}

/** The reference a transaction body carries for a private write. */
export function privateRef(w: PrivateWrite): PrivateRef {
  checkPrivateWrite(w);
  return {
    collection: w.collection,
    keyHash: privateKeyHash(w.collection, w.key),
    valueHash: privateValueHash(w.salt, w.value),
  };
}

/** Whether `w` is the plaintext of `ref`. */
export function matchesRef(w: PrivateWrite, ref: PrivateRef): boolean {
  return (
    w.collection === ref.collection &&
    equalBytes(privateKeyHash(w.collection, w.key), ref.keyHash) &&
    equalBytes(privateValueHash(w.salt, w.value), ref.valueHash)
  );
}

export const privateRefToValue = (r: PrivateRef): Value => [r.collection, r.keyHash, r.valueHash];

/** Checks a body's list of references: 1..MAX_PRIVATE_REFS, each key at most once. */
export function privateRefsFromValue(v: Value): PrivateRef[] {
  const list = asArray(v, "tx.private");
  if (list.length === 0 || list.length > MAX_PRIVATE_REFS) {
    throw new MessagingError("BAD_FIELD", `tx.private must hold 1 to ${MAX_PRIVATE_REFS} references`);
  }
  const seen = new Set<string>();
  return list.map((item, i) => {
    const f = asArray(item, `tx.private[${i}]`, 3);
    const ref: PrivateRef = {
      collection: checkCollection(f[0] as Value, `tx.private[${i}].collection`),
      keyHash: asBytes(f[1] as Value, `tx.private[${i}].keyHash`, 32),
      valueHash: asBytes(f[2] as Value, `tx.private[${i}].valueHash`, 32),
    };
    const id = `${ref.collection}/${toHex(ref.keyHash)}`;
    if (seen.has(id)) throw new MessagingError("BAD_FIELD", `tx.private[${i}] writes the same key twice`);
    seen.add(id);
    return ref;
  });
}

export const privateWriteToValue = (w: PrivateWrite): Value => [w.collection, w.key, w.value, w.salt];

export function privateWriteFromValue(v: Value, field: string): PrivateWrite {
  const f = asArray(v, field, 4);
  const w: PrivateWrite = {
    collection: f[0] as string,
    key: f[1] as Uint8Array,
    value: f[2] as Uint8Array,
    salt: f[3] as Uint8Array,
  };
  checkPrivateWrite(w, field);
  return w;
}

/** canonical([[collection, key, value, salt], ...]): private writes as nodes send and keep them. */
export function encodePrivateWrites(ws: readonly PrivateWrite[]): Uint8Array {
  return encode(ws.map(privateWriteToValue));
}

export function decodePrivateWrites(b: Uint8Array): PrivateWrite[] {
  return asArray(decode(b), "private").map((v, i) => privateWriteFromValue(v, `private[${i}]`));
}

/**
 * Pairs each reference of a transaction with its plaintext among `writes`: every reference must
 * have exactly one, and no write may be left over. Throws PRIVATE_DATA_MISMATCH saying which.
 */
export function pairPrivateWrites(refs: readonly PrivateRef[], writes: readonly PrivateWrite[]): PrivateWrite[] {
  if (writes.length !== refs.length) {
    throw new MessagingError(
      "PRIVATE_DATA_MISMATCH",
      `the transaction names ${refs.length} private write(s); ${writes.length} given`,
    );
  }
  return refs.map((ref, i) => {
    const w = writes.find((x) => matchesRef(x, ref));
    if (w === undefined) {
      throw new MessagingError(
        "PRIVATE_DATA_MISMATCH",
        `no private write given hashes to the transaction's reference ${i} (collection ${ref.collection})`,
      );
    }
    return w;
  });
}
