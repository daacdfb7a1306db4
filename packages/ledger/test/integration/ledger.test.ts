import { createNativeRegistry, decodeBalance } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, merkleRoot, toHex, verifyMerkleProof } from "@cairn/crypto";
import { type SignedTransaction, signTransaction, type Transaction } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { describe, expect, it } from "vitest";
import { createLedger, type Genesis, genesisHash, type Ledger, LedgerError, parseGenesis } from "../../src/index.ts";
import { commitBlock as commitOn, fakeCommit, ledgers } from "./helpers.ts";

const validator = generateKeyPair();
const admin = generateKeyPair();
const alice = generateKeyPair();
const bob = generateKeyPair();

const genesis: Genesis = parseGenesis({
  chainId: "ledger-test",
  genesisTime: 1_000,
  validators: [{ name: "v0", publicKey: toHex(validator.publicKey), power: 1 }],
  admins: [toHex(admin.publicKey)],
  accounts: [{ publicKey: toHex(alice.publicKey), balance: "1000" }],
});

const open = ledgers(genesis);
const commitBlock = (ledger: Ledger, txs: SignedTransaction[], time?: number) =>
  commitOn(ledger, validator.publicKey, txs, time);
/** `validator`'s block of `txs` on the head, executed and not committed (`fill`, `deadline` as given). */
const proposeOn = (ledger: Ledger, txs: SignedTransaction[], opts: { fill?: boolean; deadline?: number } = {}) =>
  ledger.execute({ time: 2_000, proposer: validator.publicKey, txs, lastCommit: null, ...opts });

let n = 0;
function call(
  from: KeyPair,
  contract: string,
  method: string,
  args: Transaction["args"],
  expiry = 50,
): SignedTransaction {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  return signTransaction(
    { chainId: "ledger-test", sender: from.publicKey, nonce, expiry, contract, method, args },
    from.secretKey,
  );
}

