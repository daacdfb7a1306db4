import { generateKeyPair, toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify } from "@cairn/crypto/native";
import { blockHash, encodeBlock, type Validator, ZERO_HASH } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import {
  decodeRaftMessage,
  encodeRaftMessage,
  RaftCore,
  type RaftEffect,
  type RaftMessage,
  raftSigningBytes,
  verifyCommit,
} from "../../src/index.ts";

// The Raft machine by hand, one input at a time, with a manual clock.

const CHAIN = "raft-unit";
const keys = [0, 1, 2, 3].map(() => generateKeyPair());
// Key 3 is not a validator: its machine is a learner.
const validators: Validator[] = keys.slice(0, 3).map((k, i) => ({ publicKey: k.publicKey, power: 1, name: `v${i}` }));
let clock = 1_000_000;

function machine(i: number): RaftCore {
  const k = keys[i]!;
  const signer = createNativeSigner(k.secretKey, k.publicKey);
  return new RaftCore({
    chainId: CHAIN,
    self: k.publicKey,
    validatorsAt: () => validators,
    committed: { height: 0, term: 0 },
    restore: null,
    sign: (m) => signer.sign(m),
    verify: nativeVerify,
    now: () => clock,
    random: () => 0,
    options: { electionTimeoutMs: 1_000, electionTimeoutMaxMs: 2_000, heartbeatMs: 100 },
  });
}

const sent = (effects: RaftEffect[]) => effects.flatMap((e) => (e.type === "send" ? [e.message] : []));
/** The message variant whose `type` may be T (a request type covers both "prevote" and "vote"). */
type MessageOf<T extends RaftMessage["type"]> = RaftMessage extends infer M
  ? M extends RaftMessage
    ? T extends M["type"]
      ? M
      : never
    : never
  : never;
const of = <T extends RaftMessage["type"]>(effects: RaftEffect[], type: T) =>
  sent(effects).filter((m): m is MessageOf<T> => m.type === type);

function block(height: number, proposer: Uint8Array) {
  const header = {
    chainId: CHAIN,
    height,
    time: 1,
    prevHash: ZERO_HASH,
    txRoot: ZERO_HASH,
    stateRoot: ZERO_HASH,
    receiptRoot: ZERO_HASH,
    lastCommitHash: ZERO_HASH,
    validatorsHash: ZERO_HASH,
    proposer,
    txCount: 0,
  };
  const b = { header, txs: [], lastCommit: null };
  return { height, hash: blockHash(header), block: encodeBlock(b), lastCommit: null };
}

/** Makes node 0 leader of term 1 with nodes 1 and 2 voting; returns the three machines. */
function elect(): RaftCore[] {
  const m = [machine(0), machine(1), machine(2)];
  for (const x of m) x.start();
  clock += 1_001;
  const pre = of(m[0]!.tick(), "prevote")[0]!;
  const preReply = of(m[1]!.receive(pre), "prevote-reply")[0]!;
  expect(preReply.granted).toBe(true);
  const vote = of(m[0]!.receive(preReply), "vote")[0]!;
  const reply = of(m[1]!.receive(vote), "vote-reply")[0]!;
  m[0]!.receive(reply);
  expect(m[0]!.status().role).toBe("leader");
  return m;
}

