import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContract } from "@cairn/contract-sdk/build";
import { decode, encode, type Value } from "@cairn/messaging";
import { createMemoryHost, type MemoryHost } from "@cairn/test-utils";
import { type CallResult, createVm, type PreparedContract, prepareContract } from "@cairn/vm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const TOKEN_DIR = fileURLToPath(new URL("../../contracts/token", import.meta.url));
const GAS = 5_000_000;
const MAX_U64 = (1n << 64n) - 1n;

const account = (n: number) => new Uint8Array(32).fill(n);
const ALICE = account(1);
const BOB = account(2);
const CAROL = account(3);

let out: string;
let contract: PreparedContract;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "cairn-token-"));
  const built = await buildContract(TOKEN_DIR, { out: join(out, "token.wasm") });
  expect(built.methods).toEqual(["init", "mint", "transfer", "balance", "supply", "info"]);
  contract = prepareContract(built.wasm);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const vm = createVm();
let host: MemoryHost;
beforeEach(() => {
  host = createMemoryHost({ caller: ALICE, height: 7, time: 1_700_000_000_000 });
});

function call(caller: Uint8Array, method: string, args: Value[], readOnly = false): CallResult {
  host.caller = caller;
  return vm.call({ ...contract, method, input: encode(args), gasLimit: GAS, host, readOnly });
}

function ok(r: CallResult): Value {
  if (!r.ok) throw new Error(`call failed: ${r.code}: ${r.message}`);
  expect(r.gasUsed).toBeGreaterThan(0);
  expect(r.gasUsed).toBeLessThanOrEqual(GAS);
  return r.output.length === 0 ? undefined! : decode(r.output);
}

function failed(r: CallResult, code: string): string {
  expect(r.ok).toBe(false);
  if (r.ok) return "";
  expect(r.code).toBe(code);
  expect(r.gasUsed).toBeGreaterThan(0);
  return r.message;
}

const balance = (who: Uint8Array) => ok(call(CAROL, "balance", [who], true));
const events = () => host.events.map((e) => ({ name: e.name, data: decode(e.data) }));

/** Alice initialises the token and mints 1000 for herself. */
function setUp(): void {
  ok(call(ALICE, "init", ["Settlement Euro", "sEUR"]));
  ok(call(ALICE, "mint", [ALICE, 1000]));
  host.events.length = 0;
}

