import { decodeSafetyRecord, encodeSafetyRecord, type SafetyRecord, type SafetyStore } from "@cairn/consensus";
import { Columns } from "@cairn/ledger";
import type { Database } from "@cairn/storage";

const KEY = new TextEncoder().encode("safety");

/**
 * The BFT safety record in the node's database, written with fsync: `save` resolves only when a
 * crash can no longer lose it, which is what lets a validator broadcast the vote it records.
 */
export function createSafetyStore(db: Database): SafetyStore {
  return {
    async load() {
      const b = await db.get(Columns.consensus, KEY);
      return b === undefined ? null : decodeSafetyRecord(b);
    },
    async save(record: SafetyRecord) {
      await db.batch().put(Columns.consensus, KEY, encodeSafetyRecord(record)).write({ sync: true });
    },
  };
}
