// Argument checks that fail the call with BAD_ARGS, naming the argument (`what`).
import { fail } from "./errors";

/**
 * An id is 1..`max` characters from [A-Za-z0-9._:-]: printable, and free of the "/" that storage
 * keys use as a separator, so "x/" + id + "/" is the prefix of one id's keys only.
 */
export function checkId(id: string, what: string, max: i32): void {
  const n = id.length;
  if (n == 0 || n > max) fail("BAD_ARGS", what + " must be 1.." + max.toString() + " characters");
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 58 || c == 45;
    if (!ok) fail("BAD_ARGS", what + " may contain only letters, digits and . _ : -");
  }
}

/** `s` is `min`..`max` bytes of UTF-8. */
export function checkText(s: string, what: string, min: i32, max: i32): void {
  const n = String.UTF8.byteLength(s);
  if (n < min || n > max) {
    fail("BAD_ARGS", what + " must be " + min.toString() + ".." + max.toString() + " bytes, got " + n.toString());
  }
}
