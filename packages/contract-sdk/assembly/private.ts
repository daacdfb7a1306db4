// Private data collections (docs/privacy.md). A transaction may name private writes by their
// salted hashes; their plaintext goes only to member organisations' nodes, so a contract (which
// runs on every node) sees the hashes alone: it can record a write, read a key's current hash and
// compare hashes (two parties agreeing on a value without showing it), never the value itself.
import { Args } from "./codec";
import * as env from "./env";
import { utf8 } from "./bytes";

/** A private write as the transaction names it. */
export class PrivateRef {
  constructor(
    readonly collection: string,
    /** H("CAIRN_PKEY_V1\0" ‖ canonical([collection, key])): the same for every write of the key. */
    readonly keyHash: Uint8Array,
    /** H("CAIRN_PVAL_V1\0" ‖ canonical([salt, value])). */
    readonly valueHash: Uint8Array,
  ) {}
}

export namespace privateData {
  /** How many private writes the transaction names. */
  export function count(): i32 {
    return env.private_count();
  }

  /** The i-th private write's reference (0 <= i < count()). */
  export function ref(i: i32): PrivateRef {
    const len = env.private_ref(i);
    const data = new Uint8Array(len);
    env.buffer_read(data.dataStart);
    const a = Args.from(data);
    const r = new PrivateRef(a.str(), a.bytes(), a.bytes());
    a.done();
    return r;
  }

  /** Records the i-th write: its value hash becomes its key's hash in the collection, on every node. */
  export function put(i: i32): void {
    env.private_put(i);
  }

  /** A key's current value hash in `collection` (this block's writes included), or null if never written. */
  export function hash(collection: string, keyHash: Uint8Array): Uint8Array | null {
    const name = utf8(collection);
    const len = env.private_hash(name.dataStart, name.length, keyHash.dataStart);
    if (len < 0) return null;
    const out = new Uint8Array(len);
    env.buffer_read(out.dataStart);
    return out;
  }
}
