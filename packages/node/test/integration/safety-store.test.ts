// The validator's safety record in its own file: written atomically, checked on load, moved out of
// the database of a node that kept it there.
import { mkdirSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeSafetyRecord, type SafetyRecord, signVote } from "@cairn/consensus";
import { concatBytes, generateKeyPair, sha256, utf8 } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { Columns } from "@cairn/ledger";
import { VoteType } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { describe, expect, it } from "vitest";
import { createSafetyStore } from "../../src/safety-store.ts";

function record(height: number): SafetyRecord {
  const k = generateKeyPair();
  const vote = signVote("chain", createNativeSigner(k.secretKey, k.publicKey), {
    type: VoteType.prevote,
    height,
    round: 1,
    blockHash: new Uint8Array(32).fill(3),
  });
  return { height, locked: null, valid: null, votes: [vote], proposals: [{ round: 1, blockHash: vote.blockHash }] };
}

describe("safety record file", () => {
  it("round-trips, replaces the previous record, and leaves no temporary file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const path = join(dir, "safety-record.bin");
    const store = createSafetyStore(path);
    expect(await store.load()).toBeNull();
    await store.save(record(5));
    await store.save(record(6));
    const back = await createSafetyStore(path).load();
    expect(back?.height).toBe(6);
    expect(back?.votes).toHaveLength(1);
    expect(() => readFileSync(`${path}.tmp`)).toThrow();
  });

  it("refuses a damaged file with SAFETY_RECORD_CORRUPT and says what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const path = join(dir, "safety-record.bin");
    await createSafetyStore(path).save(record(9));
    const bytes = readFileSync(path);
    bytes[bytes.length - 7]! ^= 0x40; // a flipped bit in the payload (the frame's last 4 bytes are its length)
    writeFileSync(path, bytes);
    await expect(createSafetyStore(path).load()).rejects.toMatchObject({
      code: "SAFETY_RECORD_CORRUPT",
      message: expect.stringMatching(/checksum.*backup/s),
    });
    writeFileSync(path, "not a record");
    await expect(createSafetyStore(path).load()).rejects.toMatchObject({ code: "SAFETY_RECORD_CORRUPT" });
  });

  it("appends a frame per save and starts a new file once the log passes rewriteBytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const path = join(dir, "safety-record.bin");
    const store = createSafetyStore(path, undefined, { rewriteBytes: 2_000 });
    await store.save(record(1));
    const one = statSync(path).size;
    await store.save(record(2));
    await store.save(record(3));
    expect(statSync(path).size).toBe(one * 3 - 2 * "CAIRN-SAFETY-2\n".length);
    expect((await createSafetyStore(path).load())?.height).toBe(3);
    for (let h = 4; statSync(path).size <= 2_000; h++) await store.save(record(h));
    const before = (await createSafetyStore(path).load())?.height as number;
    await store.save(record(before + 1)); // past rewriteBytes: a new file with this record only
    expect(statSync(path).size).toBe(one);
    expect((await createSafetyStore(path).load())?.height).toBe(before + 1);
    await store.close();
  });

  it("ignores a last frame a crash cut short, and the next save starts a new file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const path = join(dir, "safety-record.bin");
    const store = createSafetyStore(path);
    await store.save(record(7));
    await store.save(record(8));
    await store.close();
    const whole = readFileSync(path);
    // Cut inside the last frame, then with only its closing length missing (zeros, as a page never written).
    truncateSync(path, whole.length - 10);
    expect((await createSafetyStore(path).load())?.height).toBe(7);
    const zeroed = Buffer.from(whole);
    zeroed.fill(0, zeroed.length - 4);
    writeFileSync(path, zeroed);
    const reopened = createSafetyStore(path);
    expect((await reopened.load())?.height).toBe(7);
    await reopened.save(record(9));
    expect((await createSafetyStore(path).load())?.height).toBe(9);
    expect(statSync(path).size).toBeLessThan(whole.length);
    await reopened.close();
    // A damaged frame that is not the last is damage, not a cut.
    const two = createSafetyStore(path);
    await two.save(record(10));
    await two.save(record(11));
    await two.close();
    const bytes = readFileSync(path);
    bytes[20]! ^= 0x01; // inside the first frame's checksum
    writeFileSync(path, bytes);
    await expect(createSafetyStore(path).load()).rejects.toMatchObject({ code: "SAFETY_RECORD_CORRUPT" });
  });

  it("reads a file in the format before the log (one record, CAIRN-SAFETY-1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const path = join(dir, "safety-record.bin");
    const payload = encodeSafetyRecord(record(12));
    writeFileSync(path, concatBytes(utf8.encode("CAIRN-SAFETY-1\n"), sha256(payload), payload));
    const store = createSafetyStore(path);
    expect((await store.load())?.height).toBe(12);
    await store.save(record(13));
    expect(readFileSync(path).subarray(0, 15).toString()).toBe("CAIRN-SAFETY-2\n");
    expect((await createSafetyStore(path).load())?.height).toBe(13);
    await store.close();
  });

  it("a failed write rejects with the system's error code; the next save starts a new file", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "cairn-safety-")), "home");
    const path = join(dir, "safety-record.bin");
    const store = createSafetyStore(path);
    // A process's first save writes a new file, which cannot be created in a missing directory.
    await expect(store.save(record(2))).rejects.toMatchObject({ code: "ENOENT" });
    mkdirSync(dir);
    await store.save(record(3));
    await store.save(record(4));
    expect((await createSafetyStore(path).load())?.height).toBe(4);
    await store.close();
  });

  it("moves a record kept in the database (older nodes) into the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-safety-"));
    const db = await openDatabase(join(dir, "db"));
    await db
      .batch()
      .put(Columns.consensus, utf8.encode("safety"), encodeSafetyRecord(record(4)))
      .write({ sync: true });
    const path = join(dir, "safety-record.bin");
    expect((await createSafetyStore(path, db).load())?.height).toBe(4);
    expect(await db.get(Columns.consensus, utf8.encode("safety"))).toBeUndefined();
    expect((await createSafetyStore(path, db).load())?.height).toBe(4);
    await db.close();
  });
});
