import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createNativeRegistry, PRIVATE_CONTRACT, privateStateKey } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { governanceContract } from "@cairn/management";
import {
  type PrivateWrite,
  privateRef,
  RECEIPT_OK,
  type SignedTransaction,
  signTransaction,
  type Transaction,
} from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { type Genesis, type Ledger, parseGenesis } from "../../src/index.ts";
import { commitBlock as commitOn, ledgers } from "./helpers.ts";

// Private data collections through the real ledger on LevelDB: the same state root on member and
// non-member ledgers, plaintext only where the organisation is a member, missing plaintext
// recorded and pulled, blockToLive and purge transactions removing it (from the files too).

const v0 = generateKeyPair();
const adminA = generateKeyPair();
const adminB = generateKeyPair();
const adminC = generateKeyPair();

const genesis: Genesis = parseGenesis({
  chainId: "pdc-test",
  genesisTime: 1_000,
  validators: [{ name: "v0", publicKey: toHex(v0.publicKey), power: 1 }],
  admins: [],
  organizations: [
    { name: "orgA", members: [{ publicKey: toHex(adminA.publicKey), roles: ["admin", "client"] }] },
    { name: "orgB", members: [{ publicKey: toHex(adminB.publicKey), roles: ["admin", "client"] }] },
    { name: "orgC", members: [{ publicKey: toHex(adminC.publicKey), roles: ["admin", "client"] }] },
  ],
});

const open = ledgers(genesis, () => createNativeRegistry([governanceContract]));
const commit = (ledger: Ledger, txs: SignedTransaction[]) => commitOn(ledger, v0.publicKey, txs);

let n = 0;
function call(
  from: KeyPair,
  contract: string,
  method: string,
  args: Transaction["args"],
  writes: PrivateWrite[] = [],
): SignedTransaction {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  const tx: Transaction = { chainId: "pdc-test", sender: from.publicKey, nonce, expiry: 500, contract, method, args };
  return signTransaction(writes.length === 0 ? tx : { ...tx, private: writes.map(privateRef) }, from.secretKey);
}

const text = (s: string) => new TextEncoder().encode(s);
const write = (collection: string, key: string, value: string): PrivateWrite => ({
  collection,
  key: text(key),
  value: text(value),
  salt: crypto.getRandomValues(new Uint8Array(32)),
});

/** Three ledgers, one per organisation, that commit the same blocks. */
async function chain(blockToLive = 0, memberOnlyWrite = true) {
  const nodes = [await open(), await open(), await open()];
  const orgs = ["orgA", "orgB", "orgC"];
  for (const [i, node] of nodes.entries()) node.ledger.privateData.setOrganization(() => orgs[i]);
  const all = async (txs: SignedTransaction[]) => {
    const out = [];
    for (const node of nodes) out.push(await commit(node.ledger, txs));
    return out;
  };
  const define = call(adminA, "gov", "propose", [
    "define-collection",
    ["ab", ["orgA", "orgB"], 0, 3, blockToLive, true, memberOnlyWrite],
  ]);
  await all([define]);
  await all([call(adminB, "gov", "approve", [1])]);
  return { nodes, all };
}

