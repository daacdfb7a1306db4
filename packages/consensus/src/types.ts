import type {
  Block,
  BlockHeader,
  Commit,
  ConsensusKind,
  Receipt,
  SignedTransaction,
  Validator,
} from "@cairn/messaging";
import type { RaftStatus } from "./raft/core.ts";

// The consensus layer declares what it needs from the ledger and the mempool; @cairn/ledger and
// @cairn/mempool satisfy these interfaces, and @cairn/node wires them together.

export interface HeadView {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly time: number;
}

/** A block executed but not yet committed. */
export interface ExecutedBlockView {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly txs: readonly SignedTransaction[];
  readonly receipts: readonly Receipt[];
  /** A proposer's block (`fill`): the reaped transactions that may not be in a block (replayed), left out. */
  readonly excluded?: readonly SignedTransaction[];
}

export interface LedgerPort<E extends ExecutedBlockView = ExecutedBlockView> {
  readonly chainId: string;
  /** The chain's engine, from its genesis: what its commit certificates are (default "tendermint"). */
  readonly consensus?: ConsensusKind;
  head(): HeadView;
  /** The validator set deciding the next height. */
  validators(): readonly Validator[];
  /** The validator set of `height` (known up to 2 heights past the head); default: `validators()`. */
  validatorsAt?(height: number): readonly Validator[];
  execute(proposal: {
    time: number;
    proposer: Uint8Array;
    txs: readonly SignedTransaction[];
    lastCommit: Commit | null;
    /**
     * This node's own block: leave out (in `excluded`) transactions that may not be in a block,
     * keep those that fit the chain's gas bound, leave the rest for a later block.
     */
    fill?: boolean;
    /** With `fill`: a `performance.now()` time after which no further transaction is started (at least one is). */
    deadline?: number;
  }): Promise<E>;
  commit(executed: E, commit: Commit): Promise<void>;
  getCommit(height: number): Promise<Commit | undefined>;
}

/** The validator set of `height`, from a ledger that schedules changes or one with a fixed set. */
export function validatorsOf(
  ledger: Pick<LedgerPort, "validators" | "validatorsAt">,
  height: number,
): readonly Validator[] {
  return ledger.validatorsAt?.(height) ?? ledger.validators();
}

export interface MempoolPort {
  readonly size: number;
  reap(maxTxs: number, maxBytes: number, height: number): SignedTransaction[];
  removeCommitted(txs: readonly SignedTransaction[]): void;
  dropExpired(height: number): number;
  onAdded(listener: () => void): () => void;
}

/** The validator's own key, signing natively. */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Called once per committed block, in height order, after it is durable. */
export type CommitListener<E extends ExecutedBlockView = ExecutedBlockView> = (executed: E, commit: Commit) => void;

export interface ConsensusStatus {
  readonly engine: string;
  readonly height: number;
  readonly round: number;
  /** The step of the round, "stopped" before start, "halted" after a storage failure. */
  readonly step: string;
  /** Why the engine halted (a storage failure), when it did. */
  readonly halted?: string;
  /** The highest height a validator's validly signed message showed (BFT; absent until one arrived). */
  readonly peerHeight?: number;
  /** Set while the database is behind the validator's safety record: the height it signs again from. */
  readonly signsFrom?: number;
  /**
   * Median of (block time − arrival time) over recent proposals from others: about how far this
   * node's clock is behind the proposers' (positive: behind, negative: ahead), ms. BFT only.
   */
  readonly clockOffsetMs?: number;
  /** Raft's state (role, term, leader, commit index); the Raft engine only. */
  readonly raft?: RaftStatus;
}

/**
 * A consensus engine decides the next block and commits it through the ledger. `solo` is the
 * one-validator engine; the BFT engine of issue [2/6] implements the same interface.
 */
export interface ConsensusEngine {
  readonly name: string;
  start(): Promise<void>;
  /** Finishes the block in progress, then stops. */
  stop(): Promise<void>;
  status(): ConsensusStatus;
}

/** Minimal logger shape (pino-compatible), injected. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export type { BlockHeader };
