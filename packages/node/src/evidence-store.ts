import { decodeEvidence, type Evidence, encodeEvidence, evidenceId } from "@cairn/consensus";
import { concatBytes, utf8 } from "@cairn/crypto";
import { Columns } from "@cairn/ledger";
import type { Database } from "@cairn/storage";

const PREFIX = utf8.encode("evidence/");

/** Equivocation evidence this node has seen, kept in its database so a restart does not forget it. */
export interface EvidenceStore {
  /** Files `e` (once per validator, height, round and vote type); resolves when it is on disk. */
  add(e: Evidence): Promise<void>;
  /** Everything filed, oldest first. */
  list(): readonly Evidence[];
}

export async function createEvidenceStore(db: Database): Promise<EvidenceStore> {
  const kept: Evidence[] = [];
  const ids = new Set<string>();
  for await (const [, value] of db.iterate(Columns.consensus, { prefix: PREFIX })) {
    const e = decodeEvidence(value);
    ids.add(evidenceId(e));
    kept.push(e);
  }
  kept.sort((a, b) => a.first.height - b.first.height || a.first.round - b.first.round);
  return {
    async add(e) {
      const id = evidenceId(e);
      if (ids.has(id)) return;
      ids.add(id);
      kept.push(e);
      await db
        .batch()
        .put(Columns.consensus, concatBytes(PREFIX, utf8.encode(id)), encodeEvidence(e))
        .write({ sync: true });
    },
    list: () => kept,
  };
}
