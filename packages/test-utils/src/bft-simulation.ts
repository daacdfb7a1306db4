import {
  type ConsensusMessage,
  createTendermint,
  decodeConsensusMessage,
  decodeSafetyRecord,
  type Effect,
  type Evidence,
  encodeConsensusMessage,
  encodeSafetyRecord,
  NIL_HASH,
  proposerSchedule,
  type SafetyRecord,
  type Signer,
  signProposal,
  signVote,
  type Tendermint,
  type TendermintOptions,
  type Timeout,
  type Vote,
} from "@cairn/consensus";
import { concatBytes, equalBytes, keyPairFromSecret, prng, sha256, toHex, utf8 } from "@cairn/crypto";
import { createNativeSigner, nativeVerify } from "@cairn/crypto/native";
import { asArray, asUint, type Commit, decode, encode, type Validator, type Value, VoteType } from "@cairn/messaging";

// A deterministic network of in-memory BFT instances (seeded with @cairn/crypto's prng, so a failing
// run replays from its seed): a manual clock, seeded delivery delays and
// drops, partitions that hold messages until they heal, crashes with restore from the persisted
// safety record, and Byzantine validators. Used by the tests; it performs no I/O.

export const SIM_CHAIN_ID = "sim";

/** A simulated block: canonical(["SIMBLOCK", height, round, proposer index, salt, valid]). */
export function simBlock(height: number, round: number, proposer: number, salt: number, valid = true): Uint8Array {
  return encode(["SIMBLOCK", height, round, proposer, salt, valid]);
}

export function parseSimBlock(block: Uint8Array): { height: number; round: number; proposer: number; valid: boolean } {
  const f = asArray(decode(block), "block", 6);
  return {
    height: asUint(f[1] as Value, "height"),
    round: asUint(f[2] as Value, "round"),
    proposer: asUint(f[3] as Value, "proposer"),
    valid: f[5] === true,
  };
}

export const simHash = (block: Uint8Array): Uint8Array => sha256(block);

export type NodeKind = "honest" | "silent" | "byzantine";

export interface Decision {
  readonly height: number;
  readonly hash: string;
  readonly block: Uint8Array;
  readonly commit: Commit;
  readonly at: number;
}

export interface SimNode {
  readonly index: number;
  readonly kind: NodeKind;
  readonly signer: Signer;
  machine: Tendermint | undefined;
  crashed: boolean;
  /** The last persisted safety record, as stored bytes. */
  persisted: Uint8Array | undefined;
  readonly decisions: Map<number, Decision>;
  readonly evidence: Evidence[];
  /** Every vote and proposal this node broadcast, in order. */
  readonly sent: ConsensusMessage[];
  /** Effects in the order the node emitted them (for the persist-before-broadcast check). */
  readonly effects: Effect[];
  /** Messages this node has already relayed. */
  readonly seen: Set<string>;
}

export interface SimOptions {
  readonly seed: number;
  readonly kinds: readonly NodeKind[];
  readonly powers?: readonly number[];
  readonly minDelay?: number;
  readonly maxDelay?: number;
  /** Probability that a message is delayed up to `slowDelay` ms instead. */
  readonly slowRate?: number;
  readonly slowDelay?: number;
  /** Links (from, to) on which every message is slow. */
  readonly slowLinks?: readonly (readonly [number, number])[];
  /** How a Byzantine node votes; default "random". */
  readonly byzantine?: "random" | "support";
  /** Probability that a message is lost for good. */
  readonly dropRate?: number;
  /** Proposers (by index) whose blocks fail validation. */
  readonly invalidProposers?: readonly number[];
  readonly tendermint?: Partial<TendermintOptions>;
  /** Whether honest nodes relay the messages they accept (gossip); default true. */
  readonly relay?: boolean;
}

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

