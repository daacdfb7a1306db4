import { equalBytes, merkleRoot, sha256, toHex } from "@cairn/crypto";
import {
  asArray,
  asBytes,
  asUint,
  type Block,
  blockHash,
  decode,
  decodeBlock,
  decodeTransaction,
  encode,
  encodeCommit,
  MessagingError,
  txSigningBytes,
  type Value,
  ZERO_HASH,
} from "@cairn/messaging";
import type { VerifyFn } from "../commit.ts";
import { type Proposal, proposalSigningBytes, voteBytes, voteFromValue, voteToValue } from "./messages.ts";
import type { Evidence } from "./vote-set.ts";

// Evidence of a validator's misbehaviour, as stored and served. Each kind carries what its author
// signed, so anyone holding the validator set can check it without trusting the node that kept it:
// - duplicate-vote: two conflicting votes for one height, round and type;
// - conflicting-proposal: two different proposals for one height and round;
// - invalid-proposal: a signed proposal with its block, and the rule the block breaks.

/** A proposal without its block: exactly the fields its signature covers, and the signature. */
export interface SignedProposalHeader {
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly blockHash: Uint8Array;
  readonly proposer: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Why a signed proposal is invalid. The first group anyone can check from the evidence alone; the
 * second needs the chain up to the parent (`InvalidProposalContext`).
 */
export const InvalidProposalReason = {
  /** The header's height is not the proposal's. */
  wrongHeight: "WRONG_HEIGHT",
  /** More transactions than the chain's maxBlockTxs. */
  tooManyTxs: "TOO_MANY_TXS",
  /** More transaction bytes than the chain's maxBlockBytes. */
  tooManyBytes: "TOO_MANY_BYTES",
  /** A transaction signature in the block does not verify. */
  badTxSignature: "BAD_TX_SIGNATURE",
  /** The block is older than its parent. */
  timeBeforeParent: "TIME_BEFORE_PARENT",
  /** The header does not link to the committed parent block. */
  badParent: "BAD_PARENT",
  /** Executing the block on the parent's state gives another block (state root, receipts...). */
  badExecution: "BAD_EXECUTION",
  /** The certificate of the parent it carries does not verify. */
  badLastCommit: "BAD_LAST_COMMIT",
} as const;
export type InvalidProposalReason = (typeof InvalidProposalReason)[keyof typeof InvalidProposalReason];

const STATELESS: ReadonlySet<string> = new Set([
  InvalidProposalReason.wrongHeight,
  InvalidProposalReason.tooManyTxs,
  InvalidProposalReason.tooManyBytes,
  InvalidProposalReason.badTxSignature,
]);

export type ConsensusEvidence =
  | ({ readonly kind: "duplicate-vote" } & Evidence)
  | {
      readonly kind: "conflicting-proposal";
      readonly first: SignedProposalHeader;
      readonly second: SignedProposalHeader;
    }
  | {
      readonly kind: "invalid-proposal";
      readonly proposal: SignedProposalHeader;
      /** The encoded block; its header hashes to `proposal.blockHash`. */
      readonly block: Uint8Array;
      readonly reason: InvalidProposalReason;
    };

export function proposalHeader(p: Proposal | SignedProposalHeader): SignedProposalHeader {
  return {
    height: p.height,
    round: p.round,
    polRound: p.polRound,
    blockHash: p.blockHash,
    proposer: p.proposer,
    signature: p.signature,
  };
}

/** The validator the evidence is against. */
export function evidenceAuthor(e: ConsensusEvidence): Uint8Array {
  if (e.kind === "duplicate-vote") return e.first.validator;
  if (e.kind === "conflicting-proposal") return e.first.proposer;
  return e.proposal.proposer;
}

/** The height and round the misbehaviour happened at. */
export function evidenceAt(e: ConsensusEvidence): { height: number; round: number } {
  const x = e.kind === "invalid-proposal" ? e.proposal : e.first;
  return { height: x.height, round: x.round };
}

function headerToValue(p: SignedProposalHeader): Value {
  return [p.height, p.round, p.polRound, p.blockHash, p.proposer, p.signature];
}

function headerFromValue(v: Value, field: string): SignedProposalHeader {
  const f = asArray(v, field, 6);
  const pr = f[2] as Value;
  return {
    height: asUint(f[0] as Value, `${field}.height`),
    round: asUint(f[1] as Value, `${field}.round`, 0xffffffff),
    polRound: pr === -1 ? -1 : asUint(pr, `${field}.polRound`, 0xffffffff),
    blockHash: asBytes(f[3] as Value, `${field}.blockHash`, 32),
    proposer: asBytes(f[4] as Value, `${field}.proposer`, 32),
    signature: asBytes(f[5] as Value, `${field}.signature`, 64),
  };
}

const KIND_TAG = { "duplicate-vote": 1, "conflicting-proposal": 2, "invalid-proposal": 3 } as const;

/**
 * canonical([1, vote, vote]), canonical([2, proposal, proposal]) or canonical([3, proposal, block,
 * reason]). The older form of duplicate-vote evidence, canonical([vote, vote]), still decodes.
 */
export function encodeConsensusEvidence(e: ConsensusEvidence): Uint8Array {
  if (e.kind === "duplicate-vote") return encode([KIND_TAG[e.kind], voteToValue(e.first), voteToValue(e.second)]);
  if (e.kind === "conflicting-proposal")
    return encode([KIND_TAG[e.kind], headerToValue(e.first), headerToValue(e.second)]);
  return encode([KIND_TAG[e.kind], headerToValue(e.proposal), e.block, e.reason]);
}

export function decodeConsensusEvidence(bytes: Uint8Array): ConsensusEvidence {
  const v = decode(bytes);
  const f = asArray(v, "evidence");
  if (f.length === 2) return { kind: "duplicate-vote", first: voteFromValue(f[0]!), second: voteFromValue(f[1]!) };
  const tag = f[0];
  if (tag === 1 && f.length === 3)
    return { kind: "duplicate-vote", first: voteFromValue(f[1]!), second: voteFromValue(f[2]!) };
  if (tag === 2 && f.length === 3) {
    return {
      kind: "conflicting-proposal",
      first: headerFromValue(f[1]!, "evidence.first"),
      second: headerFromValue(f[2]!, "evidence.second"),
    };
  }
  if (tag === 3 && f.length === 4) {
    const reason = f[3];
    if (typeof reason !== "string" || !Object.values(InvalidProposalReason).includes(reason as InvalidProposalReason))
      throw new MessagingError("BAD_FIELD", "evidence.reason is not a known reason");
    return {
      kind: "invalid-proposal",
      proposal: headerFromValue(f[1]!, "evidence.proposal"),
      block: asBytes(f[2]!, "evidence.block"),
      reason: reason as InvalidProposalReason,
    };
  }
  throw new MessagingError("BAD_FIELD", "evidence tag must be 1, 2 or 3 with its fields");
}

/** Duplicate-vote evidence in its original encoding: canonical([vote, vote]). */
export function encodeEvidence(e: Evidence): Uint8Array {
  return encode([voteToValue(e.first), voteToValue(e.second)]);
}

export function decodeEvidence(bytes: Uint8Array): Evidence {
  const f = asArray(decode(bytes), "evidence", 2);
  return { first: voteFromValue(f[0]!), second: voteFromValue(f[1]!) };
}

/** The key duplicate-vote evidence is filed under: one piece per validator, height, round and vote type. */
export function evidenceId(e: Evidence): string {
  const v = e.first;
  return `${v.height}/${v.round}/${v.type}/${toHex(v.validator)}`;
}

/**
 * True when `e` proves an equivocation on `chainId`: two votes by one validator for the same
 * height, round and type, for different blocks, both signed by that validator.
 */
export function verifyEvidence(chainId: string, e: Evidence, verify: VerifyFn): boolean {
  const { first: a, second: b } = e;
  if (!equalBytes(a.validator, b.validator)) return false;
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) return false;
  if (equalBytes(a.blockHash, b.blockHash)) return false;
  return [a, b].every((v) => verify(v.signature, voteBytes(chainId, v), v.validator));
}

