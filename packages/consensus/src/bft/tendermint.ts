import { equalBytes, fromHex, toHex } from "@cairn/crypto";
import { type Commit, decodeBlock, blockHash as headerHash, type Validator, VoteType } from "@cairn/messaging";
import { ConsensusError, quorumPower, type VerifyFn } from "../commit.ts";
import type { Logger, Signer } from "../types.ts";
import { proposalHeader, type SignedProposalHeader } from "./evidence.ts";
import {
  type ConsensusMessage,
  isNil,
  NIL_HASH,
  type Proposal,
  proposalSigningBytes,
  signProposal,
  signVote,
  type Vote,
  voteBytes,
} from "./messages.ts";
import { defaultTendermintOptions, stepTimeoutMs, type TendermintOptions } from "./options.ts";
import { proposerSchedule } from "./proposer.ts";
import type { HeldBlock, SafetyRecord } from "./record.ts";
import { type Evidence, VoteSet } from "./vote-set.ts";

export const Step = { propose: "propose", prevote: "prevote", precommit: "precommit" } as const;
export type Step = (typeof Step)[keyof typeof Step];

const STEP_ORDER: Record<Step, number> = { propose: 0, prevote: 1, precommit: 2 };

export interface Timeout {
  readonly height: number;
  readonly round: number;
  readonly step: Step;
}

