import { open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeSafetyRecord, encodeSafetyRecord, type SafetyRecord, type SafetyStore } from "@cairn/consensus";
import { concatBytes, equalBytes, sha256, utf8 } from "@cairn/crypto";
import { Columns } from "@cairn/ledger";
import type { Database } from "@cairn/storage";
import { NodeError } from "./errors.ts";

// The validator's safety record (what it last signed, and its lock) lives in its own file, apart
// from the chain database, as CometBFT's priv_validator_state: a damaged write-ahead log that rolls
// the database back must not roll back what this validator signed, or it could sign twice.
// Each save writes a new file, fsyncs it, renames it over the old one and fsyncs the directory,
// so a crash leaves either the old record or the new one, never a torn one. A checksum catches
// a file damaged later.

const MAGIC = utf8.encode("CAIRN-SAFETY-1\n");
const LEGACY_KEY = utf8.encode("safety");

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, "r");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export function encodeSafetyFile(record: SafetyRecord): Uint8Array {
  const payload = encodeSafetyRecord(record);
  return concatBytes(MAGIC, sha256(payload), payload);
}

export function decodeSafetyFile(bytes: Uint8Array, path: string): SafetyRecord {
  const bad = (why: string) =>
    new NodeError(
      "SAFETY_RECORD_CORRUPT",
      `the safety record ${path} is damaged (${why}). Restore it from a backup. Only if you are sure this ` +
        "validator signed nothing at the heights it covers, delete it and restart: without it the validator may sign twice.",
    );
  if (bytes.length < MAGIC.length + 32 || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) throw bad("bad header");
  const sum = bytes.subarray(MAGIC.length, MAGIC.length + 32);
  const payload = bytes.subarray(MAGIC.length + 32);
  if (!equalBytes(sha256(payload), sum)) throw bad("checksum mismatch");
  try {
    return decodeSafetyRecord(payload);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

/**
 * The safety record in `path`. A node that kept it in its database (before this file existed)
 * has it moved here on first load.
 */
export function createSafetyStore(path: string, legacy?: Database): SafetyStore {
  const save = async (record: SafetyRecord) => {
    const tmp = `${path}.tmp`;
    const h = await open(tmp, "w", 0o600);
    try {
      await h.writeFile(encodeSafetyFile(record));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
    await fsyncDir(dirname(path));
  };
  return {
    async load() {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        const old = await legacy?.get(Columns.consensus, LEGACY_KEY);
        if (old === undefined) return null;
        const record = decodeSafetyRecord(old);
        await save(record);
        await legacy?.batch().del(Columns.consensus, LEGACY_KEY).write({ sync: true });
        return record;
      }
      await rm(`${path}.tmp`, { force: true });
      return decodeSafetyFile(bytes, path);
    },
    save,
  };
}
