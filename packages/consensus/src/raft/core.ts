import { equalBytes, toHex } from "@cairn/crypto";
import {
  type Commit,
  certificateQuorum,
  certificateSigningBytes,
  type RaftStatusJson,
  type Validator,
} from "@cairn/messaging";
import type { AppendReply, AppendRequest, RaftEntry, RaftMessage, VoteReply, VoteRequest } from "./messages.ts";

// Raft as a deterministic state machine, in the style of the Tendermint core (../bft/tendermint.ts):
// inputs in (a message, a tick of the clock, a block ready to propose, a block applied), effects out
// (persist, send, commit, propose, sync), which the engine (./engine.ts) carries out in order. The
// randomised simulation (test-utils raft-simulation.ts) drives the same machine.
//
// The log is of blocks: an entry's index is its block's height. The ledger is the snapshot: entries
// are kept only above the committed head. The leader proposes one block at a time (the next block
// executes on the state the last one committed), so the log above the head is one entry long,
// two at most just after a leader change.
//
// Where Cairn departs from the paper, and why:
// - Pre-vote (thesis §9.6) and check-quorum: a node that heard from a leader within the minimum
//   election timeout ignores (pre-)votes, and a leader that has not heard from a majority for that
//   long steps down. A partitioned node rejoining does not depose a healthy leader.
// - A commit certificate: a follower acknowledges an entry of the current term with a signature over
//   (chain, height, term, block hash); the leader commits when acknowledgements hold more than half
//   the voting power, and those signatures are the block's certificate (docs/consensus.md).
// - A new leader re-appends its uncommitted last block under its own term (same bytes) where the
//   paper appends a no-op entry: a chain of blocks has no no-op entry. The certificate is then
//   always for an entry of the term it was acknowledged in, so it proves the block committed.
// - Quorums are weighted by validator power; the set is the one the ledger schedules for the next
//   height, and governance changes it by one member at a time (single-server changes, §4.3 of the thesis).

export type RaftRole = RaftStatusJson["role"];

export interface RaftOptions {
  /** Least time without a leader before a node runs for election (ms); also the leader's lease. */
  readonly electionTimeoutMs: number;
  /** Each node's timeout is drawn from [electionTimeoutMs, electionTimeoutMaxMs) (ms). */
  readonly electionTimeoutMaxMs: number;
  /** How often the leader sends heartbeats (ms). */
  readonly heartbeatMs: number;
}

export const defaultRaftOptions: RaftOptions = {
  electionTimeoutMs: 800,
  electionTimeoutMaxMs: 1_600,
  heartbeatMs: 150,
};

/** What must be on disk before anything after it happens (Raft's persistent state). */
export interface HardState {
  readonly term: number;
  readonly votedFor: Uint8Array | null;
}

export type RaftEffect =
  /** Write durably: the hard state, and the log above `truncateFrom - 1` replaced by `append` when set. */
  | {
      readonly type: "persist";
      readonly hard: HardState;
      readonly truncateFrom?: number;
      readonly append: readonly RaftEntry[];
    }
  /**
   * Send to every peer. `direct`: not (only) by gossip but straight to each connected peer, for a
   * leader's heartbeat while some voter has been silent for an election timeout: gossip that stopped
   * reaching a node (a partition healed over connections gossip no longer uses) must not keep it
   * out of the cluster.
   */
  | { readonly type: "send"; readonly message: RaftMessage; readonly direct?: boolean }
  /** Execute and commit this entry with its certificate, then call `applied`. In height order. */
  | {
      readonly type: "commit";
      readonly entry: RaftEntry;
      readonly commit: Commit;
      /** The machine checked every signature of `commit` (it made it from acknowledgements it verified). */
      readonly verified: boolean;
    }
  /** Build a block for `height` and hand it to `propose` (the leader of `term`). */
  | { readonly type: "propose"; readonly height: number; readonly term: number }
  /** Call `stored(height, term)`: the leader's write of its new entry (the persist before this) is done. */
  | { readonly type: "stored"; readonly height: number; readonly term: number }
  /** The leader committed up to `height`, past what this node holds: fetch blocks (block sync). */
  | { readonly type: "sync"; readonly height: number }
  /** The role changed (for the event log): why. */
  | { readonly type: "role"; readonly role: RaftRole; readonly term: number; readonly cause: string }
  /** A (pre-)vote this node granted or got (for the event log). */
  | {
      readonly type: "vote";
      readonly kind: "prevote" | "vote";
      readonly term: number;
      readonly candidate: Uint8Array;
      readonly voter: Uint8Array;
      readonly granted: boolean;
    };

