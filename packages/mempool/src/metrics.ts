// What the mempool reports: the trace points it owns in a transaction's journey. The node injects
// an implementation (@cairn/management's tracer); used alone, the mempool gets the no-op.

export type MempoolTracePoint = "decoded" | "verified" | "admitted";

export interface MempoolTelemetry {
  /** These transactions (hashes, hex) of a traced batch reached `point`. */
  trace(point: MempoolTracePoint, hashes: readonly string[]): void;
}

export const noopMempoolTelemetry: MempoolTelemetry = { trace() {} };
