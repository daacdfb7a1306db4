import { describe, expect, it } from "vitest";
import { prepareContract } from "../../src/index.ts";
import { wat } from "./helpers.ts";

// Functions with params are not methods, but the instrumented module still exports them: running
// them side by side with the original shows the instrumentation keeps the semantics.
const PROGRAM = wat(`(module
  (memory (export "memory") 1 3)
  (type $unary (func (param i32) (result i32)))
  (table 3 3 funcref)
  (elem (i32.const 0) $double $square $fib)
  (func $double (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; br_table with returns from nested blocks and a value carried to the function's label.
  (func (export "switch") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 100)))
      (br 1 (i32.const 200)))
    (i32.const 300))
  ;; A loop leaving through br_if to the outermost label with a value.
  (func (export "sum") (param i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (drop (br_if 1 (local.get $acc) (i32.eqz (local.get 0))))
      (br $l))
    (i32.const -1))
  (func (export "dispatch") (param i32) (result i32)
    (call_indirect (type $unary) (i32.const 7) (i32.rem_u (local.get 0) (i32.const 3))))
  (func (export "grow") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (memory.grow (i32.const 0)))
  (func (export "m"))
)`);

type Fn = (x: number) => number;

function instantiate(bytes: Uint8Array): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {}).exports;
}

describe("instrumentation", () => {
  const prepared = prepareContract(PROGRAM);

  it("passes WebAssembly.validate and keeps the module's exports", () => {
    expect(WebAssembly.validate(prepared.code as Uint8Array<ArrayBuffer>)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(prepared.code as Uint8Array<ArrayBuffer>)).map(
      (e) => e.name,
    );
    expect(names).toEqual(["memory", "fib", "switch", "sum", "dispatch", "grow", "m", "cairn_gas", "cairn_status"]);
    expect(prepared.methods).toEqual(["m"]);
  });

  it("computes exactly what the original computes", () => {
    const original = instantiate(PROGRAM);
    const inputs: Record<string, number[]> = {
      fib: [0, 1, 2, 10, 20],
      switch: [0, 1, 2, 3, 99, -1],
      sum: [1, 2, 10, 1000],
      dispatch: [0, 1, 2, 3, 4, 5],
    };
    for (const [name, xs] of Object.entries(inputs)) {
      for (const x of xs) {
        const metered = instantiate(prepared.code);
        (metered.cairn_gas as WebAssembly.Global).value = 1_000_000_000n;
        expect((metered[name] as Fn)(x), `${name}(${x})`).toBe((original[name] as Fn)(x));
        expect((metered.cairn_status as WebAssembly.Global).value).toBe(0);
      }
    }
    for (const pages of [0, 1, 2, 3]) {
      const metered = instantiate(prepared.code);
      (metered.cairn_gas as WebAssembly.Global).value = 1_000_000_000n;
      expect((metered.grow as Fn)(pages)).toBe((instantiate(PROGRAM).grow as Fn)(pages));
    }
  });

  it("traps with status 1 when the gas runs out and leaves the gas counter exact otherwise", () => {
    const metered = instantiate(prepared.code);
    const gas = metered.cairn_gas as WebAssembly.Global;
    gas.value = 1_000_000n;
    (metered.sum as Fn)(10);
    const per10 = 1_000_000n - (gas.value as bigint);
    gas.value = per10 - 1n;
    expect(() => (metered.sum as Fn)(10)).toThrow(WebAssembly.RuntimeError);
    expect((metered.cairn_status as WebAssembly.Global).value).toBe(1);
  });

  it("exports the start function as cairn_start instead of running it at instantiation", () => {
    const withStart = wat(`(module
      (memory (export "memory") 1 1)
      (func $init (i32.store (i32.const 0) (i32.const 5)))
      (start $init)
      (func (export "m")))`);
    const p = prepareContract(withStart);
    const exports = instantiate(p.code);
    const memory = new Uint32Array((exports.memory as WebAssembly.Memory).buffer);
    expect(memory[0]).toBe(0);
    (exports.cairn_gas as WebAssembly.Global).value = 1000n;
    (exports.cairn_start as () => void)();
    expect(memory[0]).toBe(5);
    expect(p.methods).toEqual(["m"]);
  });
});