const before = (a: Event, b: Event) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class Simulation {
  now = 0;
  readonly nodes: SimNode[];
  readonly validators: Validator[];
  private readonly rand: () => number;
  private readonly opts: SimOptions;
  private queue: Event[] = [];
  private seq = 0;
  private held: { from: number; to: number; bytes: Uint8Array }[] = [];
  private partition: ((from: number, to: number) => boolean) | undefined;
  private readonly proposerOf: (height: number, round: number) => Validator;
  private readonly byzantineActed = new Set<string>();
  private readonly relay: boolean;
  private readonly persistTraps = new Map<number, (record: SafetyRecord) => boolean>();
  private readonly slowLinks: Set<string>;
  private readonly byzantineVotes = new Map<string, Vote>();
  // The nodes share one memo of checked signatures: the simulation's cost is mostly Ed25519.
  private readonly verified = new Map<string, boolean>();
  private readonly verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean => {
    const k = toHex(sha256(concatBytes(signature, publicKey, message)));
    let ok = this.verified.get(k);
    if (ok === undefined) {
      ok = nativeVerify(signature, message, publicKey);
      this.verified.set(k, ok);
    }
    return ok;
  };

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rand = prng(opts.seed);
    const keys = opts.kinds.map((_, i) => keyPairFromSecret(sha256(utf8.encode(`sim validator ${i}`))));
    this.validators = keys.map((k, i) => ({ publicKey: k.publicKey, power: opts.powers?.[i] ?? 1, name: `v${i}` }));
    this.proposerOf = proposerSchedule(this.validators);
    this.nodes = opts.kinds.map((kind, index) => ({
      index,
      kind,
      signer: createNativeSigner(keys[index]!.secretKey, keys[index]!.publicKey),
      machine: undefined,
      crashed: kind === "silent",
      persisted: undefined,
      decisions: new Map(),
      evidence: [],
      sent: [],
      effects: [],
      seen: new Set(),
    }));
    this.relay = opts.relay ?? true;
    this.slowLinks = new Set((opts.slowLinks ?? []).map(([a, b]) => `${a}>${b}`));
  }

  proposerIndex(height: number, round: number): number {
    const p = this.proposerOf(height, round);
    return this.validators.findIndex((v) => equalBytes(v.publicKey, p.publicKey));
  }

  /** Creates and starts every honest node at `height` (from its persisted record, if any). */
  start(height = 1): void {
    for (const n of this.nodes) if (n.kind === "honest" && !n.crashed) this.boot(n, height, null);
  }

  private boot(n: SimNode, height: number, lastCommit: Commit | null): void {
    const restore: SafetyRecord | null = n.persisted === undefined ? null : decodeSafetyRecord(n.persisted);
    n.machine = createTendermint(
      {
        chainId: SIM_CHAIN_ID,
        validators: this.validators,
        self: n.signer.publicKey,
        height,
        lastCommit,
        signer: n.signer,
        verify: this.verify,
        hashBlock: simHash,
        restore,
        validate: (b) => {
          const parsed = parseSimBlock(b.block);
          return parsed.valid && parsed.height === b.height;
        },
      },
      this.opts.tendermint,
    );
    this.apply(n, n.machine.start());
  }

  /** Stops a node: it ignores messages and timeouts until `restart`. */
  crash(i: number): void {
    const n = this.nodes[i]!;
    n.crashed = true;
    n.machine = undefined;
  }

  /** Restarts a crashed node at the height after its last decision, restoring its safety record. */
  restart(i: number): void {
    const n = this.nodes[i]!;
    n.crashed = false;
    const last = Math.max(0, ...n.decisions.keys());
    this.boot(n, last + 1, n.decisions.get(last)?.commit ?? null);
    // Gossip catch-up: peers send a reconnecting node what they sent from its height on.
    for (const peer of this.honest()) {
      if (peer === n || peer.crashed) continue;
      for (const m of peer.sent) {
        const h = m.kind === "proposal" ? m.proposal.height : m.vote.height;
        if (h > last) this.send(peer.index, i, encodeConsensusMessage(m));
      }
    }
  }

  /**
   * Crashes node `i` the moment it persists a record matching `when`, before it carries out the
   * effects after it: the vote just recorded is never sent.
   */
  crashOnPersist(i: number, when: (record: SafetyRecord) => boolean): void {
    this.persistTraps.set(i, when);
  }

  /** While set, messages between the two sides are held, as an unreliable network delays them. */
  setPartition(sides: readonly (readonly number[])[] | undefined): void {
    if (sides === undefined) {
      this.partition = undefined;
      const held = this.held;
      this.held = [];
      for (const m of held) this.send(m.from, m.to, m.bytes);
      return;
    }
    const side = new Map<number, number>();
    sides.forEach((s, k) => {
      for (const i of s) side.set(i, k);
    });
    this.partition = (a, b) => side.get(a) !== side.get(b);
  }

  // The event queue is a binary min-heap on (at, seq): equal times run in the order scheduled.
  private at(delay: number, run: () => void): void {
    const q = this.queue;
    q.push({ at: this.now + delay, seq: this.seq++, run });
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(q[i]!, q[parent]!)) break;
      [q[i], q[parent]] = [q[parent]!, q[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const q = this.queue;
    const last = q.pop()!;
    if (q.length === 0) return;
    q[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < q.length && before(q[l]!, q[m]!)) m = l;
      if (r < q.length && before(q[r]!, q[m]!)) m = r;
      if (m === i) return;
      [q[i], q[m]] = [q[m]!, q[i]!];
      i = m;
    }
  }

  private send(from: number, to: number, bytes: Uint8Array): void {
    if (this.partition?.(from, to)) {
      this.held.push({ from, to, bytes });
      return;
    }
    if (this.rand() < (this.opts.dropRate ?? 0)) return;
    const min = this.opts.minDelay ?? 1;
    // A few messages are very late: some nodes see a round's outcome long after the others.
    const slow = this.rand() < (this.opts.slowRate ?? 0) || this.slowLinks.has(`${from}>${to}`);
    const max = slow ? (this.opts.slowDelay ?? 5000) : (this.opts.maxDelay ?? 50);
    this.at(min + Math.floor(this.rand() * (max - min + 1)), () => this.deliver(to, bytes));
  }

  private broadcast(from: number, m: ConsensusMessage, to?: readonly number[]): void {
    const bytes = encodeConsensusMessage(m);
    for (const n of this.nodes) {
      if (n.index === from || (to !== undefined && !to.includes(n.index))) continue;
      this.send(from, n.index, bytes);
    }
  }

  private deliver(to: number, bytes: Uint8Array): void {
    const n = this.nodes[to]!;
    // Every message crosses the wire in its canonical encoding, as it will over the network.
    const m = decodeConsensusMessage(bytes);
    if (n.kind === "byzantine") {
      // It reacts to each distinct message once, or it would answer its own echoes forever.
      const id = toHex(sha256(bytes));
      if (n.seen.has(id)) return;
      n.seen.add(id);
      this.byzantine(n, m);
      return;
    }
    if (n.crashed || n.machine === undefined) return;
    const effects = n.machine.onMessage(m);
    this.apply(n, effects);
    // Gossip: an honest node relays each message it accepts once, which gives the paper's
    // assumption that what one correct process receives, all eventually receive.
    const id = toHex(sha256(bytes));
    if (this.relay && !n.seen.has(id) && !effects.some((e) => e.type === "reject")) {
      n.seen.add(id);
      this.broadcast(n.index, m);
    }
  }

  private apply(n: SimNode, effects: Effect[]): void {
    for (const e of effects) {
      n.effects.push(e);
      switch (e.type) {
        case "persist": {
          n.persisted = encodeSafetyRecord(e.record);
          const trap = this.persistTraps.get(n.index);
          if (trap?.(e.record)) {
            this.persistTraps.delete(n.index);
            this.crash(n.index);
            return;
          }
          break;
        }
        case "broadcast":
          n.sent.push(e.message);
          n.seen.add(toHex(sha256(encodeConsensusMessage(e.message))));
          this.broadcast(n.index, e.message);
          break;
        case "scheduleTimeout": {
          const machine = n.machine;
          const t: Timeout = { height: e.timeout.height, round: e.timeout.round, step: e.timeout.step };
          this.at(e.timeout.ms, () => {
            if (!n.crashed && n.machine === machine && machine !== undefined) this.apply(n, machine.onTimeout(t));
          });
          break;
        }
        case "requestValue": {
          const machine = n.machine;
          const valid = !(this.opts.invalidProposers ?? []).includes(n.index);
          const block = simBlock(e.height, e.round, n.index, Math.floor(this.rand() * 1e9), valid);
          this.at(0, () => {
            if (!n.crashed && n.machine === machine && machine !== undefined) {
              this.apply(n, machine.proposeValue(e.height, e.round, block));
            }
          });
          break;
        }
        case "commit":
          n.decisions.set(e.height, {
            height: e.height,
            hash: toHex(e.blockHash),
            block: e.block,
            commit: e.commit,
            at: this.now,
          });
          break;
        case "evidence":
          n.evidence.push(e.evidence);
          break;
        case "reject":
          break;
      }
    }
  }

  /**
   * A Byzantine validator: whenever it hears of a round, it proposes two different blocks to the
   * two halves of the network (when it is the proposer) and sends conflicting votes, choosing at
   * random among the hashes it has seen in that round and nil.
   */
  private byzantine(n: SimNode, m: ConsensusMessage): void {
    const h = m.kind === "proposal" ? m.proposal.height : m.vote.height;
    const r = m.kind === "proposal" ? m.proposal.round : m.vote.round;
    const seen = m.kind === "proposal" ? m.proposal.blockHash : m.vote.blockHash;
    const others = this.nodes.filter((x) => x.index !== n.index).map((x) => x.index);
    const key = `${h}:${r}`;
    if (!this.byzantineActed.has(key)) {
      this.byzantineActed.add(key);
      if (this.proposerIndex(h, r) === n.index) {
        const half = Math.ceil(others.length / 2);
        for (const [k, to] of [others.slice(0, half), others.slice(half)].entries()) {
          const block = simBlock(h, r, n.index, 1000 + k);
          const proposal = signProposal(SIM_CHAIN_ID, n.signer, {
            height: h,
            round: r,
            polRound: -1,
            blockHash: simHash(block),
            block,
          });
          n.sent.push({ kind: "proposal", proposal });
          this.broadcast(n.index, { kind: "proposal", proposal }, to);
        }
      }
    }
    // Conflicting votes. "random": each recipient may get what was just seen or nil. "support":
    // everyone gets a vote for every block seen, so the Byzantine power joins every would-be
    // polka and commit, which is what it takes to test the locks.
    for (const type of [VoteType.prevote, VoteType.precommit]) {
      for (const to of others) {
        const support = this.opts.byzantine === "support";
        if (!support && this.rand() < 0.5) continue;
        const blockHash = support || this.rand() < 0.5 ? seen : NIL_HASH;
        if (support && equalBytes(blockHash, NIL_HASH)) continue;
        this.broadcast(n.index, { kind: "vote", vote: this.byzantineVote(n, type, h, r, blockHash) }, [to]);
      }
    }
  }

  private byzantineVote(n: SimNode, type: VoteType, height: number, round: number, blockHash: Uint8Array): Vote {
    const k = `${type}:${height}:${round}:${toHex(blockHash)}`;
    let vote = this.byzantineVotes.get(k);
    if (vote === undefined) {
      vote = signVote(SIM_CHAIN_ID, n.signer, { type, height, round, blockHash });
      this.byzantineVotes.set(k, vote);
    }
    return vote;
  }

  /** Runs events in time order until `until()` holds, the clock passes `maxTime`, or nothing is left. */
  run(until: () => boolean, maxTime: number): void {
    while (!until()) {
      const e = this.queue[0];
      if (e === undefined || e.at > maxTime) return;
      this.pop();
      this.now = e.at;
      e.run();
    }
  }

  /** Advances the clock to `t`, running everything due by then. */
  runUntil(t: number): void {
    this.run(() => false, t);
    this.now = Math.max(this.now, t);
  }

  honest(): SimNode[] {
    return this.nodes.filter((n) => n.kind === "honest");
  }

  /** True when every listed node has decided `height`. */
  decided(height: number, nodes: readonly SimNode[] = this.honest()): boolean {
    return nodes.every((n) => n.decisions.has(height));
  }

  /** Agreement: for each height, all nodes that decided it decided the same block. */
  conflicts(): string[] {
    const byHeight = new Map<number, Set<string>>();
    for (const n of this.honest()) {
      for (const [h, d] of n.decisions) {
        let s = byHeight.get(h);
        if (s === undefined) {
          s = new Set();
          byHeight.set(h, s);
        }
        s.add(d.hash);
      }
    }
    return [...byHeight].filter(([, hashes]) => hashes.size > 1).map(([h, hashes]) => `height ${h}: ${[...hashes]}`);
  }
}
