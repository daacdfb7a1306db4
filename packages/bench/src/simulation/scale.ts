// Consensus at scale, in simulation: Cairn's own Tendermint and Raft state machines (the code the
// nodes run, from @cairn/consensus), n of them on a simulated network (./network.ts) with a virtual
// clock, deciding blocks back to back. What it reports per block against n: messages broadcast,
// link transmissions and bytes with gossip, rounds, and commit latency. It models the network and
// each validator's signature checks (a fixed cost per message received, one at a time), not
// execution, storage or the rest of a node's CPU: a model, labelled as such in the report, whose
// small-n figures the report sets beside the measured cluster's.

import {
  type ConsensusMessage,
  createTendermint,
  type Effect,
  encodeConsensusMessage,
  encodeRaftMessage,
  RaftCore,
  type RaftEffect,
  type RaftEntry,
  type RaftMessage,
  type Tendermint,
  type TendermintOptions,
} from "@cairn/consensus";
import { concatBytes, equalBytes, prng, sha256, utf8 } from "@cairn/crypto";
import { type Commit, encode, type Validator } from "@cairn/messaging";
import type { SimulatedPoint } from "../report.ts";
import { createSimNetwork, type LatencyModel, modelLabel, type SimNetwork } from "./network.ts";

export interface ScaleRunOptions {
  readonly engine: "tendermint" | "raft";
  readonly validators: number;
  readonly model: LatencyModel;
  /** Blocks measured (after the first, and for Raft after the first leader is elected). Default 20. */
  readonly blocks?: number;
  readonly seed?: number;
  /** Bytes of each block's body carried by the proposal (Raft: the append). Default 1024. */
  readonly blockBytes?: number;
  /** A validator's time to check one received message (an Ed25519 verify, natively ~0.15 ms). */
  readonly verifyMs?: number;
  readonly bandwidthMbit?: number;
  /** Bound on simulated time, ms (default 600 000). */
  readonly maxSimMs?: number;
}

/** The figures of one run: one engine, one n, one latency model (the report's SimulatedPoint). */
export type ScalePoint = SimulatedPoint;

/** A fake signature (SHA-256 based): the simulation models the network; `verifyMs` models the checking cost. */
function fakeSigner(publicKey: Uint8Array) {
  return {
    publicKey,
    sign: (m: Uint8Array) => {
      const a = sha256(concatBytes(publicKey, m));
      return concatBytes(a, sha256(a));
    },
  };
}
const RAFT_SIGNATURE = new Uint8Array(64);
const fakeVerify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean =>
  equalBytes(signature, fakeSigner(publicKey).sign(message));

/** A min-heap of timed events (ties in scheduling order). */
class Clock {
  now = 0;
  #q: { at: number; seq: number; run: () => void }[] = [];
  #seq = 0;
  at(t: number, run: () => void): void {
    const q = this.#q;
    q.push({ at: t, seq: this.#seq++, run });
    let i = q.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const a = q[i] as { at: number; seq: number };
      const b = q[p] as { at: number; seq: number };
      if (b.at < a.at || (b.at === a.at && b.seq < a.seq)) break;
      [q[i], q[p]] = [q[p] as (typeof q)[number], q[i] as (typeof q)[number]];
      i = p;
    }
  }
  /** Runs events until `done()` or the clock passes `limit`. */
  run(done: () => boolean, limit: number): void {
    const q = this.#q;
    while (!done() && q.length > 0) {
      const top = q[0] as (typeof q)[number];
      if (top.at > limit) return;
      const last = q.pop() as (typeof q)[number];
      if (q.length > 0) {
        q[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          const less = (x: number, y: number) => {
            const a = q[x] as { at: number; seq: number };
            const b = q[y] as { at: number; seq: number };
            return a.at < b.at || (a.at === b.at && a.seq < b.seq);
          };
          if (l < q.length && less(l, m)) m = l;
          if (r < q.length && less(r, m)) m = r;
          if (m === i) break;
          [q[i], q[m]] = [q[m] as (typeof q)[number], q[i] as (typeof q)[number]];
          i = m;
        }
      }
      this.now = top.at;
      top.run();
    }
  }
}

/** What both engines' runs share: the clock, the network, each validator's checking queue, the tallies. */
class Harness {
  readonly clock = new Clock();
  readonly net: SimNetwork;
  readonly busy: number[];
  broadcasts = 0;
  transmissions = 0;
  bytes = 0;
  counting = false;
  readonly n: number;
  readonly o: ScaleRunOptions;
  constructor(n: number, o: ScaleRunOptions) {
    this.n = n;
    this.o = o;
    this.net = createSimNetwork(n, {
      model: o.model,
      seed: o.seed ?? 1,
      ...(o.bandwidthMbit === undefined ? {} : { bandwidthMbit: o.bandwidthMbit }),
    });
    this.busy = new Array(n).fill(0);
  }
  /** Sends `bytes` from `from` to every other validator; each handles it after checking it, one message at a time. */
  broadcast(from: number, size: number, handle: (to: number) => void): void {
    if (this.counting) {
      this.broadcasts++;
      this.transmissions += this.net.transmissionsPerBroadcast;
      this.bytes += this.net.transmissionsPerBroadcast * size;
    }
    const verifyMs = this.o.verifyMs ?? 0.15;
    for (let to = 0; to < this.n; to++) {
      if (to === from) continue;
      this.clock.at(this.clock.now + this.net.arrival(from, to, size), () => {
        const done = Math.max(this.clock.now, this.busy[to] as number) + verifyMs;
        this.busy[to] = done;
        this.clock.at(done, () => handle(to));
      });
    }
  }
}

function keysFor(n: number, tag: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => sha256(utf8.encode(`scale-sim ${tag} ${i}`)));
}

