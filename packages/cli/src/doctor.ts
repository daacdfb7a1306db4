import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { verifyCommit } from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { equalBytes, merkleRoot, sha256, toHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import { Columns, createLedger, verifyStateTree } from "@cairn/ledger";
import { governanceContract } from "@cairn/management";
import { blockHash, encodeCommit, encodeReceipt, validatorsHash, ZERO_HASH } from "@cairn/messaging";
import { createSafetyStore } from "@cairn/node";
import { homePaths, loadGenesis } from "@cairn/node/config";
import { openDatabase } from "@cairn/storage";

// `cairn doctor`: an offline integrity check of a stopped node's home. LevelDB does not verify its
// checksums on reads, so damage on disk shows up as wrong bytes, not errors: every block is checked
// against its header and certificate, every receipt and transaction against the header's roots, the
// state tree is re-hashed from its leaves up to the head's state root, and the safety record is
// checked against the database height (a database that went backwards).

export interface DoctorReport {
  readonly ok: boolean;
  readonly height: number;
  readonly blocks: number;
  readonly stateNodes: number;
  readonly stateValues: number;
  /** Height of the validator's safety record, if it has one. */
  readonly safetyRecordHeight?: number;
  readonly problems: readonly string[];
  /** Notes that are not damage (e.g. certificates that could not be checked). */
  readonly notes: readonly string[];
}

export async function checkHome(home: string): Promise<DoctorReport> {
  const paths = homePaths(home);
  const problems: string[] = [];
  const notes: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 50) problems.push(p);
  };
  let safetyRecordHeight: number | undefined;
  const genesis = await loadGenesis(home);
  const db = await openDatabase(paths.data);
  try {
    try {
      safetyRecordHeight = (await createSafetyStore(paths.safetyRecord).load())?.height;
    } catch (err) {
      problem((err as Error).message);
    }
    let ledger: Awaited<ReturnType<typeof createLedger>>;
    try {
      ledger = await createLedger({ db, genesis, contracts: createNativeRegistry([governanceContract]), sync: false });
    } catch (err) {
      problem(`the ledger does not open: ${(err as Error).message}`);
      return { ok: false, height: 0, blocks: 0, stateNodes: 0, stateValues: 0, problems, notes };
    }
    const head = ledger.head();
    if (safetyRecordHeight !== undefined && safetyRecordHeight > head.height + 1) {
      problem(
        `the database (height ${head.height}) is behind the validator's safety record (height ${safetyRecordHeight}): ` +
          "it lost committed blocks. The node catches up from peers on start and signs nothing until that height.",
      );
    }
    if (ledger.restoreInterrupted) {
      problem(
        "a state sync was interrupted: the state is partly restored. Start the node with stateSync.enable to finish it, or remove the data directory (docs/state-sync.md).",
      );
    }
    // A node that began from a snapshot (state sync) holds the blocks from its base on; the first
    // one's parent is not held, so its link is taken as it is.
    const base = ledger.base();
    if (base > 1) notes.push(`began from a snapshot: holds blocks ${base} to ${head.height} (state sync)`);
    let prev: Uint8Array | undefined = base > 1 ? undefined : ledger.genesisHash;
    let uncheckable = 0;
    for (let h = base; h <= head.height; h++) {
      try {
        const [block, commit, receipts] = await Promise.all([
          ledger.getBlock(h),
          ledger.getCommit(h),
          ledger.getReceipts(h),
        ]);
        if (block === undefined || commit === undefined || receipts === undefined) {
          problem(`block ${h}: missing (block, certificate or receipts)`);
          continue;
        }
        const hdr = block.header;
        const hash = blockHash(hdr);
        if (hdr.height !== h) problem(`block ${h}: its header says height ${hdr.height}`);
        if (prev !== undefined && !equalBytes(hdr.prevHash, prev))
          problem(`block ${h}: does not link to block ${h - 1}`);
        if (!equalBytes(merkleRoot(block.txs), hdr.txRoot)) problem(`block ${h}: transactions do not match txRoot`);
        const lc = block.lastCommit === null ? ZERO_HASH : sha256(encodeCommit(block.lastCommit));
        if (!equalBytes(lc, hdr.lastCommitHash)) problem(`block ${h}: parent certificate does not match its hash`);
        if (!equalBytes(merkleRoot(receipts.map(encodeReceipt)), hdr.receiptRoot)) {
          problem(`block ${h}: receipts do not match receiptRoot`);
        }
        if (!equalBytes(commit.blockHash, hash) || commit.height !== h) {
          problem(`block ${h}: its certificate is for another block`);
        } else {
          const set = ledger.validatorsAt(h);
          if (equalBytes(validatorsHash(set), hdr.validatorsHash)) {
            try {
              verifyCommit(genesis.chainId, commit, hash, set, nativeVerify, genesis.consensus);
            } catch (err) {
              problem(`block ${h}: certificate does not verify (${(err as Error).message})`);
            }
          } else uncheckable++;
        }
        prev = hash;
      } catch (err) {
        problem(`block ${h}: does not decode (${(err as Error).message})`);
      }
    }
    if (uncheckable > 0) {
      notes.push(`${uncheckable} certificates were signed by an earlier validator set; their links were checked`);
    }
    let state = { root: head.stateRoot, nodes: 0, values: 0, problems: [] as readonly string[] };
    try {
      state = await verifyStateTree(db);
    } catch (err) {
      problem(`state: cannot be read (${(err as Error).message})`);
    }
    for (const p of state.problems) problem(`state: ${p}`);
    if (!equalBytes(state.root, head.stateRoot)) {
      problem(
        `state: the stored tree hashes to ${toHex(state.root)}, not the head's stateRoot ${toHex(head.stateRoot)}`,
      );
    }
    // Read every entry of every column once: LevelDB reports a damaged (compressed) block only
    // when something reads it, and the checks above do not touch every column.
    for (const [name, column] of Object.entries(Columns)) {
      try {
        for await (const _ of db.iterate(column)) {
          // reading is the check
        }
      } catch (err) {
        problem(`storage: the ${name} column cannot be read (${(err as Error).message})`);
      }
    }
    return {
      ok: problems.length === 0,
      height: head.height,
      blocks: head.height,
      stateNodes: state.nodes,
      stateValues: state.values,
      ...(safetyRecordHeight === undefined ? {} : { safetyRecordHeight }),
      problems,
      notes,
    };
  } finally {
    await db.close();
  }
}

/**
 * The repair for a damaged database: moves it aside (to data.damaged-TIME/) and keeps the safety
 * record, so the node starts empty, fetches the chain from its peers (block sync), and signs nothing
 * it already signed. Returns where the damaged database went.
 */
export async function resetData(home: string): Promise<string> {
  const paths = homePaths(home);
  const aside = `${paths.data}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  await rename(paths.data, aside);
  await mkdir(paths.data, { recursive: true });
  const record = join(aside, "safety-record.bin");
  if (existsSync(record)) await rename(record, paths.safetyRecord);
  return aside;
}
