import { createMemoryHost } from "@cairn/test-utils";
import { describe, expect, it, vi } from "vitest";
import {
  type CallResult,
  createVm,
  defaultGasCosts,
  prepareContract,
  VmError,
  type WatchdogReport,
} from "../../src/index.ts";
import { contract, runner, str, text } from "./helpers.ts";

// Memory layout of the test contract: 0 "p/" prefix, 16 key "k", 32 event name "ev",
// 48 error code "NOT_ALLOWED", 64 message "no", 96 AssemblyScript string "boom", 200 file "a.ts",
// 1024 scratch key, 2048 output.
const APP = contract(`
  (data (i32.const 0) "p/")
  (data (i32.const 16) "k")
  (data (i32.const 32) "ev")
  (data (i32.const 48) "NOT_ALLOWED")
  (data (i32.const 64) "no")
  (data (i32.const 80) "bad")
  (data (i32.const 96) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")
  (data (i32.const 200) "\\08\\00\\00\\00a\\00.\\00t\\00s\\00")
  (data (i32.const 220) "\\ff")

  (func $read_input (result i32)
    (call $input_read (i32.const 2048))
    (call $input_len))

  (func (export "echo") (call $ret (i32.const 2048) (call $read_input)))

  ;; storage[input[0..n-1]] = input[n-1..] is too clever: keys and values come from the input as "key=value" split at byte 0x3d.
  (func (export "put") (local $n i32) (local $i i32)
    (local.set $n (call $read_input))
    (block $found (loop $scan
      (br_if $found (i32.eq (i32.load8_u (i32.add (i32.const 2048) (local.get $i))) (i32.const 0x3d)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (call $storage_set
      (i32.const 2048) (local.get $i)
      (i32.add (i32.const 2049) (local.get $i)) (i32.sub (local.get $n) (i32.add (local.get $i) (i32.const 1)))))

  (func (export "get") (local $len i32)
    (local.set $len (call $storage_get (i32.const 2048) (call $read_input)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return)))
    (call $buffer_read (i32.const 4096))
    (call $ret (i32.const 4096) (local.get $len)))

  (func (export "has")
    (i32.store8 (i32.const 4096) (call $storage_has (i32.const 2048) (call $read_input)))
    (call $ret (i32.const 4096) (i32.const 1)))

  (func (export "del") (call $storage_delete (i32.const 2048) (call $read_input)))

  ;; All keys starting with "p/", comma-separated, in the order storage_next returns them.
  (func (export "scan") (local $len i32) (local $out i32) (local $after i32)
    (local.set $out (i32.const 4096))
    (local.set $after (i32.const -1))
    (block $done (loop $next
      (local.set $len (call $storage_next (i32.const 0) (i32.const 2) (i32.const 1024) (local.get $after)))
      (br_if $done (i32.lt_s (local.get $len) (i32.const 0)))
      (call $buffer_read (i32.const 1024))
      (call $buffer_read (local.get $out))
      (local.set $out (i32.add (local.get $out) (local.get $len)))
      (i32.store8 (local.get $out) (i32.const 0x2c))
      (local.set $out (i32.add (local.get $out) (i32.const 1)))
      (local.set $after (local.get $len))
      (br $next)))
    (call $ret (i32.const 4096) (i32.sub (local.get $out) (i32.const 4096))))

  (func (export "env")
    (call $caller (i32.const 4096))
    (i64.store (i32.const 4128) (call $block_height))
    (i64.store (i32.const 4136) (call $block_time))
    (call $ret (i32.const 4096) (i32.const 48)))

  (func (export "emit") (call $emit (i32.const 32) (i32.const 2) (i32.const 2048) (call $read_input)))
  (func (export "emit_huge") (call $emit (i32.const 32) (i32.const 2) (i32.const 0) (i32.const 16385)))
  (func (export "emit_bad_name") (call $emit (i32.const 220) (i32.const 1) (i32.const 0) (i32.const 0)))
  (func (export "ret_oob") (call $ret (i32.const 131000) (i32.const 100)))
  (func (export "ret_negative") (call $ret (i32.const -8) (i32.const 4)))
  (func (export "key_too_long") (drop (call $storage_get (i32.const 0) (i32.const 257))))
  (func (export "fail") (call $fail (i32.const 48) (i32.const 11) (i32.const 64) (i32.const 2)))
  (func (export "fail_bad_code") (call $fail (i32.const 80) (i32.const 3) (i32.const 64) (i32.const 2)))
  (func (export "abort") (call $abort (i32.const 100) (i32.const 204) (i32.const 3) (i32.const 7)))
  (func (export "abort_null") (call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "trap") unreachable)
  (func (export "div0") (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (func (export "load_oob") (drop (i32.load (i32.const 200000))))
  (func (export "spin") (loop $l (br $l)))
  (func $rec (export "rec") (call $rec))
  (func $rec_wide (export "rec_wide") (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (call $rec_wide))
  (func $rec_deep_stack (param i32) (result i32)
    (i32.add (i32.add (i32.add (i32.add (local.get 0) (local.get 0)) (i32.add (local.get 0) (local.get 0)))
      (i32.add (local.get 0) (local.get 0))) (call $rec_deep_stack (local.get 0))))
  (func (export "rec_stack") (drop (call $rec_deep_stack (i32.const 1))))
  (func (export "grow_bomb") (loop $l (drop (memory.grow (i32.const 1))) (br $l)))
  (func (export "grow_all")
    (block $done (loop $l
      (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $l)))
    (i32.store (i32.const 0) (memory.size))
    (call $ret (i32.const 0) (i32.const 4)))
  (func (export "grow_huge") (drop (memory.grow (i32.const -1))))
  ;; Loops input[0] times.
  (func (export "count") (local $n i32)
    (drop (call $read_input))
    (local.set $n (i32.load8_u (i32.const 2048)))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l))))
`);