describe("Raft machine", () => {
  it("elects by pre-vote then vote; the vote is persisted before the reply is sent", () => {
    const m = [machine(0), machine(1)];
    for (const x of m) x.start();
    clock += 1_001;
    const t = m[0]!.tick();
    expect(m[0]!.status()).toMatchObject({ role: "precandidate", term: 0 }); // a pre-vote does not bump the term
    const pre = of(t, "prevote")[0]!;
    expect(pre.term).toBe(1);
    const afterPre = m[0]!.receive(of(m[1]!.receive(pre), "prevote-reply")[0]!);
    expect(m[0]!.status()).toMatchObject({ role: "candidate", term: 1, votedFor: toHex(keys[0]!.publicKey) });
    // The candidate's own vote is on disk before its request goes out.
    const kinds = afterPre.map((e) => e.type);
    expect(kinds.indexOf("persist")).toBeLessThan(kinds.indexOf("send"));
    const voted = m[1]!.receive(of(afterPre, "vote")[0]!);
    // It first moves to term 1, then records its vote; both are on disk before the reply.
    const voteSaved = voted.findIndex((e) => e.type === "persist" && e.hard.votedFor !== null);
    expect(voted[voteSaved]).toMatchObject({ hard: { term: 1, votedFor: keys[0]!.publicKey } });
    expect(voteSaved).toBeLessThan(voted.findIndex((e) => e.type === "send"));
    expect(m[1]!.status().votedFor).toBe(toHex(keys[0]!.publicKey));
  });

  it("never grants a second vote in a term, to anyone else", () => {
    const m = [machine(0), machine(1), machine(2)];
    for (const x of m) x.start();
    const req = (i: number) => ({
      type: "vote" as const,
      term: 5,
      from: keys[i]!.publicKey,
      lastIndex: 0,
      lastTerm: 0,
    });
    expect(of(m[1]!.receive(req(0)), "vote-reply")[0]!.granted).toBe(true);
    expect(of(m[1]!.receive(req(2)), "vote-reply")[0]!.granted).toBe(false);
    // The same candidate asking again (a retransmission) gets the same answer.
    expect(of(m[1]!.receive(req(0)), "vote-reply")[0]!.granted).toBe(true);
  });

  it("refuses a candidate whose log is behind its own", () => {
    const [leader, f1] = elect();
    const appended = leader!.propose(block(1, keys[0]!.publicKey), 1);
    f1!.receive(of(appended, "append")[0]!);
    const stale = { type: "vote" as const, term: 9, from: keys[2]!.publicKey, lastIndex: 0, lastTerm: 0 };
    clock += 5_000; // past the lease
    expect(of(f1!.receive(stale), "vote-reply")[0]!.granted).toBe(false);
  });

  it("a node that heard from its leader within the election timeout refuses pre-votes (a returning node cannot depose it)", () => {
    const [leader, f1, f2] = elect();
    clock += 100;
    f2!.receive(of(leader!.tick(), "append")[0]!); // node 2 knows term 1, then is cut off
    // Node 2 is cut off; the leader and node 1 exchange heartbeats every 500 ms for 6 s.
    let prevote: RaftMessage | undefined;
    for (let i = 0; i < 12; i++) {
      clock += 500;
      for (const hb of of(leader!.tick(), "append")) {
        for (const r of of(f1!.receive(hb), "append-reply")) leader!.receive(r);
      }
      prevote = of(f2!.tick(), "prevote")[0] ?? prevote;
    }
    // Node 2 timed out and ran pre-votes, which never raise its term.
    expect(prevote).toBeDefined();
    expect(f2!.status()).toMatchObject({ role: "precandidate", term: 1 });
    expect((prevote as RaftMessage).term).toBe(2);
    // Its pre-vote reaches the others when it returns: both heard from a live leader, both refuse.
    const pre = prevote as RaftMessage;
    expect(of(f1!.receive(pre), "prevote-reply")[0]!.granted).toBe(false);
    expect(of(leader!.receive(pre), "prevote-reply")[0]!.granted).toBe(false);
    expect(leader!.status().role).toBe("leader");
  });

  it("commits on acknowledgements from a majority; the certificate verifies as a Raft certificate", () => {
    const [leader, f1] = elect();
    const effects = leader!.propose(block(1, keys[0]!.publicKey), 1);
    // The append goes out while the leader writes; its own acknowledgement waits for the write.
    const kinds = effects.map((e) => e.type);
    expect(kinds.indexOf("send")).toBeLessThan(kinds.indexOf("persist"));
    expect(kinds.indexOf("persist")).toBeLessThan(kinds.indexOf("stored"));
    const reply = of(f1!.receive(of(effects, "append")[0]!), "append-reply")[0]!;
    expect(reply.success).toBe(true);
    expect(reply.ack).not.toBeNull();
    // One follower of three is no majority without the leader's own write.
    expect(leader!.receive(reply).some((e) => e.type === "commit")).toBe(false);
    const done = leader!.stored(1, 1);
    const commit = done.find((e) => e.type === "commit");
    expect(commit).toBeDefined();
    if (commit?.type !== "commit") return;
    expect(commit.commit.round).toBe(1);
    expect(commit.commit.signatures.length).toBe(2);
    expect(() => verifyCommit(CHAIN, commit.commit, commit.entry.hash, validators, nativeVerify, "raft")).not.toThrow();
    // Not a Tendermint certificate: two of three is no BFT quorum, and the bytes are acknowledgements.
    expect(() => verifyCommit(CHAIN, commit.commit, commit.entry.hash, validators, nativeVerify)).toThrow();
    // The leader's own acknowledgement goes out too; a follower that sees a majority of them
    // (its own and the leader's) commits without waiting for the leader.
    const selfAck = of(done, "append-reply")[0]!;
    expect(selfAck).toMatchObject({ from: keys[0]!.publicKey, to: keys[0]!.publicKey, lastIndex: 1 });
    const applied = f1!.receive(selfAck);
    const followerCommit = applied.find((e) => e.type === "commit");
    expect(followerCommit).toMatchObject({ verified: true });
    // A later append (or heartbeat) carries the certificate for a node that saw too few acknowledgements.
    clock += 200;
    const heartbeat = of(leader!.tick(), "append")[0]!;
    expect(heartbeat.commitIndex).toBe(1);
    expect(heartbeat.commit?.height).toBe(1);
  });

  it("a node outside the validator set follows as a learner: it commits what the leader certifies, never votes or acknowledges", () => {
    const [leader, f1] = elect();
    const learner = machine(3);
    learner.start();
    expect(learner.status().role).toBe("learner");
    clock += 5_000;
    expect(learner.tick().some((e) => e.type === "send")).toBe(false); // no election
    const append = of(leader!.propose(block(1, keys[0]!.publicKey), 1), "append")[0]!;
    expect(sent(learner.receive(append))).toEqual([]);
    leader!.receive(of(f1!.receive(append), "append-reply")[0]!);
    leader!.stored(1, 1);
    const done = leader!.applied(1, 1);
    expect(of(done, "append")).toEqual([]); // no notice: the next append or heartbeat carries it
    clock += 200;
    const heartbeat = of(leader!.tick(), "append")[0]!;
    const effects = learner.receive(heartbeat);
    expect(effects.some((e) => e.type === "commit")).toBe(true);
    expect(sent(effects)).toEqual([]);
    const pre = { type: "prevote" as const, term: 9, from: keys[1]!.publicKey, lastIndex: 9, lastTerm: 9 };
    expect(sent(learner.receive(pre))).toEqual([]);
  });

  it("check-quorum: a leader that hears from no majority for an election timeout steps down", () => {
    const [leader] = elect();
    clock += 1_001;
    leader!.tick();
    expect(leader!.status().role).toBe("follower");
    expect(leader!.status().term).toBe(1);
  });

  it("a leader sends its heartbeats straight to every peer, not by gossip only, while a voter is silent", () => {
    const [leader, one, two] = elect();
    const heartbeats = (effects: RaftEffect[]) =>
      effects.filter((e) => e.type === "send" && e.message.type === "append") as Extract<
        RaftEffect,
        { type: "send" }
      >[];
    const directAt: boolean[] = [];
    // Node 1 answers every heartbeat; node 2 hears nothing (its gossip is lost).
    for (let t = 0; t < 15; t++) {
      clock += 100;
      for (const hb of heartbeats(leader!.tick())) {
        directAt.push(hb.direct === true);
        for (const reply of of(one!.receive(hb.message), "append-reply")) leader!.receive(reply);
      }
    }
    expect(leader!.status().role).toBe("leader");
    // Gossip while node 2 was heard from within the election timeout (1 s), straight after that.
    expect(directAt.slice(0, 8).every((d) => !d)).toBe(true);
    expect(directAt.slice(-4).every((d) => d)).toBe(true);
    // Once node 2 answers, gossip again.
    clock += 100;
    const last = heartbeats(leader!.tick());
    expect(last.every((hb) => hb.direct === true)).toBe(true);
    for (const hb of last) for (const reply of of(two!.receive(hb.message), "append-reply")) leader!.receive(reply);
    clock += 100;
    const after = heartbeats(leader!.tick());
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((hb) => hb.direct !== true)).toBe(true);
  });

  it("encodes every message canonically and signs it; a damaged message does not decode", () => {
    const [leader] = elect();
    const append = of(leader!.propose(block(1, keys[0]!.publicKey), 1), "append")[0]!;
    const signer = createNativeSigner(keys[0]!.secretKey, keys[0]!.publicKey);
    const bytes = encodeRaftMessage(append, signer.sign(raftSigningBytes(CHAIN, append)));
    const { message, signature } = decodeRaftMessage(bytes);
    expect(nativeVerify(signature, raftSigningBytes(CHAIN, message), message.from)).toBe(true);
    expect(toHex(encodeRaftMessage(message, signature))).toBe(toHex(bytes));
    expect(() => decodeRaftMessage(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => decodeRaftMessage(new Uint8Array([0x90]))).toThrow();
  });
});
