// Test helpers for the world state: a temp LevelDB, and a from-scratch reference state tree.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareBytes, concatBytes, fromHex, prng, sha256, toHex, utf8 } from "@cairn/crypto";
import { type Database, openDatabase } from "@cairn/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createWorldState,
  decodeStateProof,
  emptyStateRoot,
  encodeStateProof,
  StateError,
  stateInternalHash,
  stateKeyHash,
  stateLeafHash,
  verifyStateProof,
  type WorldState,
  type WorldStateOptions,
} from "../../src/state/index.ts";

interface TempDb {
  db: Database;
  dir: string;
  reopen(): Promise<Database>;
  cleanup(): Promise<void>;
}

async function tempDb(): Promise<TempDb> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-state-"));
  const t: TempDb = {
    dir,
    db: await openDatabase(join(dir, "db")),
    async reopen() {
      await t.db.close();
      t.db = await openDatabase(join(dir, "db"));
      return t.db;
    },
    async cleanup() {
      await t.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Applies one block of writes (value undefined: delete) and writes its batch. Returns the new root. */
async function applyBlock(
  ws: WorldState,
  db: Database,
  writes: Iterable<[string, Uint8Array, Uint8Array | undefined]>,
): Promise<Uint8Array> {
  const overlay = ws.overlay();
  for (const [c, k, v] of writes) {
    if (v === undefined) overlay.delete(c, k);
    else overlay.set(c, k, v);
  }
  const prepared = await ws.prepare(overlay);
  const batch = db.batch();
  ws.commit(prepared, batch);
  await batch.write();
  return prepared.root;
}

async function openState(db: Database, options?: WorldStateOptions): Promise<WorldState> {
  return createWorldState(db, options);
}

// --- Reference: the tree of docs/spec/state.md, built from scratch with nothing shared with src ---

function refKeyHash(contract: string, key: Uint8Array): Uint8Array {
  const c = utf8.encode(contract);
  return sha256(concatBytes(new Uint8Array([c.length >> 8, c.length & 0xff]), c, key));
}

function refBit(h: Uint8Array, i: number): number {
  return ((h[Math.floor(i / 8)] as number) >> (7 - (i % 8))) & 1;
}

interface RefTree {
  root: Uint8Array;
  internalNodes: number;
}

/** Root (and number of internal nodes) of the state tree holding exactly `entries`. */
function referenceTree(entries: Iterable<[string, Uint8Array, Uint8Array]>): RefTree {
  const leaves: { kh: Uint8Array; vh: Uint8Array }[] = [];
  for (const [c, k, v] of entries) leaves.push({ kh: refKeyHash(c, k), vh: sha256(v) });
  let internalNodes = 0;
  const build = (depth: number, items: typeof leaves): Uint8Array => {
    if (items.length === 0) return new Uint8Array(32);
    if (items.length === 1) {
      const only = items[0] as (typeof leaves)[number];
      return sha256(concatBytes(new Uint8Array([0]), only.kh, only.vh));
    }
    internalNodes++;
    const left = items.filter((x) => refBit(x.kh, depth) === 0);
    const right = items.filter((x) => refBit(x.kh, depth) === 1);
    return sha256(concatBytes(new Uint8Array([1]), build(depth + 1, left), build(depth + 1, right)));
  };
  const root = build(0, leaves);
  return { root, internalNodes };
}

/** A simple model of the state: contract/key → value. */
class Model {
  readonly map = new Map<string, [string, Uint8Array, Uint8Array]>();
  set(c: string, k: Uint8Array, v: Uint8Array | undefined): void {
    const id = `${c}\u0000${toHex(k)}`;
    if (v === undefined) this.map.delete(id);
    else this.map.set(id, [c, k, v]);
  }
  get(c: string, k: Uint8Array): Uint8Array | undefined {
    return this.map.get(`${c}\u0000${toHex(k)}`)?.[2];
  }
  tree(): RefTree {
    return referenceTree(this.map.values());
  }
  /** Entries of one contract in key order. */
  entries(contract: string): [Uint8Array, Uint8Array][] {
    return [...this.map.values()]
      .filter(([c]) => c === contract)
      .map(([, k, v]): [Uint8Array, Uint8Array] => [k, v])
      .sort((a, b) => compareBytes(a[0], b[0]));
  }
}

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of it) out.push([toHex(k), toHex(v)]);
  return out;
}

