import { fromHex, utf8 } from "@cairn/crypto";
import { CairnClientError } from "./errors.ts";

/** Bytes given either as bytes or as text (UTF-8): keys and values of the kv and pkv contracts. */
export function textBytes(v: Uint8Array | string): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v;
}

/** Bytes given either as bytes or as hex; `length` is checked when given. */
export function bytesOf(input: Uint8Array | string, what: string, length?: number): Uint8Array {
  let b: Uint8Array;
  if (typeof input === "string") {
    try {
      b = fromHex(input);
    } catch {
      throw new CairnClientError("BAD_HEX", `${what} is not valid hex`);
    }
  } else if (input instanceof Uint8Array) b = input;
  else throw new CairnClientError("BAD_HEX", `${what} must be bytes or a hex string`);
  if (length !== undefined && b.length !== length) {
    throw new CairnClientError("BAD_LENGTH", `${what} must be ${length} bytes, got ${b.length}`);
  }
  return b;
}
