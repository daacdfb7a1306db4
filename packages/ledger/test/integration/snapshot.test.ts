import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { encode, encodeReceipt, type SignedTransaction, signTransaction } from "@cairn/messaging";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkManifest,
  decodeManifest,
  encodeChunk,
  type Ledger,
  parseGenesis,
  type RestoredBlock,
  rootOfParts,
  type SnapshotEntry,
  type SnapshotManifest,
  SnapshotStore,
  verifyChunk,
} from "../../src/index.ts";
import { commitBlock as commitOn, ledgers } from "./helpers.ts";

// Snapshots of the world state (docs/state-sync.md) on a real ledger and LevelDB: the manifest makes
// the state root, every chunk checks against it and a changed byte, a dropped or an added key is
// caught at its chunk; a fresh ledger restored from the chunks and the replay window has the same
// head and state root, refuses replays, and executes the next block exactly as the source does.

const v = generateKeyPair();
const client = generateKeyPair();
const genesis = parseGenesis({
  chainId: "snap-test",
  genesisTime: 1,
  validators: [{ name: "v", publicKey: toHex(v.publicKey), power: 1 }],
  admins: [],
  accounts: [{ publicKey: toHex(client.publicKey), balance: "1000000" }],
  params: { maxTxTtl: 3 },
});
const open = ledgers(genesis);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "cairn-snap-"));
  dirs.push(d);
  return d;
};

let n = 0;
const text = (s: string) => new TextEncoder().encode(s);
function tx(method: "put" | "delete", key: string, expiry: number): SignedTransaction {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  const args = method === "put" ? [text(key), text(`value of ${key}`)] : [text(key)];
  return signTransaction(
    { chainId: "snap-test", sender: client.publicKey, nonce, expiry, contract: "kv", method, args },
    client.secretKey,
  );
}

/** A source ledger at height 5: 1,500 keys put over four blocks, 100 of them deleted in the fifth. */
async function source(): Promise<{ ledger: Ledger; txs: SignedTransaction[][] }> {
  const { ledger } = await open();
  const txs: SignedTransaction[][] = [];
  for (let b = 0; b < 4; b++) {
    txs.push(Array.from({ length: 375 }, (_, i) => tx("put", `k${b * 375 + i}`, b + 4)));
  }
  txs.push(Array.from({ length: 100 }, (_, i) => tx("delete", `k${i * 7}`, 7)));
  for (const block of txs) await commitOn(ledger, v.publicKey, block);
  return { ledger, txs };
}

/** A snapshot of `ledger` at its head (height 5), its manifest and its chunks checked. */
async function snapshotOf(ledger: Ledger): Promise<{ manifest: SnapshotManifest; chunks: SnapshotEntry[][] }> {
  const store = await SnapshotStore.open({ dir: tmp(), chunkBytes: 8 * 1024 });
  await store.take(ledger.state, ledger.head());
  const manifest = decodeManifest((await store.manifest(5))!);
  const chunks = await Promise.all(
    manifest.chunks.map(async (_, i) => verifyChunk(manifest, i, (await store.chunk(5, i))!)),
  );
  return { manifest, chunks };
}

async function window(ledger: Ledger, from: number): Promise<RestoredBlock[]> {
  const out: RestoredBlock[] = [];
  for (let h = from; h <= ledger.head().height; h++) {
    out.push({
      block: (await ledger.getBlock(h))!,
      commit: (await ledger.getCommit(h))!,
      receipts: (await ledger.getReceipts(h))!.map(encodeReceipt),
    });
  }
  return out;
}

