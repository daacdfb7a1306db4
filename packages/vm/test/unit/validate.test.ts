import { describe, expect, it } from "vitest";
import { prepareContract, VmError } from "../../src/index.ts";
import { contract, IMPORTS, wat } from "./helpers.ts";

const MEMORY = '(memory (export "memory") 1 2)';

function rejects(wasm: Uint8Array, rule: RegExp, options?: Parameters<typeof prepareContract>[1]): void {
  let error: unknown;
  try {
    prepareContract(wasm, options);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(VmError);
  expect((error as VmError).code).toBe("INVALID_MODULE");
  expect((error as VmError).message).toMatch(rule);
}

describe("prepareContract: accepted modules", () => {
  it("lists the methods: exported () -> () functions with a lower-case name", () => {
    const p = prepareContract(
      wat(`(module ${MEMORY}
        (func (export "transfer"))
        (func (export "balance_of2"))
        (func (export "Upper"))
        (func (export "_private"))
        (func (export "withArg") (param i32))
        (func (export "withResult") (result i32) (i32.const 1)))`),
    );
    expect(p.methods).toEqual(["transfer", "balance_of2"]);
  });

  it("accepts every host import with its signature, sign-extension and a funcref table", () => {
    const p = prepareContract(
      contract(`
        (table 2 2 funcref)
        (elem (i32.const 0) $a $b)
        (global $g (mut i64) (i64.const 7))
        (func $a (result i32) (i32.extend8_s (i32.const 255)))
        (func $b (result i32) (i32.const 2))
        (func (export "m") (drop (call_indirect (result i32) (i32.const 1))) (global.set $g (i64.extend32_s (i64.const 1))))`),
    );
    expect(p.methods).toEqual(["m"]);
  });

  it("produces a valid, deterministic module and its SHA-256 code hash", async () => {
    const { sha256 } = await import("@cairn/crypto");
    const wasm = contract('(func (export "m") (loop (br_if 0 (i32.const 0))))');
    const a = prepareContract(wasm);
    const b = prepareContract(wasm);
    expect(WebAssembly.validate(a.code as Uint8Array<ArrayBuffer>)).toBe(true);
    expect(a.code).toEqual(b.code);
    expect(a.codeHash).toEqual(sha256(a.code));
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(a.code as Uint8Array<ArrayBuffer>));
    expect(exports.map((e) => e.name)).toEqual(["memory", "m", "cairn_gas", "cairn_status"]);
  });

  it("strips custom sections", () => {
    const plain = wat(`(module ${MEMORY} (func (export "m")))`);
    const custom = new Uint8Array([0x00, 0x05, 0x04, 0x6e, 0x6f, 0x74, 0x65]); // section 0, name "note"
    const withCustom = new Uint8Array([...plain, ...custom]);
    expect(prepareContract(withCustom).code).toEqual(prepareContract(plain).code);
  });
});

