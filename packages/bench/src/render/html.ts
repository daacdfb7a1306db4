// The HTML report: one self-contained file that opens from disk with no server and no network.
// The tables are rendered here as static HTML (readable even with scripts off); the charts are
// inline SVG drawn in the browser by ./charts.js (embedded as it is) from the report, which is
// embedded as JSON in <script type="application/json" id="cairn-report">. A Content-Security-
// Policy forbids every fetch, so the page cannot reach the network even by mistake.

import { readFileSync } from "node:fs";
import type { BenchReport } from "../report.ts";
import { escapeHtml, formatNumber, jsonForScript } from "./format.ts";
import {
  allNotes,
  costTable,
  criteriaTable,
  disclosureTable,
  engineComparisonTable,
  faultsTable,
  generatorTable,
  headline,
  latencyTable,
  networksTable,
  PROFILE_CAPTION,
  profileTables,
  RESOURCES_CAPTION,
  readsTable,
  reproduceTable,
  resourcesTables,
  roundsTable,
  saturationTable,
  simulationComparisonTable,
  simulationTable,
  summaryTable,
  sweepTables,
  type Table,
  trialsTable,
  workloadsTable,
} from "./tables.ts";

const CHARTS_JS = readFileSync(new URL("./charts.js", import.meta.url), "utf8");
if (/<\/script|<!--/i.test(CHARTS_JS))
  throw new Error("charts.js must not contain </script or <!--: it is embedded in a <script>");

/** Kinds of chart the page draws; each is an <svg data-chart="KIND">. */
export const CHART_KINDS = [
  "throughput",
  "latency",
  "resources",
  "saturation",
  "sweep-throughput",
  "sweep-latency",
  "simulation-latency",
  "simulation-messages",
  "simulation-bytes",
] as const;

