import { concatBytes, equalBytes, HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, utf8 } from "@cairn/crypto";
import {
  asArray,
  asBytes,
  asUint,
  decode,
  encode,
  MAX_ENCODED_BLOCK_BYTES,
  MessagingError,
  type Value,
  VoteType,
  voteSigningBytes,
  ZERO_HASH,
} from "@cairn/messaging";

/** Prefix of the bytes a proposal signature covers; distinct from votes and transactions. */
export const PROPOSAL_SIGN_DOMAIN = utf8.encode("CAIRN_PROPOSAL_V1\0");

/** ⟨PROPOSAL, height, round, v, validRound⟩ of the paper, signed by proposer(height, round). */
export interface Proposal {
  readonly height: number;
  readonly round: number;
  /** The round of the polka that justifies re-proposing `block`, or -1. */
  readonly polRound: number;
  readonly blockHash: Uint8Array;
  readonly block: Uint8Array;
  readonly proposer: Uint8Array;
  readonly signature: Uint8Array;
}

/** A prevote or precommit; `blockHash` is 32 zero bytes for nil. */
export interface Vote {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly validator: Uint8Array;
  readonly signature: Uint8Array;
}

export type ConsensusMessage =
  | { readonly kind: "proposal"; readonly proposal: Proposal }
  | { readonly kind: "vote"; readonly vote: Vote };

export const NIL_HASH = ZERO_HASH;

export function isNil(hash: Uint8Array): boolean {
  return equalBytes(hash, ZERO_HASH);
}

/** "CAIRN_PROPOSAL_V1" ‖ 0x00 ‖ canonical([chainId, height, round, polRound, blockHash]). */
export function proposalSigningBytes(p: {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly blockHash: Uint8Array;
}): Uint8Array {
  return concatBytes(PROPOSAL_SIGN_DOMAIN, encode([p.chainId, p.height, p.round, p.polRound, p.blockHash]));
}

export function voteBytes(chainId: string, v: Omit<Vote, "validator" | "signature">): Uint8Array {
  return voteSigningBytes({ chainId, height: v.height, round: v.round, type: v.type, blockHash: v.blockHash });
}

export interface SignFn {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function signProposal(
  chainId: string,
  signer: SignFn,
  p: { height: number; round: number; polRound: number; blockHash: Uint8Array; block: Uint8Array },
): Proposal {
  const signature = signer.sign(proposalSigningBytes({ chainId, ...p }));
  return { ...p, proposer: signer.publicKey, signature };
}

export function signVote(
  chainId: string,
  signer: SignFn,
  v: { type: VoteType; height: number; round: number; blockHash: Uint8Array },
): Vote {
  return { ...v, validator: signer.publicKey, signature: signer.sign(voteBytes(chainId, v)) };
}

function asRound(v: Value, field: string): number {
  return asUint(v, field, 0xffffffff);
}

export function proposalToValue(p: Proposal): Value {
  return [p.height, p.round, p.polRound, p.blockHash, p.block, p.proposer, p.signature];
}

export function proposalFromValue(v: Value): Proposal {
  const f = asArray(v, "proposal", 7);
  const round = asRound(f[1] as Value, "proposal.round");
  const pr = f[2] as Value;
  // -1 is the only negative value allowed: "no polka".
  const polRound = pr === -1 ? -1 : asRound(pr, "proposal.polRound");
  if (polRound >= round) throw new MessagingError("BAD_FIELD", "proposal.polRound must be below proposal.round");
  const blockHash = asBytes(f[3] as Value, "proposal.blockHash", HASH_LENGTH);
  if (isNil(blockHash)) throw new MessagingError("BAD_FIELD", "proposal.blockHash must not be nil");
  const block = asBytes(f[4] as Value, "proposal.block");
  if (block.length > MAX_ENCODED_BLOCK_BYTES) throw new MessagingError("BAD_FIELD", "proposal.block is too large");
  return {
    height: asUint(f[0] as Value, "proposal.height"),
    round,
    polRound,
    blockHash,
    block,
    proposer: asBytes(f[5] as Value, "proposal.proposer", PUBLIC_KEY_LENGTH),
    signature: asBytes(f[6] as Value, "proposal.signature", SIGNATURE_LENGTH),
  };
}

export function voteToValue(v: Vote): Value {
  return [v.type, v.height, v.round, v.blockHash, v.validator, v.signature];
}

export function voteFromValue(v: Value): Vote {
  const f = asArray(v, "vote", 6);
  const type = asUint(f[0] as Value, "vote.type");
  if (type !== VoteType.prevote && type !== VoteType.precommit) {
    throw new MessagingError("BAD_FIELD", "vote.type must be 1 (prevote) or 2 (precommit)");
  }
  return {
    type,
    height: asUint(f[1] as Value, "vote.height"),
    round: asRound(f[2] as Value, "vote.round"),
    blockHash: asBytes(f[3] as Value, "vote.blockHash", HASH_LENGTH),
    validator: asBytes(f[4] as Value, "vote.validator", PUBLIC_KEY_LENGTH),
    signature: asBytes(f[5] as Value, "vote.signature", SIGNATURE_LENGTH),
  };
}

export function encodeProposal(p: Proposal): Uint8Array {
  return encode(proposalToValue(p));
}

export function decodeProposal(bytes: Uint8Array): Proposal {
  return proposalFromValue(decode(bytes));
}

export function encodeVote(v: Vote): Uint8Array {
  return encode(voteToValue(v));
}

export function decodeVote(bytes: Uint8Array): Vote {
  return voteFromValue(decode(bytes));
}

const TAG_PROPOSAL = 1;
const TAG_VOTE = 2;

/** The gossip envelope: canonical([1, proposal]) or canonical([2, vote]). */
export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return encode(m.kind === "proposal" ? [TAG_PROPOSAL, proposalToValue(m.proposal)] : [TAG_VOTE, voteToValue(m.vote)]);
}

export function decodeConsensusMessage(bytes: Uint8Array): ConsensusMessage {
  const f = asArray(decode(bytes), "message", 2);
  const tag = f[0];
  if (tag === TAG_PROPOSAL) return { kind: "proposal", proposal: proposalFromValue(f[1] as Value) };
  if (tag === TAG_VOTE) return { kind: "vote", vote: voteFromValue(f[1] as Value) };
  throw new MessagingError("BAD_FIELD", "message tag must be 1 (proposal) or 2 (vote)");
}