export interface RaftCoreConfig {
  readonly chainId: string;
  readonly self: Uint8Array;
  /** The validator set deciding `height`. */
  readonly validatorsAt: (height: number) => readonly Validator[];
  /** The committed head and the term of its certificate. */
  readonly committed: { readonly height: number; readonly term: number };
  readonly restore: { readonly hard: HardState; readonly entries: readonly RaftEntry[] } | null;
  readonly sign: (message: Uint8Array) => Uint8Array;
  readonly verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
  readonly now: () => number;
  /** In [0, 1): randomises election timeouts. */
  readonly random: () => number;
  readonly options?: Partial<RaftOptions>;
}

/** The machine's state, as GET /status shows it (consensus.raft). */
export type RaftStatus = RaftStatusJson;

/** Heartbeats a follower may go without acknowledging the leader's tail before the tail is sent again. */
const RESEND_HEARTBEATS = 3;

export class RaftCore {
  private readonly cfg: RaftCoreConfig;
  readonly opts: RaftOptions;
  private term: number;
  private votedFor: Uint8Array | null;
  private role: RaftRole = "follower";
  private leader: Uint8Array | null = null;
  /** Entries above the committed head, in height order. */
  private log: RaftEntry[];
  private committed: { height: number; term: number };
  /** Highest height handed to a `commit` effect. */
  private applying: number;
  /** Certificates of heights above the committed head (from the leader, or made here as leader). */
  private readonly certs = new Map<number, Commit>();
  /** The certificate of the committed head, when this node made or received it. */
  private headCert: Commit | null = null;
  private electionDeadline = 0;
  private lastLeaderContact = Number.NEGATIVE_INFINITY;
  private readonly votes = new Set<string>();
  /** Certificates this machine assembled from acknowledgements whose signatures it checked. */
  private readonly madeHere = new WeakSet<Commit>();
  /** Follower side: acknowledgements of each stored entry seen on the wire, by height. */
  private readonly seenAcks = new Map<number, { term: number; hash: Uint8Array; acks: Map<string, Uint8Array> }>();
  // Leader state.
  private readonly acks = new Map<string, Uint8Array>();
  private readonly lastHeard = new Map<string, number>();
  private readonly matchIndex = new Map<string, number>();
  private heartbeatDue = 0;
  private quorumCheckDue = 0;
  private lastEntriesSent = Number.NEGATIVE_INFINITY;
  private proposing = -1;
  private seq = 0;
  private effects: RaftEffect[] = [];

  constructor(cfg: RaftCoreConfig) {
    this.cfg = cfg;
    this.opts = { ...defaultRaftOptions, ...cfg.options };
    this.committed = { ...cfg.committed };
    this.applying = cfg.committed.height;
    this.term = cfg.restore?.hard.term ?? 0;
    this.votedFor = cfg.restore?.hard.votedFor ?? null;
    this.log = (cfg.restore?.entries ?? []).filter((e) => e.height > cfg.committed.height);
    // Entries must continue the head without a gap; anything after a gap is useless.
    const gap = this.log.findIndex((e, i) => e.height !== cfg.committed.height + 1 + i);
    if (gap >= 0) this.log = this.log.slice(0, gap);
    if (this.term < cfg.committed.term) this.term = cfg.committed.term;
  }

  // ---- inputs ----------------------------------------------------------------------------------

  start(): RaftEffect[] {
    this.role = this.isVoter() ? "follower" : "learner";
    this.resetElectionTimer();
    // A lone validator needs nobody: it leads at once.
    if (this.isVoter() && this.quorumReached(new Set([toHex(this.cfg.self)]))) this.startElection("alone");
    return this.flush();
  }

