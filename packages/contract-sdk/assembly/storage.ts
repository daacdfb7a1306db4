// The contract's own key-value namespace of the world state. Keys are 1..256 bytes, values up to
// 64 KiB (the host fails the call with BAD_HOST_CALL otherwise). Reads see this call's writes.
import * as env from "./env";
import { fail } from "./errors";

export namespace storage {
  /** The value at `key`, or null when there is none. */
  export function get(key: Uint8Array): Uint8Array | null {
    const len = env.storage_get(key.dataStart, key.length);
    if (len < 0) return null;
    const value = new Uint8Array(len);
    if (len > 0) env.buffer_read(value.dataStart);
    return value;
  }

  export function set(key: Uint8Array, value: Uint8Array): void {
    env.storage_set(key.dataStart, key.length, value.dataStart, value.length);
  }

  /** Deletes `key`; nothing happens when it has no value. */
  export function remove(key: Uint8Array): void {
    env.storage_delete(key.dataStart, key.length);
  }

  export function has(key: Uint8Array): bool {
    return env.storage_has(key.dataStart, key.length) == 1;
  }

  /**
   * The smallest key that starts with `prefix` and is greater than `after` in byte order (with
   * `after` null: the first key with the prefix), or null when there is none.
   */
  export function next(prefix: Uint8Array, after: Uint8Array | null): Uint8Array | null {
    let len: i32;
    if (after === null) {
      len = env.storage_next(prefix.dataStart, prefix.length, 0, -1);
    } else {
      len = env.storage_next(prefix.dataStart, prefix.length, after.dataStart, after.length);
    }
    if (len < 0) return null;
    const key = new Uint8Array(len);
    if (len > 0) env.buffer_read(key.dataStart);
    return key;
  }

  /** Up to `limit` keys that start with `prefix`, in byte order. */
  export function keys(prefix: Uint8Array, limit: i32): Array<Uint8Array> {
    const out = new Array<Uint8Array>();
    let after: Uint8Array | null = null;
    while (out.length < limit) {
      const k = next(prefix, after);
      if (k === null) break;
      out.push(k);
      after = k;
    }
    return out;
  }

  /** The 8-byte big-endian number at `key`; 0 when there is none. */
  export function getU64(key: Uint8Array): u64 {
    const v = get(key);
    if (v === null) return 0;
    if (v.length != 8) fail("BAD_STORAGE", "stored value is not an 8-byte number");
    let n: u64 = 0;
    for (let i = 0; i < 8; i++) n = (n << 8) | <u64>v[i];
    return n;
  }

  export function setU64(key: Uint8Array, v: u64): void {
    const b = new Uint8Array(8);
    for (let i = 0; i < 8; i++) b[i] = <u8>(v >> (<u64>((7 - i) << 3)));
    set(key, b);
  }

  /** The UTF-8 string at `key`, or null when there is none. */
  export function getString(key: Uint8Array): string | null {
    const v = get(key);
    if (v === null) return null;
    return String.UTF8.decode(v.buffer);
  }

  export function setString(key: Uint8Array, s: string): void {
    set(key, Uint8Array.wrap(String.UTF8.encode(s)));
  }
}
