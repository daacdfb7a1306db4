import { toHex } from "@cairn/crypto";
import type { Commit } from "@cairn/messaging";
import type { VerifyFn } from "./commit.ts";
import { type ConsensusTelemetry, noopConsensusTelemetry } from "./metrics.ts";
import { applySyncedBlocks, type SyncedBlock } from "./sync/block-sync.ts";
import type { CommitListener, ExecutedBlockView, LedgerPort, Logger, MempoolPort } from "./types.ts";

// The block executor (CometBFT's state/execution.go): the one owner of applying a block. Every
// engine and block sync execute and commit through it, and everything that follows a commit happens
// here, in one order: the ledger commits; the mempool forgets what the block committed and what
// has expired; the block is logged, counted and traced; then listeners (the API's waiters and event
// stream, the CLI's block lines) hear of it. A new engine decides blocks and calls `commit`.

export interface BlockExecutorComponents<E extends ExecutedBlockView> {
  readonly ledger: LedgerPort<E>;
  readonly mempool: Pick<MempoolPort, "removeCommitted" | "dropExpired">;
  readonly logger?: Logger;
  readonly telemetry?: ConsensusTelemetry;
}

/** How a block reached the executor: decided by this node's engine, or fetched by block sync. */
export type CommitSource = "consensus" | "sync";

export class BlockExecutor<E extends ExecutedBlockView> {
  readonly ledger: LedgerPort<E>;
  private readonly c: BlockExecutorComponents<E>;
  /** What this layer reports (a no-op unless the node injects one): engines trace "proposed" through it. */
  readonly telemetry: ConsensusTelemetry;
  private readonly listeners = new Set<CommitListener<E>>();

  constructor(components: BlockExecutorComponents<E>) {
    this.c = components;
    this.ledger = components.ledger;
    this.telemetry = components.telemetry ?? noopConsensusTelemetry;
  }

  /** Calls `listener` after each commit, by consensus or by sync, in height order; returns its removal. */
  onCommit(listener: CommitListener<E>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Executes a proposed block on the head (nothing is written until `commit`). */
  async execute(proposal: Parameters<LedgerPort<E>["execute"]>[0]): Promise<E> {
    const started = performance.now();
    const executed = await this.c.ledger.execute(proposal);
    // A transaction the ledger left out of this node's own block can never be in one (committed
    // already, or expired): left pending, it would be reaped into every block this node proposes.
    if (executed.excluded !== undefined && executed.excluded.length > 0) {
      this.c.logger?.warn(
        { count: executed.excluded.length },
        "dropped pending transactions that may not be in a block (committed already, or expired)",
      );
      this.c.mempool.removeCommitted(executed.excluded);
    }
    this.telemetry.blockExecuted(executed.txs.length, (performance.now() - started) / 1000);
    this.telemetry.trace("executed", executed.txs, executed.block.header.height);
    return executed;
  }

  /**
   * Commits a decided block and runs what follows it. Only a failure of the ledger's write is
   * thrown, before anything else happens (the engines treat it as a storage failure).
   */
  async commit(executed: E, commit: Commit, source: CommitSource = "consensus"): Promise<void> {
    const started = performance.now();
    await this.c.ledger.commit(executed, commit);
    const height = commit.height;
    this.c.mempool.removeCommitted(executed.txs);
    this.c.mempool.dropExpired(height + 1);
    this.telemetry.trace("committed", executed.txs, height);
    this.telemetry.blockCommitted(
      {
        height,
        // A Raft certificate's round is the leader's term: no round was lost.
        round: this.ledger.consensus === "raft" ? 0 : commit.round,
        txs: executed.txs,
        receipts: executed.receipts,
        source,
        time: executed.block.header.time,
      },
      (performance.now() - started) / 1000,
    );
    // One line per block at info: the way to watch the ledger grow (`cairn start` shows it).
    this.c.logger?.info(
      { height, txs: executed.txs.length, round: commit.round, hash: toHex(executed.hash).slice(0, 16), source },
      "committed block",
    );
    // The block is durable now: a listener that fails is logged, and fails neither the commit nor
    // the listeners after it (an engine treats a throwing commit as a storage failure).
    for (const l of [...this.listeners]) {
      try {
        l(executed, commit);
      } catch (err) {
        this.c.logger?.error({ err, height }, "a commit listener failed");
      }
    }
  }

  /**
   * Verifies and commits blocks fetched from peers, in order (see applySyncedBlocks): each one's
   * certificate against the validator set, its re-execution against the certified hash. Returns how
   * many were committed; throws at the first bad block, everything before it staying committed.
   */
  applySynced(blocks: readonly SyncedBlock[], verify: VerifyFn): Promise<number> {
    return applySyncedBlocks(this.c.ledger, blocks, verify, {
      execute: (p) => this.execute(p),
      commit: (e, c) => this.commit(e, c, "sync"),
    });
  }
}

export function createBlockExecutor<E extends ExecutedBlockView>(c: BlockExecutorComponents<E>): BlockExecutor<E> {
  return new BlockExecutor(c);
}
