import { createMemoryHost, type MemoryHost } from "@cairn/test-utils";
import { type CallResult, createVm, prepareContract, type Vm } from "../../src/index.ts";

const wabt = await (await import("wabt")).default();

type Features = Parameters<typeof wabt.parseWat>[2];

/** Assembles WAT text (with optional post-MVP features, to build modules the rules must reject). */
export function wat(text: string, features: Features = {}): Uint8Array {
  const module = wabt.parseWat("t.wat", text, features);
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** The host imports, for modules that use them all. */
export const IMPORTS = `
  (import "cairn" "input_len" (func $input_len (result i32)))
  (import "cairn" "input_read" (func $input_read (param i32)))
  (import "cairn" "buffer_read" (func $buffer_read (param i32)))
  (import "cairn" "storage_get" (func $storage_get (param i32 i32) (result i32)))
  (import "cairn" "storage_has" (func $storage_has (param i32 i32) (result i32)))
  (import "cairn" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "cairn" "storage_delete" (func $storage_delete (param i32 i32)))
  (import "cairn" "storage_next" (func $storage_next (param i32 i32 i32 i32) (result i32)))
  (import "cairn" "caller" (func $caller (param i32)))
  (import "cairn" "block_height" (func $block_height (result i64)))
  (import "cairn" "block_time" (func $block_time (result i64)))
  (import "cairn" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "cairn" "ret" (func $ret (param i32 i32)))
  (import "cairn" "fail" (func $fail (param i32 i32 i32 i32)))
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
`;

/** A module with the host imports, an exported memory of 1..2 pages, and `body`. */
export function contract(body: string, memory = '(memory (export "memory") 1 2)'): Uint8Array {
  return wat(`(module ${IMPORTS} ${memory} ${body})`);
}

export interface Runner {
  readonly vm: Vm;
  readonly host: MemoryHost;
  run(
    method: string,
    opts?: { input?: Uint8Array; gasLimit?: number; readOnly?: boolean; host?: MemoryHost },
  ): CallResult;
}

export function runner(wasm: Uint8Array, vm: Vm = createVm()): Runner {
  const prepared = prepareContract(wasm);
  const host = createMemoryHost();
  return {
    vm,
    host,
    run: (method, opts = {}) =>
      vm.call({
        codeHash: prepared.codeHash,
        code: prepared.code,
        method,
        input: opts.input ?? new Uint8Array(0),
        gasLimit: opts.gasLimit ?? 10_000_000,
        host: opts.host ?? host,
        readOnly: opts.readOnly,
      }),
  };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);