function proposalSigned(chainId: string, p: SignedProposalHeader, verify: VerifyFn): boolean {
  return verify(p.signature, proposalSigningBytes({ chainId, ...p }), p.proposer);
}

/**
 * Whether a block's body (transactions and parent certificate) is the one its header commits to.
 * The proposer signs only the header's hash, so a body that does not match may have been swapped
 * by whoever relayed it: such a block proves nothing against the proposer.
 */
export function bodyMatchesHeader(block: Block): boolean {
  const h = block.header;
  if (!equalBytes(merkleRoot(block.txs), h.txRoot)) return false;
  const lc = block.lastCommit === null ? ZERO_HASH : sha256(encodeCommit(block.lastCommit));
  return equalBytes(lc, h.lastCommitHash);
}

/** What checking evidence against the chain needs (only for BAD_PARENT, BAD_EXECUTION, BAD_LAST_COMMIT, TIME_BEFORE_PARENT). */
export interface InvalidProposalContext {
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /** The committed block of `height` (hash and time), if this checker has it. */
  parent?(height: number): { readonly hash: Uint8Array; readonly time: number } | undefined;
  /** Re-checks the block against the parent's state: true when the rule `reason` is indeed broken. */
  breaks?(block: Uint8Array, reason: InvalidProposalReason): boolean | Promise<boolean>;
}

