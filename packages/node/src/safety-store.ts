import { type FileHandle, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeSafetyRecord, encodeSafetyRecord, type SafetyRecord, type SafetyStore } from "@cairn/consensus";
import { concatBytes, equalBytes, sha256, utf8 } from "@cairn/crypto";
import { Columns } from "@cairn/ledger";
import type { Database } from "@cairn/storage";
import { NodeError } from "./errors.ts";

// The validator's safety record (what it last signed, and its lock) lives in its own file, apart
// from the chain database, as CometBFT's priv_validator_state: a damaged write-ahead log that rolls
// the database back must not roll back what this validator signed, or it could sign twice.
//
// The file is a log (docs/consensus.md, "The safety record on disk"): a header, then a frame per
// save, the record being the last complete frame. A save appends and fdatasyncs: one write and one
// sync, where writing a new file, renaming it and syncing the directory cost four times the I/O and
// queued each step behind LevelDB in libuv's pool (the step's vote waits for the save). A process's
// first save, and the first once the log passes `rewriteBytes`, writes a new file (temporary name,
// fsync, rename, directory fsync), so a torn frame can only be the last one: one that runs past the
// end of the file or lacks its closing length was never synced, and is ignored. A complete frame
// whose checksum does not match is damage. (Synchronous writes were tried: they freeze the whole
// node while the disk is busy, and latency at 370 tx/s was worse than with these two async calls.)

const MAGIC = utf8.encode("CAIRN-SAFETY-2\n");
/** The format before the log: "CAIRN-SAFETY-1\n" ‖ SHA-256(payload) ‖ payload, one record per file. */
const MAGIC_V1 = utf8.encode("CAIRN-SAFETY-1\n");
const LEGACY_KEY = utf8.encode("safety");
const FRAME_OVERHEAD = 4 + 32 + 4;

export interface SafetyStoreOptions {
  /** Once the log is larger than this, the next save starts a new file (default 16 MiB). */
  readonly rewriteBytes?: number;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function frame(record: SafetyRecord): Uint8Array {
  const payload = encodeSafetyRecord(record);
  return concatBytes(u32(payload.length), sha256(payload), payload, u32(payload.length));
}

/** A whole safety file holding one record (the format `save` starts every new file with). */
export function encodeSafetyFile(record: SafetyRecord): Uint8Array {
  return concatBytes(MAGIC, frame(record));
}

function damaged(path: string, why: string): NodeError {
  return new NodeError(
    "SAFETY_RECORD_CORRUPT",
    `the safety record ${path} is damaged (${why}). Restore it from a backup. Only if you are sure this ` +
      "validator signed nothing at the heights it covers, delete it and restart: without it the validator may sign twice.",
  );
}

function decodePayload(payload: Uint8Array, path: string): SafetyRecord {
  try {
    return decodeSafetyRecord(payload);
  } catch (err) {
    throw damaged(path, (err as Error).message);
  }
}

/** The record a safety file holds: its last complete frame (or, in the old format, its one record). */
export function decodeSafetyFile(bytes: Uint8Array, path: string): SafetyRecord {
  const starts = (magic: Uint8Array) =>
    bytes.length >= magic.length && equalBytes(bytes.subarray(0, magic.length), magic);
  if (starts(MAGIC_V1) && bytes.length >= MAGIC_V1.length + 32) {
    const payload = bytes.subarray(MAGIC_V1.length + 32);
    if (!equalBytes(sha256(payload), bytes.subarray(MAGIC_V1.length, MAGIC_V1.length + 32))) {
      throw damaged(path, "checksum mismatch");
    }
    return decodePayload(payload, path);
  }
  if (!starts(MAGIC)) throw damaged(path, "bad header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let last: SafetyRecord | undefined;
  let off = MAGIC.length;
  while (off < bytes.length) {
    if (bytes.length - off < FRAME_OVERHEAD) break; // an append cut short
    const n = view.getUint32(off);
    const end = off + FRAME_OVERHEAD + n;
    if (end > bytes.length) break; // an append cut short
    if (view.getUint32(end - 4) !== n) {
      if (end === bytes.length) break; // an append whose last bytes never reached the disk
      throw damaged(path, "bad frame length");
    }
    const payload = bytes.subarray(off + 36, end - 4);
    if (!equalBytes(sha256(payload), bytes.subarray(off + 4, off + 36))) throw damaged(path, "checksum mismatch");
    last = decodePayload(payload, path);
    off = end;
  }
  // A file's first frame is written whole before the file gets its name: no record is damage.
  if (last === undefined) throw damaged(path, "no complete record");
  return last;
}

async function writeAll(h: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += (await h.write(bytes, off, bytes.length - off, position + off)).bytesWritten;
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, "r");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * The safety record in `path`. A node that kept it in its database (before this file existed)
 * has it moved here on first load.
 */
export function createSafetyStore(
  path: string,
  legacy?: Database,
  options: SafetyStoreOptions = {},
): SafetyStore & { close(): Promise<void> } {
  const rewriteBytes = options.rewriteBytes ?? 16 * 1024 * 1024;
  // The open log and where the next frame goes; undefined until this process's first save.
  let log: { handle: FileHandle; end: number } | undefined;

  const close = async () => {
    if (log === undefined) return;
    const { handle } = log;
    log = undefined;
    await handle.close();
  };

  /** A new file holding only `record`: written and synced under a temporary name, then renamed. */
  const rewrite = async (record: SafetyRecord) => {
    await close();
    const tmp = `${path}.tmp`;
    const bytes = encodeSafetyFile(record);
    const h = await open(tmp, "w", 0o600);
    try {
      await writeAll(h, bytes, 0);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
    await fsyncDir(dirname(path));
    log = { handle: await open(path, "r+"), end: bytes.length };
  };

  const save = async (record: SafetyRecord) => {
    if (log === undefined || log.end > rewriteBytes) {
      await rewrite(record);
      return;
    }
    const bytes = frame(record);
    try {
      await writeAll(log.handle, bytes, log.end);
      await log.handle.datasync();
    } catch (err) {
      // The log may now end in a partial frame: the next save (if any) starts a new file.
      await close().catch(() => {});
      throw err;
    }
    log.end += bytes.length;
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
    close,
  };
}
