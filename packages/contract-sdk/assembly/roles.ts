// Roles most contracts need: an owner, set once by `init`, and registries of named member keys
// (parties, issuers, operators, ...) that the owner manages. Only storage and checks live here: the
// contract keeps its own methods, events and error codes for "already a member" / "not a member".
import { concat, equal, utf8 } from "./bytes";
import { Args, Writer } from "./codec";
import { context } from "./context";
import { fail, require } from "./errors";
import { storage } from "./storage";

// The owner's key is stored under "owner".
function ownerKey(): Uint8Array {
  return utf8("owner");
}

/** Whether the owner is set (`initOwner` has run). */
export function hasOwner(): bool {
  return storage.has(ownerKey());
}

/**
 * For a contract's `init`: makes the caller the owner and returns its key; fails
 * ALREADY_INITIALIZED with `message` once an owner is set.
 */
export function initOwner(message: string = "the contract is already initialised"): Uint8Array {
  if (hasOwner()) fail("ALREADY_INITIALIZED", message);
  const key = context.caller();
  storage.set(ownerKey(), key);
  return key;
}

/** The owner's key; fails NOT_INITIALIZED ("call init first") before `initOwner`. */
export function owner(): Uint8Array {
  const key = storage.get(ownerKey());
  if (key === null) fail("NOT_INITIALIZED", "call init first");
  return key!;
}

/** Fails NOT_INITIALIZED ("call init first") before `initOwner`. */
export function requireInitialized(): void {
  owner();
}

/**
 * Fails NOT_INITIALIZED before `initOwner`, and NOT_OWNER with `message` unless the caller is the
 * owner; returns the owner's key.
 */
export function requireOwner(message: string = "only the owner can do this"): Uint8Array {
  const key = owner();
  require(equal(context.caller(), key), "NOT_OWNER", message);
  return key;
}

/** One member of a `Members` registry. */
export class Member {
  key: Uint8Array = new Uint8Array(0);
  name: string = "";
  /** The block height it was added at. */
  addedAt: u64 = 0;
}

/**
 * A registry of named member keys (e.g. accounts) under a storage prefix: `prefix` + key holds the
 * canonical record [name, addedAt], and `countKey` the number of members (8-byte big-endian).
 * `add` and `remove` write nothing when they return false, so a contract can fail with its own
 * code then. `encode` and `encodeList` are the results of a contract's get-one and list methods.
 */
export class Members {
  readonly prefix: Uint8Array;
  private readonly countKey: Uint8Array;

  constructor(prefix: string, countKey: string) {
    this.prefix = utf8(prefix);
    this.countKey = utf8(countKey);
  }

  has(key: Uint8Array): bool {
    return storage.has(this.storageKey(key));
  }

  /** The member's name, or "" when `key` is not a member. */
  name(key: Uint8Array): string {
    const m = this.get(key);
    return m === null ? "" : m.name;
  }

  /** The number of members. */
  count(): u64 {
    return storage.getU64(this.countKey);
  }

  /** Adds `key` as `name` at the current height; false (and nothing written) when it is a member. */
  add(key: Uint8Array, name: string): bool {
    const k = this.storageKey(key);
    if (storage.has(k)) return false;
    storage.set(k, new Writer().array(2).str(name).u64(context.height()).finish());
    storage.setU64(this.countKey, storage.getU64(this.countKey) + 1);
    return true;
  }

  /** Removes `key`; false (and nothing written) when it is not a member. */
  remove(key: Uint8Array): bool {
    const k = this.storageKey(key);
    if (!storage.has(k)) return false;
    storage.remove(k);
    storage.setU64(this.countKey, storage.getU64(this.countKey) - 1);
    return true;
  }

  /** The member, or null when `key` is not one. */
  get(key: Uint8Array): Member | null {
    const raw = storage.get(this.storageKey(key));
    return raw === null ? null : Members.decode(key, raw);
  }

  /** The first `limit` members in key order. */
  list(limit: i32): Array<Member> {
    const keys = storage.keys(this.prefix, limit);
    const out = new Array<Member>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      out[i] = Members.decode(keys[i].subarray(this.prefix.length), storage.get(keys[i])!);
    }
    return out;
  }

  /** [name, addedAt: u64], or nil when `key` is not a member. */
  encode(key: Uint8Array): Writer {
    const m = this.get(key);
    if (m === null) return new Writer().nil();
    return new Writer().array(2).str(m.name).u64(m.addedAt);
  }

  /** [[key, name, addedAt: u64], ...]: the first `limit` members in key order. */
  encodeList(limit: i32): Writer {
    const members = this.list(limit);
    const w = new Writer().array(members.length);
    for (let i = 0; i < members.length; i++) {
      w.array(3).bytes(members[i].key).str(members[i].name).u64(members[i].addedAt);
    }
    return w;
  }

  private storageKey(key: Uint8Array): Uint8Array {
    return concat(this.prefix, key);
  }

  private static decode(key: Uint8Array, raw: Uint8Array): Member {
    const r = Args.from(raw);
    const m = new Member();
    m.key = key;
    m.name = r.str();
    m.addedAt = r.u64();
    return m;
  }
}