/**
 * Checks any kind of evidence. Duplicate votes and conflicting proposals need only the signatures;
 * an invalid proposal needs the proposer's signature over a header that hashes to the signed block
 * hash, then the broken rule: re-checked from the block for WRONG_HEIGHT, TOO_MANY_TXS and
 * BAD_TX_SIGNATURE, and with `ctx` for the rules that need the chain (false without it).
 */
export async function verifyConsensusEvidence(
  chainId: string,
  e: ConsensusEvidence,
  verify: VerifyFn,
  ctx?: InvalidProposalContext,
): Promise<boolean> {
  if (e.kind === "duplicate-vote") return verifyEvidence(chainId, e, verify);
  if (e.kind === "conflicting-proposal") {
    const { first: a, second: b } = e;
    if (!equalBytes(a.proposer, b.proposer) || a.height !== b.height || a.round !== b.round) return false;
    if (equalBytes(a.blockHash, b.blockHash) && a.polRound === b.polRound) return false;
    return proposalSigned(chainId, a, verify) && proposalSigned(chainId, b, verify);
  }
  const p = e.proposal;
  if (!proposalSigned(chainId, p, verify)) return false;
  let block: ReturnType<typeof decodeBlock>;
  try {
    block = decodeBlock(e.block);
  } catch {
    return false;
  }
  const h = block.header;
  if (!equalBytes(blockHash(h), p.blockHash)) return false;
  if (!bodyMatchesHeader(block)) return false;
  switch (e.reason) {
    case InvalidProposalReason.wrongHeight:
      return h.height !== p.height;
    case InvalidProposalReason.tooManyTxs:
      return ctx !== undefined && h.txCount > ctx.maxBlockTxs;
    case InvalidProposalReason.tooManyBytes:
      return ctx !== undefined && block.txs.reduce((n, t) => n + t.length, 0) > ctx.maxBlockBytes;
    case InvalidProposalReason.badTxSignature:
      try {
        return block.txs.some((bytes) => {
          const t = decodeTransaction(bytes);
          return !verify(t.signature, txSigningBytes(t.body), t.tx.sender);
        });
      } catch {
        return true; // an undecodable transaction is as invalid as a forged one
      }
    default: {
      if (STATELESS.has(e.reason) || ctx === undefined) return false;
      if (e.reason === InvalidProposalReason.badParent || e.reason === InvalidProposalReason.timeBeforeParent) {
        const parent = ctx.parent?.(p.height - 1);
        if (parent === undefined) return false;
        return e.reason === InvalidProposalReason.badParent
          ? !equalBytes(parent.hash, h.prevHash)
          : h.time < parent.time;
      }
      return (await ctx.breaks?.(e.block, e.reason)) === true;
    }
  }
}
