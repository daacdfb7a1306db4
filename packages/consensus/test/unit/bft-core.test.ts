import { equalBytes, keyPairFromSecret, sha256, toHex, utf8 } from "@cairn/crypto";
import { createNativeSigner, nativeVerify } from "@cairn/crypto/native";
import { encode, MessagingError, type Validator, VoteType } from "@cairn/messaging";
import { simBlock, simHash } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import {
  type ConsensusMessage,
  createTendermint,
  decodeConsensusMessage,
  decodeProposal,
  decodeSafetyRecord,
  decodeVote,
  type Effect,
  encodeConsensusMessage,
  encodeProposal,
  encodeSafetyRecord,
  encodeVote,
  NIL_HASH,
  type Proposal,
  proposalSigningBytes,
  proposerSchedule,
  type SafetyRecord,
  signProposal,
  signVote,
  type Tendermint,
  type Vote,
  VoteSet,
  verdictOf,
  verifyCommit,
} from "../../src/index.ts";

const CHAIN = "bft-test";
const keys = [0, 1, 2, 3].map((i) => keyPairFromSecret(sha256(utf8.encode(`core validator ${i}`))));
const signers = keys.map((k) => createNativeSigner(k.secretKey, k.publicKey));
const validators: Validator[] = keys.map((k, i) => ({ publicKey: k.publicKey, power: 1, name: `v${i}` }));
const proposer = proposerSchedule(validators);
const proposerIdx = (h: number, r: number) => validators.indexOf(proposer(h, r));

const A = simBlock(1, 0, 1, 111);
const B = simBlock(1, 1, 2, 222);
const INVALID = simBlock(1, 0, 1, 333, false);

function machine(opts: { restore?: SafetyRecord; self?: number } = {}): Tendermint {
  const self = opts.self ?? 0;
  return createTendermint({
    chainId: CHAIN,
    validators,
    self: keys[self]!.publicKey,
    height: 1,
    signer: signers[self]!,
    verify: nativeVerify,
    hashBlock: simHash,
    validate: (b) => !equalBytes(b.block, INVALID),
    restore: opts.restore ?? null,
  });
}

function proposal(round: number, block: Uint8Array, polRound = -1): Proposal {
  const by = proposerIdx(1, round);
  return signProposal(CHAIN, signers[by]!, { height: 1, round, polRound, blockHash: simHash(block), block });
}

function vote(by: number, type: VoteType, round: number, block: Uint8Array | null): Vote {
  const blockHash = block === null ? NIL_HASH : simHash(block);
  return signVote(CHAIN, signers[by]!, { type, height: 1, round, blockHash });
}

function votesOf(effects: readonly Effect[]): Vote[] {
  return effects.flatMap((e) => (e.type === "broadcast" && e.message.kind === "vote" ? [e.message.vote] : []));
}

function feedVotes(m: Tendermint, by: number[], type: VoteType, round: number, block: Uint8Array | null): Effect[] {
  return by.flatMap((i) => m.onVote(vote(i, type, round, block)));
}

const others = [1, 2, 3];
const isHash = (v: Vote, block: Uint8Array | null) =>
  equalBytes(v.blockHash, block === null ? NIL_HASH : simHash(block));

