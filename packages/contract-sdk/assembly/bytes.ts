// Byte-string helpers: storage keys, values and public keys are all Uint8Array.

/** The UTF-8 bytes of `s`. */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** A new array holding `a` followed by `b` (e.g. a key prefix and an account). */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Lower-case hex of `b`. */
export function hex(b: Uint8Array): string {
  const digits = "0123456789abcdef";
  const codes = new Array<i32>(b.length << 1);
  for (let i = 0; i < b.length; i++) {
    const v = <i32>b[i];
    codes[i << 1] = digits.charCodeAt(v >> 4);
    codes[(i << 1) + 1] = digits.charCodeAt(v & 15);
  }
  return String.fromCharCodes(codes);
}

/** Whether `a` and `b` hold the same bytes. */
export function equal(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
