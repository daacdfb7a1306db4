import { generateKeyPair, toHex } from "@cairn/crypto";
import type { Value } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { type CallContext, ContractError, createNativeRegistry, decodeBalance } from "../../src/index.ts";

const admin = generateKeyPair().publicKey;
const alice = generateKeyPair().publicKey;
const bob = generateKeyPair().publicKey;

function memoryContext(sender: Uint8Array, store = new Map<string, Uint8Array>()) {
  const events: [string, Value][] = [];
  let gas = 0;
  const ctx: CallContext = {
    sender,
    height: 1,
    time: 0,
    storage: {
      get: (k) => store.get(toHex(k)),
      set: (k, v) => void store.set(toHex(k), v),
      delete: (k) => void store.delete(toHex(k)),
    },
    isAdmin: (k) => toHex(k) === toHex(admin),
    hasRole: (k, role) => role !== "admin" || toHex(k) === toHex(admin),
    emit: (name, data) => void events.push([name, data]),
    private: [],
    collectionMember: () => undefined,
    chargeGas: (n) => {
      gas += n;
    },
  };
  return { ctx, store, events, gas: () => gas };
}

async function call(ctx: CallContext, contract: string, method: string, args: Value[]) {
  const m = createNativeRegistry().method(contract, method);
  m.check(args);
  await m.execute(ctx, args);
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (e instanceof ContractError) return e.code;
    throw e;
  }
  return "OK";
}

describe("registry", () => {
  it("names unknown contracts and methods, and never treats prototype names as methods", async () => {
    const r = createNativeRegistry();
    expect(await codeOf(() => r.method("nope", "put"))).toBe("UNKNOWN_CONTRACT");
    expect(await codeOf(() => r.method("kv", "get"))).toBe("UNKNOWN_METHOD");
    expect(await codeOf(() => r.method("kv", "constructor"))).toBe("UNKNOWN_METHOD");
    expect(await codeOf(() => r.method("kv", "__proto__"))).toBe("UNKNOWN_METHOD");
  });
});

describe("kv", () => {
  it("puts and deletes, charging gas by bytes written", async () => {
    const m = memoryContext(alice);
    await call(m.ctx, "kv", "put", [new Uint8Array([1]), new Uint8Array([9, 9])]);
    expect(m.store.get("01")).toEqual(new Uint8Array([9, 9]));
    expect(m.gas()).toBe(3);
    await call(m.ctx, "kv", "delete", [new Uint8Array([1])]);
    expect(m.store.has("01")).toBe(false);
    expect(m.events.map((e) => e[0])).toEqual(["put", "delete"]);
  });

  it("rejects bad arguments", async () => {
    const r = createNativeRegistry();
    expect(await codeOf(() => r.check("kv", "put", [new Uint8Array(1)]))).toBe("BAD_ARGS");
    expect(await codeOf(() => r.check("kv", "put", ["k", new Uint8Array(1)]))).toBe("BAD_ARGS");
    expect(await codeOf(() => r.check("kv", "put", [new Uint8Array(257), new Uint8Array(1)]))).toBe("BAD_ARGS");
    expect(await codeOf(() => r.check("kv", "put", [new Uint8Array(1), new Uint8Array(16 * 1024 + 1)]))).toBe(
      "BAD_ARGS",
    );
  });
});

describe("noop", () => {
  it("does nothing: no state read or written, no event, only its base gas", async () => {
    const reads: string[] = [];
    const m = memoryContext(alice);
    const ctx: CallContext = {
      ...m.ctx,
      storage: {
        get: (k) => void reads.push(toHex(k)),
        set: (k) => void reads.push(`set ${toHex(k)}`),
        delete: (k) => void reads.push(`delete ${toHex(k)}`),
      },
    };
    await call(ctx, "noop", "noop", []);
    expect(reads).toEqual([]);
    expect(m.events).toEqual([]);
    expect(m.gas()).toBe(0);
    const r = createNativeRegistry();
    expect(r.method("noop", "noop").gas).toBeGreaterThan(0);
    expect(r.methods("noop")).toEqual(["noop"]);
  });

  it("takes no arguments, and its name is reserved for Wasm deploys like the other natives", async () => {
    const r = createNativeRegistry();
    expect(await codeOf(() => r.check("noop", "noop", [new Uint8Array(1)]))).toBe("BAD_ARGS");
    expect(await codeOf(() => r.check("noop", "noop", []))).toBe("OK");
    expect(r.names()).toContain("noop");
    expect(() => r.check("contracts", "deploy", ["noop", new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])])).toThrow(
      /name of a native contract/,
    );
  });
});

describe("token", () => {
  it("lets only an admin mint, and tracks supply", async () => {
    const store = new Map<string, Uint8Array>();
    expect(await codeOf(call(memoryContext(alice, store).ctx, "token", "mint", [alice, 100]))).toBe("UNAUTHORIZED");
    await call(memoryContext(admin, store).ctx, "token", "mint", [alice, 100]);
    await call(memoryContext(admin, store).ctx, "token", "mint", [bob, 2n ** 40n]);
    expect(decodeBalance(store.get(toHex(alice)))).toBe(100n);
    expect(decodeBalance(store.get(toHex(new TextEncoder().encode("supply"))))).toBe(100n + 2n ** 40n);
  });

  it("transfers, refuses overdrafts, and keeps a self-transfer neutral", async () => {
    const store = new Map<string, Uint8Array>();
    await call(memoryContext(admin, store).ctx, "token", "mint", [alice, 100]);
    await call(memoryContext(alice, store).ctx, "token", "transfer", [bob, 60]);
    expect(await codeOf(call(memoryContext(alice, store).ctx, "token", "transfer", [bob, 41]))).toBe(
      "INSUFFICIENT_FUNDS",
    );
    await call(memoryContext(alice, store).ctx, "token", "transfer", [alice, 40]);
    expect(decodeBalance(store.get(toHex(alice)))).toBe(40n);
    await call(memoryContext(alice, store).ctx, "token", "transfer", [bob, 40]);
    // An emptied account is removed from state.
    expect(store.has(toHex(alice))).toBe(false);
    expect(decodeBalance(store.get(toHex(bob)))).toBe(100n);
  });

  it("rejects zero, negative, fractional and oversized amounts and short addresses", async () => {
    const r = createNativeRegistry();
    for (const bad of [0, -1, 2n ** 64n, 1.5 as Value, "10" as Value]) {
      expect(await codeOf(() => r.check("token", "transfer", [bob, bad]))).toBe("BAD_ARGS");
    }
    expect(await codeOf(() => r.check("token", "transfer", [new Uint8Array(31), 1]))).toBe("BAD_ARGS");
  });
});