function stats(values: readonly number[]): { mean: number; p50: number; p95: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
  };
}

function point(
  o: ScaleRunOptions,
  h: Harness,
  blocks: number,
  latencies: number[],
  rounds: number,
  commitTimes: number[],
): ScalePoint {
  const per = (x: number) => Math.round((x / Math.max(1, blocks)) * 10) / 10;
  const span = (commitTimes.at(-1) ?? 0) - (commitTimes[0] ?? 0);
  return {
    engine: o.engine,
    validators: o.validators,
    model: modelLabel(o.model),
    blocks,
    messagesPerBlock: per(h.broadcasts),
    transmissionsPerBlock: per(h.transmissions),
    bytesPerBlock: Math.round(h.bytes / Math.max(1, blocks)),
    roundsPerBlock: Math.round((rounds / Math.max(1, blocks)) * 100) / 100,
    commitLatencyMs: stats(latencies),
    blockTimeMs: commitTimes.length > 1 ? Math.round((span / (commitTimes.length - 1)) * 10) / 10 : Number.NaN,
  };
}

function runTendermint(o: ScaleRunOptions): ScalePoint {
  const n = o.validators;
  const h = new Harness(n, o);
  const rand = prng(o.seed ?? 1);
  const blocks = o.blocks ?? 20;
  const last = blocks + 1; // height 1 is not measured: it starts from a cold, simultaneous start
  const keys = keysFor(n, "tendermint");
  const validators: Validator[] = keys.map((k, i) => ({ publicKey: k, power: 1, name: `v${i}` }));
  const pad = new Uint8Array(o.blockBytes ?? 1024);
  const firstProposal = new Map<number, number>();
  const committedBy = new Map<number, number>();
  const allCommitted = new Map<number, number>();
  let rounds = 0;
  const machines: Tendermint[] = [];
  const apply = (i: number, effects: Effect[]) => {
    for (const e of effects) {
      switch (e.type) {
        case "broadcast": {
          const m: ConsensusMessage = e.message;
          if (m.kind === "proposal" && !firstProposal.has(m.proposal.height)) {
            firstProposal.set(m.proposal.height, h.clock.now);
          }
          h.broadcast(i, encodeConsensusMessage(m).length, (to) =>
            apply(to, (machines[to] as Tendermint).onMessage(m)),
          );
          break;
        }
        case "scheduleTimeout": {
          const t = { height: e.timeout.height, round: e.timeout.round, step: e.timeout.step };
          h.clock.at(h.clock.now + e.timeout.ms, () => apply(i, (machines[i] as Tendermint).onTimeout(t)));
          break;
        }
        case "requestValue": {
          const block = encode(["SIMBLOCK", e.height, e.round, i, Math.floor(rand() * 1e9), pad]);
          h.clock.at(h.clock.now, () => apply(i, (machines[i] as Tendermint).proposeValue(e.height, e.round, block)));
          break;
        }
        case "commit": {
          const c = (committedBy.get(e.height) ?? 0) + 1;
          committedBy.set(e.height, c);
          if (c === n) {
            allCommitted.set(e.height, h.clock.now);
            if (e.height > 1) rounds += e.commit.round + 1;
            // Tallies run from the start of height 2 to the commit of the last measured height.
            if (e.height === 1) h.counting = true;
            if (e.height === last) h.counting = false;
          }
          break;
        }
        default:
          break;
      }
    }
  };
  for (let i = 0; i < n; i++) {
    machines.push(
      createTendermint(
        {
          chainId: "scale-sim",
          validators,
          self: keys[i] as Uint8Array,
          height: 1,
          lastCommit: null,
          signer: fakeSigner(keys[i] as Uint8Array),
          verify: fakeVerify,
          validate: () => true,
          hashBlock: (b) => sha256(b),
        },
        {} as Partial<TendermintOptions>,
      ),
    );
  }
  for (let i = 0; i < n; i++) apply(i, (machines[i] as Tendermint).start());
  h.clock.run(() => allCommitted.has(last), o.maxSimMs ?? 600_000);
  const latencies: number[] = [];
  const times: number[] = [];
  for (let height = 1; height <= last; height++) {
    const at = allCommitted.get(height);
    if (at === undefined) continue;
    times.push(at);
    if (height > 1) latencies.push(at - (firstProposal.get(height) ?? at));
  }
  return point(o, h, latencies.length, latencies, rounds, times);
}

