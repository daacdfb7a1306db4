import { type HardState, RaftCore, type RaftEffect, type RaftEntry, type RaftMessage } from "@cairn/consensus";
import { concatBytes, equalBytes, prng, sha256, toHex, utf8 } from "@cairn/crypto";
import { type Commit, certificateQuorum, certificateSigningBytes, encode, type Validator } from "@cairn/messaging";

// A deterministic network of in-memory Raft machines (seeded, so a failing run replays from its
// seed): a manual clock, delivery delays, loss, duplication and reordering, partitions, and crashes
// at any point of an input's effects (a crashed node keeps only what it persisted and committed).
// It records every commit and every granted vote, for the safety checks. It performs no I/O.

export const RAFT_SIM_CHAIN_ID = "raft-sim";

export interface RaftSimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Chance, per input a node handles, that it crashes part-way through the input's effects. */
  readonly crashRate: number;
  /** How long a crashed node stays down (ms). */
  readonly downMs: number;
  /** Chance per second that the network splits in two for `partitionMs`. */
  readonly partitionRate: number;
  readonly partitionMs: number;
}

/** A fake signature scheme (SHA-256 of key and message): the simulation tests crash faults, not forgers. */
function fakeSign(publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  const a = sha256(concatBytes(publicKey, message));
  return concatBytes(a, sha256(a));
}

function fakeVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return equalBytes(signature, fakeSign(publicKey, message));
}

interface Disk {
  hard: HardState;
  log: Map<number, RaftEntry>;
}

export interface RaftSimNode {
  readonly index: number;
  readonly key: Uint8Array;
  core: RaftCore | undefined;
  readonly disk: Disk;
  /** The node's ledger: durable, survives crashes. */
  readonly chain: { entry: RaftEntry; commit: Commit }[];
  downUntil: number;
}

type Event =
  | { at: number; seq: number; kind: "deliver"; to: number; message: RaftMessage }
  | { at: number; seq: number; kind: "tick"; node: number }
  | { at: number; seq: number; kind: "propose"; node: number; height: number; term: number };

export class RaftSimulation {
  readonly opts: RaftSimOptions;
  readonly nodes: RaftSimNode[];
  readonly validators: Validator[];
  private readonly rand: () => number;
  private now = 0;
  private seq = 0;
  private queue: Event[] = [];
  private partition: { groups: [Set<number>, Set<number>]; until: number } | undefined;
  /** height → hash hex of the first block any node committed there. */
  readonly committed = new Map<number, string>();
  /** Every safety violation seen. */
  readonly violations: string[] = [];
  /** voter/term → candidate granted. */
  private readonly granted = new Map<string, string>();
  private salt = 0;

  constructor(opts: RaftSimOptions) {
    this.opts = opts;
    this.rand = prng(opts.seed);
    const keys = Array.from({ length: opts.nodes }, (_, i) => sha256(utf8.encode(`raft-sim-${opts.seed}-${i}`)));
    this.validators = keys.map((k, i) => ({ publicKey: k, power: 1, name: `n${i}` }));
    this.nodes = keys.map((key, index) => ({
      index,
      key,
      core: undefined,
      disk: { hard: { term: 0, votedFor: null }, log: new Map() },
      chain: [],
      downUntil: 0,
    }));
  }

  start(): void {
    for (const n of this.nodes) this.boot(n);
  }

