import type { HardState, RaftEntry, RaftStore } from "@cairn/consensus";
import { utf8 } from "@cairn/crypto";
import { Columns } from "@cairn/ledger";
import { asArray, asBytes, asUint, blockHash, decode, decodeBlock, encode, type Value } from "@cairn/messaging";
import type { Database } from "@cairn/storage";

// Raft's persistent state in the node's database (column `consensus`): the hard state (term and
// vote) under one key, each log entry above the committed head under its height. Every save is one
// LevelDB batch written with fsync, so a node killed at any moment has either all of it or none:
// it never votes twice in a term, and never forgets an entry it acknowledged.

const HARD_KEY = utf8.encode("raft/hard");
const LOG_PREFIX = utf8.encode("raft/log/");

/** "raft/log/" ‖ u64be(height): keys in height order. */
function logKey(height: number): Uint8Array {
  const k = new Uint8Array(LOG_PREFIX.length + 8);
  k.set(LOG_PREFIX);
  new DataView(k.buffer).setBigUint64(LOG_PREFIX.length, BigInt(height));
  return k;
}

function heightOf(key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(LOG_PREFIX.length));
}

function encodeHard(h: HardState): Uint8Array {
  return encode([h.term, h.votedFor]);
}

function decodeHard(b: Uint8Array): HardState {
  const f = asArray(decode(b), "raft hard state", 2);
  return {
    term: asUint(f[0] as Value, "term"),
    votedFor: f[1] === null ? null : asBytes(f[1] as Value, "votedFor", 32),
  };
}

function decodeEntry(height: number, b: Uint8Array): RaftEntry {
  const f = asArray(decode(b), "raft entry", 2);
  const bytes = asBytes(f[1] as Value, "block");
  const block = decodeBlock(bytes);
  return {
    height,
    term: asUint(f[0] as Value, "term"),
    hash: blockHash(block.header),
    block: bytes,
    lastCommit: block.lastCommit,
  };
}

export function createRaftStore(db: Database): RaftStore {
  const entries = async (): Promise<RaftEntry[]> => {
    const out: RaftEntry[] = [];
    for await (const [k, v] of db.iterate(Columns.consensus, { prefix: LOG_PREFIX })) {
      out.push(decodeEntry(heightOf(k), v));
    }
    return out;
  };
  return {
    async load() {
      const hard = await db.get(Columns.consensus, HARD_KEY);
      const log = await entries();
      if (hard === undefined && log.length === 0) return null;
      return { hard: hard === undefined ? { term: 0, votedFor: null } : decodeHard(hard), entries: log };
    },
    async save(hard, truncateFrom, append) {
      const batch = db.batch();
      batch.put(Columns.consensus, HARD_KEY, encodeHard(hard));
      if (truncateFrom !== undefined) {
        for (const e of await entries()) if (e.height >= truncateFrom) batch.del(Columns.consensus, logKey(e.height));
      }
      for (const e of append) batch.put(Columns.consensus, logKey(e.height), encode([e.term, e.block]));
      await batch.write({ sync: true });
    },
    async compact(height) {
      const batch = db.batch();
      let any = false;
      for (const e of await entries()) {
        if (e.height > height) break;
        batch.del(Columns.consensus, logKey(e.height));
        any = true;
      }
      // Not fsynced: an entry that survives a crash is below the head and dropped at the next start.
      if (any) await batch.write({ sync: false });
    },
  };
}