describe("prepareContract: rules", () => {
  it("rejects bytes that are not a valid module", () => {
    rejects(new Uint8Array([1, 2, 3]), /not a valid WebAssembly module/);
    const good = wat(`(module ${MEMORY} (func (export "m")))`);
    rejects(good.subarray(0, good.length - 3), /not a valid WebAssembly module/);
  });

  it("rejects a module over the size limit", () => {
    rejects(wat(`(module ${MEMORY} (func (export "m")))`), /more than the 10 allowed/, {
      limits: { maxCodeBytes: 10 },
    });
  });

  it("rejects imports outside the host ABI", () => {
    rejects(
      wat(`(module (import "env" "Date.now" (func (result i64))) ${MEMORY})`),
      /import "env" "Date.now" is not a host function/,
    );
    rejects(
      wat(`(module (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32))) ${MEMORY})`),
      /"wasi_snapshot_preview1" "random_get" is not a host function/,
    );
    rejects(wat(`(module (import "cairn" "toString" (func)) ${MEMORY})`), /not a host function/);
  });

  it("rejects a host import with the wrong signature", () => {
    rejects(
      wat(`(module (import "cairn" "ret" (func (param i32))) ${MEMORY})`),
      /"cairn" "ret" has the wrong signature/,
    );
    rejects(
      wat(`(module (import "cairn" "block_height" (func (result i32))) ${MEMORY})`),
      /"block_height" has the wrong signature/,
    );
  });

  it("rejects imported memories, tables and globals", () => {
    rejects(wat('(module (import "env" "memory" (memory 1 2)) (export "memory" (memory 0)))'), /imported memory/);
    rejects(wat(`(module (import "env" "t" (table 1 funcref)) ${MEMORY})`), /imported table/);
    rejects(wat(`(module (import "env" "g" (global i32)) ${MEMORY})`), /imported global/);
  });

  it("rejects floating point anywhere", () => {
    rejects(wat(`(module ${MEMORY} (func (export "m") (local f64)))`), /floating point: f64 in function \d+ locals/);
    rejects(wat(`(module ${MEMORY} (func (param f32)))`), /floating point: f32 in type 0 parameters/);
    rejects(wat(`(module ${MEMORY} (func (result f64) (f64.const 1)))`), /floating point: f64 in type 0 results/);
    rejects(wat(`(module ${MEMORY} (global f32 (f32.const 0)))`), /floating point: f32 in global 0/);
    rejects(wat(`(module ${MEMORY} (func (export "m") (drop (f64.const 1))))`), /floating point instruction/);
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (drop (i32.trunc_f32_s (f32.const 1)))))`),
      /floating point instruction/,
    );
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (drop (f32.load (i32.const 0)))))`),
      /floating point instruction/,
    );
  });

  it("rejects SIMD", () => {
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (drop (v128.const i32x4 0 0 0 0))))`, { simd: true }),
      /SIMD instruction/,
    );
    rejects(wat(`(module ${MEMORY} (func (export "m") (local v128)))`, { simd: true }), /SIMD: v128/);
  });

  it("rejects shared memory and atomics", () => {
    rejects(wat('(module (memory (export "memory") 1 2 shared))', { threads: true }), /threads: shared memory/);
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (drop (i32.atomic.load (i32.const 0)))))`, { threads: true }),
      /threads: atomic instruction/,
    );
  });

  it("rejects bulk memory and other 0xFC instructions", () => {
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))`, {
        bulk_memory: true,
      }),
      /bulk memory or other 0xFC-prefixed instruction/,
    );
    rejects(wat(`(module ${MEMORY} (data "passive") )`, { bulk_memory: true }), /bulk memory/);
  });

  it("rejects reference types, multi-value results and tail calls", () => {
    rejects(wat(`(module ${MEMORY} (table 1 externref))`, { reference_types: true }), /reference types/);
    rejects(
      wat(`(module ${MEMORY} (func (result i32 i32) (i32.const 1) (i32.const 2)))`, { multi_value: true }),
      /multi-value/,
    );
    rejects(
      wat(`(module ${MEMORY} (func $f (result i32) (block (result i32 i32) (i32.const 1) (i32.const 2)) (drop)))`, {
        multi_value: true,
      }),
      /multi-value/,
    );
    rejects(wat(`(module ${MEMORY} (func $f (return_call $f)))`, { tail_call: true }), /tail call instruction/);
  });

  it("requires exactly one exported memory with a maximum of at most 64 pages", () => {
    rejects(wat('(module (memory (export "memory") 1))'), /memory declares no maximum/);
    rejects(wat('(module (memory (export "memory") 1 65))'), /memory maximum above 64 pages/);
    rejects(wat('(module (memory 1 2) (func (export "m")))'), /memory is not exported as "memory"/);
    rejects(wat('(module (func (export "m")))'), /exactly one memory/);
    expect(prepareContract(wat('(module (memory (export "memory") 0 64))')).methods).toEqual([]);
  });

  it("bounds locals, globals, functions and tables", () => {
    rejects(
      wat(`(module ${MEMORY} (func (export "m") (local ${"i32 ".repeat(1025)})))`),
      /declares more than 1024 locals/,
    );
    expect(() => prepareContract(wat(`(module ${MEMORY} (func (local ${"i64 ".repeat(1024)})))`))).not.toThrow();
    rejects(wat(`(module ${MEMORY} ${"(global i32 (i32.const 0))".repeat(257)})`), /257 globals, more than 256/);
    rejects(wat(`(module ${MEMORY} ${"(func)".repeat(11)})`), /11 functions, more than 10/, {
      limits: { maxFunctions: 10 },
    });
    rejects(wat(`(module ${MEMORY} (table 1025 funcref))`), /table larger than 1024 entries/);
    rejects(wat(`(module ${MEMORY} (table 1 2000 funcref))`), /table larger than 1024 entries/);
  });

  it("rejects segments outside the initial memory or table", () => {
    rejects(wat(`(module ${MEMORY} (data (i32.const 65535) "ab"))`), /data segment 0 out of bounds/);
    rejects(wat(`(module ${MEMORY} (table 1 funcref) (func $f) (elem (i32.const 1) $f))`), /element segment 0/);
  });

  it("reserves the cairn_ export prefix for the instrumentation", () => {
    rejects(wat(`(module ${MEMORY} (global (export "cairn_gas") i64 (i64.const 0)))`), /"cairn_" prefix is reserved/);
  });

  it("names the function whose body breaks a rule", () => {
    rejects(
      wat(`(module ${IMPORTS} ${MEMORY} (func (export "m") (drop (f32.const 0))))`),
      /function 15: floating point instruction \(opcode 0x43\)/,
    );
  });
});
