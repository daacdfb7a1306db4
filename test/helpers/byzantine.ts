// Building what a Byzantine validator sends: votes and proposals signed with its real key (or with
// a garbage signature), and blocks that break one rule each. Used by the in-process engine tests
// and by the misbehaving validator process (byzantine-validator.ts).
import { randomBytes } from "node:crypto";
import {
  encodeConsensusMessage,
  type Proposal,
  type SignedProposalHeader,
  signProposal,
  signVote,
  type Vote,
} from "@cairn/consensus";
import { generateKeyPair, merkleRoot, sha256 } from "@cairn/crypto";
import {
  blockHash,
  type Commit,
  encodeBlock,
  encodeCommit,
  type SignedTransaction,
  signTransaction,
  VoteType,
  withSignature,
  ZERO_HASH,
} from "@cairn/messaging";

export interface ByzSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

const random = (n: number) => new Uint8Array(randomBytes(n));

/** A signer whose signatures are 64 random bytes: what a peer without the key can send. */
export function garbageSigner(publicKey: Uint8Array): ByzSigner {
  return { publicKey, sign: () => random(64) };
}

export function voteMessage(
  chainId: string,
  signer: ByzSigner,
  v: { type?: VoteType; height: number; round: number; blockHash?: Uint8Array },
): Uint8Array {
  const vote: Vote = signVote(chainId, signer, {
    type: v.type ?? VoteType.prevote,
    height: v.height,
    round: v.round,
    blockHash: v.blockHash ?? random(32),
  });
  return encodeConsensusMessage({ kind: "vote", vote });
}

export interface BlockSpec {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  /** The committed parent (hash and time) and its certificate (null at height 1). */
  readonly parent: { readonly hash: Uint8Array; readonly time: number };
  readonly lastCommit: Commit | null;
  readonly txs?: readonly Uint8Array[];
  /** The header's height, when it should lie. */
  readonly headerHeight?: number;
  readonly time?: number;
  /** Padding bytes in a transaction-free block are impossible; `padTo` adds a large junk tx. */
  readonly padTo?: number;
}

/**
 * A proposal whose header is internally consistent (its txRoot and lastCommitHash match its body,
 * and its hash is the one signed) but whose state root is made up: it passes every check before
 * execution, and execution then shows it is invalid (BAD_EXECUTION) unless an earlier rule trips.
 */
export function proposal(signer: ByzSigner, spec: BlockSpec): Proposal {
  const txs = [...(spec.txs ?? [])];
  if (spec.padTo !== undefined) txs.push(random(spec.padTo));
  const header = {
    chainId: spec.chainId,
    height: spec.headerHeight ?? spec.height,
    time: spec.time ?? Math.max(Date.now(), spec.parent.time),
    prevHash: spec.parent.hash,
    txRoot: merkleRoot(txs),
    stateRoot: random(32),
    receiptRoot: random(32),
    lastCommitHash: spec.lastCommit === null ? ZERO_HASH : sha256(encodeCommit(spec.lastCommit)),
    validatorsHash: random(32),
    proposer: signer.publicKey,
    txCount: txs.length,
  };
  const block = encodeBlock({ header, txs, lastCommit: spec.lastCommit });
  return signProposal(spec.chainId, signer, {
    height: spec.height,
    round: spec.round,
    polRound: -1,
    blockHash: blockHash(header),
    block,
  });
}

export function proposalMessage(p: Proposal): Uint8Array {
  return encodeConsensusMessage({ kind: "proposal", proposal: p });
}

/** `n` transactions from a throwaway key, validly signed (or, with `forge`, the last one not). */
export function junkTxs(chainId: string, n: number, forge = false): SignedTransaction[] {
  const key = generateKeyPair();
  return Array.from({ length: n }, (_, i) => {
    const tx = {
      chainId,
      sender: key.publicKey,
      nonce: random(16),
      expiry: 1_000_000,
      contract: "kv",
      method: "put",
      args: [new TextEncoder().encode(`junk${i}`), new Uint8Array(1)],
    };
    return forge && i === n - 1 ? withSignature(tx, random(64)) : signTransaction(tx, key.secretKey);
  });
}

export type { SignedProposalHeader };
