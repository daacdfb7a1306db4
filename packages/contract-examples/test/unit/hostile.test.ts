import { ContractBuildError } from "@cairn/contract-sdk/build";
import { decode, encode } from "@cairn/messaging";
import { createMemoryHost } from "@cairn/test-utils";
import {
  type CallResult,
  createVm,
  defaultGasCosts,
  type PreparedContract,
  prepareContract,
  type Vm,
  VmError,
} from "@cairn/vm";
import { beforeAll, describe, expect, it } from "vitest";
import { buildExample, contractDir, GAS } from "./harness.ts";

let contract: PreparedContract;
beforeAll(async () => {
  const built = await buildExample("hostile");
  expect(built.methods).toEqual(["spin", "recurse", "bomb", "hog", "hugeEvent", "bigWrite", "ok"]);
  contract = built.contract;
});

/** A call on a fresh in-memory host; returns the result and what the call left in storage and events. */
function run(vm: Vm, method: string, gasLimit = GAS) {
  const host = createMemoryHost({ height: 5, time: 1_700_000_000_000 });
  const result: CallResult = vm.call({ ...contract, method, input: encode([]), gasLimit, host });
  return { result, entries: host.size, events: host.events.length };
}

/** Each hostile method, with the failure it must end in. */
const HOSTILE: readonly { method: string; code: string; message: string | RegExp; allGas: boolean }[] = [
  // An infinite loop: every iteration is a metered block.
  { method: "spin", code: "OUT_OF_GAS", message: "out of gas", allGas: true },
  // Unbounded recursion: the stack bound (16,384 slots) ends it long before V8's own stack.
  { method: "recurse", code: "CALL_DEPTH_EXCEEDED", message: "more than 16384 stack slots", allGas: false },
  // memory.grow in a loop: 10,000 gas per page requested, also once the 64-page maximum is reached.
  { method: "bomb", code: "OUT_OF_GAS", message: "out of gas", allGas: true },
  // Arrays of 1, 2, 4 MiB...: the 4 MiB memory is full, and the stub runtime's allocator traps.
  { method: "hog", code: "CONTRACT_TRAP", message: "unreachable executed", allGas: false },
  // 1 MiB of event data: over the 16 KiB bound of emit.
  { method: "hugeEvent", code: "BAD_HOST_CALL", message: "event data length 1048581 not in 0..16384", allGas: false },
  // A value of 64 KiB + 1: over the 64 KiB bound of storage_set.
  { method: "bigWrite", code: "BAD_HOST_CALL", message: "value length 65537 not in 0..65536", allGas: false },
];

describe("hostile contract", () => {
  for (const { method, code, message, allGas } of HOSTILE) {
    it(`${method} ends with ${code}, the same on two fresh VMs, and the VM still works`, () => {
      const vm = createVm();
      const first = run(vm, method);
      expect(first.result).toMatchObject({ ok: false, code });
      if (first.result.ok) return;
      expect(first.result.message).toMatch(message);
      if (allGas) expect(first.result.gasUsed).toBe(GAS);
      else {
        expect(first.result.gasUsed).toBeGreaterThan(0);
        expect(first.result.gasUsed).toBeLessThan(GAS);
      }
      // Nothing written, nothing emitted.
      expect([first.entries, first.events]).toEqual([0, 0]);
      // Deterministic: a second fresh VM (compiling the module anew) ends the same way, gas included.
      expect(run(createVm(), method).result).toEqual(first.result);
      // The same VM (and its cached module) runs the next call normally.
      const after = run(vm, "ok");
      expect(after.result.ok).toBe(true);
      expect(after.result.ok && decode(after.result.output)).toBe("ok");
    });
  }

  it("runs out of gas at any limit, using exactly that limit", () => {
    const vm = createVm();
    for (const limit of [1, 10_000, 1_000_000]) {
      expect(run(vm, "spin", limit).result).toEqual({
        ok: false,
        code: "OUT_OF_GAS",
        message: "out of gas",
        gasUsed: limit,
      });
      expect(run(vm, "bomb", limit).result).toMatchObject({ ok: false, code: "OUT_OF_GAS", gasUsed: limit });
    }
  });

  it("bomb is charged per page requested: at least 10,000 gas per memory.grow", () => {
    // 1,000,000 gas pays for fewer than 100 one-page grows.
    const r = run(createVm(), "bomb", 100 * defaultGasCosts.memoryGrowPage).result;
    expect(r).toMatchObject({ ok: false, code: "OUT_OF_GAS" });
  });

  it("recursion ends at the same depth at any gas limit that allows it", () => {
    const a = run(createVm(), "recurse", GAS).result;
    const b = run(createVm(), "recurse", 10 * GAS).result;
    expect(b).toEqual(a);
  });

  it("ok returns its value, and a query may call it", () => {
    const host = createMemoryHost();
    const r = createVm().call({ ...contract, method: "ok", input: encode([]), gasLimit: GAS, host, readOnly: true });
    expect(r.ok && decode(r.output)).toBe("ok");
  });
});

describe("clock contract (Date.now and Math.random)", () => {
  it("does not build: CONTRACT_INVALID, naming the rule it breaks", async () => {
    const err = await buildExample("clock").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractBuildError);
    expect((err as ContractBuildError).code).toBe("CONTRACT_INVALID");
    // Date.now() and Math.random() bring in f64 and the imports env.Date.now / env.seed; the first
    // rule the module breaks is the one on floats (its type section comes before its imports).
    expect((err as ContractBuildError).message).toMatch(/floating point: f64/);
  });

  it("compiled without that check, is refused by the deploy-time verification: INVALID_MODULE", async () => {
    const { default: asc } = await import("assemblyscript/asc");
    let wasm: Uint8Array | undefined;
    const stderr = asc.createMemoryStream();
    const result = await asc.main(
      [
        "assembly/index.ts",
        "--outFile",
        "clock.wasm",
        "--baseDir",
        contractDir("clock"),
        "--runtime",
        "stub",
        "-O3",
        "--maximumMemory",
        "64",
        "--noColors",
      ],
      {
        stderr,
        writeFile: (name: string, contents: Uint8Array | string) => {
          if (name.endsWith(".wasm") && contents instanceof Uint8Array) wasm = contents;
        },
      },
    );
    expect(result.error, stderr.toString()).toBeNull();
    expect(wasm).toBeInstanceOf(Uint8Array);
    // The module imports the clock and the random seed the host does not have.
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)).map(
      (i) => `${i.module}.${i.name}`,
    );
    expect(imports).toEqual(expect.arrayContaining(["env.Date.now", "env.seed"]));
    // prepareContract is what every node runs when a deploy transaction executes.
    let thrown: unknown;
    try {
      prepareContract(wasm!);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(VmError);
    expect((thrown as VmError).code).toBe("INVALID_MODULE");
    expect((thrown as VmError).message).toMatch(/^floating point: f64/);
  });
});
