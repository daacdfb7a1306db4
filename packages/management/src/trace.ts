// A transaction's journey through the layers (FG DLT: Operation & maintenance). Each layer marks
// the trace points it owns through the telemetry it was handed: the API (received, streamed), the
// mempool (decoded, verified, admitted), the node's gossip (gossiped), consensus (proposed, voted,
// executed, committed). A journey begins when the mempool decodes a transaction, from this node's
// API or from a peer's gossip, or when a block brings one this node had not seen (proposed,
// executed); so every validator has the journey of every transaction it admitted or executed.
// Bounded: the oldest journeys are forgotten first, so transactions that never commit cannot pile up.

import { TRACE_POINTS, type TracePoint } from "@cairn/messaging";

export { TRACE_POINTS, type TracePoint };

/** One trace point reached, at a `performance.now()` time (ms). */
export interface TraceMark {
  readonly point: TracePoint;
  readonly at: number;
}

/** Where a journey can begin on a node: its mempool, or a block that carried a transaction it had not seen. */
const STARTS: ReadonlySet<TracePoint> = new Set(["decoded", "proposed", "executed"]);

const INDEX = new Map<TracePoint, number>(TRACE_POINTS.map((p, i) => [p, i]));

/** When each point was reached (NaN: not yet), and the block's height once it has one. */
interface Journey {
  readonly times: Float64Array;
  height: number;
}

export class TxTracer {
  private readonly journeys = new Map<string, Journey>();
  private readonly limit: number;

  /** Keeps the journeys of the last `limit` transactions traced (default 100 000). */
  constructor(limit = 100_000) {
    this.limit = limit;
  }

  /** Marks `point` for each transaction (by hash, hex) whose journey began (see above). */
  mark(point: TracePoint, hashes: readonly string[], height?: number, at = performance.now()): void {
    const k = INDEX.get(point) as number;
    for (const hex of hashes) {
      let j = this.journeys.get(hex);
      if (j === undefined) {
        if (!STARTS.has(point)) continue;
        j = { times: new Float64Array(TRACE_POINTS.length).fill(Number.NaN), height: 0 };
        this.journeys.set(hex, j);
      }
      // The first time counts (a vote resent, a block streamed again).
      if (Number.isNaN(j.times[k] as number)) j.times[k] = at;
      if (height !== undefined) j.height = height;
    }
    if (this.journeys.size > this.limit) {
      for (const hex of this.journeys.keys()) {
        if (this.journeys.size <= this.limit) break;
        this.journeys.delete(hex);
      }
    }
  }

  /** The trace points a transaction reached here, in time order (empty when unknown or forgotten). */
  journey(hex: string): { readonly marks: readonly TraceMark[]; readonly height?: number } {
    const j = this.journeys.get(hex);
    if (j === undefined) return { marks: [] };
    const marks: TraceMark[] = [];
    TRACE_POINTS.forEach((point, i) => {
      const at = j.times[i] as number;
      if (!Number.isNaN(at)) marks.push({ point, at });
    });
    marks.sort((a, b) => a.at - b.at);
    return j.height > 0 ? { marks, height: j.height } : { marks };
  }

  /** Whether a transaction's journey reached `point` (say, "received": it came through this node's API). */
  reached(hex: string, point: TracePoint): boolean {
    const j = this.journeys.get(hex);
    return j !== undefined && !Number.isNaN(j.times[INDEX.get(point) as number] as number);
  }

  /** Milliseconds from `from` to `to` in a transaction's journey, if it reached both. */
  between(hex: string, from: TracePoint, to: TracePoint): number | undefined {
    const j = this.journeys.get(hex);
    if (j === undefined) return undefined;
    const d = (j.times[INDEX.get(to) as number] as number) - (j.times[INDEX.get(from) as number] as number);
    return Number.isNaN(d) ? undefined : d;
  }

  get size(): number {
    return this.journeys.size;
  }
}