describe("token contract", () => {
  it("init makes the caller the minter, once", () => {
    ok(call(ALICE, "init", ["Settlement Euro", "sEUR"]));
    expect(events()).toEqual([{ name: "init", data: ["Settlement Euro", "sEUR", ALICE] }]);
    expect(ok(call(BOB, "info", [], true))).toEqual(["Settlement Euro", "sEUR", ALICE, 0]);
    const before = host.entries();
    expect(failed(call(BOB, "init", ["Other", "OTH"]), "ALREADY_INITIALIZED")).toContain("already");
    expect(host.entries()).toEqual(before);
  });

  it("info and mint fail before init", () => {
    failed(call(ALICE, "info", [], true), "NOT_INITIALIZED");
    failed(call(ALICE, "mint", [ALICE, 5]), "NOT_INITIALIZED");
  });

  it("lets the minter mint, and nobody else", () => {
    ok(call(ALICE, "init", ["Settlement Euro", "sEUR"]));
    host.events.length = 0;
    expect(ok(call(ALICE, "mint", [BOB, 250]))).toBeUndefined();
    expect(events()).toEqual([{ name: "mint", data: [BOB, 250] }]);
    expect(balance(BOB)).toBe(250);
    expect(ok(call(CAROL, "supply", [], true))).toBe(250);

    expect(failed(call(BOB, "mint", [BOB, 1]), "NOT_MINTER")).toContain("only the minter");
    expect(balance(BOB)).toBe(250);
    failed(call(ALICE, "mint", [BOB, 0]), "BAD_AMOUNT");
    expect(events()).toHaveLength(1);
  });

  it("transfers between accounts and emits a transfer event", () => {
    setUp();
    ok(call(ALICE, "transfer", [BOB, 300]));
    expect(balance(ALICE)).toBe(700);
    expect(balance(BOB)).toBe(300);
    ok(call(BOB, "transfer", [CAROL, 300]));
    expect(balance(BOB)).toBe(0);
    expect(balance(CAROL)).toBe(300);
    expect(events()).toEqual([
      { name: "transfer", data: [ALICE, BOB, 300] },
      { name: "transfer", data: [BOB, CAROL, 300] },
    ]);
    expect(ok(call(CAROL, "supply", [], true))).toBe(1000);
  });

  it("keeps a transfer to oneself neutral", () => {
    setUp();
    ok(call(ALICE, "transfer", [ALICE, 400]));
    expect(balance(ALICE)).toBe(1000);
  });

  it("refuses to spend more than the balance, and leaves no write behind", () => {
    setUp();
    const before = host.entries();
    expect(failed(call(BOB, "transfer", [ALICE, 1]), "INSUFFICIENT_FUNDS")).toBe("balance 0 is less than 1");
    failed(call(ALICE, "transfer", [BOB, 1001]), "INSUFFICIENT_FUNDS");
    failed(call(ALICE, "transfer", [BOB, 0]), "BAD_AMOUNT");
    expect(host.entries()).toEqual(before);
    expect(events()).toEqual([]);
  });

  it("checks the supply for overflow and handles amounts up to 2^64-1", () => {
    ok(call(ALICE, "init", ["Big", "BIG"]));
    ok(call(ALICE, "mint", [BOB, MAX_U64 - 1n]));
    failed(call(ALICE, "mint", [CAROL, 2]), "OVERFLOW");
    ok(call(ALICE, "mint", [CAROL, 1]));
    expect(ok(call(CAROL, "supply", [], true))).toBe(MAX_U64);
    ok(call(BOB, "transfer", [CAROL, MAX_U64 - 1n]));
    expect(balance(CAROL)).toBe(MAX_U64);
    expect(balance(BOB)).toBe(0);
  });

  it("rejects malformed arguments with BAD_ARGS", () => {
    expect(failed(call(ALICE, "init", ["", "X"]), "BAD_ARGS")).toContain("name must be");
    expect(failed(call(ALICE, "init", ["Name"]), "BAD_ARGS")).toContain("missing argument 1");
    setUp();
    expect(failed(call(ALICE, "transfer", [BOB.subarray(0, 31), 5]), "BAD_ARGS")).toContain("32-byte key");
    expect(failed(call(ALICE, "transfer", [BOB, "5"]), "BAD_ARGS")).toContain(
      "argument 1: expected an unsigned integer",
    );
    failed(call(ALICE, "transfer", [BOB, -5]), "BAD_ARGS");
    expect(failed(call(ALICE, "transfer", [BOB]), "BAD_ARGS")).toContain("missing argument 1");
    failed(call(ALICE, "transfer", [BOB, 5, 6]), "BAD_ARGS");
    failed(call(ALICE, "balance", [], true), "BAD_ARGS");
  });

  it("fails read-only queries that would write", () => {
    setUp();
    failed(call(ALICE, "transfer", [BOB, 1], true), "READ_ONLY");
    expect(balance(BOB)).toBe(0);
  });

  it("reports gas: a transfer costs more than a balance query, and a small limit runs out", () => {
    setUp();
    const query = call(CAROL, "balance", [ALICE], true);
    const transfer = call(ALICE, "transfer", [BOB, 1]);
    expect(query.ok && transfer.ok).toBe(true);
    expect(transfer.gasUsed).toBeGreaterThan(query.gasUsed);
    host.caller = ALICE;
    const starved = vm.call({ ...contract, method: "transfer", input: encode([BOB, 1]), gasLimit: 500, host });
    expect(starved).toMatchObject({ ok: false, code: "OUT_OF_GAS", gasUsed: 500 });
    expect(balance(BOB)).toBe(1);
  });
});
