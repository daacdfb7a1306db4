import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "./bytes.ts";

export const HASH_LENGTH = 32;

type NodeHash = (algorithm: string, data: Uint8Array, outputEncoding: "buffer") => Uint8Array;

// In Node, OpenSSL's SHA-256 (with the CPU's SHA instructions) is about twice as fast as pure
// JavaScript on the small inputs a ledger hashes all the time. It is reached through
// process.getBuiltinModule so that this module has no static node: import and still loads in
// browsers, where @noble/hashes is used.
const nodeHash: NodeHash | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.("node:crypto") as { hash?: NodeHash } | undefined;
  return typeof mod?.hash === "function" ? mod.hash : undefined;
})();

/** SHA-256 (FIPS 180-4): OpenSSL in Node, @noble/hashes elsewhere; the same bytes either way. */
export const sha256: (data: Uint8Array) => Uint8Array =
  nodeHash === undefined
    ? (data) => nobleSha256(data)
    : (data) => {
        const b = nodeHash("sha256", data, "buffer");
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      };

/** SHA-256 of a domain tag followed by the data: keeps hashes of different kinds of object apart. */
export function taggedHash(tag: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return sha256(concatBytes(tag, ...parts));
}

export { concatBytes };
