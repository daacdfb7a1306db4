import { generateKeyPair, type KeyPair, toHex, utf8 } from "@cairn/crypto";
import { type SignedTransaction, signTransaction, type Transaction } from "@cairn/messaging";
import { beforeAll, describe, expect, it } from "vitest";
import { type Genesis, INTRINSIC_GAS, type Ledger, parseGenesis } from "../../src/index.ts";
import { commitBlock as commitOn, ledgers } from "./helpers.ts";

const validator = generateKeyPair();
const admin = generateKeyPair();
const alice = generateKeyPair();
const MAX_TX_GAS = 2_000_000;

const genesis: Genesis = parseGenesis({
  chainId: "wasm-test",
  genesisTime: 1_000,
  validators: [{ name: "v0", publicKey: toHex(validator.publicKey), power: 1 }],
  admins: [toHex(admin.publicKey)],
  params: { maxTxGas: MAX_TX_GAS },
});

// A counter kept as one byte under "n" (so the canonical encoding of its value is that byte),
// "add" appends key "k<n>" so "keys" can count them by prefix iteration.
function counterWat(step: number): string {
  return `(module
  (import "cairn" "storage_get" (func $get (param i32 i32) (result i32)))
  (import "cairn" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "cairn" "storage_next" (func $next (param i32 i32 i32 i32) (result i32)))
  (import "cairn" "buffer_read" (func $buf (param i32)))
  (import "cairn" "ret" (func $ret (param i32 i32)))
  (import "cairn" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "cairn" "fail" (func $fail (param i32 i32 i32 i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "n")
  (data (i32.const 8) "incr")
  (data (i32.const 16) "NOPE")
  (data (i32.const 24) "k")
  (func $load (result i32)
    (if (result i32) (i32.eq (call $get (i32.const 0) (i32.const 1)) (i32.const -1))
      (then (i32.const 0))
      (else (call $buf (i32.const 100)) (i32.load8_u (i32.const 100)))))
  (func (export "incr")
    (i32.store8 (i32.const 100) (i32.add (call $load) (i32.const ${step})))
    (call $set (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 1))
    (call $emit (i32.const 8) (i32.const 4) (i32.const 100) (i32.const 1)))
  (func (export "count")
    (i32.store8 (i32.const 100) (call $load))
    (call $ret (i32.const 100) (i32.const 1)))
  (func (export "add")
    ;; key "k" + one byte: the current counter; then bump the counter
    (i32.store8 (i32.const 25) (call $load))
    (i32.store8 (i32.const 100) (i32.const 1))
    (call $set (i32.const 24) (i32.const 2) (i32.const 100) (i32.const 1))
    (i32.store8 (i32.const 100) (i32.add (call $load) (i32.const 1)))
    (call $set (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 1)))
  (func (export "keys")
    (local $n i32) (local $len i32)
    (local.set $len (call $next (i32.const 24) (i32.const 1) (i32.const 0) (i32.const -1)))
    (block $done (loop $more
      (br_if $done (i32.eq (local.get $len) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (call $buf (i32.const 200))
      (local.set $len (call $next (i32.const 24) (i32.const 1) (i32.const 200) (local.get $len)))
      (br $more)))
    (i32.store8 (i32.const 100) (local.get $n))
    (call $ret (i32.const 100) (i32.const 1)))
  (func (export "refuse")
    (call $set (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 1))
    (call $fail (i32.const 16) (i32.const 4) (i32.const 8) (i32.const 4)))
  (func (export "boom") unreachable)
  (func (export "spin") (loop $l (br $l))))`;
}

let counter: Uint8Array;
let counter2: Uint8Array;
beforeAll(async () => {
  const wabt = await (await import("wabt")).default();
  const wasm = (wat: string) => new Uint8Array(wabt.parseWat("c.wat", wat).toBinary({}).buffer);
  counter = wasm(counterWat(1));
  counter2 = wasm(counterWat(2));
});

const openLedger = ledgers(genesis);
const open = async (): Promise<Ledger> => (await openLedger()).ledger;
const block = (ledger: Ledger, txs: SignedTransaction[]) => commitOn(ledger, validator.publicKey, txs);

let n = 0;
function call(from: KeyPair, contract: string, method: string, args: Transaction["args"] = []): SignedTransaction {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  return signTransaction(
    { chainId: "wasm-test", sender: from.publicKey, nonce, expiry: 50, contract, method, args },
    from.secretKey,
  );
}

const codes = (e: Awaited<ReturnType<typeof block>>) => e.receipts.map((r) => r.code);

