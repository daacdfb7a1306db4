import { decode, encode, type Value } from "@cairn/messaging";
import { createMemoryHost, type MemoryHost } from "@cairn/test-utils";
import { type CallResult, createVm, type PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildFixture } from "./fixture.ts";

// The probe contract (fixtures/probe) calls every SDK function but the roles (roles.test.ts); these
// tests drive it through the real VM and compare what it reads and writes with @cairn/messaging's
// canonical codec.
const GAS = 20_000_000;

let probe: PreparedContract;
beforeAll(async () => {
  probe = await buildFixture("probe");
});

const vm = createVm();
let host: MemoryHost;
beforeEach(() => {
  host = createMemoryHost({ caller: new Uint8Array(32).fill(0xab), height: 42, time: 1_700_000_123_456 });
});

function run(method: string, input: Uint8Array): CallResult {
  return vm.call({ ...probe, method, input, gasLimit: GAS, host });
}

function call(method: string, args: Value[]): Value {
  const r = run(method, encode(args));
  if (!r.ok) throw new Error(`${method} failed: ${r.code}: ${r.message}`);
  return r.output.length === 0 ? undefined! : decode(r.output);
}

function failure(method: string, input: Uint8Array | Value[]): { code: string; message: string } {
  const r = run(method, input instanceof Uint8Array ? input : encode(input));
  if (r.ok) throw new Error(`${method} succeeded`);
  return { code: r.code, message: r.message };
}

/** echo with the raw output bytes, to compare encodings byte for byte. */
function echoBytes(spec: string, values: Value[]): Uint8Array {
  const r = run("echo", encode([spec, ...values]));
  if (!r.ok) throw new Error(`echo failed: ${r.code}: ${r.message}`);
  return r.output;
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe("Args and Writer", () => {
  it("round-trip unsigned integers at every width boundary in canonical form", () => {
    const values: Value[] = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    const big = [2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    const all = [...values, ...big];
    expect(echoBytes("u".repeat(all.length), all)).toEqual(encode(all));
  });

  it("round-trip signed integers at every width boundary in canonical form", () => {
    const all: Value[] = [
      0,
      5,
      127,
      128,
      2 ** 40,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      -(2n ** 63n),
      2n ** 63n - 1n,
    ];
    expect(echoBytes("i".repeat(all.length), all)).toEqual(encode(all));
    expect(failure("echo", ["i", 2n ** 63n]).message).toContain("does not fit i64");
  });

  it("round-trip strings, bytes, booleans and nil at every header boundary", () => {
    // The host caps a return value at 64 KiB, so the largest values are returned one per call.
    const strs = [0, 31, 32, 255, 256].map((n) => "é".repeat(n >> 1) + "x".repeat(n & 1));
    expect(echoBytes("s".repeat(strs.length), strs)).toEqual(encode(strs));
    expect(echoBytes("s", ["x".repeat(65_000)])).toEqual(encode(["x".repeat(65_000)]));
    expect(call("echo", ["s", "Grüße, 世界 🌍"])).toEqual(["Grüße, 世界 🌍"]);
    const bins = [0, 1, 255, 256].map((n) => bytes(n));
    expect(echoBytes("b".repeat(bins.length), bins)).toEqual(encode(bins));
    expect(echoBytes("b", [bytes(65_000)])).toEqual(encode([bytes(65_000)]));
    // str32 and bin32 headers can only be read (the values are too large to send back).
    expect(call("echo", ["SB", "é".repeat(40_000), bytes(70_000)])).toEqual([80_000, 70_000]);
    expect(echoBytes("ttnk", [true, false, null, bytes(32)])).toEqual(encode([true, false, null, bytes(32)]));
  });

  it("reads nested arrays and writes array headers of every size", () => {
    const lists = [0, 15, 16, 300].map((n) => Array.from({ length: n }, (_, i) => i * 1000));
    expect(echoBytes("uauauaau", [1, lists[0]!, 2, lists[1]!, 3, lists[2]!, lists[3]!, 4])).toEqual(
      encode([1, lists[0]!, 2, lists[1]!, 3, lists[2]!, lists[3]!, 4]),
    );
    expect(call("count", [1, "two", [3, 4], null])).toBe(4);
    expect(
      call(
        "count",
        Array.from({ length: 20 }, (_, i) => i),
      ),
    ).toBe(20);
  });

  it("fails BAD_ARGS on a wrong type, naming the argument", () => {
    expect(failure("echo", ["u", "7"])).toEqual({
      code: "BAD_ARGS",
      message: "argument 1: expected an unsigned integer",
    });
    expect(failure("echo", ["u", -1]).message).toBe("argument 1: expected an unsigned integer");
    expect(failure("echo", ["uus", 1, 2, 3]).message).toBe("argument 3: expected a string");
    expect(failure("echo", ["b", "text"]).message).toBe("argument 1: expected bytes");
    expect(failure("echo", ["t", 1]).message).toBe("argument 1: expected a boolean");
    expect(failure("echo", ["k", bytes(33)]).message).toBe("argument 1: expected a 32-byte key, got 33 bytes");
    expect(failure("echo", ["a", 5]).message).toBe("argument 1: expected an array");
    expect(failure("echo", ["n", 0])).toEqual({ code: "NOT_NIL", message: "expected nil next" });
  });

  it("fails BAD_ARGS on missing and extra arguments and on input that is not an array", () => {
    expect(failure("echo", ["uu", 1])).toEqual({
      code: "BAD_ARGS",
      message: "missing argument 2: expected an unsigned integer",
    });
    expect(failure("echo", ["u", 1, 2]).message).toContain("more were given");
    expect(failure("echo", ["a", [1, 2, 3], 9]).message).toContain("more were given");
    expect(failure("echo", encode("u")).message).toBe("input is not an array");
    expect(failure("echo", new Uint8Array(0)).message).toBe("input is not an array");
  });
});

describe("storage", () => {
  const k = (s: string) => new TextEncoder().encode(s);

  it("sets, gets, checks and removes values, including empty ones", () => {
    expect(call("get", [k("a")])).toEqual([false, null]);
    call("put", [k("a"), k("hello")]);
    call("put", [k("e"), new Uint8Array(0)]);
    expect(call("get", [k("a")])).toEqual([true, k("hello")]);
    expect(call("get", [k("e")])).toEqual([true, new Uint8Array(0)]);
    call("del", [k("a")]);
    call("del", [k("never")]);
    expect(call("get", [k("a")])).toEqual([false, null]);
    expect(host.entries()).toEqual([[k("e"), new Uint8Array(0)]]);
  });

  it("iterates keys by prefix in byte order with next and keys", () => {
    for (const key of ["b/2", "b/10", "a/1", "b/1", "c", "b/\u00ff"]) call("put", [k(key), k("v")]);
    expect(call("list", [k("b/"), 10])).toEqual(["b/1", "b/10", "b/2", "b/\u00ff"].map(k));
    expect(call("list", [k("b/"), 2])).toEqual(["b/1", "b/10"].map(k));
    expect(call("list", [k("z"), 10])).toEqual([]);
    expect(call("after", [k("b/"), k("b/10")])).toEqual(k("b/2"));
    expect(call("after", [k("b/"), k("b/\u00ff")])).toBeNull();
  });

  it("stores u64 numbers as 8 bytes big-endian, 0 when absent", () => {
    expect(call("numbers", ["n", 2n ** 64n - 2n])).toEqual([0, 2n ** 64n - 2n]);
    expect(call("numbers", ["n", 258])).toEqual([2n ** 64n - 2n, 258]);
    expect(host.entries()).toEqual([[k("n"), new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2])]]);
    call("put", [k("odd"), k("abc")]);
    expect(failure("numbers", ["odd", 1]).code).toBe("BAD_STORAGE");
  });

  it("stores strings as UTF-8", () => {
    expect(call("text", ["t", "ünïcode"])).toEqual([null, "ünïcode"]);
    expect(call("text", ["t", ""])).toEqual(["ünïcode", ""]);
    expect(host.entries()).toEqual([[k("t"), new Uint8Array(0)]]);
  });
});

