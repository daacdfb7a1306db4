import { HASH_LENGTH } from "@cairn/crypto";
import { asArray, asBytes, asUint, decode, encode, MessagingError, type Value } from "@cairn/messaging";
import { type Vote, voteFromValue, voteToValue } from "./messages.ts";

/** A block the machine holds on to across rounds (the lock, or the valid value). */
export interface HeldBlock {
  readonly round: number;
  readonly hash: Uint8Array;
  readonly block: Uint8Array;
}

/**
 * What a validator must remember across a crash so it never signs two different votes (or
 * proposals) for one height, round and type, and never forgets its lock. The host stores each
 * `persist` effect durably before carrying out the effects after it.
 */
export interface SafetyRecord {
  readonly height: number;
  /** The lock: lockedValue and lockedRound of the paper, or null (lockedRound = -1). */
  readonly locked: HeldBlock | null;
  /** validValue and validRound of the paper, or null. */
  readonly valid: HeldBlock | null;
  /** Every vote this validator signed at `height`. */
  readonly votes: readonly Vote[];
  /** Every proposal this validator signed at `height`: its round and block hash. */
  readonly proposals: readonly { readonly round: number; readonly blockHash: Uint8Array }[];
}

function heldToValue(b: HeldBlock | null): Value {
  return b === null ? null : [b.round, b.hash, b.block];
}

function heldFromValue(v: Value, field: string): HeldBlock | null {
  if (v === null) return null;
  const f = asArray(v, field, 3);
  return {
    round: asUint(f[0] as Value, `${field}.round`),
    hash: asBytes(f[1] as Value, `${field}.hash`, HASH_LENGTH),
    block: asBytes(f[2] as Value, `${field}.block`),
  };
}

/** canonical([height, locked | nil, valid | nil, [vote, ...], [[round, blockHash], ...]]). */
export function encodeSafetyRecord(r: SafetyRecord): Uint8Array {
  return encode([
    r.height,
    heldToValue(r.locked),
    heldToValue(r.valid),
    r.votes.map(voteToValue),
    r.proposals.map((p) => [p.round, p.blockHash]),
  ]);
}

export function decodeSafetyRecord(bytes: Uint8Array): SafetyRecord {
  const f = asArray(decode(bytes), "record", 5);
  const height = asUint(f[0] as Value, "record.height");
  const votes = asArray(f[3] as Value, "record.votes").map(voteFromValue);
  if (votes.some((v) => v.height !== height))
    throw new MessagingError("BAD_FIELD", "record.votes must be at its height");
  return {
    height,
    locked: heldFromValue(f[1] as Value, "record.locked"),
    valid: heldFromValue(f[2] as Value, "record.valid"),
    votes,
    proposals: asArray(f[4] as Value, "record.proposals").map((p, i) => {
      const g = asArray(p, `record.proposals[${i}]`, 2);
      return {
        round: asUint(g[0] as Value, `record.proposals[${i}].round`),
        blockHash: asBytes(g[1] as Value, `record.proposals[${i}].blockHash`, HASH_LENGTH),
      };
    }),
  };
}