describe("private data collections", () => {
  it("defines a collection through governance", async () => {
    const { nodes } = await chain(5);
    expect(nodes[2]?.ledger.registry.collection("ab")).toEqual({
      name: "ab",
      members: ["orgA", "orgB"],
      requiredPeerCount: 0,
      maxPeerCount: 3,
      blockToLive: 5,
      memberOnlyRead: true,
      memberOnlyWrite: true,
    });
  });

  it("checks a definition at proposal and at approval", async () => {
    const { nodes } = await chain();
    const ledger = nodes[0]?.ledger as Ledger;
    const propose = (args: unknown[]) => call(adminA, "gov", "propose", ["define-collection", args as never]);
    const [tooMany, noMembers, badFlag] = await ledger.checkAdmission([
      propose(["x", ["orgA"], 3, 2, 0, true, true]),
      propose(["x", [], 0, 1, 0, true, true]),
      propose(["x", ["orgA"], 0, 1, 0, "yes", true]),
    ]);
    expect([tooMany?.message, noMembers?.code, badFlag?.code]).toEqual([
      "requiredPeerCount must not exceed maxPeerCount",
      "BAD_ARGS",
      "BAD_ARGS",
    ]);
    // An organisation that does not exist fails when the proposal passes.
    const proposal = propose(["x", ["orgZ"], 0, 1, 0, true, true]);
    const approval = call(adminB, "gov", "approve", [2]);
    const [proposed, approved] = [await commit(ledger, [proposal]), await commit(ledger, [approval])];
    expect([proposed.receipts[0]?.code, approved.receipts[0]?.code]).toEqual([RECEIPT_OK, "NO_SUCH_ORG"]);
    expect(ledger.registry.collection("x")).toBeUndefined();
  });

  it("keeps the plaintext on members, the same hash and state root everywhere", async () => {
    const { nodes, all } = await chain();
    const w = write("ab", "price", "SECRET-PRICE-42");
    const tx = call(adminA, PRIVATE_CONTRACT, "put", [], [w]);
    // Members received the plaintext before the block (the submitting node and one it pushed to).
    for (const node of nodes) await node.ledger.privateData.putTransient(tx, [w], node.ledger.registry);
    const [a, b, c] = await all([tx]);
    expect(a?.receipts[0]?.code).toBe(RECEIPT_OK);
    expect(toHex(a?.block.header.stateRoot as Uint8Array)).toBe(toHex(b?.block.header.stateRoot as Uint8Array));
    expect(toHex(a?.block.header.stateRoot as Uint8Array)).toBe(toHex(c?.block.header.stateRoot as Uint8Array));
    const ref = privateRef(w);
    for (const node of nodes) {
      const hash = await node.ledger.state.get(PRIVATE_CONTRACT, privateStateKey("ab", ref.keyHash));
      expect(toHex(hash as Uint8Array)).toBe(toHex(ref.valueHash));
    }
    const [heldA, heldB, heldC] = await Promise.all(nodes.map((x) => x.ledger.privateData.get("ab", ref.keyHash)));
    expect(new TextDecoder().decode(heldA?.write.value)).toBe("SECRET-PRICE-42");
    expect(heldB?.height).toBe(a?.block.header.height);
    expect(heldC).toBeUndefined();
    // orgC's node kept nothing, not even in transient: searched byte for byte in its files.
    await nodes[2]?.db.close();
    expect(filesContain(nodes[2]?.dir as string, "SECRET-PRICE-42")).toBe(false);
  });

  it("refuses writes to unknown collections and non-members' writes to members-only ones", async () => {
    const { nodes, all } = await chain();
    const ledger = nodes[0]?.ledger as Ledger;
    const stranger = call(adminC, PRIVATE_CONTRACT, "put", [], [write("ab", "k", "v")]);
    const unknown = call(adminA, PRIVATE_CONTRACT, "put", [], [write("nope", "k", "v")]);
    const [e1, e2] = await ledger.checkAdmission([stranger, unknown]);
    expect(e1?.code).toBe("NOT_A_MEMBER");
    expect(e2?.code).toBe("NO_SUCH_COLLECTION");
    // At execution too (a proposer that skipped admission cannot get them in).
    const [done] = await all([stranger, unknown]);
    expect(done?.receipts.map((r) => r.code)).toEqual(["NOT_A_MEMBER", "NO_SUCH_COLLECTION"]);
    expect(done?.privateWrites).toEqual([]);
  });

  it("records plaintext a member missed and stores it when another member sends it", async () => {
    const { nodes, all } = await chain();
    const w = write("ab", "late", "MISSED-VALUE");
    const tx = call(adminA, PRIVATE_CONTRACT, "put", [], [w]);
    await nodes[0]?.ledger.privateData.putTransient(tx, [w], nodes[0].ledger.registry);
    await all([tx]);
    const b = nodes[1]?.ledger as Ledger;
    const missing = await b.privateData.missing();
    expect(missing.map((m) => toHex(m.ref.valueHash))).toEqual([toHex(privateRef(w).valueHash)]);
    // A forged plaintext is not kept; the real one is.
    const forged = { ...w, value: text("FORGED") };
    expect(await b.privateData.storePulled([forged], b.registry, b.head().height)).toBe(0);
    const served = await nodes[0]?.ledger.privateData.serve(missing.map((m) => m.ref));
    expect(await b.privateData.storePulled(served ?? [], b.registry, b.head().height)).toBe(1);
    expect(await b.privateData.missing()).toEqual([]);
    expect(new TextDecoder().decode((await b.privateData.get("ab", privateRef(w).keyHash))?.write.value)).toBe(
      "MISSED-VALUE",
    );
  });

  it("stops asking for missing plaintext once its blockToLive has passed", async () => {
    const { nodes, all } = await chain(2);
    const w = write("ab", "short", "SHORT-LIVED");
    const tx = call(adminA, PRIVATE_CONTRACT, "put", [], [w]);
    await all([tx]);
    const b = nodes[1]?.ledger as Ledger;
    expect((await b.privateData.missing()).length).toBe(1);
    await all([]);
    await all([]);
    expect(await b.privateData.missing()).toEqual([]);
    // Too late: what a member sends now is not kept.
    expect(await b.privateData.storePulled([w], b.registry, b.head().height)).toBe(0);
  });

  it("purges after blockToLive and on a purge transaction, keeping the hash, and the bytes leave the files", async () => {
    const { nodes, all } = await chain(3);
    const w1 = write("ab", "ttl", "EPHEMERAL-ONE");
    const w2 = write("ab", "purge-me", "EPHEMERAL-TWO");
    const t1 = call(adminA, PRIVATE_CONTRACT, "put", [], [w1]);
    const t2 = call(adminB, PRIVATE_CONTRACT, "put", [], [w2]);
    for (const node of nodes) {
      await node.ledger.privateData.putTransient(t1, [w1], node.ledger.registry);
      await node.ledger.privateData.putTransient(t2, [w2], node.ledger.registry);
    }
    const [written] = await all([t1, t2]);
    const h = written?.block.header.height as number;
    const a = nodes[0]?.ledger as Ledger;
    expect(await a.privateData.get("ab", privateRef(w1).keyHash)).toMatchObject({ expiresAt: h + 3 });
    // A non-member may not purge; a member may.
    const [refused] = await all([call(adminC, PRIVATE_CONTRACT, "purge", ["ab", privateRef(w2).keyHash])]);
    expect(refused?.receipts[0]?.code).toBe("NOT_A_MEMBER");
    await all([call(adminB, PRIVATE_CONTRACT, "purge", ["ab", privateRef(w2).keyHash])]);
    expect(await a.privateData.get("ab", privateRef(w2).keyHash)).toBeUndefined();
    expect(await a.privateData.get("ab", privateRef(w1).keyHash)).toBeDefined();
    while (a.head().height < h + 3) await all([]);
    expect(await a.privateData.get("ab", privateRef(w1).keyHash)).toBeUndefined();
    // The hashes stay in the state of every node.
    for (const node of nodes) {
      for (const w of [w1, w2]) {
        const hash = await node.ledger.state.get(PRIVATE_CONTRACT, privateStateKey("ab", privateRef(w).keyHash));
        expect(toHex(hash as Uint8Array)).toBe(toHex(privateRef(w).valueHash));
      }
    }
    await a.privateData.compacted();
    await nodes[0]?.db.close();
    expect(filesContain(nodes[0]?.dir as string, "EPHEMERAL-ONE")).toBe(false);
    expect(filesContain(nodes[0]?.dir as string, "EPHEMERAL-TWO")).toBe(false);
  });
});

