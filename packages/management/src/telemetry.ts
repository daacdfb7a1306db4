// The implementations the node injects into the layers: a layer declares the telemetry it reports
// (consensus: ConsensusTelemetry in @cairn/consensus) and these objects satisfy that interface
// structurally, recording Prometheus metrics and the transaction tracer. A layer used alone gets
// its own no-op instead.
import type { NodeMetrics } from "./metrics.ts";
import type { TracePoint, TxTracer } from "./trace.ts";

interface TracedTx {
  readonly hash: Uint8Array;
  readonly tx: { readonly contract: string };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Satisfies @cairn/consensus's ConsensusTelemetry: blocks and rounds, commit latency, gas, receipts. */
export function consensusTelemetry(m: NodeMetrics, tracer: TxTracer, head?: { height: number; time: number }) {
  let last = head !== undefined && head.height > 0 ? head : undefined;
  return {
    blockExecuted(_txs: number, _seconds: number): void {},
    blockCommitted(
      b: {
        readonly height: number;
        readonly round: number;
        readonly time: number;
        readonly txs: readonly TracedTx[];
        readonly receipts: readonly { readonly code: string; readonly gasUsed: number }[];
      },
      _seconds: number,
    ): void {
      const codes = new Map<string, number>();
      const gas = new Map<string, number>();
      b.txs.forEach((stx, i) => {
        const receipt = b.receipts[i];
        if (receipt !== undefined) {
          codes.set(receipt.code, (codes.get(receipt.code) ?? 0) + 1);
          gas.set(stx.tx.contract, (gas.get(stx.tx.contract) ?? 0) + receipt.gasUsed);
        }
      });
      if (tracer.size > 0) {
        for (const stx of b.txs) {
          const journey = tracer.finish(hex(stx.hash));
          const admitted = journey.find((j) => j.point === "admitted");
          const committed = journey.find((j) => j.point === "committed");
          if (admitted !== undefined && committed !== undefined) {
            m.consensus.commitLatency.observe((committed.at - admitted.at) / 1000);
          }
        }
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
    trace(point: TracePoint, txs: readonly TracedTx[], height: number): void {
      if (tracer.size > 0)
        tracer.mark(
          point,
          txs.map((t) => hex(t.hash)),
          height,
        );
    },
  };
}