  /** Called every few tens of ms: heartbeats, elections, the leader's quorum check. */
  tick(): RaftEffect[] {
    const now = this.cfg.now();
    if (this.role === "leader") {
      if (now >= this.quorumCheckDue) {
        this.quorumCheckDue = now + this.opts.electionTimeoutMs;
        if (!this.leaderHasQuorum(now)) this.stepDown(this.term, null, "lost contact with a majority (check-quorum)");
      }
      // A follower still without the tail after a few heartbeats (a lost message, a restart) gets it
      // again; one merely busy (writing the last block) would only be slowed by a second copy.
      if (this.role === "leader" && now >= this.heartbeatDue) {
        this.sendAppend(
          this.someoneLacksEntries() && now - this.lastEntriesSent >= RESEND_HEARTBEATS * this.opts.heartbeatMs,
          this.someoneSilent(now),
        );
      }
    } else if (this.role !== "learner" && now >= this.electionDeadline) {
      this.startPreVote();
    }
    return this.flush();
  }

  receive(m: RaftMessage): RaftEffect[] {
    const from = toHex(m.from);
    // Only validators take part; a learner still follows the leader's appends.
    if (!this.voters().has(from) && m.type !== "append") return this.flush();
    switch (m.type) {
      case "prevote":
        this.onPreVote(m);
        break;
      case "vote":
        this.onVote(m);
        break;
      case "prevote-reply":
      case "vote-reply":
        this.onVoteReply(m);
        break;
      case "append":
        if (this.validatorsNow().some((v) => equalBytes(v.publicKey, m.from))) this.onAppend(m);
        break;
      case "append-reply":
        this.onAppendReply(m);
        break;
    }
    return this.flush();
  }

  /** The leader's block for `height`, built on the committed head. Ignored if it is no longer wanted. */
  propose(entry: Omit<RaftEntry, "term">, term: number): RaftEffect[] {
    if (!this.wantsBlock(entry.height, term)) return this.flush();
    this.proposing = -1;
    const e: RaftEntry = { ...entry, term: this.term };
    this.log.push(e);
    this.acks.clear();
    // The followers write the entry while the leader does (§10.2.1 of the thesis): the append goes
    // out first, and the leader's own acknowledgement counts only once its write is done.
    this.sendAppend(true);
    this.persist(undefined, [e]);
    this.effects.push({ type: "stored", height: e.height, term: e.term });
    return this.flush();
  }

  /** The leader's own write of its entry at `height` (term `term`) is done: its acknowledgement counts. */
  stored(height: number, term: number): RaftEffect[] {
    const last = this.log.at(-1);
    if (this.role !== "leader" || this.term !== term || last === undefined || last.height !== height)
      return this.flush();
    if (last.term !== term) return this.flush();
    const ack = this.ackSignature(last);
    this.acks.set(toHex(this.cfg.self), ack);
    // The followers count it too (they commit on a majority they see): a reply addressed to itself.
    this.send({
      type: "append-reply",
      term,
      from: this.cfg.self,
      to: this.cfg.self,
      success: true,
      lastIndex: height,
      commitIndex: this.committed.height,
      ack,
      seq: this.nextSeq(),
    });
    this.leaderMaybeCommit();
    return this.flush();
  }

  /** Whether a block for `height` is still wanted from this leader of `term`. */
  wantsBlock(height: number, term: number): boolean {
    return (
      this.role === "leader" &&
      this.term === term &&
      this.log.length === 0 &&
      height === this.committed.height + 1 &&
      this.applying === this.committed.height
    );
  }

