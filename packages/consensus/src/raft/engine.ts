import { equalBytes, toHex } from "@cairn/crypto";
import {
  type Commit,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_BLOCK_TXS,
  decodeBlock,
  decodeTransaction,
  encodeBlock,
  type SignedTransaction,
} from "@cairn/messaging";
import type { ConsensusTransport, MessageVerdict } from "../bft/engine.ts";
import { ConsensusError, StorageFailure, type VerifyFn, verifyCommit } from "../commit.ts";
import { BlockExecutor } from "../executor.ts";
import type { ConsensusTelemetry } from "../metrics.ts";
import type { SyncLedgerPort } from "../sync/block-sync.ts";
import { BlockFetcher, type BlockFetcherOptions, type BlockSource } from "../sync/fetcher.ts";
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
import { type HardState, RaftCore, type RaftEffect, type RaftOptions, type RaftStatus } from "./core.ts";
import { decodeRaftMessage, encodeRaftMessage, type RaftEntry, raftSigningBytes, recipientOf } from "./messages.ts";

// The Raft engine: runs the Raft machine (./core.ts) against the real ledger, mempool, transport
// and a durable store of its term, vote and log. As for Tendermint, the machine decides and this
// adapter does the I/O in the order it asks: what must be on disk is written (fsync) before any
// message after it is sent.

/** Raft's persistent state: term, vote and the log entries above the committed head. */
export interface RaftStore {
  load(): Promise<{ hard: HardState; entries: RaftEntry[] } | null>;
  /** Durable before it resolves: the hard state, the log from `truncateFrom` dropped, `append` added. */
  save(hard: HardState, truncateFrom: number | undefined, append: readonly RaftEntry[]): Promise<void>;
  /** Drops entries at or below a committed height (they are in the ledger now); need not be durable. */
  compact(height: number): Promise<void>;
}

export interface RaftEngineComponents<E extends ExecutedBlockView> {
  readonly ledger: SyncLedgerPort<E>;
  readonly mempool: MempoolPort;
  readonly signer: Signer;
  readonly transport: ConsensusTransport;
  readonly store: RaftStore;
  readonly verify: VerifyFn;
  /** Checks the signatures of a block's transactions (those the mempool verified may be skipped). */
  readonly verifyTxs: (txs: readonly SignedTransaction[]) => Promise<boolean>;
  readonly logger?: Logger;
  readonly executor?: BlockExecutor<E>;
  readonly telemetry?: ConsensusTelemetry;
  readonly onCommit?: CommitListener<E>;
  /** Where committed blocks this node lacks come from (block sync). */
  readonly sync?: BlockSource;
  readonly onSync?: (running: boolean, advanced: boolean) => void;
  /** Called once when the engine halts on a storage failure. */
  readonly onHalt?: (err: Error) => void;
}

export interface RaftEngineOptions extends RaftOptions {
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /** With an empty mempool, the leader waits this long for a transaction before an empty block (ms). */
  readonly emptyBlockInterval: number;
  /** How often the machine's clock ticks (ms). */
  readonly tickMs: number;
  readonly fetcher?: Partial<BlockFetcherOptions>;
}

export const defaultRaftEngineOptions: Omit<RaftEngineOptions, keyof RaftOptions> = {
  maxBlockTxs: DEFAULT_MAX_BLOCK_TXS,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  emptyBlockInterval: 10_000,
  tickMs: 20,
};

export class RaftEngine<E extends ExecutedBlockView> implements ConsensusEngine {
  readonly name = "raft";
  private readonly c: RaftEngineComponents<E>;
  private readonly opts: RaftEngineOptions;
  private readonly executor: BlockExecutor<E>;
  private core: RaftCore | undefined;
  /** Serialises every input to the machine and the I/O of its effects (persist, send). */
  private queue: Promise<void> = Promise.resolve();
  /**
   * Serialises what writes the ledger: committing entries, block sync, building the leader's next
   * block. Apart from the machine's queue, so a follower acknowledges the next entry while it still
   * writes the last block (etcd's apply loop beside its raft loop).
   */
  private ledgerWork: Promise<unknown> = Promise.resolve();
  private running = false;
  private halted: Error | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /**
   * Blocks executed ahead of their commit, by hash: the leader's own, and a follower's as soon as
   * it stored the entry (so its commit is a write, not an execution, as Tendermint's prevalidation).
   */
  private readonly executed = new Map<string, E>();
  private waiting: { cancel(): void } | undefined;
  private readonly fetcher: BlockFetcher | undefined;
  private syncing = false;

