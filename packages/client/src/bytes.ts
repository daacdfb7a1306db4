import { fromHex } from "@cairn/crypto";
import { CairnClientError } from "./errors.ts";

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
