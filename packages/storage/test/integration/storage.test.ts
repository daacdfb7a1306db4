import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Database, openDatabase, StorageError } from "../../src/index.ts";

const A = 0x01;
const B = 0x02;
const LAST = 0xff;

const b = (...xs: number[]): Uint8Array => new Uint8Array(xs);
const arr = (u: Uint8Array | undefined): number[] | undefined => (u === undefined ? undefined : Array.from(u));

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const [k, v] of it) out.push([Array.from(k), Array.from(v)]);
  return out;
}

describe("storage", () => {
  let dir: string;
  let db: Database;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-storage-"));
    db = await openDatabase(join(dir, "nested", "db"));
  });

  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the directory, reads back writes, keeps columns apart", async () => {
    await db.batch().put(A, b(1), b(10)).put(B, b(1), b(20)).write();
    expect(arr(await db.get(A, b(1)))).toEqual([10]);
    expect(arr(await db.get(B, b(1)))).toEqual([20]);
    expect(await db.get(A, b(2))).toBeUndefined();
    expect(await db.has(A, b(1))).toBe(true);
    expect(await db.has(A, b(2))).toBe(false);
    expect((await db.getMany(A, [b(1), b(2)])).map(arr)).toEqual([[10], undefined]);
    expect(await db.getMany(A, [])).toEqual([]);
    // Values come back as plain Uint8Arrays, not Buffers.
    expect(Object.getPrototypeOf(await db.get(A, b(1)))).toBe(Uint8Array.prototype);
  });

  it("writes a batch atomically, later operations winning, and deletes", async () => {
    const batch = db.batch();
    batch.put(A, b(1), b(1)).put(A, b(2), b(2)).del(A, b(1)).put(A, b(3), b(3)).put(A, b(3), b(33));
    expect(batch.length).toBe(5);
    let written = false;
    batch.onWritten(() => {
      written = true;
    });
    // Nothing is visible before write().
    expect(await db.get(A, b(2))).toBeUndefined();
    await batch.write({ sync: false });
    expect(written).toBe(true);
    expect(await collect(db.iterate(A))).toEqual([
      [[2], [2]],
      [[3], [33]],
    ]);
    expect(() => batch.put(A, b(9), b(9))).toThrow(StorageError);
    await expect(batch.write()).rejects.toMatchObject({ code: "STORAGE_BATCH_USED" });
  });

  it("iterates ranges, prefixes, in reverse and with a limit, only inside the column", async () => {
    const batch = db.batch();
    for (let i = 0; i < 10; i++) batch.put(A, b(i), b(i * 2));
    batch.put(A, b(5, 0), b(50)).put(A, b(5, 1), b(51)).put(A, b(5, 0xff), b(52));
    batch.put(B, b(0), b(99)).put(LAST, b(0xff, 0xff), b(7)).put(LAST, b(1), b(6));
    await batch.write();

    const keys = async (opts: Parameters<Database["iterate"]>[1], col = A) =>
      (await collect(db.iterate(col, opts))).map(([k]) => k);

    expect(await keys({})).toHaveLength(13);
    expect(await keys({ gte: b(3), lt: b(5) })).toEqual([[3], [4]]);
    expect(await keys({ gte: b(8) })).toEqual([[8], [9]]);
    expect(await keys({ lt: b(1) })).toEqual([[0]]);
    expect(await keys({ reverse: true, limit: 3 })).toEqual([[9], [8], [7]]);
    expect(await keys({ gte: b(2), lt: b(5), reverse: true })).toEqual([[4], [3], [2]]);
    expect(await keys({ limit: 2 })).toEqual([[0], [1]]);
    expect(await keys({ limit: 0 })).toEqual([]);
    expect(await keys({ prefix: b(5) })).toEqual([[5], [5, 0], [5, 1], [5, 0xff]]);
    expect(await keys({ prefix: b(5), gte: b(5, 1) })).toEqual([
      [5, 1],
      [5, 0xff],
    ]);
    expect(await keys({ prefix: b(5), reverse: true, limit: 2 })).toEqual([
      [5, 0xff],
      [5, 1],
    ]);
    // A Buffer prefix (whose slice() is a view) is not modified by computing the range end.
    const bufPrefix = Buffer.from([5]);
    expect(await keys({ prefix: bufPrefix })).toHaveLength(4);
    expect(Array.from(bufPrefix)).toEqual([5]);
    expect(await keys({}, B)).toEqual([[0]]);
    expect(await keys({}, LAST)).toEqual([[1], [0xff, 0xff]]);
    expect(await keys({ prefix: b(0xff) }, LAST)).toEqual([[0xff, 0xff]]);

    // Breaking out early releases the iterator (close() below would otherwise wait on it).
    for await (const _ of db.iterate(A)) break;
  });

  it("persists across reopen", async () => {
    const batch = db.batch();
    for (let i = 0; i < 1000; i++) batch.put(A, b(i >> 8, i & 0xff), b(i & 0xff));
    await batch.write();
    const location = db.location;
    await db.close();
    db = await openDatabase(location);
    expect(arr(await db.get(A, b(3, 0xe7)))).toEqual([0xe7]);
    expect(await collect(db.iterate(A))).toHaveLength(1000);
  });

  it("fails with typed errors", async () => {
    expect(() => db.batch().put(256, b(1), b(1))).toThrow(expect.objectContaining({ code: "STORAGE_BAD_COLUMN" }));
    await expect(db.get(-1, b(1))).rejects.toMatchObject({ code: "STORAGE_BAD_COLUMN" });
    // A second handle on the same directory is refused by LevelDB's lock.
    await expect(openDatabase(db.location)).rejects.toMatchObject({ code: "STORAGE_IO" });
    const pending = db.batch().put(A, b(1), b(1));
    await db.close();
    await expect(db.get(A, b(1))).rejects.toMatchObject({ code: "STORAGE_CLOSED" });
    await expect(db.getMany(A, [b(1)])).rejects.toMatchObject({ code: "STORAGE_CLOSED" });
    await expect(pending.write()).rejects.toMatchObject({ code: "STORAGE_CLOSED" });
    await expect(collect(db.iterate(A))).rejects.toBeInstanceOf(StorageError);
    expect(() => db.batch()).toThrow(expect.objectContaining({ code: "STORAGE_CLOSED" }));
    await expect(
      openDatabase(join(dir, "missing"), { createIfMissing: false }).then((d) => d.close()),
    ).rejects.toMatchObject({ code: "STORAGE_IO" });
  });
});
