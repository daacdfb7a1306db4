// The fixture report (test/fixtures/report.json: 4 and 7 validators, reads, a validator killed,
// timelines of 35 points) and variants of it for the tests.
import { readFileSync } from "node:fs";
import type { BenchReport, RoundResult } from "../../src/report.ts";

export const FIXTURE_PATH = new URL("../fixtures/report.json", import.meta.url);

/** A fresh copy each time, so tests can change it. */
export function fixture(): BenchReport {
  return JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as BenchReport;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A copy of the fixture that the test may change freely. */
export function mutableFixture(): Mutable<BenchReport> {
  return fixture() as unknown as Mutable<BenchReport>;
}

/** A hostile string: Markdown table syntax, HTML, a script end tag, emphasis and a newline. */
export const HOSTILE =
  'a|b <script>window.__pwned=1</script></script><img src=x onerror="window.__pwned=2"> *bold* _u_ `c`\nline2 & [l](http://x)';

/** The fixture with hostile text in every free-text field a renderer prints. */
export function hostileFixture(): BenchReport {
  const r = mutableFixture();
  r.title = `Title ${HOSTILE}`;
  const round = r.rounds[0] as Mutable<RoundResult>;
  const oldName = round.name;
  round.name = `Round ${HOSTILE}`;
  for (const s of r.sweeps) for (const p of s.points) if (p.round === oldName) p.round = round.name;
  round.workload = `kv-${HOSTILE}`;
  round.failures = { [`CODE_${HOSTILE}`]: 3 };
  round.failed = 3;
  (round.nodes[0] as Mutable<RoundResult["nodes"][number]>).name = `node${HOSTILE}`;
  r.system.hardware.cpuModel = `CPU ${HOSTILE}`;
  r.notes = [`Note ${HOSTILE}`];
  return r as unknown as BenchReport;
}

/** A report with one round that recorded nothing: empty timeline, no histogram, no nodes; a sweep without points. */
export function emptyishReport(): BenchReport {
  const r = mutableFixture();
  const round = r.rounds[0] as Mutable<RoundResult>;
  round.timeline = [];
  round.nodes = [];
  round.faults = [];
  round.latencyAll = { count: 0, min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p95: 0, p99: 0 };
  delete round.reads;
  const second = r.rounds[1] as Mutable<RoundResult>;
  delete second.latencyAll.histogram;
  r.rounds = [round, second];
  r.sweeps = [{ name: "empty sweep", parameter: "maxBlockTxs", points: [] }];
  r.notes = [];
  return r as unknown as BenchReport;
}