describe("a contract using every host function", () => {
  it("echoes its input through input_len, input_read and ret", () => {
    const { run } = runner(APP);
    const r = run("echo", { input: text("hello") });
    expect(r.ok && str(r.output)).toBe("hello");
  });

  it("round-trips storage: set, get, has, delete", () => {
    const { run, host } = runner(APP);
    expect(run("put", { input: text("k1=v1") }).ok).toBe(true);
    expect(str(host.storageGet(text("k1"))!)).toBe("v1");
    const got = run("get", { input: text("k1") });
    expect(got.ok && str(got.output)).toBe("v1");
    const has = run("has", { input: text("k1") });
    expect(has.ok && [...has.output]).toEqual([1]);
    expect(run("del", { input: text("k1") }).ok).toBe(true);
    expect(host.size).toBe(0);
    const hasNot = run("has", { input: text("k1") });
    expect(hasNot.ok && [...hasNot.output]).toEqual([0]);
    const gone = run("get", { input: text("k1") });
    expect(gone.ok && gone.output.length).toBe(0);
  });

  it("walks a prefix in byte order with storage_next", () => {
    const { run } = runner(APP);
    for (const kv of ["p/b=2", "q/a=3", "p/a=1", "p=0", "p/ab=4", "o/z=5"]) {
      expect(run("put", { input: text(kv) }).ok).toBe(true);
    }
    const r = run("scan");
    expect(r.ok && str(r.output)).toBe("p/a,p/ab,p/b,");
  });

  it("exposes the caller, block height and block time", () => {
    const { run } = runner(APP);
    const host = createMemoryHost({ caller: new Uint8Array(32).fill(7), height: 42, time: 1_700_000_000_123 });
    const r = run("env", { host });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.output.subarray(0, 32)]).toEqual(new Array(32).fill(7));
    const view = new DataView(r.output.buffer, r.output.byteOffset);
    expect(view.getBigInt64(32, true)).toBe(42n);
    expect(view.getBigInt64(40, true)).toBe(1_700_000_000_123n);
  });

  it("records events", () => {
    const { run, host } = runner(APP);
    expect(run("emit", { input: text("data") }).ok).toBe(true);
    expect(host.events.map((e) => [e.name, str(e.data)])).toEqual([["ev", "data"]]);
  });

  it("answers UNKNOWN_METHOD, charging nothing, for names that are not methods", () => {
    const { run } = runner(APP);
    for (const method of ["nope", "cairn_gas", "memory", "__proto__"]) {
      expect(run(method)).toEqual({ ok: false, code: "UNKNOWN_METHOD", message: `no method "${method}"`, gasUsed: 0 });
    }
  });
});

