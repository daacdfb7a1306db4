import type { Value } from "./codec.ts";
import { MessagingError } from "./errors.ts";

// Shape checks for decoded values. Each names the field it checks so a client learns exactly
// which part of its message was wrong.

export function asArray(v: Value, field: string, length?: number): readonly Value[] {
  if (!Array.isArray(v)) throw new MessagingError("BAD_FIELD", `${field} must be an array`);
  if (length !== undefined && v.length !== length) {
    throw new MessagingError("BAD_FIELD", `${field} must have ${length} elements, got ${v.length}`);
  }
  return v as readonly Value[];
}

export function asBytes(v: Value, field: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new MessagingError("BAD_FIELD", `${field} must be binary`);
  if (length !== undefined && v.length !== length) {
    throw new MessagingError("BAD_FIELD", `${field} must be ${length} bytes, got ${v.length}`);
  }
  return v;
}

export function asString(v: Value, field: string, maxBytes: number): string {
  if (typeof v !== "string") throw new MessagingError("BAD_FIELD", `${field} must be a string`);
  // UTF-8 length is at most 3 bytes per UTF-16 unit; only measure exactly when it could matter.
  if (v.length * 3 > maxBytes && new TextEncoder().encode(v).length > maxBytes) {
    throw new MessagingError("BAD_FIELD", `${field} is longer than ${maxBytes} bytes`);
  }
  return v;
}

/** A non-negative integer that fits a JavaScript number exactly. */
export function asUint(v: Value, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new MessagingError("BAD_FIELD", `${field} must be an integer from 0 to ${max}`);
  }
  return v;
}

export function asBool(v: Value, field: string): boolean {
  if (typeof v !== "boolean") throw new MessagingError("BAD_FIELD", `${field} must be a boolean`);
  return v;
}
