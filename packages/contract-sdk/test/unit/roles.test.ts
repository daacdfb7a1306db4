import { decode, encode, type Value } from "@cairn/messaging";
import { createMemoryHost, type MemoryHost } from "@cairn/test-utils";
import { type CallResult, createVm, type PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildFixture } from "./fixture.ts";

// The roles fixture (fixtures/roles) calls the SDK's owner functions and `Members`; these tests
// drive it through the real VM and check what it stores against @cairn/messaging's codec.
const GAS = 20_000_000;

let roles: PreparedContract;
beforeAll(async () => {
  roles = await buildFixture("roles");
});

const OWNER = new Uint8Array(32).fill(9);
const OTHER = new Uint8Array(32).fill(7);
const k = (s: string) => new TextEncoder().encode(s);

const vm = createVm();
let host: MemoryHost;
beforeEach(() => {
  host = createMemoryHost({ caller: OWNER, height: 42, time: 1_700_000_123_456 });
});

function run(caller: Uint8Array, method: string, args: Value[]): CallResult {
  host.caller = caller;
  return vm.call({ ...roles, method, input: encode(args), gasLimit: GAS, host });
}

function call(method: string, args: Value[] = [], caller = OWNER): Value {
  const r = run(caller, method, args);
  if (!r.ok) throw new Error(`${method} failed: ${r.code}: ${r.message}`);
  return r.output.length === 0 ? undefined! : decode(r.output);
}

/** A call that must fail; it must not have written anything. */
function failure(method: string, args: Value[] = [], caller = OWNER): { code: string; message: string } {
  const before = host.entries();
  const r = run(caller, method, args);
  if (r.ok) throw new Error(`${method} succeeded`);
  expect(host.entries()).toEqual(before);
  return { code: r.code, message: r.message };
}

describe("owner", () => {
  it("fails NOT_INITIALIZED before initOwner", () => {
    expect(call("state")).toEqual([false, null]);
    const notInitialized = { code: "NOT_INITIALIZED", message: "call init first" };
    expect(failure("owned")).toEqual(notInitialized);
    expect(failure("ready")).toEqual(notInitialized);
    expect(failure("admin")).toEqual(notInitialized);
    expect(host.entries()).toEqual([]);
  });

  it("initOwner makes the caller the owner, stored under 'owner', once", () => {
    expect(call("init", [], OWNER)).toEqual(OWNER);
    expect(host.entries()).toEqual([[k("owner"), OWNER]]);
    expect(call("state", [], OTHER)).toEqual([true, OWNER]);
    expect(call("owned", [], OTHER)).toEqual(OWNER);
    expect(call("ready", [], OTHER)).toBeUndefined();
    expect(failure("init", [], OTHER)).toEqual({
      code: "ALREADY_INITIALIZED",
      message: "the contract is already initialised",
    });
    expect(failure("init", ["the club is already open"], OWNER)).toEqual({
      code: "ALREADY_INITIALIZED",
      message: "the club is already open",
    });
  });

  it("requireOwner lets only the owner through", () => {
    call("init");
    expect(call("admin", [], OWNER)).toEqual(OWNER);
    expect(failure("admin", [], OTHER)).toEqual({ code: "NOT_OWNER", message: "only the owner can do this" });
    expect(failure("admin", ["only the owner can add members"], OTHER)).toEqual({
      code: "NOT_OWNER",
      message: "only the owner can add members",
    });
  });
});

describe("Members", () => {
  it("adds a member as the canonical record [name, addedAt] under the prefix, and counts it", () => {
    expect(call("member", ["members", OTHER])).toEqual([false, "", 0]);
    expect(call("get", ["members", OTHER])).toBeNull();
    expect(call("add", ["members", OTHER, "Olga"])).toBe(true);
    expect(host.entries()).toEqual([
      [Uint8Array.of(...k("m/"), ...OTHER), encode(["Olga", 42])],
      [k("n/members"), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1])],
    ]);
    expect(call("member", ["members", OTHER])).toEqual([true, "Olga", 1]);
    expect(call("get", ["members", OTHER])).toEqual(["Olga", 42]);
    expect(call("typed", ["members", OTHER, 10])).toEqual([[OTHER, "Olga", 42], [OTHER]]);
  });

  it("add and remove return false and write nothing when there is nothing to do", () => {
    call("add", ["members", OTHER, "Olga"]);
    const before = host.entries();
    expect(call("add", ["members", OTHER, "Someone else"])).toBe(false);
    expect(call("remove", ["members", OWNER])).toBe(false);
    expect(host.entries()).toEqual(before);
    expect(call("remove", ["members", OTHER])).toBe(true);
    expect(host.entries()).toEqual([[k("n/members"), new Uint8Array(8)]]);
    expect(call("member", ["members", OTHER])).toEqual([false, "", 0]);
    expect(call("remove", ["members", OTHER])).toBe(false);
    expect(call("typed", ["members", OTHER, 10])).toEqual([null, []]);
  });

  it("lists members in key order, up to a limit, with their keys of any length", () => {
    const keys = [k("b"), k("a2"), k("a"), new Uint8Array([0xff, 0]), new Uint8Array(0)];
    keys.forEach((key, i) => {
      host.height = 42 + i;
      call("add", ["members", key, `#${i}`]);
    });
    expect(call("list", ["members", 10])).toEqual([
      [new Uint8Array(0), "#4", 46],
      [k("a"), "#2", 44],
      [k("a2"), "#1", 43],
      [k("b"), "#0", 42],
      [new Uint8Array([0xff, 0]), "#3", 45],
    ]);
    expect(call("list", ["members", 2])).toEqual([
      [new Uint8Array(0), "#4", 46],
      [k("a"), "#2", 44],
    ]);
    expect(call("typed", ["members", k("a2"), 3])).toEqual([
      [k("a2"), "#1", 43],
      [new Uint8Array(0), k("a"), k("a2")],
    ]);
    expect(call("member", ["members", k("zz")])).toEqual([false, "", 5]);
  });

  it("keeps registries under different prefixes apart", () => {
    call("add", ["members", OTHER, "Olga"]);
    call("add", ["guests", OWNER, "Gus"]);
    call("add", ["guests", OTHER, "Olga the guest"]);
    expect(call("list", ["members", 10])).toEqual([[OTHER, "Olga", 42]]);
    expect(call("list", ["guests", 10])).toEqual([
      [OTHER, "Olga the guest", 42],
      [OWNER, "Gus", 42],
    ]);
    expect(call("member", ["members", OWNER])).toEqual([false, "", 1]);
    expect(call("member", ["guests", OWNER])).toEqual([true, "Gus", 2]);
    call("remove", ["guests", OTHER]);
    expect(call("get", ["members", OTHER])).toEqual(["Olga", 42]);
    expect(call("list", ["guests", 10])).toEqual([[OWNER, "Gus", 42]]);
  });

  it("needs no owner: the contract decides who may change a registry", () => {
    expect(call("add", ["members", OWNER, "Self"], OTHER)).toBe(true);
    expect(call("state")).toEqual([false, null]);
  });
});
