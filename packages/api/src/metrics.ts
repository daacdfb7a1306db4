// What the interface layer reports: each answered request (for the request metrics) and the trace
// points it owns in a transaction's journey. The node injects an implementation (@cairn/management's
// metrics and tracer); a server started without one gets the no-op.

export type ApiTracePoint = "received" | "streamed";

export interface ApiTelemetry {
  /** One answered request: its route pattern, status and duration. */
  request(r: { method: string; route: string; status: number; seconds: number }): void;
  /**
   * These transactions (hashes, hex) reached `point`: "received" when POST /txs admitted them (`at`:
   * when the request arrived, a performance.now() time), "streamed" when their block first went out
   * on GET /events.
   */
  trace(point: ApiTracePoint, hashes: readonly string[], at?: number): void;
}

export const noopApiTelemetry: ApiTelemetry = { request() {}, trace() {} };
