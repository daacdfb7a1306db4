import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "./bytes.ts";

export const HASH_LENGTH = 32;

/** SHA-256 (FIPS 180-4). Pure JavaScript, so it runs in browsers as well as in the node. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** SHA-256 of a domain tag followed by the data: keeps hashes of different kinds of object apart. */
export function taggedHash(tag: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  h.update(tag);
  for (const p of parts) h.update(p);
  return h.digest();
}

export { concatBytes };
