// The validator's safety record in its own file: written atomically, checked on load, moved out of
// the database of a node that kept it there.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeSafetyRecord, type SafetyRecord, signVote } from "@cairn/consensus";
import { generateKeyPair, utf8 } from "@cairn/crypto";
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
    bytes[bytes.length - 3]! ^= 0x40; // a flipped bit in the payload
    writeFileSync(path, bytes);
    await expect(createSafetyStore(path).load()).rejects.toMatchObject({
      code: "SAFETY_RECORD_CORRUPT",
      message: expect.stringMatching(/checksum.*backup/s),
    });
    writeFileSync(path, "not a record");
    await expect(createSafetyStore(path).load()).rejects.toMatchObject({ code: "SAFETY_RECORD_CORRUPT" });
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