describe("BFT messages", () => {
  it("proposals, votes and the gossip envelope round-trip through the canonical codec", () => {
    const p = proposal(2, A, 1);
    expect(decodeProposal(encodeProposal(p))).toEqual(p);
    const v = vote(1, VoteType.precommit, 3, null);
    expect(decodeVote(encodeVote(v))).toEqual(v);
    for (const m of [
      { kind: "proposal", proposal: proposal(0, A) },
      { kind: "vote", vote: v },
    ] as ConsensusMessage[]) {
      expect(decodeConsensusMessage(encodeConsensusMessage(m))).toEqual(m);
    }
  });

  it("proposal signing bytes are domain-separated and cover chain, height, round, polRound and hash", () => {
    const base = { chainId: CHAIN, height: 1, round: 2, polRound: -1, blockHash: simHash(A) };
    const bytes = proposalSigningBytes(base);
    expect(new TextDecoder().decode(bytes.subarray(0, 18))).toBe("CAIRN_PROPOSAL_V1\0");
    for (const change of [{ chainId: "x" }, { height: 2 }, { round: 3 }, { polRound: 1 }, { blockHash: NIL_HASH }]) {
      expect(equalBytes(proposalSigningBytes({ ...base, ...change }), bytes)).toBe(false);
    }
  });

  it("rejects malformed shapes with BAD_FIELD", () => {
    const p = proposal(2, A, 1);
    const bad = [
      encode([1, 2, 2, p.blockHash, p.block, p.proposer, p.signature]), // polRound not below round
      encode([1, 2, -2, p.blockHash, p.block, p.proposer, p.signature]),
      encode([1, 2, -1, NIL_HASH, p.block, p.proposer, p.signature]),
      encode([1, 2, -1, p.blockHash, p.block, p.proposer]),
      encode([3, 1, 0, NIL_HASH, keys[0]!.publicKey, new Uint8Array(64)]), // vote type 3
      encode([1, 1, 0, new Uint8Array(31), keys[0]!.publicKey, new Uint8Array(64)]),
    ];
    expect(() => decodeProposal(bad[0]!)).toThrow(MessagingError);
    expect(() => decodeProposal(bad[1]!)).toThrow(/polRound/);
    expect(() => decodeProposal(bad[2]!)).toThrow(/nil/);
    expect(() => decodeProposal(bad[3]!)).toThrow(/7 elements/);
    expect(() => decodeVote(bad[4]!)).toThrow(/vote.type/);
    expect(() => decodeVote(bad[5]!)).toThrow(/32 bytes/);
    expect(() => decodeConsensusMessage(encode([9, null]))).toThrow(/tag/);
    try {
      decodeVote(bad[4]!);
    } catch (e) {
      expect((e as MessagingError).code).toBe("BAD_FIELD");
    }
  });

  it("the safety record round-trips", () => {
    const r: SafetyRecord = {
      height: 1,
      locked: { round: 0, hash: simHash(A), block: A },
      valid: null,
      votes: [vote(0, VoteType.prevote, 0, A), vote(0, VoteType.precommit, 0, A)],
      proposals: [{ round: 3, blockHash: simHash(B) }],
    };
    expect(decodeSafetyRecord(encodeSafetyRecord(r))).toEqual(r);
  });
});

describe("vote sets and the proposer schedule", () => {
  it("counts power per block, each validator once for 'any', and keeps equivocations as evidence", () => {
    const s = new VoteSet();
    expect(s.add(vote(1, VoteType.prevote, 0, A), 2).status).toBe("added");
    expect(s.add(vote(1, VoteType.prevote, 0, A), 2).status).toBe("duplicate");
    const r = s.add(vote(1, VoteType.prevote, 0, null), 2);
    expect(r.status).toBe("equivocation");
    if (r.status === "equivocation") {
      expect(isHash(r.evidence!.first, A)).toBe(true);
      expect(isHash(r.evidence!.second, null)).toBe(true);
    }
    expect(s.add(vote(2, VoteType.prevote, 0, A), 1).status).toBe("added");
    expect(s.powerFor(simHash(A))).toBe(3);
    expect(s.powerFor(NIL_HASH)).toBe(2);
    expect(s.totalPower()).toBe(3);
    expect(s.majority(3)).toBe(toHex(simHash(A)));
  });

  it("rotates the proposer in proportion to power", () => {
    const weighted = validators.map((v, i) => ({ ...v, power: [3, 1, 1, 1][i]! * 10 }));
    const p = proposerSchedule(weighted);
    const counts = [0, 0, 0, 0];
    for (let h = 0; h < 600; h++) counts[weighted.indexOf(p(h, 0))]!++;
    expect(counts).toEqual([300, 100, 100, 100]);
    // Interleaved, not in a block of three.
    expect(new Set([p(0, 0), p(1, 0)]).size).toBe(2);
    // A round change hands the turn on.
    expect(p(5, 1)).toBe(p(6, 0));
    expect(new Set([0, 1, 2, 3].map((h) => proposer(h, 0))).size).toBe(4);
  });
});