function runRaft(o: ScaleRunOptions): ScalePoint {
  const n = o.validators;
  const h = new Harness(n, o);
  const rand = prng(o.seed ?? 1);
  const blocks = o.blocks ?? 20;
  const keys = keysFor(n, "raft");
  const validators: Validator[] = keys.map((k, i) => ({ publicKey: k, power: 1, name: `v${i}` }));
  const pad = new Uint8Array(o.blockBytes ?? 1024);
  const chains: number[] = new Array(n).fill(0);
  const proposedAt = new Map<number, number>();
  const committedBy = new Map<number, number>();
  const allCommitted = new Map<number, number>();
  let first = 0; // the first height proposed after the election: measured from the one after it
  const cores: RaftCore[] = [];
  const apply = (i: number, effects: readonly RaftEffect[]) => {
    const core = cores[i] as RaftCore;
    for (const e of effects) {
      switch (e.type) {
        case "send": {
          const m: RaftMessage = e.message;
          // The engine sends each message signed by the node (64 bytes).
          h.broadcast(i, encodeRaftMessage(m, RAFT_SIGNATURE).length, (to) =>
            apply(to, (cores[to] as RaftCore).receive(m)),
          );
          break;
        }
        case "propose": {
          const block = encode(["SIMBLOCK", e.height, i, Math.floor(rand() * 1e9), pad]);
          const entry: Omit<RaftEntry, "term"> = { height: e.height, hash: sha256(block), block, lastCommit: null };
          if (first === 0) first = e.height;
          if (!proposedAt.has(e.height)) proposedAt.set(e.height, h.clock.now);
          h.clock.at(h.clock.now, () => apply(i, core.propose(entry, e.term)));
          break;
        }
        case "stored":
          h.clock.at(h.clock.now, () => apply(i, core.stored(e.height, e.term)));
          break;
        case "commit": {
          chains[i] = e.entry.height;
          const c = (committedBy.get(e.entry.height) ?? 0) + 1;
          committedBy.set(e.entry.height, c);
          if (c === n) {
            allCommitted.set(e.entry.height, h.clock.now);
            if (e.entry.height === first) h.counting = true;
            if (e.entry.height === first + blocks) h.counting = false;
          }
          const commit: Commit = e.commit;
          h.clock.at(h.clock.now, () => apply(i, core.applied(e.entry.height, commit.round, commit)));
          break;
        }
        default:
          break;
      }
    }
  };
  const tickMs = 20;
  for (let i = 0; i < n; i++) {
    const key = keys[i] as Uint8Array;
    cores.push(
      new RaftCore({
        chainId: "scale-sim",
        self: key,
        validatorsAt: () => validators,
        committed: { height: 0, term: 0 },
        restore: { hard: { term: 0, votedFor: null }, entries: [] },
        sign: (m) => fakeSigner(key).sign(m),
        verify: fakeVerify,
        now: () => h.clock.now,
        random: rand,
      }),
    );
  }
  const tick = (i: number) => {
    apply(i, (cores[i] as RaftCore).tick());
    h.clock.at(h.clock.now + tickMs, () => tick(i));
  };
  for (let i = 0; i < n; i++) {
    apply(i, (cores[i] as RaftCore).start());
    h.clock.at(1 + Math.floor(rand() * tickMs), () => tick(i));
  }
  h.clock.run(() => first > 0 && allCommitted.has(first + blocks), o.maxSimMs ?? 600_000);
  const latencies: number[] = [];
  const times: number[] = [];
  for (let height = first; first > 0 && height <= first + blocks; height++) {
    const at = allCommitted.get(height);
    if (at === undefined) continue;
    times.push(at);
    if (height > first) latencies.push(at - (proposedAt.get(height) ?? at));
  }
  // Raft has no rounds: a block commits in the leader's term, once.
  return point(o, h, latencies.length, latencies, latencies.length, times);
}

/** One simulated run: `blocks` blocks of one engine on `validators` validators. */
export function simulateConsensus(o: ScaleRunOptions): ScalePoint {
  return o.engine === "raft" ? runRaft(o) : runTendermint(o);
}
