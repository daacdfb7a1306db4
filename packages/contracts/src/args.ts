import type { Value } from "@cairn/messaging";
import { ContractError } from "./errors.ts";

// Argument checks shared by the native contracts; each failure is BAD_ARGS with the position.

export function argCount(args: readonly Value[], n: number): void {
  if (args.length !== n) throw new ContractError("BAD_ARGS", `expected ${n} argument(s), got ${args.length}`);
}

export function bytesArg(
  args: readonly Value[],
  i: number,
  name: string,
  opts: { len?: number; max?: number } = {},
): Uint8Array {
  const v = args[i];
  if (!(v instanceof Uint8Array)) throw new ContractError("BAD_ARGS", `argument ${i} (${name}) must be binary`);
  if (opts.len !== undefined && v.length !== opts.len) {
    throw new ContractError("BAD_ARGS", `argument ${i} (${name}) must be ${opts.len} bytes`);
  }
  if (opts.max !== undefined && v.length > opts.max) {
    throw new ContractError("BAD_ARGS", `argument ${i} (${name}) must be at most ${opts.max} bytes`);
  }
  return v;
}

export const MAX_UINT64 = (1n << 64n) - 1n;

/** A positive amount that fits an unsigned 64-bit integer. */
export function amountArg(args: readonly Value[], i: number, name: string): bigint {
  const v = args[i];
  if ((typeof v !== "number" || !Number.isInteger(v)) && typeof v !== "bigint") {
    throw new ContractError("BAD_ARGS", `argument ${i} (${name}) must be an integer`);
  }
  const n = BigInt(v);
  if (n <= 0n || n > MAX_UINT64)
    throw new ContractError("BAD_ARGS", `argument ${i} (${name}) must be from 1 to 2^64-1`);
  return n;
}