  constructor(components: RaftEngineComponents<E>, options: Partial<RaftEngineOptions> = {}) {
    this.c = components;
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.opts = {
      ...defaultRaftEngineOptions,
      electionTimeoutMs: 800,
      electionTimeoutMaxMs: 1_600,
      heartbeatMs: 150,
      ...defined,
    };
    this.executor = components.executor ?? new BlockExecutor(components);
    if (components.onCommit !== undefined) this.executor.onCommit(components.onCommit);
    this.fetcher = components.sync === undefined ? undefined : new BlockFetcher(components.sync, this.opts.fetcher);
  }

  async start(): Promise<void> {
    const { ledger, signer, store } = this.c;
    const head = ledger.head();
    const headCommit = head.height === 0 ? undefined : await ledger.getCommit(head.height);
    const restore = await store.load();
    await store.compact(head.height);
    this.core = new RaftCore({
      chainId: ledger.chainId,
      self: signer.publicKey,
      validatorsAt: (h) => validatorsOf(ledger, h),
      committed: { height: head.height, term: headCommit?.round ?? 0 },
      restore,
      sign: (m) => signer.sign(m),
      verify: this.c.verify,
      now: Date.now,
      random: Math.random,
      options: {
        electionTimeoutMs: this.opts.electionTimeoutMs,
        electionTimeoutMaxMs: this.opts.electionTimeoutMaxMs,
        heartbeatMs: this.opts.heartbeatMs,
      },
    });
    this.running = true;
    this.unsubscribe = this.c.transport.onMessage((bytes, from) => this.receive(bytes, from));
    this.ticker = setInterval(
      () => this.enqueue(async () => this.apply((this.core as RaftCore).tick())),
      this.opts.tickMs,
    );
    this.enqueue(async () => this.apply((this.core as RaftCore).start()));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waiting?.cancel();
    this.unsubscribe?.();
    clearInterval(this.ticker);
    await this.queue;
    await this.ledgerWork.catch(() => {});
  }

  /** Runs `task` after the ledger work queued before it. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.ledgerWork.then(task, task);
    this.ledgerWork = next.catch(() => {});
    return next;
  }

  /** A failure on the ledger's side (a block that cannot be written, or is not what it should be): halt. */
  private ledgerFailed(err: unknown): void {
    this.halt(err instanceof StorageFailure ? (err.cause as Error) : (err as Error));
  }

  /** The machine's state: role, term, leader, commit index (GET /status's consensus.raft). */
  raftStatus(): RaftStatus | undefined {
    return this.core?.status();
  }

