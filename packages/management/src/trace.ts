// A transaction's journey through the layers (FG DLT: Operation & maintenance): each layer marks
// the trace points it owns (the API: received; the mempool: admitted; consensus: proposed, executed,
// committed), and the node's telemetry reads them (commit latency is committed - admitted). Bounded:
// the oldest journeys are forgotten first, so transactions that never commit cannot pile up.

export const TRACE_POINTS = ["received", "admitted", "proposed", "executed", "committed"] as const;
export type TracePoint = (typeof TRACE_POINTS)[number];

/** One trace point reached, at a `performance.now()` time (ms). */
export interface TraceMark {
  readonly point: TracePoint;
  readonly at: number;
  /** Block height, for the consensus points. */
  readonly height?: number;
}

export class TxTracer {
  private readonly journeys = new Map<string, TraceMark[]>();
  private readonly limit: number;

  /** Keeps the journeys of at most `limit` transactions (default 100 000). */
  constructor(limit = 100_000) {
    this.limit = limit;
  }

  /** Marks `point` for each transaction (by hash, hex); only points of journeys already begun are kept after "admitted". */
  mark(point: TracePoint, hashes: readonly string[], height?: number, at = performance.now()): void {
    for (const hex of hashes) {
      let j = this.journeys.get(hex);
      if (j === undefined) {
        // A journey begins where this node first met the transaction (its API, or gossip).
        if (point !== "received" && point !== "admitted") continue;
        j = [];
        this.journeys.set(hex, j);
      }
      j.push(height === undefined ? { point, at } : { point, at, height });
    }
    for (const hex of this.journeys.keys()) {
      if (this.journeys.size <= this.limit) break;
      this.journeys.delete(hex);
    }
  }

  /** The trace points a transaction reached here, in order (empty when unknown or forgotten). */
  journey(hex: string): readonly TraceMark[] {
    return this.journeys.get(hex) ?? [];
  }

  /** Forgets a finished journey and returns it. */
  finish(hex: string): readonly TraceMark[] {
    const j = this.journeys.get(hex) ?? [];
    this.journeys.delete(hex);
    return j;
  }

  get size(): number {
    return this.journeys.size;
  }
}