  /** The ledger committed up to `height` (a `commit` effect, or block sync), its certificate of `term`. */
  applied(height: number, term: number, cert?: Commit): RaftEffect[] {
    if (height <= this.committed.height) return this.flush();
    this.committed = { height, term };
    this.headCert = cert ?? this.certs.get(height) ?? null;
    if (this.applying < height) this.applying = height;
    this.log = this.log.filter((e) => e.height > height);
    for (const h of [...this.certs.keys()]) if (h <= height) this.certs.delete(h);
    for (const h of [...this.seenAcks.keys()]) if (h <= height) this.seenAcks.delete(h);
    if (!this.isVoter() && this.role !== "learner") this.becomeLearner();
    else if (this.isVoter() && this.role === "learner") this.role = "follower";
    if (this.role === "leader") {
      // Followers commit on the acknowledgements they saw, or learn of the commit from the next
      // append or heartbeat; only a tail still to replicate (after a leader change) is sent now.
      if (this.log.length > 0) this.sendAppend(true);
      this.requestBlock();
    } else {
      this.applyCommitted();
    }
    return this.flush();
  }

  status(): RaftStatus {
    const certified = Math.max(this.applying, ...this.certs.keys());
    return {
      role: this.role,
      term: this.term,
      leader: this.leader === null ? null : toHex(this.leader),
      commitIndex: certified,
      appliedIndex: this.committed.height,
      lastIndex: this.lastIndex(),
      votedFor: this.votedFor === null ? null : toHex(this.votedFor),
    };
  }

  // ---- elections -------------------------------------------------------------------------------

  private startPreVote(): void {
    this.role = "precandidate";
    this.leader = null;
    this.votes.clear();
    this.votes.add(toHex(this.cfg.self));
    this.resetElectionTimer();
    this.effects.push({ type: "role", role: "precandidate", term: this.term, cause: "election timeout" });
    if (this.quorumReached(this.votes)) {
      this.startElection("pre-vote won");
      return;
    }
    this.send({
      type: "prevote",
      term: this.term + 1,
      from: this.cfg.self,
      lastIndex: this.lastIndex(),
      lastTerm: this.lastTerm(),
    });
  }

  private startElection(cause: string): void {
    this.term += 1;
    this.votedFor = this.cfg.self;
    this.role = "candidate";
    this.leader = null;
    this.votes.clear();
    this.votes.add(toHex(this.cfg.self));
    this.resetElectionTimer();
    this.persist();
    this.effects.push({ type: "role", role: "candidate", term: this.term, cause });
    if (this.quorumReached(this.votes)) {
      this.becomeLeader();
      return;
    }
    this.send({
      type: "vote",
      term: this.term,
      from: this.cfg.self,
      lastIndex: this.lastIndex(),
      lastTerm: this.lastTerm(),
    });
  }

  /** Heard from a live leader recently: (pre-)votes are ignored, so a returning node cannot depose it. */
  private inLease(): boolean {
    if (this.role === "leader") return true;
    return this.leader !== null && this.cfg.now() - this.lastLeaderContact < this.opts.electionTimeoutMs;
  }

  private upToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  private onPreVote(m: VoteRequest): void {
    if (!this.isVoter()) return;
    const granted = m.term > this.term && !this.inLease() && this.upToDate(m.lastIndex, m.lastTerm);
    this.voteEvent("prevote", m.term, m.from, this.cfg.self, granted);
    this.send({ type: "prevote-reply", term: m.term, from: this.cfg.self, to: m.from, granted });
  }

  private onVote(m: VoteRequest): void {
    if (!this.isVoter()) return;
    if (this.inLease() && m.term > this.term) {
      this.send({ type: "vote-reply", term: this.term, from: this.cfg.self, to: m.from, granted: false });
      return;
    }
    if (m.term > this.term) this.stepDown(m.term, null, "a candidate of a higher term");
    const granted =
      m.term === this.term &&
      (this.votedFor === null || equalBytes(this.votedFor, m.from)) &&
      this.upToDate(m.lastIndex, m.lastTerm);
    if (granted) {
      if (this.votedFor === null) {
        this.votedFor = m.from;
        this.persist(); // on disk before the reply: a restart cannot vote again in this term
      }
      this.resetElectionTimer();
    }
    this.voteEvent("vote", m.term, m.from, this.cfg.self, granted);
    this.send({ type: "vote-reply", term: this.term, from: this.cfg.self, to: m.from, granted });
  }