describe("ledger", () => {
  it("starts at height 0 with the genesis balances in state", async () => {
    const { ledger } = await open();
    expect(ledger.head().height).toBe(0);
    expect(toHex(ledger.head().hash)).toBe(toHex(genesisHash(genesis)));
    expect(decodeBalance(await ledger.state.get("token", alice.publicKey))).toBe(1000n);
  });

  it("executes a block: successes change state, failures revert with a code, and roots are committed", async () => {
    const { ledger } = await open();
    const txs = [
      call(alice, "token", "transfer", [bob.publicKey, 300]),
      call(bob, "token", "transfer", [alice.publicKey, 1000]), // bob has only 300
      call(alice, "token", "mint", [alice.publicKey, 5]), // not an admin
      call(admin, "token", "mint", [bob.publicKey, 7]),
      call(bob, "kv", "put", [new Uint8Array([1]), new Uint8Array([2])]),
    ];
    const ex = await commitBlock(ledger, txs);
    expect(ex.receipts.map((r) => r.code)).toEqual(["OK", "INSUFFICIENT_FUNDS", "UNAUTHORIZED", "OK", "OK"]);
    expect(ex.receipts[1]?.events).toEqual([]);
    expect(decodeBalance(await ledger.state.get("token", alice.publicKey))).toBe(700n);
    expect(decodeBalance(await ledger.state.get("token", bob.publicKey))).toBe(307n);
    const h = ex.block.header;
    expect(h.height).toBe(1);
    expect(toHex(h.prevHash)).toBe(toHex(genesisHash(genesis)));
    expect(toHex(h.txRoot)).toBe(toHex(merkleRoot(txs.map((t) => t.bytes))));
    expect(toHex(h.stateRoot)).toBe(toHex(ledger.head().stateRoot));
    expect(toHex(ledger.state.root())).toBe(toHex(h.stateRoot));

    const found = await ledger.getCommittedTx((txs[3] as SignedTransaction).hash);
    expect(found?.location).toEqual({ height: 1, index: 3 });
    expect(found?.receipt.code).toBe("OK");
    expect(verifyMerkleProof((txs[3] as SignedTransaction).bytes, found!.proof, h.txRoot)).toBe(true);
    expect((await ledger.getReceipts(1))?.length).toBe(5);
    expect(toHex((await ledger.getCommit(1))!.blockHash)).toBe(toHex(ex.hash));
  });

  it("computes identical state roots and block hashes on two independent nodes", async () => {
    const a = await open();
    const b = await open();
    for (let i = 0; i < 3; i++) {
      const txs = [
        call(alice, "token", "transfer", [bob.publicKey, 10 + i]),
        call(bob, "kv", "put", [new Uint8Array([i]), new Uint8Array([i, i])]),
      ];
      const ea = await commitBlock(a.ledger, txs);
      const eb = await commitBlock(b.ledger, txs);
      expect(toHex(ea.hash)).toBe(toHex(eb.hash));
    }
    expect(toHex(a.ledger.head().stateRoot)).toBe(toHex(b.ledger.head().stateRoot));
  });

  it("rejects blocks that replay, carry expired transactions, or go back in time", async () => {
    const { ledger } = await open();
    const t = call(alice, "kv", "put", [new Uint8Array([1]), new Uint8Array([1])]);
    const codeOf = async (p: Promise<unknown>) =>
      p.then(
        () => "OK",
        (e: LedgerError) => e.code,
      );
    expect(
      await codeOf(ledger.execute({ time: 2000, proposer: validator.publicKey, txs: [t, t], lastCommit: null })),
    ).toBe("INVALID_BLOCK");
    await commitBlock(ledger, [t]);
    expect(
      await codeOf(ledger.execute({ time: 3000, proposer: validator.publicKey, txs: [t], lastCommit: null })),
    ).toBe("INVALID_BLOCK");
    const expired = call(alice, "kv", "put", [new Uint8Array([1]), new Uint8Array([1])], 1);
    expect(
      await codeOf(ledger.execute({ time: 3000, proposer: validator.publicKey, txs: [expired], lastCommit: null })),
    ).toBe("INVALID_BLOCK");
    expect(await codeOf(ledger.execute({ time: 10, proposer: validator.publicKey, txs: [], lastCommit: null }))).toBe(
      "INVALID_BLOCK",
    );
    // Admission reports the same problems per transaction.
    const far = call(alice, "kv", "put", [new Uint8Array([1]), new Uint8Array([1])], 5000);
    const wrongArgs = call(alice, "kv", "put", [new Uint8Array([1])]);
    const unknown = call(alice, "nope", "put", []);
    const res = await ledger.checkAdmission([t, expired, far, wrongArgs, unknown]);
    expect(res.map((r) => r?.code ?? "OK")).toEqual([
      "DUPLICATE",
      "EXPIRED",
      "EXPIRY_TOO_FAR",
      "BAD_ARGS",
      "UNKNOWN_CONTRACT",
    ]);
  });

  it("refuses to commit a block executed on a stale parent", async () => {
    const { ledger } = await open();
    const e1 = await ledger.execute({
      time: 2000,
      proposer: validator.publicKey,
      txs: [call(alice, "kv", "put", [new Uint8Array([1]), new Uint8Array([1])])],
      lastCommit: null,
    });
    const e2 = await ledger.execute({
      time: 2000,
      proposer: validator.publicKey,
      txs: [call(alice, "kv", "put", [new Uint8Array([2]), new Uint8Array([2])])],
      lastCommit: null,
    });
    await ledger.commit(e1, fakeCommit(1, e1.hash));
    await expect(ledger.commit(e2, fakeCommit(1, e2.hash))).rejects.toMatchObject({ code: "STALE_BLOCK" });
  });

  it("reopens at the committed height with the same head and state, and refuses another chain's genesis", async () => {
    const first = await open();
    await commitBlock(first.ledger, [call(alice, "token", "transfer", [bob.publicKey, 1])]);
    await commitBlock(first.ledger, [call(alice, "token", "transfer", [bob.publicKey, 2])]);
    const head = first.ledger.head();
    await first.db.close();
    const again = await open(first.dir);
    expect(again.ledger.head()).toEqual(head);
    expect(decodeBalance(await again.ledger.state.get("token", bob.publicKey))).toBe(3n);
    await again.db.close();
    const db = await openDatabase(first.dir);
    try {
      await expect(
        createLedger({ db, genesis: { ...genesis, chainId: "other" }, contracts: createNativeRegistry() }),
      ).rejects.toBeInstanceOf(LedgerError);
    } finally {
      await db.close();
    }
  });
});

