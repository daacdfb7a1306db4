// What the ledger's integration tests share: ledgers on temporary LevelDBs (closed and removed
// after each test), a certificate without signatures (the ledger stores certificates; consensus
// checks them), and committing a block of transactions on the head.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ContractRegistry, createNativeRegistry } from "@cairn/contracts";
import type { Commit, SignedTransaction } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { afterEach } from "vitest";
import { createLedger, type ExecutedBlock, type Genesis, type Ledger } from "../../src/index.ts";

/** A certificate with no signatures: what the ledger stores, unchecked here. */
export const fakeCommit = (height: number, blockHash: Uint8Array): Commit => ({
  height,
  round: 0,
  blockHash,
  signatures: [],
});

/** Opens ledgers of `genesis` on temporary databases, all closed and removed after each test. */
export function ledgers(genesis: Genesis, contracts: () => ContractRegistry = () => createNativeRegistry()) {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) if (db.isOpen) await db.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A ledger in `dir` (reopened from disk), or in a new temporary directory. */
  return async function open(dir?: string): Promise<{ ledger: Ledger; db: Database; dir: string }> {
    const d = dir ?? mkdtempSync(join(tmpdir(), "cairn-ledger-"));
    if (dir === undefined) dirs.push(d);
    const db = await openDatabase(d);
    dbs.push(db);
    return { ledger: await createLedger({ db, genesis, contracts: contracts(), sync: false }), db, dir: d };
  };
}

/** Executes `txs` as the next block (time `time + height`) and commits it. */
export async function commitBlock(
  ledger: Ledger,
  proposer: Uint8Array,
  txs: readonly SignedTransaction[],
  time = 2_000,
): Promise<ExecutedBlock> {
  const head = ledger.head();
  const executed = await ledger.execute({
    time: time + head.height,
    proposer,
    txs,
    lastCommit: head.height === 0 ? null : fakeCommit(head.height, head.hash),
  });
  await ledger.commit(executed, fakeCommit(executed.block.header.height, executed.hash));
  return executed;
}