  private onVoteReply(m: VoteReply): void {
    if (!equalBytes(m.to, this.cfg.self)) return;
    if (m.type === "vote-reply" && m.term > this.term) {
      this.stepDown(m.term, null, "a higher term");
      return;
    }
    if (!m.granted) return;
    if (m.type === "prevote-reply" && this.role === "precandidate" && m.term === this.term + 1) {
      this.votes.add(toHex(m.from));
      if (this.quorumReached(this.votes)) this.startElection("pre-vote won");
    } else if (m.type === "vote-reply" && this.role === "candidate" && m.term === this.term) {
      this.voteEvent("vote", m.term, this.cfg.self, m.from, true);
      this.votes.add(toHex(m.from));
      if (this.quorumReached(this.votes)) this.becomeLeader();
    }
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.leader = this.cfg.self;
    const now = this.cfg.now();
    this.lastHeard.clear();
    this.matchIndex.clear();
    for (const v of this.voters()) this.lastHeard.set(v, now);
    this.quorumCheckDue = now + this.opts.electionTimeoutMs;
    this.effects.push({ type: "role", role: "leader", term: this.term, cause: "won the election" });
    this.proposing = -1;
    this.acks.clear();
    // Entries followed by a block carrying their certificate are committed; the last one, if no
    // certificate is known, is re-appended under this term (the paper's no-op entry; see above).
    this.collectCertificates();
    const last = this.log.at(-1);
    if (last !== undefined && !this.certs.has(last.height)) {
      const again: RaftEntry = { ...last, term: this.term };
      this.log[this.log.length - 1] = again;
      this.persist(again.height, [again]);
      this.acks.set(toHex(this.cfg.self), this.ackSignature(again));
    }
    this.sendAppend(this.log.length > 0);
    this.applyCommitted();
    this.leaderMaybeCommit();
    this.requestBlock();
  }