const CSS = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa; --bad: #cf222e; --good: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 24px; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.meta, .caption { color: var(--muted); margin: 4px 0 10px; }
nav { margin: 12px 0 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: #0969da; text-decoration: none; }
.notes { border: 1px solid #d4a72c; background: #fff8c5; border-radius: 6px; padding: 8px 16px; margin: 16px 0; }
.notes li { margin: 2px 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
.empty-note { color: var(--muted); font-style: italic; }
#table-reproduce td:last-child { font: 11px/1.4 ui-monospace, monospace; word-break: break-all; }
.round { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 12px; margin: 16px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 12px; }
svg[data-chart] { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
svg .bg { fill: #ffffff; }
svg .empty { fill: var(--panel); stroke: var(--line); stroke-dasharray: 4 3; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg .title { font-size: 12px; font-weight: 600; fill: var(--fg); }
svg .nodata { text-anchor: middle; font-size: 13px; }
svg .grid { stroke: #eaeef2; }
svg .tick, svg .frame { stroke: #8c959f; fill: none; }
svg .ytick { text-anchor: end; }
svg .xtick, svg .xlabel, svg .ylabel, svg .panel-title { text-anchor: middle; }
svg .panel-title { fill: var(--fg); }
svg .bar { fill: #54aeff; }
svg .panel .bar { fill-opacity: 0.85; }
svg .warmup { fill: #eaeef2; fill-opacity: 0.7; }
svg .fault-span { fill: #ffebe9; fill-opacity: 0.8; }
svg .span-label, svg .marker-label, svg .point-label { font-size: 10px; }
svg .legend-text { fill: var(--fg); }
`;

/** A table as static HTML (numeric columns right-aligned), with `data-table` = its id. */
export function htmlTable(t: Table): string {
  const head = t.header
    .map((h, i) => `<th scope="col"${t.align[i] === "r" ? ' class="num"' : ""}>${escapeHtml(h)}</th>`)
    .join("");
  const body = t.rows
    .map(
      (r) =>
        `<tr>${t.header.map((_, i) => `<td${t.align[i] === "r" ? ' class="num"' : ""}>${escapeHtml(r[i] ?? "")}</td>`).join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table id="table-${escapeHtml(t.id)}" data-table="${escapeHtml(t.id)}">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

function tableSection(t: Table, level = 2): string {
  const parts = [`<h${level} id="${escapeHtml(t.id)}">${escapeHtml(t.title)}</h${level}>`];
  if (t.caption !== undefined) parts.push(`<p class="caption">${escapeHtml(t.caption)}</p>`);
  parts.push(t.rows.length === 0 ? `<p class="empty-note">${escapeHtml(t.empty)}</p>` : htmlTable(t));
  return parts.join("\n");
}

/** The simulation's section: its charts against n, then its tables. */
function simulationSection(report: BenchReport): string {
  if (report.simulation === undefined) return "";
  return [
    '<h2 id="simulation-charts">Consensus at scale (SIMULATION)</h2>',
    '<div class="figures">',
    chart("simulation-latency", {}, "SIMULATION: commit latency (mean) against the number of validators"),
    chart("simulation-messages", {}, "SIMULATION: gossip transmissions per block against the number of validators"),
    chart("simulation-bytes", {}, "SIMULATION: bytes on the wire per block against the number of validators"),
    "</div>",
    tableSection(simulationTable(report)),
    tableSection(simulationComparisonTable(report)),
  ].join("\n");
}

function chart(kind: (typeof CHART_KINDS)[number], index: { round?: number; sweep?: number }, label: string): string {
  const data =
    index.round !== undefined
      ? ` data-round="${index.round}"`
      : index.sweep !== undefined
        ? ` data-sweep="${index.sweep}"`
        : "";
  // The viewBox is set here too so that the page lays out before the script runs.
  return `<figure><svg data-chart="${kind}"${data} viewBox="0 0 640 260" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg"></svg><figcaption>${escapeHtml(label)}</figcaption></figure>`;
}

function roundCharts(report: BenchReport): string {
  if (report.rounds.length === 0) return '<p class="empty-note">No round in this report.</p>';
  return report.rounds
    .map((r, i) => {
      const stats = `${r.validators} validators · ${r.workload} · ${r.mode === "open" ? `open loop @ ${formatNumber(r.targetRate ?? Number.NaN)} tx/s` : "closed loop"} · ${formatNumber(r.throughput)} tx/s committed · p99 ${formatNumber(r.latencyAll.p99)} ms${r.faults.length > 0 ? ` · faults: ${r.faults.map((f) => `${f.kind} ${f.targets.join(", ")}`).join("; ")}` : ""}`;
      return [
        `<article class="round" data-round="${i}">`,
        `<h3>${escapeHtml(r.name)}</h3>`,
        `<p class="meta">${escapeHtml(stats)}</p>`,
        r.description === undefined ? "" : `<p class="caption">${escapeHtml(r.description)}</p>`,
        '<div class="figures">',
        chart(
          "throughput",
          { round: i },
          "Throughput over time: committed (solid) and sent (dashed) per second; warm-up shaded grey, faults red",
        ),
        chart(
          "latency",
          { round: i },
          "Latency distribution (submit to commit on all validators) with p50 / p95 / p99",
        ),
        chart("resources", { round: i }, "Resources per node over the measured phase"),
        r.saturation === undefined
          ? ""
          : chart(
              "saturation",
              { round: i },
              "Saturation search: committed against offered tx/s per step (dashed: committed = offered), p99 at each step",
            ),
        "</div>",
        "</article>",
      ]
        .filter((x) => x !== "")
        .join("\n");
    })
    .join("\n");
}

function sweepCharts(report: BenchReport): string {
  const tables = sweepTables(report);
  if (report.sweeps.length === 0)
    return '<h2 id="sweeps">Sweeps</h2>\n<p class="empty-note">No sweep in this report.</p>';
  return [
    '<h2 id="sweeps">Sweeps</h2>',
    ...report.sweeps.map((s, i) =>
      [
        `<section class="sweep" data-sweep="${i}">`,
        tableSection(tables[i] as Table, 3),
        '<div class="figures">',
        chart("sweep-throughput", { sweep: i }, `Committed throughput against ${s.parameter}`),
        chart("sweep-latency", { sweep: i }, `Latency (average, p95, p99, all validators) against ${s.parameter}`),
        "</div>",
        "</section>",
      ].join("\n"),
    ),
  ].join("\n");
}

/** The self-contained HTML report. */
export function renderHtml(report: BenchReport): string {
  const title = escapeHtml(report.title);
  const meta = headline(report);
  const noteList = allNotes(report);
  const notes =
    noteList.length === 0
      ? ""
      : `<section class="notes" id="notes"><strong>Read first</strong><ul>${noteList.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul></section>`;
  const nav = [
    ["summary", "Summary"],
    ["charts", "Charts"],
    ["rounds", "Rounds"],
    ["latency", "Latency"],
    ["reads", "Reads"],
    ["cost", "Cost"],
    ["trials", "Trials"],
    ...((report.comparisons ?? []).length > 0 ? [["engines", "Engines"]] : []),
    ["resources", "Resources"],
    ...(report.rounds.some((r) => r.profile !== undefined) ? [["profile", "CPU account"]] : []),
    ["faults", "Faults"],
    ...(report.rounds.some((r) => r.network !== undefined) ? [["networks", "Networks"]] : []),
    ...(report.simulation !== undefined ? [["simulation-charts", "Simulation"]] : []),
    ["sweeps", "Sweeps"],
    ["criteria", "Assessment criteria"],
    ["disclosure", "Disclosure"],
    ["reproduce", "Reproduce"],
  ]
    .map(([id, text]) => `<a href="#${id}">${text}</a>`)
    .join("");
  const body = [
    `<header><h1>${title}</h1><p class="meta">${escapeHtml(meta)}</p><nav>${nav}</nav></header>`,
    notes,
    tableSection(summaryTable(report)),
    '<h2 id="charts">Charts per round</h2>',
    roundCharts(report),
    tableSection(roundsTable(report)),
    tableSection(workloadsTable(report)),
    report.rounds.some((r) => r.saturation !== undefined) ? tableSection(saturationTable(report)) : "",
    tableSection(latencyTable(report)),
    tableSection(readsTable(report)),
    tableSection(costTable(report)),
    tableSection(trialsTable(report)),
    (report.comparisons ?? []).length > 0 ? tableSection(engineComparisonTable(report)) : "",
    [
      '<h2 id="resources">Resources per node</h2>',
      `<p class="caption">${escapeHtml(RESOURCES_CAPTION)}</p>`,
      ...resourcesTables(report).map((t) => tableSection(t, 3)),
    ].join("\n"),
    report.rounds.some((r) => r.profile !== undefined)
      ? [
          '<h2 id="profile">Where the CPU goes</h2>',
          `<p class="caption">${escapeHtml(PROFILE_CAPTION)}</p>`,
          ...profileTables(report).map((t) => tableSection(t, 3)),
        ].join("\n")
      : "",
    tableSection(generatorTable(report)),
    tableSection(faultsTable(report)),
    report.rounds.some((r) => r.network !== undefined) ? tableSection(networksTable(report)) : "",
    simulationSection(report),
    sweepCharts(report),
    tableSection(criteriaTable(report)),
    tableSection(disclosureTable(report)),
    tableSection(reproduceTable(report)),
  ]
    .filter((x) => x !== "")
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="cairn bench">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script type="application/json" id="cairn-report">${jsonForScript(report)}</script>
<script>
${CHARTS_JS}
</script>
</body>
</html>
`;
}
