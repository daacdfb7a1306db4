// Private data collections (docs/privacy.md): writes whose plaintext only the collection's member
// organisations' nodes hold; every node holds their salted hashes.

import {
  PRIVATE_SALT_BYTES,
  type PrivateDataJson,
  type PrivateHashJson,
  type PrivateWrite,
  privateKeyHash,
} from "@cairn/messaging";
import { textBytes } from "./bytes.ts";
import type { ContractCall } from "./tx.ts";

export type PrivateDataInfo = PrivateDataJson;
export type PrivateHashInfo = PrivateHashJson;

/** A private write with a fresh random salt; strings are UTF-8. */
export function privateWrite(collection: string, key: Uint8Array | string, value: Uint8Array | string): PrivateWrite {
  return {
    collection,
    key: textBytes(key),
    value: textBytes(value),
    salt: crypto.getRandomValues(new Uint8Array(PRIVATE_SALT_BYTES)),
  };
}

/** The native private key-value contract. Send `put` with `signer.sendPrivate(pkv.put(), writes)`. */
export const pkv = {
  /** Records the hashes of the transaction's private writes (their plaintext goes to member nodes). */
  put(): ContractCall {
    return { contract: "pkv", method: "put", args: [] };
  },
  /** Asks every member node to drop the plaintext of `key` now; its hash stays on chain. Members only. */
  purge(collection: string, key: Uint8Array | string): ContractCall {
    return { contract: "pkv", method: "purge", args: [collection, privateKeyHash(collection, textBytes(key))] };
  },
};