describe("state snapshots", () => {
  it("cuts the state into chunks that each check against the state root", { timeout: 60_000 }, async () => {
    const { ledger } = await source();
    const store = await SnapshotStore.open({ dir: tmp(), chunkBytes: 8 * 1024 });
    const offer = await store.take(ledger.state, ledger.head());
    expect(offer?.height).toBe(5);
    const bytes = (await store.manifest(5))!;
    const manifest = decodeManifest(bytes);
    expect(manifest.keys).toBeGreaterThan(1_400);
    expect(manifest.chunks.length).toBeGreaterThan(3);
    expect(toHex(rootOfParts(manifest.parts))).toBe(toHex(ledger.head().stateRoot));
    const head = ledger.head();
    checkManifest(manifest, { height: 5, stateRoot: head.stateRoot }, head.hash);
    const entries: SnapshotEntry[][] = [];
    for (let i = 0; i < manifest.chunks.length; i++) entries.push(verifyChunk(manifest, i, (await store.chunk(5, i))!));
    expect(entries.flat()).toHaveLength(manifest.keys);

    // One changed value byte, a dropped entry and an added entry are each caught at their chunk.
    const chunk = [...entries[1]!];
    const [k, value] = chunk[0]!;
    const changed = value.slice();
    changed[0] = (changed[0] as number) ^ 1;
    expect(() => verifyChunk(manifest, 1, encodeChunk([[k, changed], ...chunk.slice(1)]))).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT_CHUNK" }),
    );
    expect(() => verifyChunk(manifest, 1, encodeChunk(chunk.slice(1)))).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT_CHUNK" }),
    );
    expect(() => verifyChunk(manifest, 1, encodeChunk([...chunk].reverse()))).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT_CHUNK" }),
    );
    expect(() => verifyChunk(manifest, 1, encode([1, 2]))).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT_CHUNK" }),
    );
    // A manifest whose parts do not make the header's root is refused before any chunk is fetched.
    const parts = [...manifest.parts];
    parts[3] = { kind: "node", hash: new Uint8Array(32).fill(7) };
    expect(() => checkManifest({ ...manifest, parts }, { height: 5, stateRoot: head.stateRoot }, head.hash)).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT" }),
    );
    expect(() => checkManifest(manifest, { height: 5, stateRoot: new Uint8Array(32) }, head.hash)).toThrow(
      expect.objectContaining({ code: "BAD_SNAPSHOT" }),
    );
  });

  it("restores a fresh ledger to the same head, state and replay protection", { timeout: 60_000 }, async () => {
    const { ledger, txs } = await source();
    const { manifest, chunks } = await snapshotOf(ledger);
    const target = await open();
    const registry = await target.ledger.restoreState(manifest, chunks);
    expect(registry.validatorsAt(5).map((x) => toHex(x.publicKey))).toEqual([toHex(v.publicKey)]);
    expect(toHex(target.ledger.state.root())).toBe(toHex(ledger.head().stateRoot));
    // The replay window: maxTxTtl (3) blocks ending with the snapshot's block.
    await target.ledger.finishRestore(manifest, await window(ledger, 3));
    expect(target.ledger.head()).toEqual(ledger.head());
    expect(target.ledger.base()).toBe(3);
    expect(await target.ledger.getBlock(2)).toBeUndefined();
    expect((await target.ledger.getReceipts(4))?.length).toBe(375);
    expect(await target.ledger.state.get("kv", text("k1499"))).toEqual(text("value of k1499"));
    expect(await target.ledger.state.get("kv", text("k0"))).toBeUndefined();
    // A transaction of the window that has not expired is a replay on the restored ledger too.
    const [replayed] = await target.ledger.checkAdmission([txs[4]![0]!]);
    expect(replayed?.code).toBe("DUPLICATE");

    // The next block executes identically on both.
    const next = [tx("put", "after", 9), tx("delete", "k1", 9)];
    const a = await commitOn(ledger, v.publicKey, next);
    const b = await commitOn(target.ledger, v.publicKey, next);
    expect(toHex(b.hash)).toBe(toHex(a.hash));

    // Reopened from disk, the restored ledger is where it was.
    await target.db.close();
    const again = await open(target.dir);
    expect(again.ledger.head()).toEqual(ledger.head());
    expect(again.ledger.base()).toBe(3);
    expect(again.ledger.restoreInterrupted).toBe(false);
  });

  it("marks an interrupted restore, and a second restore over it ends right", { timeout: 60_000 }, async () => {
    const { ledger } = await source();
    const { manifest, chunks } = await snapshotOf(ledger);
    const target = await open();
    // Only half the chunks went in before the "crash": the restore does not check out and stays marked.
    await expect(target.ledger.restoreState(manifest, chunks.slice(0, 2))).rejects.toMatchObject({
      code: "BAD_SNAPSHOT",
    });
    await target.db.close();
    const reopened = await open(target.dir);
    expect(reopened.ledger.restoreInterrupted).toBe(true);
    expect(reopened.ledger.head().height).toBe(0);
    await reopened.ledger.restoreState(manifest, chunks);
    await reopened.ledger.finishRestore(manifest, await window(ledger, 3));
    expect(reopened.ledger.head()).toEqual(ledger.head());
    expect(reopened.ledger.restoreInterrupted).toBe(false);
  });

  it("keeps the newest snapshots and offers them again after a restart", { timeout: 60_000 }, async () => {
    const { ledger } = await source();
    const dir = tmp();
    const store = await SnapshotStore.open({ dir, keep: 2 });
    await store.take(ledger.state, ledger.head());
    await commitOn(ledger, v.publicKey, [tx("put", "x", 9)]);
    await store.take(ledger.state, ledger.head());
    await commitOn(ledger, v.publicKey, [tx("put", "y", 10)]);
    await store.take(ledger.state, ledger.head());
    expect(store.list().map((o) => o.height)).toEqual([7, 6]);
    const reopened = await SnapshotStore.open({ dir, keep: 2 });
    expect(reopened.list()).toEqual(store.list());
    expect(await reopened.manifest(5)).toBeUndefined();
    expect(await reopened.chunk(7, 0)).toEqual(await readFile(join(dir, "7", "chunk-00000.bin")));
  });
});
