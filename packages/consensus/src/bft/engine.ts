import { equalBytes, toHex } from "@cairn/crypto";
import {
  blockHash,
  type Commit,
  decodeBlock,
  decodeTransaction,
  encodeBlock,
  type SignedTransaction,
} from "@cairn/messaging";
import { ConsensusError, type VerifyFn, verifyCommit } from "../commit.ts";
import type { SyncLedgerPort } from "../sync/block-sync.ts";
import {
  type CommitListener,
  type ConsensusEngine,
  type ConsensusStatus,
  type ExecutedBlockView,
  type Logger,
  type MempoolPort,
  type Signer,
  validatorsOf,
} from "../types.ts";
import { type ConsensusMessage, decodeConsensusMessage, encodeConsensusMessage, type Proposal } from "./messages.ts";
import type { SafetyRecord } from "./record.ts";
import { createTendermint, type Effect, RejectCode, type Tendermint } from "./tendermint.ts";
import type { Evidence } from "./vote-set.ts";

// The BFT engine: runs the Tendermint state machine (./tendermint.ts) against the real ledger,
// mempool, a transport and a durable safety store. The machine decides; this adapter does the I/O
// in the order the machine asks for it.

/**
 * What the engine made of a peer's message, for the transport's peer scoring: "reject" for what no
 * honest node sends or relays (malformed, badly signed, from a non-validator, a proposal from the
 * wrong proposer), "ignore" for what is merely useless here (too far ahead), "accept" otherwise.
 */
export type MessageVerdict = "accept" | "reject" | "ignore";

/** How consensus messages travel (gossip on the network layer, or an in-memory bus in tests). */
export interface ConsensusTransport {
  broadcast(message: Uint8Array): void;
  /**
   * Sends a message again to every peer (retransmission). Gossip de-duplicates by content, so a
   * second broadcast of the same bytes reaches nobody; without `resend`, `broadcast` is used.
   */
  resend?(message: Uint8Array): void;
  /** `handler` resolves once the machine has taken the message in. */
  onMessage(handler: (message: Uint8Array, from: string) => Promise<MessageVerdict>): () => void;
}

/** Machine rejections that prove the sender (author or relay) broke the protocol. */
const PUNISHED: ReadonlySet<string> = new Set<RejectCode>([
  RejectCode.malformed,
  RejectCode.badSignature,
  RejectCode.notValidator,
  RejectCode.notProposer,
  RejectCode.badBlockHash,
]);

/** The verdict on a message from the effects the machine returned for it. */
export function verdictOf(effects: readonly Effect[]): MessageVerdict {
  let verdict: MessageVerdict = "accept";
  for (const e of effects) {
    if (e.type !== "reject") continue;
    if (PUNISHED.has(e.code)) return "reject";
    verdict = "ignore";
  }
  return verdict;
}

/** Durable storage of the machine's safety record: `save` resolves only once it is on disk. */
export interface SafetyStore {
  load(): Promise<SafetyRecord | null>;
  save(record: SafetyRecord): Promise<void>;
}

export interface BftEngineComponents<E extends ExecutedBlockView> {
  readonly ledger: SyncLedgerPort<E>;
  readonly mempool: MempoolPort;
  readonly signer: Signer;
  readonly transport: ConsensusTransport;
  readonly safety: SafetyStore;
  readonly verify: VerifyFn;
  /** Checks the signatures of a proposed block's transactions (those the mempool verified may be skipped). */
  readonly verifyTxs: (txs: readonly SignedTransaction[]) => Promise<boolean>;
  readonly logger?: Logger;
  readonly onCommit?: CommitListener<E>;
  /** Called once per piece of equivocation evidence; the engine waits for it (e.g. to persist it). */
  readonly onEvidence?: (evidence: Evidence) => void | Promise<void>;
  /**
   * Fetches and commits the blocks this node missed from `peer` (block sync). Called, inside the
   * engine's queue, when a peer's messages show it is more than one height ahead.
   */
  readonly catchUp?: (peer: string) => Promise<void>;
}