  private stepDown(term: number, leader: Uint8Array | null, cause: string): void {
    const wasRole = this.role;
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
      this.persist();
    }
    this.role = this.isVoter() ? "follower" : "learner";
    this.leader = leader;
    if (leader === null) this.lastLeaderContact = Number.NEGATIVE_INFINITY;
    this.proposing = -1;
    this.acks.clear();
    this.resetElectionTimer();
    if (wasRole !== this.role) this.effects.push({ type: "role", role: this.role, term: this.term, cause });
  }

  private becomeLearner(): void {
    this.role = "learner";
    this.effects.push({ type: "role", role: "learner", term: this.term, cause: "not in the validator set" });
  }

  // ---- replication -----------------------------------------------------------------------------

  private onAppend(m: AppendRequest): void {
    if (m.term < this.term) {
      // A stale leader: the reply's term tells it to step down.
      this.reply(m.from, false, this.committed.height, null);
      return;
    }
    if (m.term > this.term || this.role !== "follower" || this.leader === null || !equalBytes(this.leader, m.from)) {
      this.stepDown(m.term, m.from, "heard from the leader");
    }
    this.leader = m.from;
    this.lastLeaderContact = this.cfg.now();
    this.resetElectionTimer();
    if (m.commit !== null && m.commitIndex > this.committed.height && m.commit.height === m.commitIndex) {
      this.certs.set(m.commitIndex, m.commit);
    }
    // Log matching: the entry at prevIndex must have prevTerm (committed entries always match).
    if (m.prevIndex > this.lastIndex()) {
      this.reply(m.from, false, this.lastIndex(), null);
      this.needSync(m.commitIndex);
      return;
    }
    if (m.prevIndex > this.committed.height && this.termAt(m.prevIndex) !== m.prevTerm) {
      // Our entry there is not the leader's, so it is not committed: drop it and what follows.
      if (m.prevIndex > this.applying) {
        this.log = this.log.filter((x) => x.height < m.prevIndex);
        this.persist(m.prevIndex, []);
      }
      this.reply(m.from, false, this.committed.height, null);
      this.needSync(m.commitIndex);
      return;
    }
    let changedFrom: number | undefined;
    const appended: RaftEntry[] = [];
    for (const e of m.entries) {
      if (e.height <= this.committed.height) continue;
      const mine = this.entryAt(e.height);
      if (changedFrom === undefined && mine !== undefined && mine.term === e.term) continue;
      if (changedFrom === undefined) {
        if (e.height <= this.applying) {
          // Already being committed here: the same block (re-appended by a new leader) is fine; another
          // cannot come from a correct leader, and is refused rather than forked on.
          if (mine !== undefined && equalBytes(mine.hash, e.hash)) continue;
          return;
        }
        // A conflicting suffix is never committed (the leader holds every committed entry): drop it.
        changedFrom = e.height;
        this.log = this.log.filter((x) => x.height < e.height);
      }
      this.log.push(e);
      appended.push(e);
    }
    if (changedFrom !== undefined) this.persist(changedFrom, appended);
    const matched = m.prevIndex + m.entries.length;
    const last = this.entryAt(matched);
    const ack = last !== undefined && last.term === this.term && this.isVoter() ? this.ackSignature(last) : null;
    this.reply(m.from, true, Math.max(matched, this.committed.height), ack);
    if (ack !== null && last !== undefined) this.noteAck(last, toHex(this.cfg.self), ack);
    this.applyCommitted();
    this.needSync(m.commitIndex);
  }

  private reply(to: Uint8Array, success: boolean, lastIndex: number, ack: Uint8Array | null): void {
    if (!this.isVoter()) return;
    this.send({
      type: "append-reply",
      term: this.term,
      from: this.cfg.self,
      to,
      success,
      lastIndex,
      commitIndex: this.committed.height,
      ack,
      seq: this.nextSeq(),
    });
  }

  private onAppendReply(m: AppendReply): void {
    if (!equalBytes(m.to, this.cfg.self)) {
      this.observeAck(m);
      return;
    }
    if (m.term > this.term) {
      this.stepDown(m.term, null, "a higher term");
      return;
    }
    if (this.role !== "leader" || m.term !== this.term) return;
    const from = toHex(m.from);
    this.lastHeard.set(from, this.cfg.now());
    // A follower committed blocks this leader has not (it was elected on an uncertified copy of the
    // same block): it fetches them by block sync, as any lagging node does.
    if (m.commitIndex > this.applying) this.effects.push({ type: "sync", height: m.commitIndex });
    if (!m.success) {
      this.matchIndex.set(from, Math.min(this.matchIndex.get(from) ?? 0, m.lastIndex));
      // Send the whole tail again (its log did not match), at most once a heartbeat.
      if (this.cfg.now() - this.lastEntriesSent >= this.opts.heartbeatMs) this.sendAppend(true);
      return;
    }
    this.matchIndex.set(from, Math.max(this.matchIndex.get(from) ?? 0, m.lastIndex));
    const last = this.log.at(-1);
    if (m.ack === null || last === undefined || m.lastIndex !== last.height || last.term !== this.term) return;
    if (this.acks.has(from)) return;
    const signed = certificateSigningBytes("raft", {
      chainId: this.cfg.chainId,
      height: last.height,
      round: last.term,
      blockHash: last.hash,
    });
    if (!this.cfg.verify(m.ack, signed, m.from)) return;
    this.acks.set(from, m.ack);
    this.leaderMaybeCommit();
  }

  /**
   * Another follower's acknowledgement to the leader (gossip brings every reply to every node). A
   * follower holding the same entry commits as soon as it has seen acknowledgements of a majority,
   * its own included: the certificate proves the commit to it as to anyone, and it saves waiting
   * for the leader's notice (two message delays to commit everywhere, not three).
   */
  private observeAck(m: AppendReply): void {
    if (this.role === "leader" || m.ack === null || !m.success || m.term !== this.term) return;
    const entry = this.entryAt(m.lastIndex);
    if (entry === undefined || entry.term !== m.term || this.certs.has(entry.height)) return;
    const signed = certificateSigningBytes("raft", {
      chainId: this.cfg.chainId,
      height: entry.height,
      round: entry.term,
      blockHash: entry.hash,
    });
    if (!this.cfg.verify(m.ack, signed, m.from)) return;
    this.noteAck(entry, toHex(m.from), m.ack);
  }

  /** Records an acknowledgement of `entry` seen by a follower; with a majority, the entry is committed here. */
  private noteAck(entry: RaftEntry, who: string, signature: Uint8Array): void {
    let seen = this.seenAcks.get(entry.height);
    if (seen === undefined || seen.term !== entry.term || !equalBytes(seen.hash, entry.hash)) {
      seen = { term: entry.term, hash: entry.hash, acks: new Map() };
      this.seenAcks.set(entry.height, seen);
    }
    seen.acks.set(who, signature);
    if (this.certs.has(entry.height) || !this.quorumReached(new Set(seen.acks.keys()), entry.height)) return;
    this.certs.set(entry.height, this.certificate(entry, seen.acks));
    this.applyCommitted();
  }

  /** The certificate of `entry` from these (verified) acknowledgements, in validator-set order. */
  private certificate(entry: RaftEntry, acks: ReadonlyMap<string, Uint8Array>): Commit {
    const signatures = this.cfg.validatorsAt(entry.height).flatMap((v) => {
      const sig = acks.get(toHex(v.publicKey));
      return sig === undefined ? [] : [{ validator: v.publicKey, signature: sig }];
    });
    const cert = { height: entry.height, round: entry.term, blockHash: entry.hash, signatures };
    this.madeHere.add(cert);
    return cert;
  }

  /** The leader's last entry, acknowledged by a majority in this term: committed, with its certificate. */
  private leaderMaybeCommit(): void {
    const last = this.log.at(-1);
    if (this.role !== "leader" || last === undefined || last.term !== this.term) return;
    if (this.certs.has(last.height) || !this.quorumReached(new Set(this.acks.keys()), last.height)) return;
    this.certs.set(last.height, this.certificate(last, this.acks));
    this.applyCommitted();
  }

  /** Hands every entry known committed, in order, to the engine. */
  private applyCommitted(): void {
    this.collectCertificates();
    for (;;) {
      const h = this.applying + 1;
      const entry = this.entryAt(h);
      const cert = this.certs.get(h);
      if (entry === undefined || cert === undefined || !equalBytes(cert.blockHash, entry.hash)) return;
      this.applying = h;
      this.effects.push({ type: "commit", entry, commit: cert, verified: this.madeHere.has(cert) });
    }
  }

  /** A block in the log carries its parent's certificate: the parent is committed. */
  private collectCertificates(): void {
    for (const e of this.log) {
      const c = e.lastCommit;
      if (c === null || c.height <= this.committed.height || this.certs.has(c.height)) continue;
      const parent = this.entryAt(c.height);
      if (parent !== undefined && equalBytes(parent.hash, c.blockHash)) this.certs.set(c.height, c);
    }
  }

  /** The leader committed blocks this node cannot commit from its log: fetch them. */
  private needSync(leaderCommit: number): void {
    if (
      leaderCommit > this.applying &&
      (leaderCommit > this.lastIndex() || this.entryAt(this.applying + 1) === undefined)
    ) {
      this.effects.push({ type: "sync", height: leaderCommit });
    }
  }

  /** Broadcasts AppendEntries: with the uncommitted tail after the committed head, or a heartbeat after the last entry. */
  private sendAppend(withEntries: boolean, direct = false): void {
    const now = this.cfg.now();
    this.heartbeatDue = now + this.opts.heartbeatMs;
    const certified = Math.max(this.committed.height, ...this.certs.keys());
    const commit = certified === this.committed.height ? this.headCert : (this.certs.get(certified) ?? null);
    const base = { type: "append" as const, term: this.term, from: this.cfg.self, seq: this.nextSeq() };
    const commitIndex = commit === null ? this.committed.height : certified;
    if (withEntries && this.log.length > 0) {
      this.lastEntriesSent = now;
      this.send(
        {
          ...base,
          prevIndex: this.committed.height,
          prevTerm: this.committed.term,
          entries: [...this.log],
          commitIndex,
          commit,
        },
        direct,
      );
    } else {
      this.send(
        { ...base, prevIndex: this.lastIndex(), prevTerm: this.lastTerm(), entries: [], commitIndex, commit },
        direct,
      );
    }
  }

  /** Whether a voter has not been heard from for an election timeout. */
  private someoneSilent(now: number): boolean {
    const self = toHex(this.cfg.self);
    return [...this.voters()].some(
      (v) => v !== self && now - (this.lastHeard.get(v) ?? 0) >= this.opts.electionTimeoutMs,
    );
  }

  private someoneLacksEntries(): boolean {
    const last = this.lastIndex();
    if (last <= this.committed.height) return false;
    const self = toHex(this.cfg.self);
    return [...this.voters()].some((v) => v !== self && (this.matchIndex.get(v) ?? 0) < last);
  }

  private requestBlock(): void {
    const height = this.committed.height + 1;
    if (this.proposing === height || !this.wantsBlock(height, this.term)) return;
    this.proposing = height;
    this.effects.push({ type: "propose", height, term: this.term });
  }

  private leaderHasQuorum(now: number): boolean {
    const live = new Set<string>([toHex(this.cfg.self)]);
    for (const [v, at] of this.lastHeard) if (now - at < this.opts.electionTimeoutMs) live.add(v);
    return this.quorumReached(live);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private validatorsNow(): readonly Validator[] {
    return this.cfg.validatorsAt(this.committed.height + 1);
  }

  private voters(): ReadonlySet<string> {
    return voterKeys(this.validatorsNow()).set;
  }

  private isVoter(): boolean {
    return this.voters().has(toHex(this.cfg.self));
  }

  private quorumReached(who: ReadonlySet<string>, height = this.committed.height + 1): boolean {
    const set = this.cfg.validatorsAt(height);
    const { hex } = voterKeys(set);
    let total = 0;
    let power = 0;
    for (let i = 0; i < set.length; i++) {
      const v = set[i] as Validator;
      total += v.power;
      if (who.has(hex[i] as string)) power += v.power;
    }
    return total > 0 && power >= certificateQuorum("raft", total);
  }

  private ackSignature(e: RaftEntry): Uint8Array {
    return this.cfg.sign(
      certificateSigningBytes("raft", {
        chainId: this.cfg.chainId,
        height: e.height,
        round: e.term,
        blockHash: e.hash,
      }),
    );
  }

  private entryAt(height: number): RaftEntry | undefined {
    const i = height - this.committed.height - 1;
    return i >= 0 ? this.log[i] : undefined;
  }

  private termAt(height: number): number {
    if (height === this.committed.height) return this.committed.term;
    return this.entryAt(height)?.term ?? -1;
  }

  private lastIndex(): number {
    return this.log.at(-1)?.height ?? this.committed.height;
  }

  private lastTerm(): number {
    return this.log.at(-1)?.term ?? this.committed.term;
  }

  private resetElectionTimer(): void {
    const { electionTimeoutMs: min, electionTimeoutMaxMs: max } = this.opts;
    this.electionDeadline = this.cfg.now() + min + this.cfg.random() * Math.max(0, max - min);
  }

  private persist(truncateFrom?: number, append: readonly RaftEntry[] = []): void {
    this.effects.push({
      type: "persist",
      hard: { term: this.term, votedFor: this.votedFor },
      ...(truncateFrom === undefined ? {} : { truncateFrom }),
      append,
    });
  }

  private send(message: RaftMessage, direct = false): void {
    this.effects.push(direct ? { type: "send", message, direct } : { type: "send", message });
  }

  private voteEvent(
    kind: "prevote" | "vote",
    term: number,
    candidate: Uint8Array,
    voter: Uint8Array,
    granted: boolean,
  ) {
    this.effects.push({ type: "vote", kind, term, candidate, voter, granted });
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private flush(): RaftEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}

// A validator set's keys in hex, computed once per set: every acknowledgement asks whether its
// sender votes, which was O(n) hex conversions each, O(n²) per block on n validators.
const keysOfSet = new WeakMap<readonly Validator[], { hex: readonly string[]; set: ReadonlySet<string> }>();
function voterKeys(validators: readonly Validator[]): { hex: readonly string[]; set: ReadonlySet<string> } {
  let k = keysOfSet.get(validators);
  if (k === undefined) {
    const hex = validators.map((v) => toHex(v.publicKey));
    k = { hex, set: new Set(hex) };
    keysOfSet.set(validators, k);
  }
  return k;
}