async function countColumn(db: Database, column: number): Promise<number> {
  let n = 0;
  for await (const _ of db.iterate(column)) n++;
  return n;
}

// --- Tests ------------------------------------------------------------------------------------------

const TREE = 0x11;
const VALUES = 0x10;
const enc = (s: string) => utf8.encode(s);
const hex = (b: Uint8Array) => toHex(b);

describe("world state", () => {
  let t: TempDb;

  beforeEach(async () => {
    t = await tempDb();
  });

  afterEach(async () => {
    await t.cleanup();
  });

  it("starts empty with the zero root, and hashes one and two keys as specified", async () => {
    const ws = await openState(t.db);
    expect(hex(ws.root())).toBe(hex(emptyStateRoot()));
    expect(await ws.get("c", enc("k"))).toBeUndefined();

    await applyBlock(ws, t.db, [["c", enc("k"), enc("v")]]);
    const kh = stateKeyHash("c", enc("k"));
    expect(hex(ws.root())).toBe(hex(stateLeafHash(kh, sha256(enc("v")))));

    await applyBlock(ws, t.db, [["c", enc("k2"), enc("v2")]]);
    const model = new Model();
    model.set("c", enc("k"), enc("v"));
    model.set("c", enc("k2"), enc("v2"));
    expect(hex(ws.root())).toBe(hex(model.tree().root));
    expect(hex(stateInternalHash(new Uint8Array(32), new Uint8Array(32)))).not.toBe(hex(emptyStateRoot()));
  });

  it("reproduces the worked example of docs/spec/state.md", async () => {
    const ws = await openState(t.db);
    await applyBlock(ws, t.db, [
      ["token", enc("alice"), enc("100")],
      ["token", enc("carol"), enc("7")],
      ["token", enc("dave"), enc("42")],
    ]);
    expect(hex(ws.root())).toBe("fa72ea9bacc46d9f6b5215af4dbc7d721416b29b90ef3f97788978220605cc31");
    const carol = await ws.prove("token", enc("carol"));
    expect(carol.siblings.map(hex)).toEqual([
      "0".repeat(64),
      "e737827f42f055e8672e674d7366372c993f5c56b21a22654f6953fb759a0138",
      "0".repeat(64),
      "1b3a0384cdf206f471b7d19a3fed3bdba5a52d9699ef361b1f780197b33d7ba0",
    ]);
    const bob = await ws.prove("token", enc("bob"));
    expect(bob.siblings.map(hex)).toEqual(["e2188ae1421956618768de36a8aac13d3ce69fe0415aa11a012c4844a0f282d6"]);
    expect(bob.leaf).toBeNull();
    const keys: string[] = [];
    for await (const [k] of t.db.iterate(TREE)) keys.push(hex(k));
    expect(keys).toEqual(["", "00", "0100", "0200", "0300"]);
  });

  it("gives a root independent of insertion order and of how changes are split into blocks", async () => {
    const random = prng(7);
    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 600; i++) writes.push([`contract-${i % 5}`, enc(`key-${i}`), enc(`value-${i}-${random()}`)]);
    const expected = hex(referenceTree(writes).root);

    const a = await openState(t.db);
    await applyBlock(a, t.db, writes);
    expect(hex(a.root())).toBe(expected);

    const t2 = await tempDb();
    try {
      const b = await openState(t2.db);
      const shuffled = [...writes].sort(() => random() - 0.5);
      for (let i = 0; i < shuffled.length; ) {
        const n = 1 + Math.floor(random() * 80);
        await applyBlock(b, t2.db, shuffled.slice(i, i + n));
        i += n;
      }
      expect(hex(b.root())).toBe(expected);
      // Same key set, so the same stored nodes, whatever the history.
      expect(await countColumn(t2.db, TREE)).toBe(await countColumn(t.db, TREE));
    } finally {
      await t2.cleanup();
    }
  });

  it("handles a large block (sorted by bucket) like the reference", async () => {
    const ws = await openState(t.db);
    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 5000; i++) writes.push(["big", enc(`key-${i}`), enc(`v${i}`)]);
    await applyBlock(ws, t.db, writes);
    expect(hex(ws.root())).toBe(hex(referenceTree(writes).root));
    const overlay = ws.overlay();
    for (let i = 0; i < 5000; i += 2) overlay.delete("big", enc(`key-${i}`));
    for (let i = 1; i < 5000; i += 4) overlay.set("big", enc(`key-${i}`), enc(`v${i}`)); // unchanged
    const prepared = await ws.prepare(overlay);
    expect(prepared.writes).toHaveLength(2500);
    expect(hex(prepared.root)).toBe(hex(referenceTree(writes.filter((_, i) => i % 2 === 1)).root));
  });

  it("after deletes has the root of a fresh tree with the remaining keys, and leaves no stale nodes", async () => {
    const ws = await openState(t.db);
    const model = new Model();
    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 500; i++) writes.push(["c", enc(`k${i}`), enc(`v${i}`)]);
    await applyBlock(ws, t.db, writes);
    for (const [c, k, v] of writes) model.set(c, k, v);

    for (let round = 0; round < 3; round++) {
      const dels: [string, Uint8Array, undefined][] = [];
      for (let i = round; i < 500; i += 4) dels.push(["c", enc(`k${i}`), undefined]);
      await applyBlock(ws, t.db, dels);
      for (const [c, k] of dels) model.set(c, k, undefined);
      const ref = model.tree();
      expect(hex(ws.root())).toBe(hex(ref.root));
      // One record per internal node, plus the root record.
      expect(await countColumn(t.db, TREE)).toBe(ref.internalNodes + 1);
      expect(await countColumn(t.db, VALUES)).toBe(model.map.size);
    }

    await applyBlock(
      ws,
      t.db,
      [...model.map.values()].map(([c, k]): [string, Uint8Array, undefined] => [c, k, undefined]),
    );
    expect(hex(ws.root())).toBe(hex(emptyStateRoot()));
    expect(await countColumn(t.db, TREE)).toBe(1);
    expect(await countColumn(t.db, VALUES)).toBe(0);
  });

  it("does not change the root for a same-value write or a delete of an absent key", async () => {
    const ws = await openState(t.db);
    await applyBlock(ws, t.db, [
      ["c", enc("a"), enc("1")],
      ["c", enc("b"), enc("2")],
      ["c", enc("c"), enc("3")],
    ]);
    const root = hex(ws.root());
    const overlay = ws.overlay();
    overlay.set("c", enc("a"), enc("1"));
    overlay.delete("c", enc("absent"));
    overlay.delete("other", enc("a"));
    const prepared = await ws.prepare(overlay);
    expect(hex(prepared.root)).toBe(root);
    expect(prepared.writes).toEqual([]);
    const batch = t.db.batch();
    ws.commit(prepared, batch);
    expect(batch.length).toBe(0);
    await batch.write();
    expect(hex(ws.root())).toBe(root);
  });

  it("buffers writes in an overlay with checkpoints, and prepare does not mutate the committed state", async () => {
    const ws = await openState(t.db);
    await applyBlock(ws, t.db, [
      ["c", enc("a"), enc("1")],
      ["c", enc("b"), enc("2")],
    ]);
    const root = hex(ws.root());

    const overlay = ws.overlay();
    expect(hex(overlay.baseRoot)).toBe(root);
    expect(await overlay.get("c", enc("a"))).toEqual(enc("1"));
    overlay.set("c", enc("a"), enc("10"));
    const cp = overlay.checkpoint();
    overlay.set("c", enc("b"), enc("20"));
    overlay.delete("c", enc("a"));
    overlay.set("c", enc("new"), enc("x"));
    expect(await overlay.get("c", enc("a"))).toBeUndefined();
    expect(await overlay.get("c", enc("new"))).toEqual(enc("x"));
    overlay.revertTo(cp);
    expect(await overlay.get("c", enc("a"))).toEqual(enc("10"));
    expect(await overlay.get("c", enc("b"))).toEqual(enc("2"));
    expect(await overlay.get("c", enc("new"))).toBeUndefined();
    expect(overlay.size).toBe(1);
    expect(() => overlay.revertTo(cp + 5)).toThrow(expect.objectContaining({ code: "STATE_BAD_CHECKPOINT" }));
    overlay.set("c", enc("b"), enc("20"));
    expect(overlay.changes().map((c) => [c.contract, hex(c.key), c.value && hex(c.value)])).toEqual([
      ["c", hex(enc("a")), hex(enc("10"))],
      ["c", hex(enc("b")), hex(enc("20"))],
    ]);

    // The overlay copies values, so reusing a buffer afterwards changes nothing.
    const buf = enc("zz");
    overlay.set("c", enc("z"), buf);
    buf[0] = 0;
    expect(await overlay.get("c", enc("z"))).toEqual(enc("zz"));

    const prepared = await ws.prepare(overlay);
    const p2 = await ws.prepare(overlay);
    expect(hex(p2.root)).toBe(hex(prepared.root));
    expect(hex(prepared.baseRoot)).toBe(root);
    expect(hex(ws.root())).toBe(root);
    expect(await ws.get("c", enc("a"))).toEqual(enc("1"));
    expect(await ws.get("c", enc("z"))).toBeUndefined();
    expect(await collect(ws.iterate("c"))).toHaveLength(2);
    expect(prepared.writes.map((w) => hex(w.key))).toEqual([enc("a"), enc("b"), enc("z")].map(hex));

    const model = new Model();
    for (const [k, v] of [
      ["a", "10"],
      ["b", "20"],
      ["z", "zz"],
    ] as const)
      model.set("c", enc(k), enc(v));
    expect(hex(prepared.root)).toBe(hex(model.tree().root));

    const batch = t.db.batch();
    ws.commit(prepared, batch);
    expect(hex(ws.root())).toBe(hex(prepared.root));
    // Committed in memory before the batch is on disk: reads see the new state already.
    expect(await ws.get("c", enc("a"))).toEqual(enc("10"));
    expect((await collect(ws.iterate("c"))).map(([k]) => k)).toEqual([enc("a"), enc("b"), enc("z")].map(hex));
    await batch.write();
    expect(await ws.get("c", enc("z"))).toEqual(enc("zz"));
  });

  it("refuses stale, foreign and twice-committed prepared states, and stale overlays", async () => {
    const ws = await openState(t.db);
    await applyBlock(ws, t.db, [["c", enc("a"), enc("1")]]);
    const o1 = ws.overlay();
    o1.set("c", enc("b"), enc("2"));
    const o2 = ws.overlay();
    o2.set("c", enc("b"), enc("3"));
    const p1 = await ws.prepare(o1);
    const p2 = await ws.prepare(o2);

    const batch = t.db.batch();
    ws.commit(p1, batch);
    await batch.write();
    expect(() => ws.commit(p2, t.db.batch())).toThrow(expect.objectContaining({ code: "STATE_STALE" }));
    expect(() => ws.commit(p2, t.db.batch())).toThrow(StateError);
    expect(() => ws.commit(p1, t.db.batch())).toThrow(expect.objectContaining({ code: "STATE_ALREADY_COMMITTED" }));
    await expect(ws.prepare(o2)).rejects.toMatchObject({ code: "STATE_STALE" });
    await expect(o2.get("c", enc("a"))).rejects.toMatchObject({ code: "STATE_STALE" });
    expect(await o2.get("c", enc("b"))).toEqual(enc("3"));

    const other = await openState(t.db);
    const o3 = ws.overlay();
    await expect(other.prepare(o3)).rejects.toMatchObject({ code: "STATE_FOREIGN" });
    const p3 = await ws.prepare(o3);
    expect(() => other.commit(p3, t.db.batch())).toThrow(expect.objectContaining({ code: "STATE_FOREIGN" }));
    const forged = { root: p3.root, baseRoot: p3.baseRoot, writes: [] };
    expect(() => ws.commit(forged, t.db.batch())).toThrow(expect.objectContaining({ code: "STATE_FOREIGN" }));

    // A batch that was already written is refused before anything changes.
    const used = t.db.batch();
    await used.write();
    const p4 = await ws.prepare(ws.overlay());
    expect(() => ws.commit(p4, used)).toThrow();
    ws.commit(p4, t.db.batch());

    expect(() => ws.overlay().set("x".repeat(70_000), enc("k"), enc("v"))).toThrow(
      expect.objectContaining({ code: "STATE_BAD_CONTRACT" }),
    );
  });

  it("proves inclusion and non-inclusion, and rejects tampered proofs", async () => {
    const ws = await openState(t.db);
    // Empty tree, then a single leaf at the root, then a larger tree.
    expect(verifyStateProof(ws.root(), "c", enc("a"), undefined, await ws.prove("c", enc("a")))).toBe(true);
    await applyBlock(ws, t.db, [["c", enc("a"), enc("1")]]);
    const single = await ws.prove("c", enc("a"));
    expect(single.siblings).toHaveLength(0);
    expect(verifyStateProof(ws.root(), "c", enc("a"), enc("1"), single)).toBe(true);
    expect(verifyStateProof(ws.root(), "c", enc("b"), undefined, await ws.prove("c", enc("b")))).toBe(true);

    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 300; i++) writes.push([`c${i % 3}`, enc(`k${i}`), enc(`v${i}`)]);
    await applyBlock(ws, t.db, writes);
    const root = ws.root();
    let withLeaf = 0;
    for (let i = 0; i < 300; i += 7) {
      const [c, k, v] = writes[i] as [string, Uint8Array, Uint8Array];
      const proof = await ws.prove(c, k);
      expect(verifyStateProof(root, c, k, v, proof)).toBe(true);
      expect(verifyStateProof(root, c, k, enc("other"), proof)).toBe(false);
      expect(verifyStateProof(root, c, k, undefined, proof)).toBe(false);
      expect(verifyStateProof(root, `${c}x`, k, v, proof)).toBe(false);
      const decoded = decodeStateProof(encodeStateProof(proof));
      expect(verifyStateProof(root, c, k, v, decoded)).toBe(true);
      for (let d = 0; d < proof.siblings.length; d++) {
        const siblings = proof.siblings.map((s) => s.slice());
        const s = siblings[d] as Uint8Array;
        s[5] = (s[5] as number) ^ 1;
        expect(verifyStateProof(root, c, k, v, { ...proof, siblings })).toBe(false);
      }
      expect(verifyStateProof(root, c, k, v, { ...proof, siblings: proof.siblings.slice(1) })).toBe(false);

      const absentKey = enc(`absent${i}`);
      const absent = await ws.prove(c, absentKey);
      if (absent.leaf) withLeaf++;
      expect(verifyStateProof(root, c, absentKey, undefined, absent)).toBe(true);
      expect(verifyStateProof(root, c, absentKey, enc("x"), absent)).toBe(false);
      expect(verifyStateProof(root, c, absentKey, undefined, decodeStateProof(encodeStateProof(absent)))).toBe(true);
      // A present key's proof cannot be passed off as the absence of that key or another.
      expect(verifyStateProof(root, c, absentKey, undefined, proof)).toBe(false);
      const badRoot = root.slice();
      badRoot[0] = (badRoot[0] as number) ^ 1;
      expect(verifyStateProof(badRoot, c, k, v, proof)).toBe(false);
    }
    expect(withLeaf).toBeGreaterThan(0);
    expect(() => decodeStateProof(new Uint8Array([0, 1, 0]))).toThrow(StateError);
  });

  it("iterates one contract's committed values in key order, by prefix and with a limit", async () => {
    const ws = await openState(t.db);
    await applyBlock(ws, t.db, [
      ["a", enc("x2"), enc("2")],
      ["a", enc("x1"), enc("1")],
      ["a", enc("y"), enc("3")],
      ["ab", enc("x0"), enc("4")],
      ["b", enc("x0"), enc("5")],
    ]);
    const keys = async (c: string, o?: { prefix?: Uint8Array; limit?: number }) =>
      (await collect(ws.iterate(c, o))).map(([k]) => utf8.decode(fromHex(k)));
    expect(await keys("a")).toEqual(["x1", "x2", "y"]);
    expect(await keys("a", { prefix: enc("x") })).toEqual(["x1", "x2"]);
    expect(await keys("a", { limit: 2 })).toEqual(["x1", "x2"]);
    expect(await keys("ab")).toEqual(["x0"]);
    expect(await keys("none")).toEqual([]);

    // Pending (committed, batch not yet written) changes are merged in, deletes included.
    const overlay = ws.overlay();
    overlay.delete("a", enc("x1"));
    overlay.set("a", enc("x3"), enc("6"));
    overlay.set("a", enc("w"), enc("7"));
    const batch = t.db.batch();
    ws.commit(await ws.prepare(overlay), batch);
    expect(await keys("a")).toEqual(["w", "x2", "x3", "y"]);
    expect(await keys("a", { prefix: enc("x") })).toEqual(["x2", "x3"]);
    expect(await keys("a", { limit: 2 })).toEqual(["w", "x2"]);
    await batch.write();
    expect(await keys("a")).toEqual(["w", "x2", "x3", "y"]);
  });

  it("fails a prepare that a commit overtakes, and reads racing a commit see the commit", async () => {
    const ws = await openState(t.db, { maxCachedNodes: 1, valueCacheBytes: 1 });
    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 100; i++) writes.push(["c", enc(`k${i}`), enc(`v${i}`)]);
    await applyBlock(ws, t.db, writes);
    const ws2 = await openState(t.db, { maxCachedNodes: 1, valueCacheBytes: 1 });

    const slow = ws2.overlay();
    for (let i = 0; i < 50; i++) slow.set("c", enc(`k${i}`), enc("slow"));
    const fast = ws2.overlay();
    fast.set("c", enc("k1"), enc("fast"));
    const prepared = await ws2.prepare(fast);
    const racing = ws2.prepare(slow); // reads the tree from disk, level by level
    const read = ws2.get("c", enc("k1")); // reads the old value from disk
    ws2.commit(prepared, t.db.batch()); // before either read completes
    await expect(racing).rejects.toMatchObject({ code: "STATE_STALE" });
    expect(await read).toEqual(enc("fast"));
  });

  it("reopens with the same root and values", async () => {
    let ws = await openState(t.db);
    const model = new Model();
    const writes: [string, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 200; i++) writes.push(["c", enc(`k${i}`), enc(`v${i}`)]);
    await applyBlock(ws, t.db, writes);
    await applyBlock(ws, t.db, [["c", enc("k5"), undefined]]);
    for (const [c, k, v] of writes) model.set(c, k, v);
    model.set("c", enc("k5"), undefined);
    const root = hex(ws.root());

    const db = await t.reopen();
    ws = await openState(db);
    expect(hex(ws.root())).toBe(root);
    expect(hex(ws.root())).toBe(hex(model.tree().root));
    expect(await ws.get("c", enc("k7"))).toEqual(enc("v7"));
    expect(await ws.get("c", enc("k5"))).toBeUndefined();
    expect(await collect(ws.iterate("c"))).toHaveLength(199);
    const proof = await ws.prove("c", enc("k9"));
    expect(verifyStateProof(ws.root(), "c", enc("k9"), enc("v9"), proof)).toBe(true);
    // And it goes on from there like a tree that was never closed.
    await applyBlock(ws, db, [["c", enc("k5"), enc("back")]]);
    model.set("c", enc("k5"), enc("back"));
    expect(hex(ws.root())).toBe(hex(model.tree().root));
  });

  it("stays correct with tiny caches, evicting nodes whose batch is not written yet", async () => {
    const ws = await openState(t.db, { maxCachedNodes: 4, valueCacheBytes: 256 });
    const model = new Model();
    const random = prng(3);
    for (let block = 0; block < 6; block++) {
      const overlay = ws.overlay();
      for (let i = 0; i < 150; i++) {
        const k = enc(`k${Math.floor(random() * 400)}`);
        const v = random() < 0.2 ? undefined : enc(`v${block}-${i}`);
        if (v === undefined) overlay.delete("c", k);
        else overlay.set("c", k, v);
        model.set("c", k, v);
      }
      const batch = t.db.batch();
      ws.commit(await ws.prepare(overlay), batch);
      // Prepare the next block before this one's batch is on disk: it must see the pinned nodes.
      const next = ws.overlay();
      next.set("c", enc("probe"), enc(`p${block}`));
      const preparedNext = await ws.prepare(next);
      const m2 = new Model();
      for (const [c, k, v] of model.map.values()) m2.set(c, k, v);
      m2.set("c", enc("probe"), enc(`p${block}`));
      expect(hex(preparedNext.root)).toBe(hex(m2.tree().root));
      expect(await ws.get("c", enc("k1"))).toEqual(model.get("c", enc("k1")));
      await batch.write();
      expect(hex(ws.root())).toBe(hex(model.tree().root));
    }
  });

  it("matches the reference over a few thousand random operations in many blocks", async () => {
    let ws = await openState(t.db, { maxCachedNodes: 64 });
    const model = new Model();
    const random = prng(42);
    const contracts = ["alpha", "beta", "γάμμα", ""];
    let ops = 0;
    for (let block = 0; block < 40; block++) {
      const overlay = ws.overlay();
      const shadow = new Model();
      for (const [c, k, v] of model.map.values()) shadow.set(c, k, v);
      const txs = 1 + Math.floor(random() * 10);
      for (let tx = 0; tx < txs; tx++) {
        const cp = overlay.checkpoint();
        const before = new Model();
        for (const [c, k, v] of shadow.map.values()) before.set(c, k, v);
        const n = Math.floor(random() * 25);
        for (let i = 0; i < n; i++, ops++) {
          const c = contracts[Math.floor(random() * contracts.length)] as string;
          const k = new Uint8Array(Math.floor(random() * 3)).map(() => Math.floor(random() * 12));
          const r = random();
          if (r < 0.3) {
            overlay.delete(c, k);
            shadow.set(c, k, undefined);
          } else if (r < 0.4) {
            // Same value again (when present).
            const cur = shadow.get(c, k) ?? enc("same");
            overlay.set(c, k, cur);
            shadow.set(c, k, cur);
          } else {
            const v = enc(`${block}.${tx}.${i}`);
            overlay.set(c, k, v);
            shadow.set(c, k, v);
          }
          expect(await overlay.get(c, k)).toEqual(shadow.get(c, k));
        }
        if (random() < 0.25) {
          // The transaction failed: its writes are undone.
          overlay.revertTo(cp);
          shadow.map.clear();
          for (const [c, k, v] of before.map.values()) shadow.set(c, k, v);
        }
      }
      const prepared = await ws.prepare(overlay);
      if (random() < 0.15) continue; // round change: the block is never committed
      const batch = t.db.batch();
      ws.commit(prepared, batch);
      await batch.write();
      for (const w of prepared.writes) expect(model.get(w.contract, w.key)).not.toEqual(w.value);
      model.map.clear();
      for (const [c, k, v] of shadow.map.values()) model.set(c, k, v);
      const ref = model.tree();
      expect(hex(ws.root())).toBe(hex(ref.root));
      if (block % 10 === 9) {
        expect(await countColumn(t.db, TREE)).toBe(ref.internalNodes + 1);
        ws = await openState(await t.reopen(), { maxCachedNodes: 64 });
        expect(hex(ws.root())).toBe(hex(ref.root));
      }
    }
    expect(ops).toBeGreaterThan(2000);
    for (const c of contracts) {
      const got = await collect(ws.iterate(c));
      expect(got).toEqual(model.entries(c).map(([k, v]) => [hex(k), hex(v)]));
    }
    for (const [c, k, v] of [...model.map.values()].slice(0, 50)) {
      expect(verifyStateProof(ws.root(), c, k, v, await ws.prove(c, k))).toBe(true);
    }
  });
});
