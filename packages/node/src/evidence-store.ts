import type { EvidenceView } from "@cairn/api";
import {
  type ConsensusEvidence,
  decodeConsensusEvidence,
  encodeConsensusEvidence,
  evidenceAt,
  evidenceAuthor,
  type SignedProposalHeader,
} from "@cairn/consensus";
import { concatBytes, toHex, utf8 } from "@cairn/crypto";
import { Columns } from "@cairn/ledger";
import type { Database } from "@cairn/storage";

const PREFIX = utf8.encode("evidence/");

/**
 * Evidence of validators' misbehaviour this node has seen, kept in its database so a restart does
 * not forget it. One piece per kind, validator and height is enough to prove the fault there, so
 * repeats are dropped; and each validator's pieces of each kind are capped, so a Byzantine
 * validator cannot fill the disk (or the API's answers) with proofs of its own misbehaviour.
 */
export interface EvidenceStore {
  /** Files `e` unless it repeats one kept (or its author's cap is reached); true when filed, once on disk. */
  add(e: ConsensusEvidence): Promise<boolean>;
  /** What is kept, oldest height first, filtered and paged. */
  list(query?: EvidenceQuery): { readonly items: readonly KeptEvidence[]; readonly total: number };
  /** One piece with everything it carries (an invalid proposal's block included). */
  get(id: string): Promise<ConsensusEvidence | undefined>;
  /** Pieces not kept because their validator's cap was reached. */
  readonly dropped: number;
}

export interface EvidenceQuery {
  readonly offset?: number;
  readonly limit?: number;
  /** Hex public key of the validator. */
  readonly validator?: string;
  readonly kind?: ConsensusEvidence["kind"];
}

/** A piece of evidence as listed: an invalid proposal's block is left out (fetch it by id). */
export interface KeptEvidence {
  readonly id: string;
  readonly evidence: ConsensusEvidence;
}

export interface EvidenceStoreOptions {
  /** Pieces kept per validator and kind (default 256). */
  readonly maxPerValidator: number;
}

/** `kind:height:validator`: the one piece kept per kind, validator and height. */
export function evidenceKey(e: ConsensusEvidence): string {
  return `${e.kind}:${evidenceAt(e).height}:${toHex(evidenceAuthor(e))}`;
}

/** The listed form: an invalid proposal without its block (it can be megabytes). */
function summary(e: ConsensusEvidence): ConsensusEvidence {
  return e.kind === "invalid-proposal" ? { ...e, block: new Uint8Array(0) } : e;
}

export async function createEvidenceStore(
  db: Database,
  options: Partial<EvidenceStoreOptions> = {},
): Promise<EvidenceStore> {
  const maxPerValidator = options.maxPerValidator ?? 256;
  const kept = new Map<string, { evidence: ConsensusEvidence; dbKey: Uint8Array }>();
  const perAuthor = new Map<string, number>();
  let dropped = 0;
  const count = (e: ConsensusEvidence) => `${e.kind}:${toHex(evidenceAuthor(e))}`;
  for await (const [key, value] of db.iterate(Columns.consensus, { prefix: PREFIX })) {
    let e: ConsensusEvidence;
    try {
      e = decodeConsensusEvidence(value);
    } catch {
      continue;
    }
    const id = evidenceKey(e);
    if (kept.has(id)) continue;
    kept.set(id, { evidence: summary(e), dbKey: key });
    perAuthor.set(count(e), (perAuthor.get(count(e)) ?? 0) + 1);
  }
  const sorted = () =>
    [...kept.entries()].sort(
      ([, a], [, b]) =>
        evidenceAt(a.evidence).height - evidenceAt(b.evidence).height ||
        evidenceAt(a.evidence).round - evidenceAt(b.evidence).round,
    );
  return {
    async add(e) {
      const id = evidenceKey(e);
      if (kept.has(id)) return false;
      const n = perAuthor.get(count(e)) ?? 0;
      if (n >= maxPerValidator) {
        dropped++;
        return false;
      }
      const dbKey = concatBytes(PREFIX, utf8.encode(id));
      kept.set(id, { evidence: summary(e), dbKey });
      perAuthor.set(count(e), n + 1);
      await db.batch().put(Columns.consensus, dbKey, encodeConsensusEvidence(e)).write({ sync: true });
      return true;
    },
    list(query = {}) {
      const all = sorted().filter(
        ([, k]) =>
          (query.kind === undefined || k.evidence.kind === query.kind) &&
          (query.validator === undefined || toHex(evidenceAuthor(k.evidence)) === query.validator.toLowerCase()),
      );
      const offset = query.offset ?? 0;
      const limit = query.limit ?? all.length;
      return {
        items: all.slice(offset, offset + limit).map(([id, k]) => ({ id, evidence: k.evidence })),
        total: all.length,
      };
    },
    async get(id) {
      const k = kept.get(id);
      if (k === undefined) return undefined;
      const bytes = await db.get(Columns.consensus, k.dbKey);
      return bytes === undefined ? undefined : decodeConsensusEvidence(bytes);
    },
    get dropped() {
      return dropped;
    },
  };
}

/** The API's view of a piece of evidence. */
export function evidenceView(id: string, e: ConsensusEvidence): EvidenceView {
  const { height, round } = evidenceAt(e);
  const base = { id, kind: e.kind, validator: evidenceAuthor(e), height, round };
  if (e.kind === "duplicate-vote") {
    return {
      ...base,
      type: e.first.type,
      votes: [e.first, e.second].map((v) => ({ blockHash: v.blockHash, signature: v.signature })),
    };
  }
  const signed = (p: SignedProposalHeader) => ({
    polRound: p.polRound,
    blockHash: p.blockHash,
    signature: p.signature,
  });
  if (e.kind === "conflicting-proposal") return { ...base, proposals: [signed(e.first), signed(e.second)] };
  return {
    ...base,
    proposals: [signed(e.proposal)],
    reason: e.reason,
    ...(e.block.length > 0 ? { block: e.block } : {}),
  };
}
