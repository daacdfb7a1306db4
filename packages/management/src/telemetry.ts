// The implementations the node injects into the layers: each layer declares the telemetry it
// reports (ConsensusTelemetry in @cairn/consensus, MempoolTelemetry in @cairn/mempool, ApiTelemetry
// in @cairn/api) and these objects satisfy those interfaces structurally (management sits below
// them and imports none), recording Prometheus metrics and the transaction tracer. A layer used
// alone gets its own no-op instead.
import type { ConsensusEventData } from "@cairn/messaging";
import type { NodeMetrics } from "./metrics.ts";
import type { RecentBuffer } from "./recent.ts";
import type { TracePoint, TxTracer } from "./trace.ts";

interface TracedTx {
  readonly hash: Uint8Array;
  readonly tx: { readonly contract: string };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Satisfies @cairn/consensus's ConsensusTelemetry: blocks and rounds, commit latency, gas, receipts. */
export function consensusTelemetry(
  m: NodeMetrics,
  tracer: TxTracer,
  head?: { height: number; time: number },
  events?: RecentBuffer<ConsensusEventData>,
) {
  let last = head !== undefined && head.height > 0 ? head : undefined;
  return {
    blockExecuted(_txs: number, seconds: number): void {
      m.consensus.blockExecution.observe(seconds);
    },
    blockCommitted(
      b: {
        readonly height: number;
        readonly round: number;
        readonly time: number;
        readonly txs: readonly TracedTx[];
        readonly receipts: readonly { readonly code: string; readonly gasUsed: number }[];
      },
      seconds: number,
    ): void {
      m.consensus.blockCommit.observe(seconds);
      const codes = new Map<string, number>();
      const gas = new Map<string, number>();
      b.txs.forEach((stx, i) => {
        const receipt = b.receipts[i];
        if (receipt !== undefined) {
          codes.set(receipt.code, (codes.get(receipt.code) ?? 0) + 1);
          gas.set(stx.tx.contract, (gas.get(stx.tx.contract) ?? 0) + receipt.gasUsed);
        }
      });
      // Commit latency: from this node's admission to its commit.
      for (const stx of b.txs) {
        const h = hex(stx.hash);
        // Transactions from peers are traced too, but were admitted elsewhere first: not measured.
        if (!tracer.reached(h, "received")) continue;
        const ms = tracer.between(h, "admitted", "committed");
        if (ms !== undefined) m.consensus.commitLatency.observe(ms / 1000);
      }
      for (const [code, n] of codes) m.ledger.txsCommitted.inc({ code }, n);
      for (const [contract, n] of gas) m.ledger.gasUsed.inc({ contract }, n);
      m.ledger.blocksCommitted.inc();
      m.consensus.roundChanges.inc(b.round);
      // Only consecutive heights have an interval (a restart or a gap starts afresh).
      if (last !== undefined && last.height === b.height - 1) {
        m.consensus.blockInterval.observe(Math.max(0, b.time - last.time) / 1000);
      }
      last = { height: b.height, time: b.time };
    },
    event(e: ConsensusEventData): void {
      events?.push(e);
    },
    trace(point: TracePoint, txs: readonly TracedTx[], height: number, at?: number): void {
      tracer.mark(
        point,
        txs.map((t) => hex(t.hash)),
        height,
        at,
      );
    },
  };
}

/** Satisfies @cairn/mempool's MempoolTelemetry: its trace points (decoded, verified, admitted). */
export function mempoolTelemetry(tracer: TxTracer, m?: NodeMetrics) {
  return {
    trace(point: "decoded" | "verified" | "admitted", hashes: readonly string[]): void {
      if (point === "verified") m?.mempool.verified.inc(hashes.length);
      else if (point === "admitted") m?.mempool.admitted.inc(hashes.length);
      tracer.mark(point, hashes);
    },
  };
}

/** Satisfies @cairn/api's ApiTelemetry: request metrics, and the trace points received and streamed. */
export function apiTelemetry(m: NodeMetrics, tracer: TxTracer) {
  return {
    request(r: { method: string; route: string; status: number; seconds: number }): void {
      m.api.observe(r);
    },
    trace(point: "received" | "streamed", hashes: readonly string[], at?: number): void {
      tracer.mark(point, hashes, undefined, at);
    },
  };
}