  /** Runs until `done()` or `limitMs` of simulated time. */
  run(done: () => boolean, limitMs: number): void {
    const end = this.now + limitMs;
    while (this.now < end && !done()) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const e = this.queue.shift();
      if (e === undefined) break;
      this.now = e.at;
      this.faults();
      const n = this.nodes[e.kind === "deliver" ? e.to : e.node] as RaftSimNode;
      if (n.core === undefined) {
        if (e.kind === "tick") this.push({ kind: "tick", node: n.index }, 20);
        continue;
      }
      switch (e.kind) {
        case "deliver":
          this.handle(n, n.core.receive(e.message));
          break;
        case "tick":
          this.handle(n, n.core.tick());
          this.push({ kind: "tick", node: n.index }, 20);
          break;
        case "propose":
          this.handle(n, n.core.propose(this.block(n, e.height), e.term));
          break;
      }
    }
  }

  /** Lets the network heal and stop failing; the rest of the run is fault-free. */
  calm(): void {
    this.partition = undefined;
    (this.opts as { crashRate: number }).crashRate = 0;
    (this.opts as { partitionRate: number }).partitionRate = 0;
    (this.opts as { dropRate: number }).dropRate = 0;
    for (const n of this.nodes) if (n.core === undefined) n.downUntil = this.now;
    this.faults();
  }

  get time(): number {
    return this.now;
  }

  maxHeight(): number {
    return Math.max(...this.nodes.map((n) => n.chain.length));
  }

  private faults(): void {
    for (const n of this.nodes) if (n.core === undefined && this.now >= n.downUntil) this.boot(n);
    if (this.partition !== undefined && this.now >= this.partition.until) this.partition = undefined;
    if (this.partition === undefined && this.rand() < this.opts.partitionRate / 50) {
      const a = new Set<number>();
      const b = new Set<number>();
      for (const n of this.nodes) (this.rand() < 0.5 ? a : b).add(n.index);
      this.partition = { groups: [a, b], until: this.now + this.opts.partitionMs };
    }
  }

  private boot(n: RaftSimNode): void {
    const last = n.chain.at(-1);
    n.core = new RaftCore({
      chainId: RAFT_SIM_CHAIN_ID,
      self: n.key,
      validatorsAt: () => this.validators,
      committed: { height: n.chain.length, term: last?.commit.round ?? 0 },
      restore: { hard: n.disk.hard, entries: [...n.disk.log.values()].sort((a, b) => a.height - b.height) },
      sign: (m) => fakeSign(n.key, m),
      verify: fakeVerify,
      now: () => this.now,
      random: this.rand,
      options: { electionTimeoutMs: 300, electionTimeoutMaxMs: 600, heartbeatMs: 60 },
    });
    this.handle(n, n.core.start());
    this.push({ kind: "tick", node: n.index }, 1 + Math.floor(this.rand() * 20));
  }

  private crash(n: RaftSimNode): void {
    n.core = undefined;
    n.downUntil = this.now + this.opts.downMs * (0.5 + this.rand());
  }

  /** Carries out effects in order; a crash may cut them short (what was persisted stays). */
  private handle(n: RaftSimNode, effects: readonly RaftEffect[]): void {
    const crashAt = this.rand() < this.opts.crashRate ? Math.floor(this.rand() * (effects.length + 1)) : -1;
    for (const [i, e] of effects.entries()) {
      if (i === crashAt) {
        this.crash(n);
        return;
      }
      const core = n.core;
      if (core === undefined) return;
      switch (e.type) {
        case "persist":
          n.disk.hard = e.hard;
          if (e.truncateFrom !== undefined)
            for (const h of [...n.disk.log.keys()]) if (h >= e.truncateFrom) n.disk.log.delete(h);
          for (const x of e.append) n.disk.log.set(x.height, x);
          break;
        case "send":
          this.broadcast(n, e.message);
          break;
        case "commit":
          this.commit(n, e.entry, e.commit);
          this.handle(n, core.applied(e.entry.height, e.commit.round, e.commit));
          break;
        case "propose":
          this.push({ kind: "propose", node: n.index, height: e.height, term: e.term }, 5 + this.rand() * 30);
          break;
        case "sync":
          this.sync(n);
          break;
        case "stored":
          this.handle(n, core.stored(e.height, e.term));
          break;
        case "role":
        case "vote":
          break;
      }
    }
    if (crashAt === effects.length) this.crash(n);
  }

  private commit(n: RaftSimNode, entry: RaftEntry, commit: Commit): void {
    const where = `node ${n.index} height ${entry.height}`;
    if (entry.height !== n.chain.length + 1) this.violations.push(`${where}: committed out of order`);
    if (!equalBytes(commit.blockHash, entry.hash)) this.violations.push(`${where}: certificate for another block`);
    const signed = certificateSigningBytes("raft", {
      chainId: RAFT_SIM_CHAIN_ID,
      height: commit.height,
      round: commit.round,
      blockHash: commit.blockHash,
    });
    const signers = commit.signatures.filter((s) => fakeVerify(s.signature, signed, s.validator)).length;
    if (signers < certificateQuorum("raft", this.validators.length)) this.violations.push(`${where}: weak certificate`);
    this.record(n, entry, commit);
  }

  private record(n: RaftSimNode, entry: RaftEntry, commit: Commit): void {
    const hash = toHex(entry.hash);
    const first = this.committed.get(entry.height);
    if (first === undefined) this.committed.set(entry.height, hash);
    else if (first !== hash) this.violations.push(`height ${entry.height}: two different blocks committed`);
    n.chain.push({ entry, commit });
  }

  /** Block sync: the committed blocks of a live node that has more. */
  private sync(n: RaftSimNode): void {
    const from = this.nodes.filter(
      (m) => m.core !== undefined && m.chain.length > n.chain.length && this.reachable(m.index, n.index),
    );
    const src = from[Math.floor(this.rand() * from.length)];
    if (src === undefined) return;
    for (const b of src.chain.slice(n.chain.length)) this.record(n, b.entry, b.commit);
    const last = n.chain.at(-1);
    if (last !== undefined && n.core !== undefined) {
      this.handle(n, n.core.applied(last.entry.height, last.commit.round, last.commit));
    }
  }

  private block(n: RaftSimNode, height: number): Omit<RaftEntry, "term"> {
    this.salt += 1;
    const block = encode(["SIMBLOCK", height, n.index, this.salt]);
    return { height, hash: sha256(block), block, lastCommit: n.chain.at(-1)?.commit ?? null };
  }

  private reachable(a: number, b: number): boolean {
    const p = this.partition;
    return p === undefined || p.groups[0].has(a) === p.groups[0].has(b);
  }

  private broadcast(from: RaftSimNode, m: RaftMessage): void {
    if (m.type === "vote-reply" && m.granted) {
      const key = `${toHex(m.from)}/${m.term}`;
      const before = this.granted.get(key);
      if (before !== undefined && before !== toHex(m.to)) {
        this.violations.push(`${toHex(m.from).slice(0, 8)} granted two votes in term ${m.term}`);
      }
      this.granted.set(key, toHex(m.to));
    }
    for (const to of this.nodes) {
      if (to.index === from.index || !this.reachable(from.index, to.index)) continue;
      if (this.rand() < this.opts.dropRate) continue;
      const copies = this.rand() < this.opts.duplicateRate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const delay = this.opts.minDelay + this.rand() * (this.opts.maxDelay - this.opts.minDelay);
        this.push({ kind: "deliver", to: to.index, message: m }, delay);
      }
    }
  }

  private push(e: Omit<Event, "at" | "seq"> & Partial<Event>, delay: number): void {
    this.seq += 1;
    this.queue.push({ ...e, at: this.now + delay, seq: this.seq } as Event);
  }
}