describe("failures", () => {
  it("fail() ends the call with the contract's code and message", () => {
    const { run } = runner(APP);
    const r = run("fail");
    expect(r.ok).toBe(false);
    expect(!r.ok && [r.code, r.message]).toEqual(["NOT_ALLOWED", "no"]);
    expect(r.gasUsed).toBeGreaterThan(0);
    const bad = run("fail_bad_code");
    expect(!bad.ok && bad.code).toBe("BAD_HOST_CALL");
  });

  it("env.abort is CONTRACT_ABORT with the AssemblyScript message", () => {
    const { run } = runner(APP);
    const r = run("abort");
    expect(!r.ok && [r.code, r.message]).toEqual(["CONTRACT_ABORT", "boom at a.ts:3:7"]);
    const bare = run("abort_null");
    expect(!bare.ok && [bare.code, bare.message]).toEqual(["CONTRACT_ABORT", "abort"]);
  });

  it("traps are CONTRACT_TRAP with fixed messages", () => {
    const { run } = runner(APP);
    const cases = {
      trap: "unreachable executed",
      div0: "integer divide by zero",
      load_oob: "out-of-bounds memory access",
    };
    for (const [method, message] of Object.entries(cases)) {
      const r = run(method);
      expect(!r.ok && [r.code, r.message]).toEqual(["CONTRACT_TRAP", message]);
      expect(r.gasUsed).toBeGreaterThan(0);
    }
  });

  it("bad pointers and sizes in host calls are BAD_HOST_CALL", () => {
    const { run, host } = runner(APP);
    for (const method of ["emit_huge", "emit_bad_name", "ret_oob", "ret_negative", "key_too_long"]) {
      const r = run(method);
      expect(!r.ok && r.code, method).toBe("BAD_HOST_CALL");
    }
    expect(host.events).toEqual([]);
  });

  it("a read-only call cannot write or emit, but can read", () => {
    const { run, host } = runner(APP);
    host.storageSet(text("k"), text("v"));
    for (const [method, input] of [
      ["put", "a=b"],
      ["del", "k"],
      ["emit", "x"],
    ] as const) {
      const r = run(method, { input: text(input), readOnly: true });
      expect(!r.ok && r.code, method).toBe("READ_ONLY");
    }
    const got = run("get", { input: text("k"), readOnly: true });
    expect(got.ok && str(got.output)).toBe("v");
    expect(host.entries().map(([k, v]) => [str(k), str(v)])).toEqual([["k", "v"]]);
  });

  it("a VmError from the host becomes the result's code", () => {
    const { run } = runner(APP);
    const host = createMemoryHost();
    host.storageGet = () => {
      throw new VmError("STATE_LIMIT", "too much state read");
    };
    const r = run("get", { input: text("k"), host });
    expect(!r.ok && [r.code, r.message]).toEqual(["STATE_LIMIT", "too much state read"]);
  });

  it("any other host exception propagates unchanged", () => {
    const { run } = runner(APP);
    const host = createMemoryHost();
    const missing = new Error("state not in cache");
    host.storageGet = () => {
      throw missing;
    };
    expect(() => run("get", { input: text("k"), host })).toThrow(missing);
    let thrown: unknown;
    try {
      run("has", { input: text("k"), host });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(missing);
  });
});

describe("hostile execution", () => {
  it("an infinite loop runs out of gas, using exactly the limit, the same way every time", () => {
    const a = runner(APP);
    const first = a.run("spin", { gasLimit: 1_000_000 });
    expect(first).toEqual({ ok: false, code: "OUT_OF_GAS", message: "out of gas", gasUsed: 1_000_000 });
    expect(a.run("spin", { gasLimit: 1_000_000 })).toEqual(first);
    expect(runner(APP).run("spin", { gasLimit: 1_000_000 })).toEqual(first);
  });

  it("a gas limit of zero runs nothing", () => {
    expect(runner(APP).run("echo", { gasLimit: 0 })).toEqual({
      ok: false,
      code: "OUT_OF_GAS",
      message: "out of gas",
      gasUsed: 0,
    });
  });

  it("running out of gas inside a host call uses the whole limit", () => {
    const { run } = runner(APP);
    const full = run("echo", { input: new Uint8Array(1000) });
    expect(full.ok).toBe(true);
    // Enough for the code, not for copying the 1,000 input bytes.
    const r = run("echo", { input: new Uint8Array(1000), gasLimit: full.gasUsed - 500 });
    expect(r).toEqual({
      ok: false,
      code: "OUT_OF_GAS",
      message: "out of gas in a host call",
      gasUsed: full.gasUsed - 500,
    });
  });

  it("unbounded recursion is CALL_DEPTH_EXCEEDED from the stack bound, deterministically", () => {
    const { run } = runner(APP);
    for (const method of ["rec", "rec_wide", "rec_stack"]) {
      const r = run(method);
      expect(!r.ok && [r.code, r.message], method).toEqual(["CALL_DEPTH_EXCEEDED", "more than 16384 stack slots"]);
      expect(r.gasUsed).toBeLessThan(10_000_000);
      expect(run(method)).toEqual(r);
    }
    // 4 slots per frame of `rec`: 4,096 frames fit.
    const rec = run("rec");
    expect(rec.gasUsed).toBe(4096 * defaultGasCosts.call);
  });

  it("a memory bomb is bounded by the declared maximum and by gas", () => {
    const { run } = runner(APP);
    const bomb = run("grow_bomb", { gasLimit: 5_000_000 });
    expect(bomb).toMatchObject({ ok: false, code: "OUT_OF_GAS", gasUsed: 5_000_000 });
    const all = run("grow_all");
    expect(all.ok).toBe(true);
    expect(all.ok && new DataView(all.output.buffer).getInt32(0, true)).toBe(2);
    const huge = run("grow_huge");
    expect(huge).toMatchObject({ ok: false, code: "OUT_OF_GAS", gasUsed: 10_000_000 });
  });

  it("memory.grow is charged per page requested", () => {
    const probe = (pages: number) =>
      runner(contract(`(func (export "m") (drop (memory.grow (i32.const ${pages}))))`)).run("m").gasUsed;
    expect(probe(1) - probe(0)).toBe(defaultGasCosts.memoryGrowPage);
    expect(probe(5) - probe(0)).toBe(5 * defaultGasCosts.memoryGrowPage);
  });
});

describe("gas", () => {
  it("is deterministic and linear in loop iterations", () => {
    const { run } = runner(APP);
    const gas = (n: number) => run("count", { input: new Uint8Array([n]) }).gasUsed;
    const g0 = gas(0);
    const step = gas(1) - g0;
    expect(step).toBeGreaterThan(0);
    for (const n of [2, 10, 100, 255]) expect(gas(n)).toBe(g0 + n * step);
    expect(gas(100)).toBe(gas(100));
  });

  it("charges storage writes by size", () => {
    const { run } = runner(APP);
    const small = run("put", { input: text("a=b") }).gasUsed;
    const big = run("put", { input: text("a=bbbbbbbbbbb") }).gasUsed;
    // Ten more value bytes: the scan loop does not change, input copying and storage do.
    expect(big - small).toBe(10 * (defaultGasCosts.storageByte + defaultGasCosts.byte));
  });

  it("follows custom costs given at prepare time", () => {
    const wasm = contract('(func (export "m") (loop $l (br_if $l (i32.const 0))))');
    const cheap = prepareContract(wasm);
    const dear = prepareContract(wasm, { costs: { instruction: 10 } });
    const call = (p: typeof cheap) =>
      createVm().call({
        codeHash: p.codeHash,
        code: p.code,
        method: "m",
        input: new Uint8Array(0),
        gasLimit: 1000,
        host: createMemoryHost(),
      }).gasUsed;
    expect(call(dear)).toBe(10 * call(cheap));
  });
});

describe("engine", () => {
  it("caches compiled modules by code hash, least recently used first out", () => {
    const vm = createVm({ moduleCacheSize: 2 });
    const spy = vi.spyOn(WebAssembly, "Module");
    try {
      const a = runner(APP, vm);
      a.run("echo");
      a.run("echo");
      expect(vm.cachedModules).toBe(1);
      expect(spy).toHaveBeenCalledTimes(1);
      runner(contract('(func (export "b"))'), vm).run("b");
      runner(contract('(func (export "c"))'), vm).run("c");
      expect(vm.cachedModules).toBe(2);
      a.run("echo");
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses code that does not match its hash", () => {
    const p = prepareContract(APP);
    const call = () =>
      createVm().call({
        codeHash: new Uint8Array(32),
        code: p.code,
        method: "echo",
        input: new Uint8Array(0),
        gasLimit: 1000,
        host: createMemoryHost(),
      });
    expect(call).toThrow(expect.objectContaining({ code: "CODE_HASH_MISMATCH" }));
  });

  it("runs the start function, metered, before the method", () => {
    const wasm = contract(`
      (global $g (mut i32) (i32.const 0))
      (func $init (global.set $g (i32.const 41)))
      (start $init)
      (func (export "m")
        (i32.store (i32.const 0) (i32.add (global.get $g) (i32.const 1)))
        (call $ret (i32.const 0) (i32.const 4)))`);
    const { run } = runner(wasm);
    const r = run("m");
    expect(r.ok && new DataView(r.output.buffer).getInt32(0, true)).toBe(42);
    const spinning = runner(contract('(func $init (loop $l (br $l))) (start $init) (func (export "m"))'));
    expect(spinning.run("m", { gasLimit: 10_000 })).toMatchObject({ code: "OUT_OF_GAS", gasUsed: 10_000 });
  });

  it("keeps no memory between calls", () => {
    const wasm = contract(`
      (func (export "bump")
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (call $ret (i32.const 0) (i32.const 4)))`);
    const { run } = runner(wasm);
    const outputs = [run("bump"), run("bump")].map((r) => r.ok && new DataView(r.output.buffer).getInt32(0, true));
    expect(outputs).toEqual([1, 1]);
  });

  it("reports a slow call to the watchdog without changing its result", () => {
    const reports: WatchdogReport[] = [];
    const vm = createVm({ watchdogMs: 0, onWatchdog: (r) => reports.push(r) });
    const r = runner(APP, vm).run("spin", { gasLimit: 100_000 });
    expect(r).toEqual({ ok: false, code: "OUT_OF_GAS", message: "out of gas", gasUsed: 100_000 });
    expect(reports.map((x) => x.method)).toEqual(["spin"]);
    expect(reports[0]!.codeHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("rejects a bad gas limit", () => {
    const { run } = runner(APP);
    expect(() => run("echo", { gasLimit: -1 })).toThrow(expect.objectContaining({ code: "BAD_GAS_LIMIT" }));
    expect(() => run("echo", { gasLimit: 1.5 })).toThrow(expect.objectContaining({ code: "BAD_GAS_LIMIT" }));
  });
});

describe("instance reuse", () => {
  // Each method changes memory (the data segment's word at 0) and a global the module keeps to
  // itself; `bump` reports both as they were when it started.
  const STATEFUL = contract(`
    (data (i32.const 0) "\\01\\00\\00\\00")
    (data (i32.const 32) "NO")
    (global $g (mut i32) (i32.const 10))
    (func $dirty (i32.store (i32.const 0) (i32.const 99)) (global.set $g (i32.const 99)))
    (func (export "bump")
      (i32.store (i32.const 8) (i32.load (i32.const 0)))
      (i32.store (i32.const 12) (global.get $g))
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (call $ret (i32.const 8) (i32.const 8)))
    (func (export "dirty_trap") (call $dirty) unreachable)
    (func (export "dirty_fail") (call $dirty) (call $fail (i32.const 32) (i32.const 2) (i32.const 0) (i32.const 0)))
    (func $rec (export "rec") (call $dirty) (call $rec))
    (func (export "spin") (call $dirty) (loop $l (br $l)))
    (func (export "grow")
      (drop (memory.grow (i32.const 1)))
      (i32.store (i32.const 16) (memory.size))
      (call $ret (i32.const 16) (i32.const 4)))
  `);
  const words = (r: CallResult) => (r.ok ? [...new Int32Array(r.output.slice().buffer)] : r.code);

  it("gives every call a new instance's state, whatever the call before did", () => {
    const sequence = ["bump", "bump", "dirty_trap", "bump", "dirty_fail", "bump", "rec", "bump", "spin", "bump"];
    sequence.push("grow", "bump", "grow", "grow");
    const reused = runner(STATEFUL, createVm());
    const fresh = runner(STATEFUL, createVm({ reuseInstances: false }));
    const a = sequence.map((m) => reused.run(m, { gasLimit: 100_000 }));
    const b = sequence.map((m) => fresh.run(m, { gasLimit: 100_000 }));
    expect(a).toEqual(b);
    expect(a.map(words)).toEqual([
      [1, 10],
      [1, 10],
      "CONTRACT_TRAP",
      [1, 10],
      "NO",
      [1, 10],
      "CALL_DEPTH_EXCEEDED",
      [1, 10],
      "OUT_OF_GAS",
      [1, 10],
      [2],
      [1, 10],
      [2],
      [2],
    ]);
  });

  it("instantiates once for a run of calls; anew after a call that grew memory or threw", () => {
    const Original = WebAssembly.Instance;
    let instances = 0;
    WebAssembly.Instance = class extends Original {
      constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
        super(module, imports);
        instances++;
      }
    };
    try {
      const { run } = runner(STATEFUL, createVm());
      for (let i = 0; i < 5; i++) run("bump");
      run("dirty_trap");
      run("bump");
      expect(instances).toBe(1);
      run("grow"); // memory never shrinks: this instance is not kept
      expect(words(run("bump"))).toEqual([1, 10]);
      expect(instances).toBe(2);

      const app = runner(APP, createVm());
      const failing = createMemoryHost();
      const missing = new Error("state not in cache");
      failing.storageGet = () => {
        throw missing;
      };
      expect(() => app.run("get", { input: text("k"), host: failing })).toThrow(missing);
      const r = app.run("echo", { input: text("after") });
      expect(r.ok && str(r.output)).toBe("after");
      expect(instances).toBe(4);
      app.run("echo", { input: text("again") });
      expect(instances).toBe(4);
    } finally {
      WebAssembly.Instance = Original;
    }
  });

  it("gives each call its own host, input and limits on the same instance", () => {
    const { run } = runner(APP, createVm());
    const one = createMemoryHost();
    const two = createMemoryHost();
    expect(run("put", { input: text("k=1"), host: one }).ok).toBe(true);
    expect(run("put", { input: text("k=22"), host: two }).ok).toBe(true);
    expect(str(one.storageGet(text("k"))!)).toBe("1");
    expect(str(two.storageGet(text("k"))!)).toBe("22");
    expect(run("put", { input: text("k=3"), host: one, readOnly: true })).toMatchObject({ code: "READ_ONLY" });
    expect(run("put", { input: text("k=3"), host: one }).ok).toBe(true);
    expect(str(one.storageGet(text("k"))!)).toBe("3");
  });
});