// A contract that records its transaction's first private write (private_put(0)), or, with
// "record9", a write the transaction does not have.
const RECORDER_WAT = `(module
  (import "cairn" "private_put" (func $put (param i32)))
  (memory (export "memory") 1 1)
  (func (export "record") (call $put (i32.const 0)))
  (func (export "record9") (call $put (i32.const 9))))`;

describe("private data in WebAssembly contracts", () => {
  it("records a write through private_put: the same root everywhere, the plaintext on members", async () => {
    const wabt = await (await import("wabt")).default();
    const recorder = new Uint8Array(wabt.parseWat("r.wat", RECORDER_WAT).toBinary({}).buffer);
    const { nodes, all } = await chain();
    const [deployed] = await all([call(adminA, "contracts", "deploy", ["recorder", recorder])]);
    expect(deployed?.receipts[0]?.code).toBe(RECEIPT_OK);
    const w = write("ab", "wasm-key", "WASM-SECRET");
    const tx = call(adminB, "recorder", "record", [], [w]);
    const bad = call(adminB, "recorder", "record9", [], [write("ab", "other", "x")]);
    for (const node of nodes) await node.ledger.privateData.putTransient(tx, [w], node.ledger.registry);
    const results = await all([tx, bad]);
    expect(results[0]?.receipts.map((r) => r.code)).toEqual([RECEIPT_OK, "BAD_HOST_CALL"]);
    expect(new Set(results.map((r) => toHex(r.block.header.stateRoot))).size).toBe(1);
    const ref = privateRef(w);
    expect(results[0]?.privateWrites.map((p) => toHex(p.ref.valueHash))).toEqual([toHex(ref.valueHash)]);
    const held = await Promise.all(nodes.map((x) => x.ledger.privateData.get("ab", ref.keyHash)));
    expect(held.map((r) => r !== undefined)).toEqual([true, true, false]);
  });
});

/** Whether any file of a LevelDB directory holds `needle` (LevelDB may compress: values here are short). */
function filesContain(dir: string, needle: string): boolean {
  const bytes = Buffer.from(needle);
  return readdirSync(dir).some((f) => readFileSync(join(dir, f)).includes(bytes));
}