export interface BftEngineOptions {
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /** A proposal whose time is further ahead of this node's clock is invalid (ms). */
  readonly maxClockDrift: number;
  /** Re-send this validator's messages of the current height when it has not advanced for this long (ms). */
  readonly retransmitMs: number;
  /**
   * With an empty mempool after a commit, wait this long for a transaction (or a peer's message
   * for the next height) before starting it, so an idle chain makes an empty block only this
   * often instead of as fast as it can vote (CometBFT's create_empty_blocks_interval).
   */
  readonly emptyBlockInterval: number;
}

export const defaultBftEngineOptions: BftEngineOptions = {
  maxBlockTxs: 10_000,
  maxBlockBytes: 8 * 1024 * 1024,
  maxClockDrift: 10_000,
  retransmitMs: 2_000,
  emptyBlockInterval: 10_000,
};

export class BftEngine<E extends ExecutedBlockView> implements ConsensusEngine {
  readonly name = "tendermint";
  private readonly c: BftEngineComponents<E>;
  private readonly opts: BftEngineOptions;
  private machine: Tendermint | undefined;
  /** Serialises every input to the machine and the I/O of its effects. */
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Block hash hex → executed block, for proposals of the current height that passed validation. */
  private readonly executed = new Map<string, E>();
  private readonly validity = new Map<string, boolean>();
  /** Proposals for later heights, validated once the ledger gets there. */
  private pendingProposals: Proposal[] = [];
  /** This validator's messages at the current height, for retransmission. */
  private sent: Uint8Array[] = [];
  private lastProgress = Date.now();
  private unsubscribe: (() => void) | undefined;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private running = false;
  private wakeIdle: (() => void) | undefined;
  private lastCatchUp = 0;

  constructor(components: BftEngineComponents<E>, options: Partial<BftEngineOptions> = {}) {
    this.c = components;
    this.opts = { ...defaultBftEngineOptions, ...options };
  }

  async start(): Promise<void> {
    const head = this.c.ledger.head();
    const restore = await this.c.safety.load();
    this.machine = await this.createMachine(restore !== null && restore.height === head.height + 1 ? restore : null);
    this.running = true;
    this.unsubscribe = this.c.transport.onMessage((bytes, from) => this.receive(bytes, from));
    this.retransmitTimer = setInterval(() => this.retransmit(), this.opts.retransmitMs);
    this.enqueue(async () => this.apply((this.machine as Tendermint).start()));
  }

  /** A machine for the height after the ledger's head. */
  private async createMachine(restore: SafetyRecord | null): Promise<Tendermint> {
    const { ledger, signer, verify } = this.c;
    const head = ledger.head();
    return createTendermint({
      chainId: ledger.chainId,
      validators: validatorsOf(ledger, head.height + 1),
      validatorsAt: (height) => validatorsOf(ledger, height),
      self: signer.publicKey,
      height: head.height + 1,
      lastCommit: head.height === 0 ? null : ((await ledger.getCommit(head.height)) ?? null),
      signer,
      verify,
      validate: (pb) => this.validity.get(toHex(pb.blockHash)) === true,
      restore,
      ...(this.c.logger === undefined ? {} : { logger: this.c.logger }),
    });
  }