describe("the Tendermint state machine", () => {
  it("rejects votes from non-validators, bad signatures, proposals from the wrong proposer and bad block hashes", () => {
    const m = machine();
    m.start();
    const outsider = createNativeSigner(
      sha256(utf8.encode("outsider")),
      keyPairFromSecret(sha256(utf8.encode("outsider"))).publicKey,
    );
    const codes = (effects: Effect[]) => effects.flatMap((e) => (e.type === "reject" ? [e.code] : []));
    expect(
      codes(m.onVote(signVote(CHAIN, outsider, { type: VoteType.prevote, height: 1, round: 0, blockHash: NIL_HASH }))),
    ).toEqual(["NOT_VALIDATOR"]);
    const forged = { ...vote(1, VoteType.prevote, 0, A), validator: keys[2]!.publicKey };
    const forgedEffects = m.onVote(forged);
    expect(codes(forgedEffects)).toEqual(["BAD_SIGNATURE"]);
    // The engine turns these into a "reject" verdict for the transport's peer scoring.
    expect(verdictOf(forgedEffects)).toBe("reject");
    expect(verdictOf(m.onVote(vote(1, VoteType.prevote, 0, A)))).toBe("accept");
    const wrong = signProposal(CHAIN, signers[(proposerIdx(1, 0) + 1) % 4]!, {
      height: 1,
      round: 0,
      polRound: -1,
      blockHash: simHash(A),
      block: A,
    });
    expect(codes(m.onProposal(wrong))).toEqual(["NOT_PROPOSER"]);
    const mismatched = signProposal(CHAIN, signers[proposerIdx(1, 0)]!, {
      height: 1,
      round: 0,
      polRound: -1,
      blockHash: simHash(B),
      block: A,
    });
    expect(codes(m.onProposal(mismatched))).toEqual(["BAD_BLOCK_HASH"]);
    // None of them counted: a genuine proposal still gets this node's prevote.
    expect(votesOf(m.onProposal(proposal(0, A))).map((v) => isHash(v, A))).toEqual([true]);
  });

  it("reports a validator's conflicting votes as evidence", () => {
    const m = machine();
    m.start();
    m.onVote(vote(2, VoteType.prevote, 0, A));
    const effects = m.onVote(vote(2, VoteType.prevote, 0, null));
    const ev = effects.flatMap((e) => (e.type === "evidence" ? [e.evidence] : []));
    expect(ev).toHaveLength(1);
    expect(isHash(ev[0]!.first, A) && isHash(ev[0]!.second, null)).toBe(true);
    expect(m.evidence()).toHaveLength(1);
  });

  it("decides with a commit certificate that verifyCommit accepts, persisting each vote before sending it", () => {
    const m = machine();
    const start = m.start();
    expect(start).toContainEqual({
      type: "scheduleTimeout",
      timeout: { height: 1, round: 0, step: "propose", ms: 1000 },
    });
    const pv = m.onProposal(proposal(0, A));
    expect(pv.map((e) => e.type)).toEqual(["persist", "broadcast"]);
    const pc = feedVotes(m, [1, 2], VoteType.prevote, 0, A);
    expect(votesOf(pc).map((v) => [v.type, isHash(v, A)])).toEqual([[VoteType.precommit, true]]);
    expect(m.status()).toMatchObject({ step: "precommit", lockedRound: 0, validRound: 0 });
    const done = feedVotes(m, [1, 2], VoteType.precommit, 0, A);
    const commit = done.find((e) => e.type === "commit");
    expect(commit).toBeDefined();
    if (commit?.type !== "commit") return;
    expect(commit.height).toBe(1);
    expect(equalBytes(commit.block, A)).toBe(true);
    expect(() => verifyCommit(CHAIN, commit.commit, simHash(A), validators, nativeVerify)).not.toThrow();
    expect(m.status()).toMatchObject({ height: 2, round: 0, step: "propose", lockedRound: -1 });
  });

  it("prevotes nil for a block the ledger rejects", () => {
    const m = machine();
    m.start();
    const bad = signProposal(CHAIN, signers[proposerIdx(1, 0)]!, {
      height: 1,
      round: 0,
      polRound: -1,
      blockHash: simHash(INVALID),
      block: INVALID,
    });
    expect(votesOf(m.onProposal(bad)).map((v) => isHash(v, null))).toEqual([true]);
    // Even a quorum of precommits for it does not make this node decide it.
    feedVotes(m, others, VoteType.prevote, 0, INVALID);
    expect(feedVotes(m, others, VoteType.precommit, 0, INVALID).some((e) => e.type === "commit")).toBe(false);
  });

  it("changes round on timeouts, which grow with the round", () => {
    const m = machine();
    m.start();
    const nilPrevote = m.onTimeout({ height: 1, round: 0, step: "propose" });
    expect(votesOf(nilPrevote).map((v) => [v.type, isHash(v, null)])).toEqual([[VoteType.prevote, true]]);
    const t = feedVotes(m, [1, 2], VoteType.prevote, 0, null);
    expect(votesOf(t).map((v) => [v.type, isHash(v, null)])).toEqual([[VoteType.precommit, true]]);
    const s = feedVotes(m, [1, 2], VoteType.precommit, 0, null);
    expect(s).toContainEqual({ type: "scheduleTimeout", timeout: { height: 1, round: 0, step: "precommit", ms: 500 } });
    const next = m.onTimeout({ height: 1, round: 0, step: "precommit" });
    expect(m.status()).toMatchObject({ round: 1, step: "propose" });
    expect(next).toContainEqual({
      type: "scheduleTimeout",
      timeout: { height: 1, round: 1, step: "propose", ms: 1500 },
    });
    // A stale timeout does nothing.
    expect(m.onTimeout({ height: 1, round: 0, step: "precommit" })).toEqual([]);
  });

  it("skips to a later round that more than a third of the power is already in", () => {
    const m = machine();
    m.start();
    feedVotes(m, [1], VoteType.prevote, 5, null);
    expect(m.status().round).toBe(0);
    feedVotes(m, [2], VoteType.precommit, 5, null);
    expect(m.status().round).toBe(5);
    // Rounds beyond the window are refused, so a Byzantine validator cannot fill memory with them.
    const far = m.onVote(vote(3, VoteType.prevote, 5 + 1001, null));
    expect(far.flatMap((e) => (e.type === "reject" ? [e.code] : []))).toEqual(["ROUND_TOO_FAR"]);
    expect(verdictOf(far)).toBe("ignore"); // useless here, but not proof of a fault
  });
});

