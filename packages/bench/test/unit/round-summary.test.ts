// The round's summaries over hand-made samples: no cluster needed.
import { describe, expect, it } from "vitest";
import { type Generator, TX_REFUSED, TX_UNSENT } from "../../src/generator.ts";
import { latenciesOf, readsOf, timelineOf } from "../../src/round-summary.ts";

/** The parts of a Generator the summaries read. */
function fakeGen(o: {
  sentAt: number[];
  firstTry?: number[];
  state?: number[];
  refusal?: [number, string][];
  reads?: { due: number; done: number; ok: boolean }[];
}): Generator {
  const reads = o.reads ?? [];
  return {
    sentAt: Float64Array.from(o.sentAt),
    firstTry: Float64Array.from(o.firstTry ?? o.sentAt),
    state: Uint8Array.from(o.state ?? o.sentAt.map(() => 1)),
    refusal: new Map(o.refusal ?? []),
    readDue: Float64Array.from(reads.map((r) => r.due)),
    readDone: Float64Array.from(reads.map((r) => r.done)),
    readOk: Uint8Array.from(reads.map((r) => (r.ok ? 1 : 0))),
    readFailures: new Map<string, number>(),
  } as unknown as Generator;
}

describe("round summaries", () => {
  it("latencies to the first and to the last live validator, and what became of the rest", () => {
    const gen = fakeGen({
      sentAt: [0, 10, 20, 30, 40],
      state: [1, 1, TX_REFUSED, TX_UNSENT, 1],
      refusal: [[2, "MEMPOOL_FULL"]],
    });
    const commits = {
      outcome: Uint8Array.from([1, 1, 0, 0, 2]),
      first: Float64Array.from([100, 60, Number.NaN, Number.NaN, 90]),
      perNode: [
        Float64Array.from([100, 60, Number.NaN, Number.NaN, 90]),
        Float64Array.from([150, Number.NaN, Number.NaN, Number.NaN, 95]),
      ],
      receiptCodes: new Map([[4, "OUT_OF_GAS"]]),
    };
    // Node 1 was down (a fault) when transaction 1 committed: it does not count against "all".
    const r = latenciesOf({
      measured: [0, 1, 2, 3, 4],
      gen,
      commits,
      nodes: 2,
      excludedAt: (node, t) => node === 1 && t < 80,
    });
    expect(r.latFirst).toEqual([100, 50]);
    expect(r.latAll).toEqual([150, 50]);
    expect(r.notOnAll).toBe(0);
    expect(r.succeeded).toBe(2);
    expect(r.failures).toEqual({ MEMPOOL_FULL: 1, NOT_SENT: 1, OUT_OF_GAS: 1 });
  });

  it("reads: latency of those due in the phase, OK reads per second, failures", () => {
    const gen = fakeGen({
      sentAt: [],
      reads: [
        { due: 500, done: 520, ok: true }, // before the phase
        { due: 1000, done: 1010, ok: true },
        { due: 1500, done: 1530, ok: true },
        { due: 1600, done: 1700, ok: false },
      ],
    });
    const notes: string[] = [];
    const r = readsOf(gen, 4, 1000, 3000, 2, notes);
    expect(r.throughput).toBe(1);
    expect(r.failed).toBe(1);
    expect(r.latency.count).toBe(2);
  });

  it("a timeline point per second from the warm-up, with the height at each second's end", () => {
    const gen = fakeGen({ sentAt: [-500, 200, 1200], firstTry: [-500, 200, 1200] });
    const t = timelineOf({
      gen,
      commitsFirst: Float64Array.from([300, 900, 1800]),
      txCount: 3,
      readCount: 0,
      heights: [
        { at: 0, height: 1 },
        { at: 1500, height: 2 },
      ],
      T0: 0,
      endAt: 2000,
      warmupSec: 1,
    });
    expect(t).toEqual([
      { t: -1, committed: 0, sent: 1, height: 1 },
      { t: 0, committed: 2, sent: 1, height: 1 },
      { t: 1, committed: 1, sent: 1, height: 2 },
    ]);
  });
});
