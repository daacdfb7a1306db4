import { concatBytes, HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sha256, utf8 } from "@cairn/crypto";
import { decode, encode, type Value } from "./codec.ts";
import { asArray, asBytes, asString, asUint } from "./schema.ts";

/** Prefix of the bytes a vote signature covers. */
export const VOTE_SIGN_DOMAIN = utf8.encode("CAIRN_VOTE_V1\0");

export const VoteType = { prevote: 1, precommit: 2 } as const;
export type VoteType = (typeof VoteType)[keyof typeof VoteType];

/** What a validator signs when it votes for a block (or for nothing: an all-zero hash). */
export interface VoteData {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly type: VoteType;
  readonly blockHash: Uint8Array;
}

export function voteSigningBytes(v: VoteData): Uint8Array {
  return concatBytes(VOTE_SIGN_DOMAIN, encode([v.chainId, v.height, v.round, v.type, v.blockHash]));
}

/**
 * The consensus engine a chain runs, fixed in its genesis. It decides what a commit certificate is:
 * Tendermint's holds precommits from more than two thirds of the voting power; Raft's holds
 * acknowledgements (the block is stored, in the leader's term) from more than half of it.
 */
export type ConsensusKind = "tendermint" | "raft";
export const CONSENSUS_KINDS: readonly ConsensusKind[] = ["tendermint", "raft"];

/** The vote type a Raft validator signs when it has durably stored a block in a term (never a Tendermint vote). */
export const RAFT_ACK = 3;

/** The bytes each signature of a `kind` certificate covers (`round` is Raft's term). */
export function certificateSigningBytes(
  kind: ConsensusKind,
  c: { readonly chainId: string; readonly height: number; readonly round: number; readonly blockHash: Uint8Array },
): Uint8Array {
  const type = kind === "raft" ? RAFT_ACK : VoteType.precommit;
  return concatBytes(VOTE_SIGN_DOMAIN, encode([c.chainId, c.height, c.round, type, c.blockHash]));
}

/** Voting power a `kind` certificate needs out of `total`: more than two thirds, or (Raft) more than half. */
export function certificateQuorum(kind: ConsensusKind, total: number): number {
  return kind === "raft" ? Math.floor(total / 2) + 1 : Math.floor((total * 2) / 3) + 1;
}

/** One validator's precommit signature inside a commit certificate. */
export interface CommitSignature {
  readonly validator: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * A commit certificate: precommit signatures over one block hash from validators holding more than
 * two thirds of the voting power (Raft: acknowledgements from more than half, `round` being the
 * leader's term; see ConsensusKind). Anyone holding the validator set can check it.
 */
export interface Commit {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];
}

export function commitToValue(c: Commit): Value {
  return [c.height, c.round, c.blockHash, c.signatures.map((s) => [s.validator, s.signature])];
}

export function commitFromValue(v: Value): Commit {
  const f = asArray(v, "commit", 4);
  return {
    height: asUint(f[0] as Value, "commit.height"),
    round: asUint(f[1] as Value, "commit.round"),
    blockHash: asBytes(f[2] as Value, "commit.blockHash", HASH_LENGTH),
    signatures: asArray(f[3] as Value, "commit.signatures").map((s, i) => {
      const p = asArray(s, `commit.signatures[${i}]`, 2);
      return {
        validator: asBytes(p[0] as Value, `commit.signatures[${i}].validator`, PUBLIC_KEY_LENGTH),
        signature: asBytes(p[1] as Value, `commit.signatures[${i}].signature`, SIGNATURE_LENGTH),
      };
    }),
  };
}

export function encodeCommit(c: Commit): Uint8Array {
  return encode(commitToValue(c));
}

export function decodeCommit(bytes: Uint8Array): Commit {
  return commitFromValue(decode(bytes));
}

/** A validator and its voting power. */
export interface Validator {
  readonly publicKey: Uint8Array;
  readonly power: number;
  readonly name: string;
}

/** Hash committed to by every header: SHA-256 of the canonical [[publicKey, power], ...] in set order. */
export function validatorsHash(validators: readonly Validator[]): Uint8Array {
  return sha256(encode(validators.map((v) => [v.publicKey, v.power])));
}

export function checkValidator(v: Validator, i: number): Validator {
  asBytes(v.publicKey, `validators[${i}].publicKey`, PUBLIC_KEY_LENGTH);
  asUint(v.power, `validators[${i}].power`, 0xffffffff);
  asString(v.name, `validators[${i}].name`, 64);
  return v;
}
