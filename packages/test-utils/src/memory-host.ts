import { compareBytes } from "@cairn/crypto";
import { encode, type PrivateRef, privateRefToValue } from "@cairn/messaging";
import type { VmHost } from "@cairn/vm";

// An in-memory VmHost for contract unit tests: sorted storage and a record of emitted events.

export interface EmittedEvent {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface MemoryHostOptions {
  readonly caller?: Uint8Array;
  readonly height?: number;
  readonly time?: number;
  /** Initial storage. */
  readonly entries?: Iterable<readonly [Uint8Array, Uint8Array]>;
  /** Private writes the call's transaction names (their hashes). */
  readonly privateRefs?: readonly PrivateRef[];
}

export interface MemoryHost extends VmHost {
  /** The private writes the next call's transaction names (set it before each call). */
  privateRefs: PrivateRef[];
  /** The collections' hashed state `private_put` writes and `private_hash` reads, by "collection/keyHashHex". */
  readonly privateHashes: Map<string, Uint8Array>;
  caller: Uint8Array;
  height: number;
  time: number;
  /** Events in emission order. */
  readonly events: EmittedEvent[];
  /** Storage in key order. */
  entries(): [Uint8Array, Uint8Array][];
  readonly size: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

export function createMemoryHost(opts: MemoryHostOptions = {}): MemoryHost {
  /** Keys in byte order, and values by key hex. */
  const keys: Uint8Array[] = [];
  const values = new Map<string, Uint8Array>();
  const events: EmittedEvent[] = [];
  const privateHashes = new Map<string, Uint8Array>();

  /** Index of the first key >= key (strictly > when `strict`). */
  const lowerBound = (key: Uint8Array, strict: boolean): number => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(keys[mid]!, key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const set = (key: Uint8Array, value: Uint8Array): void => {
    const k = hex(key);
    if (!values.has(k)) keys.splice(lowerBound(key, false), 0, key.slice());
    values.set(k, value.slice());
  };

  for (const [k, v] of opts.entries ?? []) set(k, v);

  return {
    caller: opts.caller ?? new Uint8Array(32),
    height: opts.height ?? 1,
    time: opts.time ?? 0,
    events,
    get size() {
      return keys.length;
    },
    entries: () => keys.map((k) => [k.slice(), values.get(hex(k))!.slice()]),
    storageGet: (key) => values.get(hex(key))?.slice(),
    storageSet: set,
    storageDelete: (key) => {
      const k = hex(key);
      if (!values.delete(k)) return;
      keys.splice(lowerBound(key, false), 1);
    },
    storageNext: (prefix, after) => {
      // Keys with a prefix are one contiguous run in byte order, starting at the prefix itself.
      const i =
        after === undefined || compareBytes(after, prefix) < 0 ? lowerBound(prefix, false) : lowerBound(after, true);
      const key = keys[i];
      return key !== undefined && startsWith(key, prefix) ? key.slice() : undefined;
    },
    emit: (name, data) => {
      events.push({ name, data: data.slice() });
    },
    // The collections' hashed state, as the ledger keeps it: "<collection>/" ‖ keyHash → valueHash.
    privateRefs: [...(opts.privateRefs ?? [])],
    get privateCount() {
      return this.privateRefs.length;
    },
    privateRef(i) {
      const ref = this.privateRefs[i];
      return ref === undefined ? undefined : encode(privateRefToValue(ref));
    },
    privatePut(i) {
      const ref = this.privateRefs[i] as PrivateRef;
      privateHashes.set(`${ref.collection}/${hex(ref.keyHash)}`, ref.valueHash);
    },
    privateHash: (collection, keyHash) => privateHashes.get(`${collection}/${hex(keyHash)}`),
    privateHashes,
  };
}
