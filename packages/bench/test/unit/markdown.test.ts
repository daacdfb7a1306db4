import { describe, expect, it } from "vitest";
import { networkDisclosure } from "../../src/bench.ts";
import {
  escapeMarkdown,
  formatCount,
  formatNumber,
  formatPercent,
  formatRate,
  formatSeconds,
  jsonForScript,
} from "../../src/render/format.ts";
import { renderMarkdown } from "../../src/render/index.ts";
import type { BenchReport, RoundResult } from "../../src/report.ts";
import { LOOPBACK_MODEL, runSimulation } from "../../src/simulation/plan.ts";
import { emptyishReport, fixture, HOSTILE, hostileFixture, mutableFixture } from "./fixture.ts";

/** The cells of a Markdown table row, split on the pipes that are not escaped. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** The table that follows `## heading` (up to the first blank line after it starts). */
function tableAfter(md: string, heading: string): string[][] {
  const lines = md.split("\n");
  const at = lines.indexOf(heading);
  expect(at, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const start = lines.findIndex((l, i) => i > at && l.startsWith("|"));
  const rows: string[][] = [];
  for (let i = start; i < lines.length && lines[i]?.startsWith("|"); i++) rows.push(cells(lines[i] as string));
  return rows;
}

/** Every table between `heading` and the next level-2 heading. */
function tablesUnder(md: string, heading: string): string[][][] {
  const lines = md.split("\n");
  const at = lines.indexOf(heading);
  expect(at, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const out: string[][][] = [];
  for (let i = at + 1; i < lines.length && !lines[i]?.startsWith("## "); i++) {
    if (!lines[i]?.startsWith("|")) continue;
    const rows: string[][] = [];
    for (; i < lines.length && lines[i]?.startsWith("|"); i++) rows.push(cells(lines[i] as string));
    out.push(rows);
  }
  return out;
}

const CALIPER = [
  "Name",
  "Succ",
  "Fail",
  "Send Rate (TPS)",
  "Max Latency (s)",
  "Min Latency (s)",
  "Avg Latency (s)",
  "Throughput (TPS)",
];

describe("number formatting", () => {
  it("formats counts, rates, seconds and percentages for people", () => {
    expect(formatCount(33852)).toBe("33,852");
    expect(formatRate(1128.44)).toBe("1,128.4");
    expect(formatRate(600)).toBe("600.0");
    expect(formatSeconds(551)).toBe("0.551");
    expect(formatSeconds(12_345)).toBe("12.345");
    expect(formatPercent(0.4258)).toBe("43 %");
    expect(formatPercent(0.99952, 2)).toBe("99.95 %");
    expect(formatNumber(0.09)).toBe("0.09");
    expect(formatNumber(4)).toBe("4");
    expect(formatNumber(12_345.6)).toBe("12,346");
    for (const f of [formatCount, formatRate, formatSeconds, formatNumber]) expect(f(Number.NaN)).toBe("–");
  });

  it("escapes Markdown cells and JSON for a script element", () => {
    expect(escapeMarkdown("a|b")).toBe("a\\|b");
    expect(escapeMarkdown("<b>x</b> & *y*_z_")).toBe("&lt;b&gt;x&lt;/b&gt; &amp; \\*y\\*\\_z\\_");
    expect(escapeMarkdown("one\ntwo")).toBe("one two");
    const json = jsonForScript({ s: "</script><!-- & \u2028" });
    expect(json).not.toMatch(/<|>|&|\u2028/);
    expect(JSON.parse(json)).toEqual({ s: "</script><!-- & \u2028" });
  });
});

describe("renderMarkdown", () => {
  const report = fixture();
  const md = renderMarkdown(report);

  it("starts with the summary in Caliper's column layout, one row per round", () => {
    const rows = tableAfter(md, "## Summary");
    expect(rows[0]).toEqual(CALIPER);
    expect(rows[1]?.every((c) => /^-+:?$/.test(c))).toBe(true);
    expect(rows[1]?.slice(1).every((c) => c.endsWith(":"))).toBe(true); // numbers right-aligned
    expect(rows.length).toBe(2 + report.rounds.length);
    expect(rows.find((r) => r[0] === "kv · closed loop (saturation) · 4 validators")).toEqual([
      "kv · closed loop (saturation) · 4 validators",
      "33,852",
      "0",
      "1,702.5",
      "5.610",
      "0.212",
      "2.408",
      "1,128.4",
    ]);
    expect(rows.find((r) => r[0] === "kv · 1,000 tx/s · 4 validators")?.[2]).toBe("14");
  });

  it("has the percentiles, reads, resources, faults, sweep, criteria, disclosure and notes", () => {
    const lat = tableAfter(md, "## Latency percentiles and success");
    expect(lat[0]?.slice(1, 4)).toEqual(["p50 (s)", "p95 (s)", "p99 (s)"]);
    expect(lat.find((r) => r[0] === "kv · 1,000 tx/s · 4 validators")).toEqual(
      expect.arrayContaining(["0.673", "1.212", "1.473", "99.95 %", "MEMPOOL\\_FULL 14"]),
    );

    const reads = tableAfter(md, "## Reads");
    expect(reads.length).toBe(3);
    expect(reads[2]?.[0]).toBe("ycsb-a · 600 tx/s · 4 validators");
    expect(reads[2]?.[2]).toBe("601.2");

    // One table per round under the heading (a row per node, every figure on one line).
    const perRound = tablesUnder(md, "## Resources per node");
    expect(perRound.map((t) => t.length - 2)).toEqual(report.rounds.map((r) => r.nodes.length));
    expect(perRound[0]?.[0]?.slice(0, 3)).toEqual(["Node", "CPU (s)", "CPU (cores)"]);

    const faults = tableAfter(md, "## Faults");
    expect(faults[2]).toEqual([
      "kv · half load, 564 tx/s · 4 validators · kill-validator",
      "kill-validator",
      "node3",
      "10",
      "not healed",
      "561.3",
      "554.6",
      "–",
      "99 %",
      "1.87",
      "–",
      "yes",
      "–",
    ]);

    const sweep = tableAfter(md, "### Sweep: kv saturation by network size");
    expect(sweep.slice(2).map((r) => [r[0], r[2]])).toEqual([
      ["4", "1,128.4"],
      ["7", "702.3"],
    ]);

    const criteria = tableAfter(md, "## Assessment criteria");
    expect(criteria[0]).toEqual(["Criterion", "Value", "Source"]);
    expect(criteria.length).toBeGreaterThan(25);

    const disclosure = tableAfter(md, "## Full disclosure");
    const items = new Map(disclosure.slice(2).map((r) => [r[0], r[1]]));
    expect(items.get("Consensus")).toBe(report.system.consensus);
    expect(items.get("Validators")).toBe("4, 7");
    expect(items.get("Ed25519 verifications/s (all cores, native)")).toBe("10,600");
    expect(items.get("Commit")).toBe(report.system.commit);

    const saturation = tableAfter(md, "## Saturation search");
    expect(saturation.length).toBe(2 + 5 + 3);
    expect(saturation.find((r) => r[7]?.startsWith("saturation point"))?.slice(0, 4)).toEqual([
      "kv · closed loop (saturation) · 4 validators",
      "1,200",
      "1,197.6",
      "1,128.4",
    ]);
    const workloads = tableAfter(md, "## Workloads");
    expect(workloads.slice(2).map((r) => [r[0], r[2], r[3]])).toEqual([
      ["ycsb-a", "16", "1,000 txs in 1.4 s"],
      ["kv", "64", "none"],
      ["smallbank", "64", "1,000 txs in 1.9 s"],
    ]);

    expect(md).toContain("## Notes");
    for (const note of report.notes) expect(md).toContain(`- ${escapeMarkdown(note)}`);
    // Each round's notes too, named by their round.
    expect(md).toContain("- kv · closed loop (saturation) · 7 validators: 7 validators on 2 cores");
  });

  it("uses the criteria the report carries when it has them", () => {
    const r = mutableFixture();
    r.criteria = [{ criterion: "Custom criterion", value: "42 widgets", source: "test" }];
    const rows = tableAfter(renderMarkdown(r as never), "## Assessment criteria");
    expect(rows.slice(2)).toEqual([["Custom criterion", "42 widgets", "test"]]);
  });

  it("escapes every text it takes from the report", () => {
    const out = renderMarkdown(hostileFixture());
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("<img");
    expect(out).not.toMatch(/\*bold\*/);
    expect(out).toContain("a\\|b &lt;script&gt;");
    // Tables keep their shape: the pipe in the name does not add a column.
    const summary = tableAfter(out, "## Summary");
    expect(summary.every((r) => r.length === CALIPER.length)).toBe(true);
    expect(summary[2]?.[0]).toContain("Round a\\|b");
    for (const t of tablesUnder(out, "## Resources per node")) expect(t.every((r) => r.length === 10)).toBe(true);
    // The title stays on one line, and so does every note.
    expect(out.split("\n")[0]?.startsWith("# Title a\\|b")).toBe(true);
    expect(out).toContain("- Note a\\|b");
    expect(out).not.toContain(HOSTILE);
  });

  it("renders a report that recorded little without failing", () => {
    const out = renderMarkdown(emptyishReport());
    expect(out).toContain("_No round measured reads._");
    expect(out).toContain("_No fault was injected in this report._");
    expect(out).toContain("_This sweep has no point._");
    expect(out).toContain("## Notes\n\n_None._");
    const none = mutableFixture();
    none.rounds = [];
    none.sweeps = [];
    const empty = renderMarkdown(none as never);
    expect(empty).toContain("_No round in this report._");
    expect(empty).toContain("_No sweep in this report._");
  });

  it("shows an emulated network's round and the simulation, labelled as such, beside the measured rounds", () => {
    const base = fixture();
    const rounds: RoundResult[] = [
      ...base.rounds,
      {
        ...(base.rounds[2] as RoundResult),
        name: "kv · closed loop (saturation) · 4 validators · 50 ms between validators (emulated)",
        network: networkDisclosure({ latencyMs: 50, jitterMs: 0, lossPercent: 0 }),
      },
    ];
    const simulation = runSimulation(
      { sizes: [4], engines: ["tendermint"], models: [LOOPBACK_MODEL, { kind: "uniform", latencyMs: 50 }] },
      rounds,
    );
    const report: BenchReport = { ...base, rounds, simulation };
    const md = renderMarkdown(report);
    const networks = tableAfter(md, "## Emulated networks");
    expect(networks[2]?.slice(1, 5)).toEqual(["50 ms", "50 ms", "none", "none"]);
    const sim = tableAfter(md, "## Consensus at scale (SIMULATION, not measured)");
    expect(sim.slice(2).map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
      ["Tendermint", "uniform 0.1 ms", "4", "9"],
      ["Tendermint", "uniform 50 ms", "4", "9"],
    ]);
    expect(md).toContain("Simulation, not measurement");
    // The measured closed-loop rounds on 4 validators, each beside the simulation of its network.
    const vs = tableAfter(md, "## Simulation against measurement");
    expect(vs.slice(2).map((r) => [r[0], r[1]])).toEqual([
      ["kv · closed loop (saturation) · 4 validators", "uniform 0.1 ms"],
      ["kv · closed loop (saturation) · 4 validators · 50 ms between validators (emulated)", "uniform 50 ms"],
    ]);
  });
});
