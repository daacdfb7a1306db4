import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNativeRegistry } from "@cairn/contracts";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { type SignedTransaction, signTransaction } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { afterEach, describe, expect, it } from "vitest";
import { Columns, createLedger, type Ledger, parseGenesis } from "../../src/index.ts";
import { commitBlock as commitOn } from "./helpers.ts";

// The replay-protection index: kept while a transaction could still be included, pruned after its
// expiry, and pruned a block's worth at a time so a burst of expiries never stalls one commit.

const v = generateKeyPair();
const client = generateKeyPair();
const genesis = parseGenesis({
  chainId: "replay-test",
  genesisTime: 1,
  validators: [{ name: "v", publicKey: toHex(v.publicKey), power: 1 }],
  admins: [],
  params: { maxBlockTxs: 5 },
});

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) if (db.isOpen) await db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let n = 0;
const put = (expiry: number): SignedTransaction => {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  const args = [new TextEncoder().encode(`k${n}`), new Uint8Array([1])];
  return signTransaction(
    { chainId: "replay-test", sender: client.publicKey, nonce, expiry, contract: "kv", method: "put", args },
    client.secretKey,
  );
};

const commit = async (ledger: Ledger, txs: SignedTransaction[]): Promise<void> => {
  await commitOn(ledger, v.publicKey, txs, 10);
};

/** A ledger on a new temporary database (closed and removed after the test). */
async function openLedger(): Promise<{ db: Database; ledger: Ledger }> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-replay-"));
  dirs.push(dir);
  const db = await openDatabase(dir);
  dbs.push(db);
  return { db, ledger: await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false }) };
}

async function count(db: Database): Promise<number> {
  let c = 0;
  for await (const _ of db.iterate(Columns.replay, {})) c++;
  return c;
}

describe("replay protection", () => {
  it("keeps entries until their expiry, then prunes at most a block's worth per block", async () => {
    const { db, ledger } = await openLedger();
    // 15 transactions signed together expire together, at height 5.
    const burst = Array.from({ length: 15 }, () => put(5));
    for (let i = 0; i < 3; i++) await commit(ledger, burst.slice(i * 5, i * 5 + 5));
    const keeper = put(100);
    await commit(ledger, [keeper]);
    expect(await count(db)).toBe(16);
    // Replaying a committed, unexpired transaction is refused.
    const [dup] = await ledger.checkAdmission([keeper]);
    expect(dup?.code).toBe("DUPLICATE");
    // Height 5 is the burst's last valid height: once block 5 is committed, no block can include
    // them any more, and 5 entries (maxBlockTxs) go per block from then on.
    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      await commit(ledger, []);
      left.push(await count(db));
    }
    expect(ledger.head().height).toBe(8);
    expect(left).toEqual([11, 6, 1, 1]);
    expect((await ledger.checkAdmission([keeper]))[0]?.code).toBe("DUPLICATE");
  });

  it("prunes every expired entry when each scan starts where the last one ended, across a restart", async () => {
    const opened = await openLedger();
    const { db } = opened;
    let { ledger } = opened;
    // Height 1: 5 expiring at 3. Height 2: one committed at its last valid height, 3 at 3, 1 at 4.
    // Height 3: 2 at 4, 1 at 100. So 9 expire by 3, more than maxBlockTxs: two blocks prune them.
    await commit(ledger, [put(3), put(3), put(3), put(3), put(3)]);
    await commit(ledger, [put(2), put(3), put(3), put(3), put(4)]);
    await commit(ledger, [put(4), put(4), put(100)]);
    // Height 3 already pruned 5 (maxBlockTxs): the one at 2 and 4 of the 8 at 3.
    expect(await count(db)).toBe(13 - 5);
    const left: number[] = [];
    for (let i = 0; i < 2; i++) {
      await commit(ledger, []);
      left.push(await count(db));
    }
    // Height 4 prunes the other 4 at 3 and 1 at 4 (cut by the limit inside expiry 4), height 5 the two left at 4.
    expect(left).toEqual([3, 1]);
    // A restarted ledger scans from the start once, and finds what expires later.
    const late = put(7);
    await commit(ledger, [late]);
    ledger = await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false });
    expect((await ledger.checkAdmission([late]))[0]?.code).toBe("DUPLICATE");
    for (let i = 0; i < 2; i++) await commit(ledger, []);
    expect(ledger.head().height).toBe(8);
    expect(await count(db)).toBe(1);
  });

  it("leaves a committed or expired transaction out of a proposer's block (fill); another's block with it is invalid", async () => {
    const { ledger } = await openLedger();
    const done = put(50);
    await commit(ledger, [done]);
    const expired = put(1);
    const fresh = put(50);
    const proposal = { time: 100, proposer: v.publicKey, txs: [done, fresh, expired], lastCommit: null };
    await expect(ledger.execute(proposal)).rejects.toMatchObject({ code: "INVALID_BLOCK", message: /replays/ });
    const filled = await ledger.execute({ ...proposal, fill: true });
    expect(filled.txs).toEqual([fresh]);
    expect(filled.excluded).toEqual([done, expired]);
    expect(filled.block.header.txCount).toBe(1);
    // What a validator executes from that block is the same block.
    const again = await ledger.execute({ time: 100, proposer: v.publicKey, txs: [fresh], lastCommit: null });
    expect(again.hash).toEqual(filled.hash);
  });
});
