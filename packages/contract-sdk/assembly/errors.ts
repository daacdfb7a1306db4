import * as env from "./env";

/**
 * Aborts the call with an error code (`[A-Z][A-Z0-9_]{0,31}`) and a message: the host reverts the
 * call's writes and puts the code in the receipt. The host never returns from `fail`; the
 * `unreachable` is a second line of defence should it ever do so.
 */
export function fail(code: string, message: string): void {
  const c = String.UTF8.encode(code);
  const m = String.UTF8.encode(message);
  env.fail(changetype<usize>(c), c.byteLength, changetype<usize>(m), m.byteLength);
  unreachable();
}

/** `fail(code, message)` unless `cond` holds. */
export function require(cond: bool, code: string, message: string): void {
  if (!cond) fail(code, message);
}
