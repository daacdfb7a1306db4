import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RaftEntry } from "@cairn/consensus";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { blockHash, encodeBlock, ZERO_HASH } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { afterEach, describe, expect, it } from "vitest";
import { createRaftStore } from "../../src/raft-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const proposer = generateKeyPair().publicKey;
function entry(height: number, term: number): RaftEntry {
  const header = {
    chainId: "store",
    height,
    time: height,
    prevHash: ZERO_HASH,
    txRoot: ZERO_HASH,
    stateRoot: ZERO_HASH,
    receiptRoot: ZERO_HASH,
    lastCommitHash: ZERO_HASH,
    validatorsHash: ZERO_HASH,
    proposer,
    txCount: 0,
  };
  return {
    height,
    term,
    hash: blockHash(header),
    block: encodeBlock({ header, txs: [], lastCommit: null }),
    lastCommit: null,
  };
}

describe("Raft store (the node's LevelDB)", () => {
  it("keeps term, vote and log across a reopen; truncates a conflicting suffix; compacts committed entries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-raft-store-"));
    dirs.push(dir);
    let db = await openDatabase(dir);
    let store = createRaftStore(db);
    expect(await store.load()).toBeNull();
    const voter = generateKeyPair().publicKey;
    await store.save({ term: 3, votedFor: voter }, undefined, [entry(5, 2), entry(6, 3)]);
    await store.save({ term: 4, votedFor: null }, 6, [entry(6, 4)]);
    await db.close();

    db = await openDatabase(dir);
    store = createRaftStore(db);
    const back = await store.load();
    expect(back?.hard).toEqual({ term: 4, votedFor: null });
    expect(back?.entries.map((e) => [e.height, e.term])).toEqual([
      [5, 2],
      [6, 4],
    ]);
    expect(toHex(back?.entries[1]?.hash ?? new Uint8Array())).toBe(toHex(entry(6, 4).hash));
    await store.save({ term: 4, votedFor: voter }, undefined, []);
    await store.compact(5);
    const after = await store.load();
    expect(after?.hard.votedFor).toEqual(voter);
    expect(after?.entries.map((e) => e.height)).toEqual([6]);
    await db.close();
  });
});
