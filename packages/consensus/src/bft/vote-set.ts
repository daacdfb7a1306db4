import { equalBytes, toHex } from "@cairn/crypto";
import type { CommitSignature, Validator } from "@cairn/messaging";
import type { Vote } from "./messages.ts";

/** Proof that a validator signed two different votes for one height, round and type. */
export interface Evidence {
  readonly first: Vote;
  readonly second: Vote;
}

export type AddVoteResult =
  | { readonly status: "added" }
  | { readonly status: "duplicate" }
  /** A second, different vote: counted for its own block (up to the cap), with evidence the first time. */
  | { readonly status: "equivocation"; readonly evidence: Evidence | undefined };

/** Distinct votes kept per validator in one set; an equivocator cannot make a node store more. */
export const MAX_VOTES_PER_VALIDATOR = 4;

/**
 * The votes of one (height, round, type). As in the paper, "2f+1 PREVOTE for id(v)" counts every
 * validator that signed a vote for v, so an equivocator's vote for v counts toward v even if it
 * also voted for w: safety rests on the honest part of a quorum only. The power of "any" votes
 * counts each validator once. Callers check membership and signatures first.
 */
export class VoteSet {
  private readonly votes = new Map<string, Vote[]>();
  private readonly powerByHash = new Map<string, number>();
  private readonly reported = new Set<string>();
  private anyPower = 0;

  add(vote: Vote, power: number): AddVoteResult {
    const k = toHex(vote.validator);
    const prior = this.votes.get(k);
    if (prior?.some((p) => equalBytes(p.blockHash, vote.blockHash))) return { status: "duplicate" };
    if (prior !== undefined && prior.length >= MAX_VOTES_PER_VALIDATOR) return { status: "duplicate" };
    const h = toHex(vote.blockHash);
    this.powerByHash.set(h, (this.powerByHash.get(h) ?? 0) + power);
    if (prior === undefined) {
      this.votes.set(k, [vote]);
      this.anyPower += power;
      return { status: "added" };
    }
    prior.push(vote);
    // One piece of evidence per validator and set is enough to prove the fault.
    if (this.reported.has(k)) return { status: "equivocation", evidence: undefined };
    this.reported.add(k);
    return { status: "equivocation", evidence: { first: prior[0]!, second: vote } };
  }

  /** Whether this exact vote (validator and block) is already held: no need to verify it again. */
  has(vote: Vote): boolean {
    return this.votes.get(toHex(vote.validator))?.some((p) => equalBytes(p.blockHash, vote.blockHash)) ?? false;
  }

  /** Power of the validators that voted for `blockHash` (the nil hash counts nil votes). */
  powerFor(blockHash: Uint8Array): number {
    return this.powerByHash.get(toHex(blockHash)) ?? 0;
  }

  /** Power of all validators that voted, whatever for, each counted once. */
  totalPower(): number {
    return this.anyPower;
  }

  /** A block hash (hex) holding at least `need` power, if any. */
  majority(need: number): string | undefined {
    for (const [h, p] of this.powerByHash) if (p >= need) return h;
    return undefined;
  }

  /** The votes for `blockHash`, in validator-set order, as commit signatures. */
  signaturesFor(blockHash: Uint8Array, validators: readonly Validator[]): CommitSignature[] {
    const out: CommitSignature[] = [];
    for (const v of validators) {
      const vote = this.votes.get(toHex(v.publicKey))?.find((x) => equalBytes(x.blockHash, blockHash));
      if (vote !== undefined) out.push({ validator: vote.validator, signature: vote.signature });
    }
    return out;
  }

  /** Number of validators that voted. */
  get size(): number {
    return this.votes.size;
  }
}