describe("the block gas bound (maxBlockGas)", () => {
  // kv puts of the same size use the same gas; the bound holds three of them but not four.
  const put = (i: number) => call(alice, "kv", "put", [new Uint8Array([i]), new Uint8Array(40)]);
  /** The suite's genesis with other parameters. */
  const genesisWith = (params: Record<string, number>) =>
    parseGenesis({
      chainId: "ledger-test",
      genesisTime: 1_000,
      validators: [{ name: "v0", publicKey: toHex(validator.publicKey), power: 1 }],
      admins: [toHex(admin.publicKey)],
      accounts: [{ publicKey: toHex(alice.publicKey), balance: "1000" }],
      params,
    });
  const bounded = (maxBlockGas: number) => genesisWith({ maxTxGas: 50, maxBlockGas });
  const openPlain = ledgers(genesis);
  const openBounded = ledgers(bounded(220));

  it("the proposer's block stops before the transaction that would pass it; the rest fit later blocks", async () => {
    const { ledger: plain } = await openPlain();
    const gasPerPut = (await commitBlock(plain, [put(0)])).receipts[0]!.gasUsed;
    // So three fit in 220 and four do not.
    expect(gasPerPut).toBeGreaterThan(55);
    expect(gasPerPut).toBeLessThanOrEqual(73);

    const { ledger } = await openBounded();
    const txs = [1, 2, 3, 4, 5, 6, 7].map(put);
    const first = await proposeOn(ledger, txs, { fill: true });
    expect(first.txs.map((t) => toHex(t.hash))).toEqual(txs.slice(0, 3).map((t) => toHex(t.hash)));
    expect(first.block.header.txCount).toBe(3);
    expect(first.block.header.txRoot).toEqual(merkleRoot(txs.slice(0, 3).map((t) => t.bytes)));
    expect(first.gasUsed).toBe(3 * gasPerPut);
    await ledger.commit(first, fakeCommit(1, first.hash));
    // Only the three included wrote state: the fourth's write was undone.
    expect(await ledger.state.get("kv", new Uint8Array([3]))).toBeDefined();
    expect(await ledger.state.get("kv", new Uint8Array([4]))).toBeUndefined();
    const second = await commitOn(ledger, validator.publicKey, txs.slice(3, 6), 2_000);
    expect(second.txs.length).toBe(3);
    expect(await ledger.state.get("kv", new Uint8Array([4]))).toBeDefined();
  });

  it("a block over the bound from anyone else is INVALID_BLOCK; one transaction alone may use more", async () => {
    const { ledger } = await openBounded();
    const txs = [11, 12, 13, 14].map(put);
    await expect(
      ledger.execute({ time: 2_000, proposer: validator.publicKey, txs, lastCommit: null }),
    ).rejects.toMatchObject({ code: "INVALID_BLOCK", message: expect.stringMatching(/transaction 3 .*maxBlockGas/) });
    // Three fit; a single transaction never makes a block invalid by gas.
    expect((await commitBlock(ledger, txs.slice(0, 3))).txs.length).toBe(3);
    const { ledger: tight } = await ledgers(bounded(50))();
    const alone = await tight.execute({ time: 2_000, proposer: validator.publicKey, txs: [put(15)], lastCommit: null });
    expect(alone.gasUsed).toBeGreaterThan(50);
  });

  it("is a genesis parameter: at least maxTxGas, in the genesis hash only when it is not the default", () => {
    expect(genesis.params.maxBlockGas).toBe(250_000_000);
    const hash = (params: Record<string, number>) => toHex(genesisHash(genesisWith(params)));
    expect(hash({ maxBlockGas: 250_000_000 })).toBe(hash({}));
    expect(hash({ maxBlockGas: 300_000_000 })).not.toBe(hash({}));
    expect(() => genesisWith({ maxTxGas: 1_000, maxBlockGas: 999 })).toThrow(
      /maxBlockGas must be at least params.maxTxGas/,
    );
  });
});

describe("a proposer's deadline (deadline, with fill)", () => {
  const put = (i: number) => call(alice, "kv", "put", [new Uint8Array([i]), new Uint8Array(8)]);

  it("past the deadline the block holds the transactions executed so far (at least one); the rest fit later", async () => {
    const { ledger } = await open();
    const txs = [1, 2, 3, 4, 5].map(put);
    const first = await proposeOn(ledger, txs, { fill: true, deadline: performance.now() - 1 });
    expect(first.txs.map((t) => toHex(t.hash))).toEqual([toHex(txs[0]!.hash)]);
    expect(first.block.header.txCount).toBe(1);
    expect(first.block.header.txRoot).toEqual(merkleRoot([txs[0]!.bytes]));
    expect(first.receipts.length).toBe(1);
    await ledger.commit(first, fakeCommit(1, first.hash));
    expect(await ledger.state.get("kv", new Uint8Array([1]))).toBeDefined();
    expect(await ledger.state.get("kv", new Uint8Array([2]))).toBeUndefined();
    // A deadline not reached cuts nothing.
    const second = await proposeOn(ledger, txs.slice(1), { fill: true, deadline: performance.now() + 60_000 });
    expect(second.txs.length).toBe(4);
  });

  it("binds only the proposer's own block: without fill every transaction is executed", async () => {
    const { ledger } = await open();
    const txs = [6, 7, 8].map(put);
    const block = await proposeOn(ledger, txs, { deadline: performance.now() - 1 });
    expect(block.txs.length).toBe(3);
  });
});