  status(): ConsensusStatus {
    const s = this.core?.status();
    const base = {
      engine: this.name,
      height: (s?.appliedIndex ?? this.c.ledger.head().height) + 1,
      // A Raft "round" is its term.
      round: s?.term ?? 0,
    };
    if (this.halted !== undefined) return { ...base, step: "halted", halted: this.halted.message };
    return {
      ...base,
      step: this.running ? (s?.role ?? "stopped") : "stopped",
      ...(s === undefined ? {} : { raft: s }),
    };
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (!this.running) return;
      try {
        await task();
      } catch (err) {
        if (err instanceof StorageFailure) this.halt(err.cause as Error);
        else this.c.logger?.error({ err }, "raft: step failed");
      }
    });
  }

  private halt(err: Error): void {
    if (this.halted !== undefined) return;
    this.halted = err;
    this.running = false;
    this.waiting?.cancel();
    this.unsubscribe?.();
    clearInterval(this.ticker);
    this.c.logger?.error({ err }, "raft: halted on this node (repair the disk or the database, then restart)");
    this.c.onHalt?.(err);
  }

  private receive(bytes: Uint8Array, _from: string): Promise<MessageVerdict> {
    if (!this.running) return Promise.resolve("ignore");
    let decoded: ReturnType<typeof decodeRaftMessage>;
    try {
      decoded = decodeRaftMessage(bytes);
    } catch {
      return Promise.resolve("reject");
    }
    const { message, signature } = decoded;
    const to = recipientOf(message);
    // A reply for another node is not read here, but for an acknowledgement: a follower holding the
    // entry commits once it has seen a majority of them.
    const forOther = to !== null && !equalBytes(to, this.c.signer.publicKey);
    if (forOther && !(message.type === "append-reply" && message.ack !== null)) return Promise.resolve("accept");
    const { ledger } = this.c;
    const next = ledger.head().height + 1;
    const known = [...validatorsOf(ledger, next), ...validatorsOf(ledger, next + 1)];
    if (!known.some((v) => equalBytes(v.publicKey, message.from))) return Promise.resolve("reject");
    // An acknowledgement for another node is used for its ack signature alone, which the machine
    // checks; the envelope's signature adds nothing there.
    if (!forOther && !this.c.verify(signature, raftSigningBytes(ledger.chainId, message), message.from)) {
      return Promise.resolve("reject");
    }
    this.enqueue(async () => this.apply((this.core as RaftCore).receive(message)));
    return Promise.resolve("accept");
  }

  private async apply(effects: readonly RaftEffect[]): Promise<void> {
    for (const e of effects) {
      if (!this.running) return;
      switch (e.type) {
        case "persist":
          try {
            await this.c.store.save(e.hard, e.truncateFrom, e.append);
          } catch (err) {
            throw new StorageFailure(err);
          }
          for (const entry of e.append) this.executeAhead(entry);
          break;
        case "send": {
          const bytes = encodeRaftMessage(
            e.message,
            this.c.signer.sign(raftSigningBytes(this.c.ledger.chainId, e.message)),
          );
          const { transport } = this.c;
          if (e.direct === true && transport.resend !== undefined) transport.resend([bytes]);
          else transport.broadcast(bytes);
          break;
        }
        case "commit": {
          const { entry, commit, verified } = e;
          void this.serial(() => this.commit(entry, commit, verified)).then(
            (done) => {
              if (!done) return;
              this.enqueue(async () => this.apply((this.core as RaftCore).applied(entry.height, commit.round, commit)));
            },
            (err) => this.ledgerFailed(err),
          );
          break;
        }
        case "propose":
          this.awaitWork(e.height, e.term);
          break;
        case "sync":
          this.requestSync();
          break;
        case "stored":
          await this.apply((this.core as RaftCore).stored(e.height, e.term));
          break;
        case "role":
          this.c.logger?.info({ role: e.role, term: e.term, cause: e.cause }, `raft: ${e.role}`);
          this.executor.telemetry.event({
            kind: "step",
            height: this.c.ledger.head().height + 1,
            round: e.term,
            step: e.role,
            cause: e.cause,
          });
          break;
        case "vote":
          // A vote this node granted is durable by now (the persist effect came first); the line
          // lets an operator (and the crash test) check that no term ever got two votes from it.
          if (e.kind === "vote" && e.granted && equalBytes(e.voter, this.c.signer.publicKey)) {
            this.c.logger?.info({ term: e.term, candidate: toHex(e.candidate) }, "raft: vote granted");
          }
          this.executor.telemetry.event({
            kind: "election",
            height: this.c.ledger.head().height + 1,
            round: e.term,
            type: e.kind === "prevote" ? "pre-vote" : "vote",
            candidate: toHex(e.candidate),
            voter: toHex(e.voter),
            granted: e.granted,
          });
          break;
      }
    }
  }

  /** The leader waits for a transaction (or the empty-block interval), outside the queue, then builds. */
  private awaitWork(height: number, term: number): void {
    this.waiting?.cancel();
    const build = () => {
      cancel();
      void this.serial(() => this.build(height, term)).catch((err) => this.ledgerFailed(err));
    };
    const timer = setTimeout(build, this.c.mempool.size > 0 ? 0 : this.opts.emptyBlockInterval);
    const off = this.c.mempool.onAdded(build);
    const cancel = () => {
      clearTimeout(timer);
      off();
      if (this.waiting === handle) this.waiting = undefined;
    };
    const handle = { cancel };
    this.waiting = handle;
  }

  /** Executes the leader's next block (on the ledger's queue), then hands it to the machine (on its queue). */
  private async build(height: number, term: number): Promise<void> {
    const core = this.core as RaftCore;
    if (!this.running || !core.wantsBlock(height, term)) return;
    const { ledger, mempool, signer } = this.c;
    const head = ledger.head();
    const txs = mempool.reap(this.opts.maxBlockTxs, this.opts.maxBlockBytes, height);
    this.executor.telemetry.trace("proposed", txs, height);
    const lastCommit = head.height === 0 ? null : ((await ledger.getCommit(head.height)) ?? null);
    const executed = await this.executor.execute({
      time: Math.max(Date.now(), head.time + 1),
      proposer: signer.publicKey,
      txs,
      lastCommit,
      fill: true,
    });
    const key = toHex(executed.hash);
    this.executed.set(key, executed);
    this.executor.telemetry.event({
      kind: "proposal",
      height,
      round: term,
      proposer: toHex(signer.publicKey),
      blockHash: key,
      polRound: -1,
      own: true,
    });
    const entry = { height, hash: executed.hash, block: encodeBlock(executed.block), lastCommit };
    this.enqueue(async () => this.apply(core.propose(entry, term)));
  }

  /** Executes an entry's block on the ledger's head (its transactions' signatures checked first). */
  private async execute(entry: RaftEntry): Promise<E> {
    const b = decodeBlock(entry.block);
    const txs = b.txs.map((t) => decodeTransaction(t));
    if (!(await this.c.verifyTxs(txs))) {
      throw new ConsensusError(
        "RAFT_BAD_BLOCK",
        `block ${entry.height} has a transaction whose signature does not verify`,
      );
    }
    return this.executor.execute({ time: b.header.time, proposer: b.header.proposer, txs, lastCommit: b.lastCommit });
  }

  /** A stored entry that extends the head is executed now, on the ledger's queue, ahead of its commit. */
  private executeAhead(entry: RaftEntry): void {
    void this.serial(async () => {
      const key = toHex(entry.hash);
      if (!this.running || this.executed.has(key) || entry.height !== this.c.ledger.head().height + 1) return;
      const executed = await this.execute(entry);
      if (equalBytes(executed.hash, entry.hash)) this.executed.set(key, executed);
    }).catch(() => {
      // Its commit executes it again and reports what is wrong.
    });
  }

  /**
   * Executes (unless this leader built it) and commits a committed entry; false when block sync got
   * there first. On the ledger's queue; the caller tells the machine.
   */
  private async commit(entry: RaftEntry, commit: Commit, verified: boolean): Promise<boolean> {
    const { ledger } = this.c;
    if (!this.running || entry.height !== ledger.head().height + 1) return false;
    // A certificate the machine made from acknowledgements it verified is not checked twice.
    if (!verified) {
      verifyCommit(ledger.chainId, commit, entry.hash, validatorsOf(ledger, entry.height), this.c.verify, "raft");
    }
    const executed = this.executed.get(toHex(entry.hash)) ?? (await this.execute(entry));
    if (!equalBytes(executed.hash, entry.hash)) {
      // Raft trusts its leader: a block that does not execute to its hash here is a fault Raft
      // cannot tolerate (docs/consensus.md). Stop rather than diverge.
      throw new StorageFailure(new Error(`committed block ${entry.height} does not execute to its hash on this node`));
    }
    try {
      await this.executor.commit(executed, commit);
    } catch (err) {
      throw new StorageFailure(err);
    }
    this.executed.clear();
    this.executor.telemetry.event({
      kind: "commit",
      height: commit.height,
      round: commit.round,
      blockHash: toHex(entry.hash),
      txs: executed.txs.length,
    });
    void this.c.store.compact(entry.height).catch(() => {});
    return true;
  }

  /** Block sync outside the queue; each batch applied inside it, then the machine hears the new head. */
  private requestSync(): void {
    if (this.fetcher === undefined || this.syncing || !this.running) return;
    this.syncing = true;
    const fetcher = this.fetcher;
    const before = this.c.ledger.head().height;
    this.c.onSync?.(true, false);
    void (async () => {
      try {
        for (let round = 0; this.running && round < 1_000; round++) {
          const got = await fetcher.fetch(this.c.ledger.head().height + 1);
          if (got === null) break;
          const applied = await this.serial(async () => {
            if (!this.running) return 0;
            let n = 0;
            try {
              n = await this.executor.applySynced(got.blocks, this.c.verify);
            } catch (err) {
              this.c.logger?.warn({ peer: got.peer, err: (err as Error).message }, "raft: block sync from peer failed");
              fetcher.misbehaved(got.peer, (err as Error).message);
            }
            const head = this.c.ledger.head();
            const commit = await this.c.ledger.getCommit(head.height);
            if (commit !== undefined && n > 0) {
              void this.c.store.compact(head.height).catch(() => {});
              this.enqueue(async () => this.apply((this.core as RaftCore).applied(head.height, commit.round, commit)));
            }
            return n;
          });
          if (applied === 0) break;
        }
      } finally {
        this.syncing = false;
        this.c.onSync?.(false, this.c.ledger.head().height > before);
      }
    })();
  }
}

export function createRaftEngine<E extends ExecutedBlockView>(
  components: RaftEngineComponents<E>,
  options: Partial<RaftEngineOptions> = {},
): RaftEngine<E> {
  return new RaftEngine(components, options);
}
