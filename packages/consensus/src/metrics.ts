import type { ConsensusEventData, Receipt, SignedTransaction } from "@cairn/messaging";

// What the consistency layer reports (CometBFT's consensus/metrics.go): the layer declares it, the
// node injects an implementation (Prometheus metrics and the transaction tracer of
// @cairn/management), and a layer used without one gets the no-op below, which costs a call.

/** A block as the executor reports it after a commit. */
export interface CommittedBlockReport {
  readonly height: number;
  readonly round: number;
  /** Block time (ms, the proposer's). */
  readonly time: number;
  readonly txs: readonly SignedTransaction[];
  /** Each transaction's receipt, in block order. */
  readonly receipts: readonly Receipt[];
  readonly source: "consensus" | "sync";
}

/** Trace points of a transaction's journey through this layer. */
export type ConsensusTracePoint = "proposed" | "voted" | "executed" | "committed";

/** One thing the consensus engine saw or did, for the console's consensus view (GET /consensus/events). */
export type ConsensusEventReport = ConsensusEventData;

export interface ConsensusTelemetry {
  /** A block was executed (proposed here, received, or synced), in `seconds`. */
  blockExecuted(txs: number, seconds: number): void;
  /** A block was committed; `seconds` is the ledger's durable write and what follows it. */
  blockCommitted(block: CommittedBlockReport, seconds: number): void;
  /** These transactions reached `point` at `height` (at the `performance.now()` time `at`, default now). */
  trace(point: ConsensusTracePoint, txs: readonly SignedTransaction[], height: number, at?: number): void;
  /** A step, message, timeout, lock or commit of the engine (bounded log; the console's consensus view). */
  event(e: ConsensusEventReport): void;
}

export const noopConsensusTelemetry: ConsensusTelemetry = {
  blockExecuted() {},
  blockCommitted() {},
  trace() {},
  event() {},
};
