// Run-to-run comparison of the micro-benchmarks: each case's mean time per operation against the
// previous run (benchmarks/results/micro-latest.json by default), with the cases that got slower
// than a threshold flagged as regressions, so that a change that costs time is seen at once.

/** What the comparison needs of a case (a MicroResult of benchmarks/micro/index.ts). */
export interface CaseTiming {
  readonly name: string;
  readonly meanMs: number;
  /** Cores other processes used while the case ran. */
  readonly otherCores?: number;
}

export interface CaseChange {
  readonly name: string;
  readonly thenMs: number;
  readonly nowMs: number;
  /** Relative change of the mean time per operation: +0.2 is 20 % slower, -0.1 is 10 % faster. */
  readonly change: number;
  /** Slower than the threshold, with the CPU quiet in both runs. */
  readonly regression: boolean;
  /** Slower than the threshold, but another process used the CPU in one of the runs: not conclusive. */
  readonly slowerWhileBusy: boolean;
}

/** Above this many cores used by other processes a case's time is not reliable. */
export const BUSY_CORES = 0.1;

export const DEFAULT_THRESHOLD_PCT = 15;

/** Each case of `now` that `then` also has, compared; cases new in `now` are left out. */
export function compareRuns(
  then: readonly CaseTiming[],
  now: readonly CaseTiming[],
  thresholdPct = DEFAULT_THRESHOLD_PCT,
): Map<string, CaseChange> {
  const before = new Map(then.map((c) => [c.name, c]));
  const out = new Map<string, CaseChange>();
  for (const c of now) {
    const o = before.get(c.name);
    if (o === undefined || !(o.meanMs > 0) || !Number.isFinite(c.meanMs)) continue;
    const change = c.meanMs / o.meanMs - 1;
    const slower = change > thresholdPct / 100;
    const busy = (o.otherCores ?? 0) > BUSY_CORES || (c.otherCores ?? 0) > BUSY_CORES;
    out.set(c.name, {
      name: c.name,
      thenMs: o.meanMs,
      nowMs: c.meanMs,
      change,
      regression: slower && !busy,
      slowerWhileBusy: slower && busy,
    });
  }
  return out;
}

/** The "vs last" cell: "+3 %", "-12 %", "+24 % SLOWER", "+30 % slower (busy)", or "new". */
export function formatChange(c: CaseChange | undefined): string {
  if (c === undefined) return "new";
  const pct = Math.round(c.change * 100);
  const text = `${pct > 0 ? "+" : pct < 0 ? "−" : "±"}${Math.abs(pct)} %`;
  if (c.regression) return `${text} SLOWER`;
  if (c.slowerWhileBusy) return `${text} slower (busy)`;
  return text;
}