describe("WebAssembly contracts in the ledger", () => {
  it("deploys (admins only), runs calls with receipts and gas, reverts failures, answers queries", async () => {
    const ledger = await open();
    const d = await block(ledger, [
      call(alice, "contracts", "deploy", ["counter", counter]),
      call(admin, "contracts", "deploy", ["counter", counter]),
      call(admin, "contracts", "deploy", ["counter", counter]),
      call(admin, "contracts", "deploy", ["junk", utf8.encode("not wasm")]),
    ]);
    expect(codes(d)).toEqual(["UNAUTHORIZED", "OK", "ALREADY_DEPLOYED", "INVALID_MODULE"]);
    expect(d.receipts[1]!.events[0]).toMatchObject({ contract: "contracts", name: "deployed" });
    const info = await ledger.contract("counter");
    expect(info).toMatchObject({
      kind: "wasm",
      version: 1,
      methods: expect.arrayContaining(["incr", "count", "keys"]),
    });
    expect(await ledger.contract("kv")).toMatchObject({ kind: "native" });
    expect(await ledger.contract("nothing")).toBeUndefined();

    const b = await block(ledger, [
      call(alice, "counter", "incr"),
      call(alice, "counter", "incr"),
      call(alice, "counter", "refuse"),
      call(alice, "counter", "boom"),
      call(alice, "counter", "spin"),
    ]);
    expect(codes(b)).toEqual(["OK", "OK", "NOPE", "CONTRACT_TRAP", "OUT_OF_GAS"]);
    expect(b.receipts[0]!.events).toEqual([{ contract: "counter", name: "incr", data: 1 }]);
    expect(b.receipts[0]!.gasUsed).toBeGreaterThan(INTRINSIC_GAS);
    expect(b.receipts[2]!.message).toBe("incr");
    expect(b.receipts[4]!.gasUsed).toBe(INTRINSIC_GAS + MAX_TX_GAS);
    expect(b.gasUsed).toBe(b.receipts.reduce((s, r) => s + r.gasUsed, 0));

    // "refuse" wrote before failing: reverted, the counter is 2.
    const q = await ledger.query("counter", "count", []);
    expect(q).toMatchObject({ ok: true, output: 2, height: 2 });
    expect(await ledger.query("counter", "incr", [])).toMatchObject({ ok: false, code: "READ_ONLY" });
    expect(await ledger.query("nothing", "count", [])).toMatchObject({ ok: false, code: "UNKNOWN_CONTRACT" });
    expect(await ledger.query("kv", "get", [])).toMatchObject({ ok: false, code: "NOT_QUERYABLE" });

    // Admission knows deployed contracts and their methods.
    const adm = await ledger.checkAdmission([
      call(alice, "counter", "incr"),
      call(alice, "counter", "nope"),
      call(alice, "ghost", "x"),
    ]);
    expect(adm.map((e) => e?.code ?? null)).toEqual([null, "UNKNOWN_METHOD", "UNKNOWN_CONTRACT"]);
  });

  it("iterates keys by prefix over committed state and the block's own writes", async () => {
    const ledger = await open();
    await block(ledger, [call(admin, "contracts", "deploy", ["counter", counter])]);
    await block(ledger, [call(alice, "counter", "add"), call(alice, "counter", "add")]);
    // Two keys committed, a third written earlier in the same block as the query-like call.
    const b = await block(ledger, [call(alice, "counter", "add"), call(alice, "counter", "keys")]);
    expect(codes(b)).toEqual(["OK", "OK"]);
    expect(await ledger.query("counter", "keys", [])).toMatchObject({ ok: true, output: 3 });
  });

  it("upgrades keep the state and are recorded; two ledgers compute the same blocks", async () => {
    const [a, b] = [await open(), await open()];
    const txs = [
      [call(admin, "contracts", "deploy", ["counter", counter])],
      [call(alice, "counter", "incr")],
      [
        call(admin, "contracts", "upgrade", ["counter", counter]),
        call(admin, "contracts", "upgrade", ["counter", counter2]),
      ],
      [call(alice, "counter", "incr")],
    ];
    for (const t of txs) {
      const [x, y] = [await block(a, t), await block(b, t)];
      expect(toHex(x.hash)).toBe(toHex(y.hash));
    }
    const up = await a.getReceipts(3);
    expect(up?.map((r) => r.code)).toEqual(["SAME_CODE", "OK"]);
    expect(await a.contract("counter")).toMatchObject({ version: 2, deployedAt: 1, updatedAt: 3 });
    expect(await a.query("counter", "count", [])).toMatchObject({ ok: true, output: 3 });
  });
});