  /** Behind by more than a height: sync blocks from the peer, then run consensus from the new head. */
  private async catchUp(peer: string): Promise<void> {
    const before = this.c.ledger.head().height;
    await (this.c.catchUp as (peer: string) => Promise<void>)(peer);
    if (this.c.ledger.head().height === before) return;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.executed.clear();
    this.validity.clear();
    this.sent = [];
    this.lastProgress = Date.now();
    this.pendingProposals = this.pendingProposals.filter((p) => p.height > this.c.ledger.head().height + 1);
    this.machine = await this.createMachine(null);
    this.c.logger?.info({ from: before, to: this.c.ledger.head().height }, "bft: caught up, resuming consensus");
    await this.apply(this.machine.start());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeIdle?.();
    this.unsubscribe?.();
    clearInterval(this.retransmitTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.queue;
  }

  status(): ConsensusStatus {
    const s = this.machine?.status();
    return { engine: this.name, height: s?.height ?? 0, round: s?.round ?? 0, step: s?.step ?? "stopped" };
  }

  /** Runs `task` after every task queued before it; `skipped` is called instead once the engine stopped. */
  private enqueue(task: () => Promise<void>, skipped?: () => void): void {
    this.queue = this.queue.then(async () => {
      if (!this.running) {
        skipped?.();
        return;
      }
      try {
        await task();
      } catch (err) {
        this.c.logger?.error({ err }, "bft: step failed");
      }
    });
  }

  private receive(bytes: Uint8Array, from: string): Promise<MessageVerdict> {
    let m: ConsensusMessage;
    try {
      m = decodeConsensusMessage(bytes);
    } catch {
      return Promise.resolve("reject"); // the transport penalises the sender
    }
    // A peer has started the next height: stop waiting for transactions (see waitForWork). Late
    // votes of the height just committed must not wake us, or an idle chain would never rest.
    const msgHeight = m.kind === "proposal" ? m.proposal.height : m.vote.height;
    if (msgHeight > this.c.ledger.head().height) this.wakeIdle?.();
    return new Promise<MessageVerdict>((resolve) => {
      let verdict: MessageVerdict = "accept";
      this.enqueue(
        async () => {
          try {
            const height = m.kind === "proposal" ? m.proposal.height : m.vote.height;
            // A message from beyond our height: the peer has committed blocks we have not. Gossip will
            // not bring their votes again, so fetch those blocks (at most once a second).
            if (height > this.c.ledger.head().height + 1 && this.c.catchUp !== undefined) {
              if (Date.now() - this.lastCatchUp > 1_000) {
                this.lastCatchUp = Date.now();
                await this.catchUp(from);
              }
            }
            if (m.kind === "proposal") {
              const next = this.c.ledger.head().height + 1;
              if (m.proposal.height > next) {
                this.pendingProposals.push(m.proposal);
                return;
              }
              if (m.proposal.height === next) await this.prevalidate(m.proposal);
            }
            const effects = (this.machine as Tendermint).onMessage(m);
            verdict = verdictOf(effects);
            await this.apply(effects);
          } finally {
            resolve(verdict);
          }
        },
        () => resolve(verdict),
      );
    });
  }

  /**
   * Legitimate validation of a proposal before the machine may vote for it: the header links to
   * our head, the parent's certificate verifies, every transaction signature verifies, and our own
   * execution reproduces the proposed block hash (so state root, receipts and all are as claimed).
   */
  private async prevalidate(p: Proposal): Promise<void> {
    const key = toHex(p.blockHash);
    if (this.validity.has(key)) return;
    const { ledger } = this.c;
    let ok = false;
    try {
      const block = decodeBlock(p.block);
      const h = block.header;
      const head = ledger.head();
      if (h.height !== head.height + 1 || !equalBytes(blockHash(h), p.blockHash))
        throw new Error("header does not match");
      if (!equalBytes(h.prevHash, head.hash)) throw new Error("does not extend our head");
      if (h.time > Date.now() + this.opts.maxClockDrift) throw new Error("time is too far ahead");
      if (h.height > 1) {
        if (block.lastCommit === null) throw new Error("no certificate of the parent");
        verifyCommit(ledger.chainId, block.lastCommit, head.hash, validatorsOf(ledger, head.height), this.c.verify);
      }
      const txs = block.txs.map((t) => decodeTransaction(t));
      if (!(await this.c.verifyTxs(txs))) throw new Error("a transaction signature does not verify");
      const executed = await ledger.execute({ time: h.time, proposer: h.proposer, txs, lastCommit: block.lastCommit });
      ok = equalBytes(executed.hash, p.blockHash);
      if (ok) this.executed.set(key, executed);
      else throw new Error("executing it gives a different block");
    } catch (err) {
      this.c.logger?.warn(
        { height: p.height, round: p.round, reason: (err as Error).message },
        "bft: invalid proposal",
      );
    }
    this.validity.set(key, ok);
  }

  private async apply(effects: readonly Effect[]): Promise<void> {
    for (const e of effects) {
      switch (e.type) {
        case "persist":
          // Durable before anything after it, above all the broadcast of the vote it records.
          await this.c.safety.save(e.record);
          break;
        case "broadcast": {
          const bytes = encodeConsensusMessage(e.message);
          this.sent.push(bytes);
          this.c.transport.broadcast(bytes);
          break;
        }
        case "scheduleTimeout": {
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.enqueue(async () => this.apply((this.machine as Tendermint).onTimeout(e.timeout)));
          }, e.timeout.ms);
          this.timers.add(t);
          break;
        }
        case "requestValue":
          await this.apply(await this.propose(e.height, e.round, e.lastCommit));
          break;
        case "commit":
          await this.commit(e.blockHash, e.block, e.commit);
          break;
        case "evidence":
          this.c.logger?.warn({ validator: toHex(e.evidence.first.validator) }, "bft: equivocation evidence");
          await this.c.onEvidence?.(e.evidence);
          break;
        case "reject":
          this.c.logger?.debug({ code: e.code, reason: e.reason }, "bft: message rejected");
          break;
      }
    }
  }

  /** Builds this validator's block: as many ready transactions as fit, executed on our head. */
  private async propose(height: number, round: number, lastCommit: Commit | null): Promise<Effect[]> {
    const { ledger, mempool, signer } = this.c;
    const head = ledger.head();
    if (height !== head.height + 1)
      throw new ConsensusError("BFT_BEHIND", `asked to propose ${height} at head ${head.height}`);
    const txs = mempool.reap(this.opts.maxBlockTxs, this.opts.maxBlockBytes, height);
    const executed = await ledger.execute({
      time: Math.max(Date.now(), head.time),
      proposer: signer.publicKey,
      txs,
      lastCommit,
    });
    const key = toHex(executed.hash);
    this.executed.set(key, executed);
    this.validity.set(key, true);
    return (this.machine as Tendermint).proposeValue(height, round, encodeBlock(executed.block));
  }

  private async commit(hash: Uint8Array, block: Uint8Array, commit: Commit): Promise<void> {
    const { ledger, mempool } = this.c;
    let executed = this.executed.get(toHex(hash));
    if (executed === undefined) {
      // Decided from others' precommits without having executed it here: execute it now.
      const b = decodeBlock(block);
      const txs = b.txs.map((t) => decodeTransaction(t));
      executed = await ledger.execute({
        time: b.header.time,
        proposer: b.header.proposer,
        txs,
        lastCommit: b.lastCommit,
      });
      if (!equalBytes(executed.hash, hash)) {
        throw new ConsensusError("BFT_DIVERGED", `decided block ${commit.height} does not execute to its hash here`);
      }
    }
    await ledger.commit(executed, commit);
    mempool.removeCommitted(executed.txs);
    mempool.dropExpired(commit.height + 1);
    this.executed.clear();
    this.validity.clear();
    this.sent = [];
    this.lastProgress = Date.now();
    this.c.logger?.info({ height: commit.height, txs: executed.txs.length, round: commit.round }, "committed block");
    this.c.onCommit?.(executed, commit);
    await this.waitForWork();
    // Proposals that arrived early for the new height can be validated now.
    const next = ledger.head().height + 1;
    const early = this.pendingProposals.filter((p) => p.height === next);
    this.pendingProposals = this.pendingProposals.filter((p) => p.height > next);
    for (const p of early) {
      await this.prevalidate(p);
      await this.apply((this.machine as Tendermint).onProposal(p));
    }
  }

  /** After a commit on an idle chain: until a transaction or a peer's message arrives, or the interval passes. */
  private async waitForWork(): Promise<void> {
    if (this.c.mempool.size > 0 || !this.running) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        this.wakeIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.opts.emptyBlockInterval);
      const off = this.c.mempool.onAdded(done);
      this.wakeIdle = done;
    });
  }

  /** Gossip delivers at most once; a peer that missed our votes (restart, partition) gets them again. */
  private retransmit(): void {
    if (Date.now() - this.lastProgress < this.opts.retransmitMs) return;
    const { transport } = this.c;
    for (const bytes of this.sent) (transport.resend ?? transport.broadcast).call(transport, bytes);
  }
}

export function createBftEngine<E extends ExecutedBlockView>(
  components: BftEngineComponents<E>,
  options: Partial<BftEngineOptions> = {},
): BftEngine<E> {
  return new BftEngine(components, options);
}