describe("argument checks", () => {
  const checks = (id: string, idMax: number, text: string, min: number, max: number) =>
    run("checks", encode([id, idMax, text, min, max]));

  it("checkId takes 1..max characters from [A-Za-z0-9._:-], or fails BAD_ARGS naming the argument", () => {
    expect(checks("aZ09._:-", 8, "", 0, 0).ok).toBe(true);
    expect(checks("a", 1, "", 0, 0).ok).toBe(true);
    expect(failure("checks", ["", 8, "", 0, 0])).toEqual({ code: "BAD_ARGS", message: "id must be 1..8 characters" });
    expect(failure("checks", ["a".repeat(9), 8, "", 0, 0])).toEqual({
      code: "BAD_ARGS",
      message: "id must be 1..8 characters",
    });
    for (const id of ["a/b", "a b", "é", "a\u0000", "a+b"]) {
      expect(failure("checks", [id, 8, "", 0, 0])).toEqual({
        code: "BAD_ARGS",
        message: "id may contain only letters, digits and . _ : -",
      });
    }
  });

  it("checkText takes min..max bytes of UTF-8, or fails BAD_ARGS with the length it got", () => {
    expect(checks("x", 1, "éé", 4, 4).ok).toBe(true);
    expect(checks("x", 1, "", 0, 4).ok).toBe(true);
    expect(failure("checks", ["x", 1, "ééé", 0, 4])).toEqual({
      code: "BAD_ARGS",
      message: "text must be 0..4 bytes, got 6",
    });
    expect(failure("checks", ["x", 1, "", 1, 4]).message).toBe("text must be 1..4 bytes, got 0");
  });
});

describe("context, events, bytes helpers and failures", () => {
  it("reads the caller, height and time, and emits events", () => {
    const caller = new Uint8Array(32).fill(0xab);
    expect(call("whoami", [])).toEqual([caller, "ab".repeat(32), 42, 1_700_000_123_456]);
    expect(host.events.map((e) => ({ name: e.name, data: decode(e.data) }))).toEqual([
      { name: "seen", data: [caller] },
    ]);
  });

  it("concatenates, compares and hex-encodes bytes", () => {
    const a = new Uint8Array([0, 1, 0xfe, 0xff]);
    expect(call("bytesOps", [a, new Uint8Array([9])])).toEqual([
      new Uint8Array([0, 1, 0xfe, 0xff, 9]),
      false,
      "0001feff",
    ]);
    expect(call("bytesOps", [a, a.slice()])).toEqual([
      new Uint8Array([0, 1, 0xfe, 0xff, 0, 1, 0xfe, 0xff]),
      true,
      "0001feff",
    ]);
    expect(call("bytesOps", [new Uint8Array(0), new Uint8Array(0)])).toEqual([new Uint8Array(0), true, ""]);
  });

  it("fail() ends the call with the contract's code and message", () => {
    expect(failure("boom", ["LIMIT_REACHED", "too many widgets"])).toEqual({
      code: "LIMIT_REACHED",
      message: "too many widgets",
    });
  });

  it("keeps assertions in contract builds (CONTRACT_ABORT)", () => {
    const f = failure("check", []);
    expect(f.code).toBe("CONTRACT_ABORT");
    expect(f.message).toContain("asserts stay in contract builds");
  });
});