describe("locking", () => {
  // Round 0: this node locks on A. Round 1: B is proposed; two validators prevote B, one short of
  // a polka, so the round ends in nil. Round 2 re-proposes B citing round 1 as its polka round.
  function lockedOnA(): Tendermint {
    const m = machine();
    m.start();
    m.onProposal(proposal(0, A));
    feedVotes(m, [1, 2], VoteType.prevote, 0, A);
    expect(m.status()).toMatchObject({ lockedRound: 0, step: "precommit" });
    feedVotes(m, others, VoteType.precommit, 0, null);
    m.onTimeout({ height: 1, round: 0, step: "precommit" });
    expect(m.status().round).toBe(1);
    // Locked on A, this node prevotes nil for B.
    const pv = votesOf(m.onProposal(proposal(1, B)));
    expect(pv.map((v) => [v.round, isHash(v, null)])).toEqual([[1, true]]);
    feedVotes(m, [1, 2], VoteType.prevote, 1, B);
    m.onTimeout({ height: 1, round: 1, step: "prevote" });
    feedVotes(m, others, VoteType.precommit, 1, null);
    m.onTimeout({ height: 1, round: 1, step: "precommit" });
    expect(m.status()).toMatchObject({ round: 2, step: "propose", lockedRound: 0 });
    return m;
  }

  it("a locked validator does not prevote another block without a newer polka", () => {
    const m = lockedOnA();
    // B cites round 1, but there is no polka for B in round 1: no prevote for B, and nil on timeout.
    expect(votesOf(m.onProposal(proposal(2, B, 1)))).toEqual([]);
    const onTimeout = votesOf(m.onTimeout({ height: 1, round: 2, step: "propose" }));
    expect(onTimeout.map((v) => [v.round, isHash(v, null)])).toEqual([[2, true]]);
    expect(m.status().lockedRound).toBe(0);
  });

  it("a polka in a round after the lock justifies prevoting the other block", () => {
    const m = lockedOnA();
    feedVotes(m, [3], VoteType.prevote, 1, B); // the third prevote for B in round 1 arrives late
    const pv = votesOf(m.onProposal(proposal(2, B, 1)));
    expect(pv.map((v) => [v.round, v.type, isHash(v, B)])).toEqual([[2, VoteType.prevote, true]]);
  });

  it("a polka older than the lock does not", () => {
    const m = machine();
    m.start();
    // Round 0 passes this node by: it prevotes and precommits nil.
    m.onTimeout({ height: 1, round: 0, step: "propose" });
    feedVotes(m, [1, 2], VoteType.prevote, 0, null);
    feedVotes(m, others, VoteType.precommit, 0, null);
    m.onTimeout({ height: 1, round: 0, step: "precommit" });
    // Round 1: it locks on A.
    m.onProposal(proposal(1, A));
    feedVotes(m, [1, 2], VoteType.prevote, 1, A);
    expect(m.status()).toMatchObject({ lockedRound: 1 });
    feedVotes(m, others, VoteType.precommit, 1, null);
    m.onTimeout({ height: 1, round: 1, step: "precommit" });
    // A polka for B from round 0 (older than the lock) turns up; round 2 proposes B citing it.
    feedVotes(m, [1, 2, 3], VoteType.prevote, 0, B);
    const pv = votesOf(m.onProposal(proposal(2, B, 0)));
    expect(pv.map((v) => [v.round, isHash(v, null)])).toEqual([[2, true]]);
  });
});