/** Why an incoming message was refused; stable, so the network layer can score peers by it. */
export const RejectCode = {
  notProposer: "NOT_PROPOSER",
  notValidator: "NOT_VALIDATOR",
  badSignature: "BAD_SIGNATURE",
  badBlockHash: "BAD_BLOCK_HASH",
  conflictingProposal: "CONFLICTING_PROPOSAL",
  futureOverflow: "FUTURE_OVERFLOW",
  malformed: "MALFORMED",
  roundTooFar: "ROUND_TOO_FAR",
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

/**
 * What the machine asks its host to do. Effects are returned in order and MUST be carried out in
 * that order: a `persist` must be durable before any effect after it (in particular the broadcast
 * of the vote it records), or a crash could make this validator sign twice.
 */
export type Effect =
  | { readonly type: "persist"; readonly record: SafetyRecord }
  | { readonly type: "broadcast"; readonly message: ConsensusMessage }
  | { readonly type: "scheduleTimeout"; readonly timeout: Timeout & { readonly ms: number } }
  /** This validator proposes at (height, round): answer with `proposeValue`. */
  | {
      readonly type: "requestValue";
      readonly height: number;
      readonly round: number;
      readonly lastCommit: Commit | null;
    }
  | {
      readonly type: "commit";
      readonly height: number;
      readonly blockHash: Uint8Array;
      readonly block: Uint8Array;
      readonly commit: Commit;
    }
  | { readonly type: "evidence"; readonly evidence: Evidence }
  /** Two different proposals signed by the proposer of one height and round. */
  | {
      readonly type: "proposalEvidence";
      readonly first: SignedProposalHeader;
      readonly second: SignedProposalHeader;
    }
  | { readonly type: "reject"; readonly code: RejectCode; readonly reason: string };

export interface ProposedBlock {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly block: Uint8Array;
}

export interface TendermintConfig {
  readonly chainId: string;
  /** The validator set of the first height. */
  readonly validators: readonly Validator[];
  /**
   * The validator set of each later height (default: `validators` for every height). Must be
   * known for height + 1 when height is decided: the ledger schedules changes at least 2 ahead.
   */
  readonly validatorsAt?: (height: number) => readonly Validator[];
  /** This node's public key; a node outside the set follows and decides but never signs. */
  readonly self: Uint8Array;
  /** The first height to decide. */
  readonly height: number;
  /** The certificate of height - 1 (null at height 1), handed to the block builder. */
  readonly lastCommit?: Commit | null;
  readonly signer: Signer;
  readonly verify: VerifyFn;
  /**
   * The ledger's full check of a proposed block; false makes this node prevote nil. Synchronous:
   * an adapter executes a proposal before feeding it in and answers from that result. Called at
   * most once per block hash.
   */
  readonly validate: (block: ProposedBlock) => boolean;
  /**
   * Whether a fresh proposal (polRound -1) arrived in time for its block's time (proposer-based
   * timestamps); false makes this node prevote nil in that round only. Default: always timely.
   */
  readonly timely?: (proposal: Proposal) => boolean;
  /** The block id; by default the hash of a Cairn block's header (docs/spec/block.md). */
  readonly hashBlock?: (block: Uint8Array) => Uint8Array;
  /** The last persisted safety record; used when its height is `height`. */
  readonly restore?: SafetyRecord | null;
  /**
   * Follow and decide without signing anything, even as a validator: for a node whose database is
   * behind its safety record (it must not sign again at heights it already signed at).
   */
  readonly observe?: boolean;
  readonly logger?: Logger;
}

export interface TendermintStatus {
  readonly height: number;
  readonly round: number;
  readonly step: Step;
  readonly lockedRound: number;
  readonly validRound: number;
}

export interface Tendermint {
  /** StartRound(0), or resumes the round recorded in `restore`. */
  start(): Effect[];
  onProposal(proposal: Proposal): Effect[];
  onVote(vote: Vote): Effect[];
  onMessage(message: ConsensusMessage): Effect[];
  /**
   * Checks, without changing any state, that a message of the current height comes from whom it
   * claims (the round's proposer, or a validator) and carries a valid signature: null when it does,
   * else the code it would be rejected with. A signature found valid here is not verified again.
   */
  authenticate(message: ConsensusMessage): RejectCode | null;
  onTimeout(timeout: Timeout): Effect[];
  /** The answer to `requestValue`: the encoded block this validator proposes. */
  proposeValue(height: number, round: number, block: Uint8Array): Effect[];
  status(): TendermintStatus;
  /** The safety state to persist now (the same as the last `persist` effect). */
  safetyRecord(): SafetyRecord;
  /** Every equivocation seen so far. */
  evidence(): readonly Evidence[];
}

function cairnBlockHash(block: Uint8Array): Uint8Array {
  return headerHash(decodeBlock(block).header);
}

const voteKey = (round: number, type: VoteType) => `${round}:${type}`;

/**
 * Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT consensus" (2018), as a
 * deterministic state machine without I/O: every input returns the effects it causes. Line
 * numbers in comments refer to the paper.
 */
export function createTendermint(config: TendermintConfig, options: Partial<TendermintOptions> = {}): Tendermint {
  const opts = { ...defaultTendermintOptions, ...options };
  const { chainId, signer, verify, logger } = config;
  const hashBlock = config.hashBlock ?? cairnBlockHash;
  const timely = config.timely ?? (() => true);
  if (!equalBytes(signer.publicKey, config.self)) {
    throw new ConsensusError("SIGNER_MISMATCH", "the signer's key is not `self`");
  }
  const selfHex = toHex(config.self);
  // The validator set of the current height and what follows from it; replaced when the height
  // changes (reconfiguration at the height the ledger scheduled).
  let validators: readonly Validator[] = [];
  let powerOf = new Map<string, number>();
  let quorum = 0;
  // f+1 of the paper: more than a third of the power, so at least one honest validator.
  let skipPower = 0;
  let proposer: (height: number, round: number) => Validator = () => {
    throw new ConsensusError("NO_VALIDATORS", "no validator set");
  };
  let isValidator = false;
  const useValidators = (set: readonly Validator[]) => {
    validators = set;
    powerOf = new Map(set.map((v) => [toHex(v.publicKey), v.power]));
    const total = set.reduce((s, v) => s + v.power, 0);
    quorum = quorumPower(set);
    skipPower = Math.floor(total / 3) + 1;
    proposer = proposerSchedule(set);
    isValidator = config.observe !== true && (powerOf.get(selfHex) ?? 0) > 0;
  };
  useValidators(config.validators);

  // Consensus state of the current height.
  let height = config.height;
  let round = 0;
  let step: Step = Step.propose;
  let lastCommit: Commit | null = config.lastCommit ?? null;
  let locked: HeldBlock | null = null;
  let valid: HeldBlock | null = null;
  let proposals = new Map<number, Proposal>();
  let blocks = new Map<string, Uint8Array>();
  let validity = new Map<string, boolean>();
  let voteSets = new Map<string, VoteSet>();
  let roundVoters = new Map<number, Map<string, number>>();
  let done = new Set<string>(); // "first time" guards of lines 34, 36, 47
  let signedVotes = new Map<string, Vote>();
  let signedProposals = new Map<number, Uint8Array>();
  let future: ConsensusMessage[] = [];
  // Messages (by object identity: they are immutable) whose signature authenticate() verified.
  let verified = new WeakSet<object>();
  let resumeStep: Step | null = null;
  const allEvidence: Evidence[] = [];

  let out: Effect[] = [];

  if (config.restore != null && config.restore.height > height) {
    // This validator voted at a height the ledger has not reached: its last block was lost.
    throw new ConsensusError(
      "RECORD_AHEAD",
      `the safety record is for height ${config.restore.height} but consensus starts at ${height}`,
    );
  }
  if (config.restore != null && config.restore.height === height) {
    const r = config.restore;
    locked = r.locked;
    valid = r.valid;
    // Precommits from peers can decide the locked block even if its proposal never comes again.
    for (const b of [r.locked, r.valid]) if (b !== null) blocks.set(toHex(b.hash), b.block);
    for (const v of r.votes) signedVotes.set(voteKey(v.round, v.type), v);
    for (const p of r.proposals) signedProposals.set(p.round, p.blockHash);
    // Resume in the latest round this validator acted in, at the step its votes show.
    round = Math.max(0, ...r.votes.map((v) => v.round), ...r.proposals.map((p) => p.round));
    resumeStep = signedVotes.has(voteKey(round, VoteType.precommit))
      ? Step.precommit
      : signedVotes.has(voteKey(round, VoteType.prevote))
        ? Step.prevote
        : null;
  }

  function record(): SafetyRecord {
    return {
      height,
      locked,
      valid,
      votes: [...signedVotes.values()],
      proposals: [...signedProposals].map(([r, blockHash]) => ({ round: r, blockHash })),
    };
  }

  function voteSet(r: number, type: VoteType): VoteSet {
    const k = voteKey(r, type);
    let s = voteSets.get(k);
    if (s === undefined) {
      s = new VoteSet();
      voteSets.set(k, s);
    }
    return s;
  }

  function schedule(s: Step): void {
    out.push({ type: "scheduleTimeout", timeout: { height, round, step: s, ms: stepTimeoutMs(opts, s, round) } });
  }

  function reject(code: RejectCode, reason: string): false {
    logger?.debug({ code, height, round }, `tendermint: rejected ${reason}`);
    out.push({ type: "reject", code, reason });
    return false;
  }

  function isValid(hashHex: string): boolean {
    let ok = validity.get(hashHex);
    if (ok === undefined) {
      const block = blocks.get(hashHex);
      if (block === undefined) return false;
      const p = [...proposals.values()].find((q) => toHex(q.blockHash) === hashHex);
      try {
        ok = config.validate({ height, round: p?.round ?? round, blockHash: fromHex(hashHex), block });
      } catch (err) {
        logger?.warn({ err, height }, "tendermint: validate threw; treating the block as invalid");
        ok = false;
      }
      validity.set(hashHex, ok);
    }
    return ok;
  }

  /** Signs and sends a vote, unless this validator already signed a different one for that slot. */
  function castVote(type: VoteType, hash: Uint8Array): void {
    if (!isValidator) return;
    const k = voteKey(round, type);
    const prior = signedVotes.get(k);
    if (prior !== undefined) {
      if (!equalBytes(prior.blockHash, hash)) {
        logger?.warn({ height, round, type }, "tendermint: refusing to sign a vote conflicting with a recorded one");
      }
      return;
    }
    const vote = signVote(chainId, signer, { type, height, round, blockHash: hash });
    signedVotes.set(k, vote);
    out.push({ type: "persist", record: record() });
    out.push({ type: "broadcast", message: { kind: "vote", vote } });
    addVote(vote);
  }

  function sendProposal(hash: Uint8Array, block: Uint8Array, polRound: number): void {
    const prior = signedProposals.get(round);
    if (prior !== undefined && !equalBytes(prior, hash)) {
      logger?.warn({ height, round }, "tendermint: refusing to sign a second proposal for this round");
      return;
    }
    const proposal = signProposal(chainId, signer, { height, round, polRound, blockHash: hash, block });
    signedProposals.set(round, hash);
    out.push({ type: "persist", record: record() });
    out.push({ type: "broadcast", message: { kind: "proposal", proposal } });
    addProposal(proposal);
  }

  // Line 11: StartRound.
  function startRound(r: number): void {
    round = r;
    step = Step.propose;
    if (isValidator && equalBytes(proposer(height, r).publicKey, config.self)) {
      if (valid !== null && valid.round < r) sendProposal(valid.hash, valid.block, valid.round);
      else out.push({ type: "requestValue", height, round: r, lastCommit });
    }
    // Every node, the proposer too, gives up on the proposal after a while (line 21).
    schedule(Step.propose);
  }

  function addProposal(p: Proposal): void {
    proposals.set(p.round, p);
    blocks.set(toHex(p.blockHash), p.block);
  }

  function addVote(v: Vote): void {
    const power = powerOf.get(toHex(v.validator)) ?? 0;
    const res = voteSet(v.round, v.type).add(v, power);
    if (res.status === "equivocation" && res.evidence !== undefined) {
      allEvidence.push(res.evidence);
      logger?.warn({ height, round: v.round, validator: toHex(v.validator) }, "tendermint: equivocation");
      out.push({ type: "evidence", evidence: res.evidence });
    }
    if (res.status === "added") {
      let voters = roundVoters.get(v.round);
      if (voters === undefined) {
        voters = new Map();
        roundVoters.set(v.round, voters);
      }
      voters.set(toHex(v.validator), power);
    }
  }

  function bufferFuture(m: ConsensusMessage): false {
    if (future.length >= opts.maxFutureMessages) return reject(RejectCode.futureOverflow, "later height: buffer full");
    future.push(m);
    return false;
  }

  const isFuture = (h: number) => h > height && h <= height + opts.futureHeights;

  /** True when the proposal joined this height's state. */
  function ingestProposal(p: Proposal): boolean {
    if (isFuture(p.height)) return bufferFuture({ kind: "proposal", proposal: p });
    if (p.height !== height) return false; // stale, or too far ahead to keep
    if (!(p.polRound >= -1 && p.polRound < p.round) || isNil(p.blockHash)) {
      return reject(RejectCode.malformed, "proposal polRound or block hash");
    }
    if (p.round > round + opts.maxRoundsAhead) return reject(RejectCode.roundTooFar, `proposal for round ${p.round}`);
    if (!equalBytes(proposer(height, p.round).publicKey, p.proposer)) {
      return reject(RejectCode.notProposer, `proposal for round ${p.round} from a validator that is not its proposer`);
    }
    const prior = proposals.get(p.round);
    // A repeat of the proposal already held changes nothing; skip the signature check.
    if (prior !== undefined && equalBytes(prior.signature, p.signature)) return false;
    if (!proposalSignatureOk(p)) return reject(RejectCode.badSignature, "proposal signature");
    if (prior !== undefined) {
      // The first proposal counts; a second one from the same proposer is its misbehaviour,
      // provable by anyone from the two signatures.
      if (!equalBytes(prior.blockHash, p.blockHash) || prior.polRound !== p.polRound) {
        out.push({ type: "proposalEvidence", first: proposalHeader(prior), second: proposalHeader(p) });
        return reject(RejectCode.conflictingProposal, `second proposal for round ${p.round}`);
      }
      return false;
    }
    let computed: Uint8Array;
    try {
      computed = hashBlock(p.block);
    } catch {
      return reject(RejectCode.badBlockHash, "proposal block does not decode");
    }
    if (!equalBytes(computed, p.blockHash)) return reject(RejectCode.badBlockHash, "proposal block hash mismatch");
    addProposal(p);
    return true;
  }

  function ingestVote(v: Vote): boolean {
    if (isFuture(v.height)) return bufferFuture({ kind: "vote", vote: v });
    if (v.height !== height) return false;
    if (v.round > round + opts.maxRoundsAhead) return reject(RejectCode.roundTooFar, `vote for round ${v.round}`);
    if ((powerOf.get(toHex(v.validator)) ?? 0) <= 0)
      return reject(RejectCode.notValidator, "vote from a non-validator");
    // Gossip delivers the same vote many times; a repeat changes nothing, so skip the signature check.
    if (voteSets.get(voteKey(v.round, v.type))?.has(v)) return false;
    if (!voteSignatureOk(v)) return reject(RejectCode.badSignature, "vote");
    addVote(v);
    return true;
  }

  function proposalSignatureOk(p: Proposal): boolean {
    if (verified.delete(p)) return true;
    return verify(p.signature, proposalSigningBytes({ chainId, ...p }), p.proposer);
  }

  function voteSignatureOk(v: Vote): boolean {
    if (verified.delete(v)) return true;
    return verify(v.signature, voteBytes(chainId, v), v.validator);
  }

  function authenticate(m: ConsensusMessage): RejectCode | null {
    if (m.kind === "proposal") {
      const p = m.proposal;
      if (p.height !== height) return RejectCode.malformed;
      if (!equalBytes(proposer(height, p.round).publicKey, p.proposer)) return RejectCode.notProposer;
      if (verified.has(p)) return null; // checked already (the engine may ask twice)
      if (!verify(p.signature, proposalSigningBytes({ chainId, ...p }), p.proposer)) return RejectCode.badSignature;
      verified.add(p);
      return null;
    }
    const v = m.vote;
    if (v.height !== height) return RejectCode.malformed;
    if ((powerOf.get(toHex(v.validator)) ?? 0) <= 0) return RejectCode.notValidator;
    if (verified.has(v)) return null;
    if (!verify(v.signature, voteBytes(chainId, v), v.validator)) return RejectCode.badSignature;
    verified.add(v);
    return null;
  }

  function ingest(m: ConsensusMessage): boolean {
    return m.kind === "proposal" ? ingestProposal(m.proposal) : ingestVote(m.vote);
  }

  // Line 49, for any round of this height. Returns true when the height was decided.
  function tryDecide(): boolean {
    for (const [k, set] of voteSets) {
      const [rs, ts] = k.split(":");
      if (Number(ts) !== VoteType.precommit) continue;
      const hex = set.majority(quorum);
      if (hex === undefined || hex === toHex(NIL_HASH)) continue;
      const block = blocks.get(hex);
      if (block === undefined || !isValid(hex)) continue;
      const r = Number(rs);
      const hash = fromHex(hex);
      const commit: Commit = { height, round: r, blockHash: hash, signatures: set.signaturesFor(hash, validators) };
      out.push({ type: "commit", height, blockHash: hash, block, commit });
      logger?.debug({ height, round: r }, "tendermint: decided");
      // Lines 52-54: next height, fresh state.
      height += 1;
      if (config.validatorsAt !== undefined) useValidators(config.validatorsAt(height));
      lastCommit = commit;
      locked = null;
      valid = null;
      proposals = new Map();
      blocks = new Map();
      validity = new Map();
      voteSets = new Map();
      roundVoters = new Map();
      done = new Set();
      signedVotes = new Map();
      signedProposals = new Map();
      verified = new WeakSet();
      startRound(0);
      // Messages that ran ahead of this node: replay this height's, keep the later ones.
      const pending = future;
      future = [];
      for (const m of pending) ingest(m);
      return true;
    }
    return false;
  }

  function once(tag: string): boolean {
    const k = `${tag}:${round}`;
    if (done.has(k)) return false;
    done.add(k);
    return true;
  }

  /** Applies every rule of Algorithm 1 whose condition holds, until none does. */
  function evaluate(): void {
    for (let progress = true; progress; ) {
      progress = false;
      // Line 55: f+1 validators are already in a later round; join the latest such round.
      let skipTo = -1;
      for (const [r, voters] of roundVoters) {
        if (r <= round || r <= skipTo) continue;
        let p = 0;
        for (const w of voters.values()) p += w;
        if (p >= skipPower) skipTo = r;
      }
      if (skipTo > round) {
        startRound(skipTo);
        progress = true;
        continue;
      }
      if (tryDecide()) {
        progress = true;
        continue;
      }
      const proposal = proposals.get(round);
      const prevotes = voteSet(round, VoteType.prevote);
      if (step === Step.propose && proposal !== undefined) {
        const hex = toHex(proposal.blockHash);
        if (proposal.polRound === -1) {
          // Line 22, with proposer-based timestamps: a fresh proposal must also be timely (its time
          // close to when it arrived). Timeliness is not validity: a block decided by others' votes,
          // or re-proposed after a polka (line 28), is taken whatever this node's clock says.
          const ok = isValid(hex) && timely(proposal) && (locked === null || toHex(locked.hash) === hex);
          castVote(VoteType.prevote, ok ? proposal.blockHash : NIL_HASH);
          step = Step.prevote;
          progress = true;
        } else if (voteSet(proposal.polRound, VoteType.prevote).powerFor(proposal.blockHash) >= quorum) {
          // Line 28: a polka from round polRound lets a validator locked in an earlier round switch.
          const ok =
            isValid(hex) && (locked === null || locked.round <= proposal.polRound || toHex(locked.hash) === hex);
          castVote(VoteType.prevote, ok ? proposal.blockHash : NIL_HASH);
          step = Step.prevote;
          progress = true;
        }
      }
      // Line 34.
      if (step === Step.prevote && prevotes.totalPower() >= quorum && once("prevote-timeout")) {
        schedule(Step.prevote);
      }
      // Line 36.
      if (
        STEP_ORDER[step] >= STEP_ORDER.prevote &&
        proposal !== undefined &&
        prevotes.powerFor(proposal.blockHash) >= quorum &&
        isValid(toHex(proposal.blockHash)) &&
        once("polka")
      ) {
        const held = { round, hash: proposal.blockHash, block: proposal.block };
        valid = held;
        if (step === Step.prevote) {
          locked = held;
          step = Step.precommit;
          castVote(VoteType.precommit, proposal.blockHash);
        }
        progress = true;
      }
      // Line 44.
      if (step === Step.prevote && prevotes.powerFor(NIL_HASH) >= quorum) {
        castVote(VoteType.precommit, NIL_HASH);
        step = Step.precommit;
        progress = true;
      }
      // Line 47.
      if (voteSet(round, VoteType.precommit).totalPower() >= quorum && once("precommit-timeout")) {
        schedule(Step.precommit);
      }
    }
  }

  let started = false;

  function run(f: () => void): Effect[] {
    out = [];
    f();
    // Before start, messages are only collected; start() acts on them.
    if (started) evaluate();
    const effects = out;
    out = [];
    return effects;
  }

  return {
    start: () => {
      if (started) throw new ConsensusError("ALREADY_STARTED", "start() was already called");
      started = true;
      return run(() => {
        // Our own recorded votes count, and peers may have missed them before the crash.
        for (const v of signedVotes.values()) {
          addVote(v);
          if (v.round === round) out.push({ type: "broadcast", message: { kind: "vote", vote: v } });
        }
        if (resumeStep === null) startRound(round);
        else {
          // Peers' votes from before the crash may be gone: a timeout keeps the round moving.
          step = resumeStep;
          schedule(resumeStep);
        }
      });
    },
    onProposal: (p) => run(() => ingestProposal(p)),
    onVote: (v) => run(() => ingestVote(v)),
    onMessage: (m) => run(() => ingest(m)),
    authenticate,
    onTimeout: (t) =>
      run(() => {
        if (t.height !== height || t.round !== round) return;
        if (t.step === Step.propose && step === Step.propose) {
          // Line 57.
          castVote(VoteType.prevote, NIL_HASH);
          step = Step.prevote;
        } else if (t.step === Step.prevote && step === Step.prevote) {
          // Line 61.
          castVote(VoteType.precommit, NIL_HASH);
          step = Step.precommit;
        } else if (t.step === Step.precommit) {
          // Line 65.
          startRound(round + 1);
        }
      }),
    proposeValue: (h, r, block) =>
      run(() => {
        if (h !== height || r !== round || step !== Step.propose || proposals.has(r)) return;
        if (!equalBytes(proposer(h, r).publicKey, config.self)) return;
        sendProposal(hashBlock(block), block, -1);
      }),
    status: () => ({ height, round, step, lockedRound: locked?.round ?? -1, validRound: valid?.round ?? -1 }),
    safetyRecord: record,
    evidence: () => allEvidence,
  };
}
