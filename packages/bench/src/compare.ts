// `cairn bench compare A.json B.json`: two reports side by side, figure by figure, with each
// difference and whether it is shown (the 95 % intervals of repeated trials do not overlap). Rounds
// are paired by name, else by what they ran (workload, load, size, block bound, fault), so a report
// of each engine, or of two commits, line up.
import { comparisonKey } from "./bench.ts";
import { escapeHtml, escapeMarkdown } from "./render/format.ts";
import { htmlTable } from "./render/html.ts";
import { markdownTable } from "./render/markdown.ts";
import { figureComparisonRows, type Table } from "./render/tables.ts";
import type { BenchReport, RoundResult } from "./report.ts";

export interface ReportComparison {
  readonly a: { readonly label: string; readonly report: BenchReport };
  readonly b: { readonly label: string; readonly report: BenchReport };
  /** Rounds of A and B paired, then those found in only one of them. */
  readonly pairs: readonly { readonly name: string; readonly a: RoundResult; readonly b: RoundResult }[];
  readonly onlyA: readonly string[];
  readonly onlyB: readonly string[];
  readonly table: Table;
}

export function compareReports(
  a: BenchReport,
  b: BenchReport,
  labels: [string, string] = ["A", "B"],
): ReportComparison {
  const pairs: { name: string; a: RoundResult; b: RoundResult }[] = [];
  const usedB = new Set<RoundResult>();
  for (const ra of a.rounds) {
    const rb =
      b.rounds.find((x) => !usedB.has(x) && x.name === ra.name) ??
      b.rounds.find((x) => !usedB.has(x) && comparisonKey(x) === comparisonKey(ra));
    if (rb === undefined) continue;
    usedB.add(rb);
    pairs.push({ name: ra.name === rb.name ? ra.name : comparisonKey(ra), a: ra, b: rb });
  }
  const paired = new Set(pairs.map((p) => p.a));
  const rows = pairs.flatMap((p) => figureComparisonRows(p.name, p.a, p.b, labels));
  return {
    a: { label: labels[0], report: a },
    b: { label: labels[1], report: b },
    pairs,
    onlyA: a.rounds.filter((r) => !paired.has(r)).map((r) => r.name),
    onlyB: b.rounds.filter((r) => !usedB.has(r)).map((r) => r.name),
    table: {
      id: "compare",
      title: "Figures side by side",
      caption:
        "Means ± 95 % intervals where the reports repeated their rounds (--repeat); a difference is shown only when the intervals do not overlap.",
      header: ["Round", "Figure", labels[0], labels[1], `${labels[1]} / ${labels[0]}`, "Difference"],
      align: ["l", "l", "r", "r", "r", "l"],
      rows,
      empty: "No round of one report matches a round of the other.",
    },
  };
}

function about(label: string, r: BenchReport): string {
  const p = r.reproduce;
  return `${label}: ${r.title}, ${r.date}, commit ${p?.commit ?? r.system.commit ?? "unknown"}${p?.dirty ? " (dirty)" : ""}, ${r.system.consensus}, ${p?.repeat ?? 1} trial(s) per round${p === undefined ? "" : `; \`${p.command}\``}`;
}

export function renderComparisonMarkdown(c: ReportComparison): string {
  const parts = [
    `# Benchmark comparison: ${escapeMarkdown(c.a.label)} and ${escapeMarkdown(c.b.label)}`,
    `- ${escapeMarkdown(about(c.a.label, c.a.report))}`,
    `- ${escapeMarkdown(about(c.b.label, c.b.report))}`,
    `## ${c.table.title}`,
    escapeMarkdown(c.table.caption ?? ""),
    c.table.rows.length === 0 ? `_${c.table.empty}_` : markdownTable(c.table),
  ];
  if (c.onlyA.length + c.onlyB.length > 0) {
    parts.push("## Not compared");
    for (const n of c.onlyA) parts.push(`- only in ${escapeMarkdown(c.a.label)}: ${escapeMarkdown(n)}`);
    for (const n of c.onlyB) parts.push(`- only in ${escapeMarkdown(c.b.label)}: ${escapeMarkdown(n)}`);
  }
  return `${parts.join("\n\n")}\n`;
}

export function renderComparisonHtml(c: ReportComparison): string {
  const t = c.table;
  const only = [
    ...c.onlyA.map((n) => `only in ${c.a.label}: ${n}`),
    ...c.onlyB.map((n) => `only in ${c.b.label}: ${n}`),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Benchmark comparison: ${escapeHtml(c.a.label)} and ${escapeHtml(c.b.label)}</title>
<style>
body { margin: 0 auto; max-width: 1280px; padding: 24px; font: 14px/1.5 system-ui, sans-serif; color: #1f2328; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.meta { color: #59636e; }
</style>
</head>
<body>
<h1>Benchmark comparison: ${escapeHtml(c.a.label)} and ${escapeHtml(c.b.label)}</h1>
<p class="meta">${escapeHtml(about(c.a.label, c.a.report))}</p>
<p class="meta">${escapeHtml(about(c.b.label, c.b.report))}</p>
<h2>${escapeHtml(t.title)}</h2>
<p class="meta">${escapeHtml(t.caption ?? "")}</p>
${t.rows.length === 0 ? `<p><em>${escapeHtml(t.empty)}</em></p>` : htmlTable(t)}
${only.length === 0 ? "" : `<h2>Not compared</h2><ul>${only.map((x) => `<li>${escapeHtml(x)}</li>`).join("")}</ul>`}
</body>
</html>
`;
}