describe("crash and restore of the safety state", () => {
  // The messages a node sees after a crash: the proposer of round 0 equivocates with B, the round
  // ends in nil precommits, and round 1 proposes B fresh.
  function afterCrash(m: Tendermint): Effect[] {
    return [
      ...m.onProposal(proposal(0, B)),
      ...feedVotes(m, others, VoteType.precommit, 0, null),
      ...m.onTimeout({ height: 1, round: 0, step: "precommit" }),
      ...m.onProposal(proposal(1, B)),
    ];
  }

  it("a restored validator re-sends its recorded votes, keeps its lock and signs nothing conflicting", () => {
    const m = machine();
    const before = [...m.start(), ...m.onProposal(proposal(0, A)), ...feedVotes(m, [1, 2], VoteType.prevote, 0, A)];
    const persisted = before.filter((e) => e.type === "persist").at(-1);
    if (persisted?.type !== "persist") throw new Error("nothing persisted");
    expect(persisted.record).toEqual(m.safetyRecord());
    // What the disk gives back after the crash.
    const record = decodeSafetyRecord(encodeSafetyRecord(persisted.record));
    expect(record.votes).toHaveLength(2);
    expect(record.locked?.round).toBe(0);

    const restored = machine({ restore: record });
    const resent = votesOf(restored.start());
    expect(resent.map((v) => toHex(v.signature)).sort()).toEqual(record.votes.map((v) => toHex(v.signature)).sort());
    expect(restored.status()).toMatchObject({ round: 0, step: "precommit", lockedRound: 0 });

    const signed = votesOf(afterCrash(restored));
    for (const v of signed) {
      const prior = record.votes.find((r) => r.round === v.round && r.type === v.type);
      if (prior !== undefined) expect(equalBytes(prior.blockHash, v.blockHash)).toBe(true);
    }
    // Round 1: locked on A, it prevotes nil for B.
    expect(signed.filter((v) => v.round === 1).map((v) => [v.type, isHash(v, null)])).toEqual([
      [VoteType.prevote, true],
    ]);
    expect(restored.safetyRecord().locked?.round).toBe(0);

    // Without the record the same messages make it sign a conflicting prevote: the test has teeth.
    const amnesiac = machine();
    amnesiac.start();
    const conflicting = votesOf(afterCrash(amnesiac)).filter((v) => v.round === 0 && v.type === VoteType.prevote);
    expect(conflicting.map((v) => isHash(v, B))).toEqual([true]);
  });

  it("a restored validator decides its locked block from peers' precommits alone", () => {
    const m = machine();
    m.start();
    m.onProposal(proposal(0, A));
    feedVotes(m, [1, 2], VoteType.prevote, 0, A);
    const restored = machine({ restore: m.safetyRecord() });
    restored.start();
    const commit = feedVotes(restored, [1, 2], VoteType.precommit, 0, A).find((e) => e.type === "commit");
    expect(commit?.type === "commit" && equalBytes(commit.block, A)).toBe(true);
  });

  it("refuses a record from a later height, and a second start", () => {
    const record: SafetyRecord = { height: 2, locked: null, valid: null, votes: [], proposals: [] };
    expect(() => machine({ restore: record })).toThrow(expect.objectContaining({ code: "RECORD_AHEAD" }));
    const m = machine();
    m.start();
    expect(() => m.start()).toThrow(expect.objectContaining({ code: "ALREADY_STARTED" }));
  });

  it("a restored proposer does not sign a second proposal for a round it proposed in", () => {
    const p = proposerIdx(1, 0);
    const m = machine({ self: p });
    const effects = m.start();
    expect(effects.some((e) => e.type === "requestValue")).toBe(true);
    const sent = m.proposeValue(1, 0, A);
    const persisted = sent.find((e) => e.type === "persist");
    if (persisted?.type !== "persist") throw new Error("nothing persisted");
    const restored = machine({ self: p, restore: persisted.record });
    restored.start();
    const again = restored.proposeValue(1, 0, B);
    expect(again.some((e) => e.type === "broadcast" && e.message.kind === "proposal")).toBe(false);
  });
});
