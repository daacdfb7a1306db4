// The Markdown report: Caliper's summary table first, then every other table of the report, the
// assessment criteria, the full disclosure and the notes. All text from the report is escaped.

import type { BenchReport } from "../report.ts";
import { escapeMarkdown } from "./format.ts";
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

/** A Markdown table with escaped cells, padded so that the raw text reads as a table too. */
export function markdownTable(t: Table): string {
  const header = t.header.map(escapeMarkdown);
  const rows = t.rows.map((r) => t.header.map((_, i) => escapeMarkdown(r[i] ?? "")));
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const pad = (c: string, i: number) => (t.align[i] === "r" ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (t.align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

function section(t: Table, level = 2): string {
  const out = [`${"#".repeat(level)} ${escapeMarkdown(t.title)}`, ""];
  if (t.caption !== undefined) out.push(escapeMarkdown(t.caption), "");
  out.push(t.rows.length === 0 ? `_${escapeMarkdown(t.empty)}_` : markdownTable(t));
  return out.join("\n");
}

export function renderMarkdown(report: BenchReport): string {
  const notes = allNotes(report);
  const parts: string[] = [];
  parts.push(`# ${escapeMarkdown(report.title)}`);
  parts.push(escapeMarkdown(headline(report)));
  if (notes.length > 0) parts.push(`**Read first:** ${notes.length} note${notes.length === 1 ? "" : "s"} at the end.`);
  parts.push(section(summaryTable(report)));
  parts.push(section(roundsTable(report)));
  parts.push(section(workloadsTable(report)));
  if (report.rounds.some((r) => r.saturation !== undefined)) parts.push(section(saturationTable(report)));
  parts.push(section(latencyTable(report)));
  parts.push(section(readsTable(report)));
  parts.push(section(costTable(report)));
  parts.push(section(trialsTable(report)));
  if ((report.comparisons ?? []).length > 0) parts.push(section(engineComparisonTable(report)));
  parts.push(
    [
      "## Resources per node",
      "",
      escapeMarkdown(RESOURCES_CAPTION),
      ...resourcesTables(report).map((t) => section(t, 3)),
    ].join("\n\n"),
  );
  const profiles = profileTables(report);
  if (profiles.length > 0) {
    parts.push(
      ["## Where the CPU goes", "", escapeMarkdown(PROFILE_CAPTION), ...profiles.map((t) => section(t, 3))].join(
        "\n\n",
      ),
    );
  }
  parts.push(section(generatorTable(report)));
  parts.push(section(faultsTable(report)));
  if (report.rounds.some((r) => r.network !== undefined)) parts.push(section(networksTable(report)));
  if (report.simulation !== undefined) {
    parts.push(section(simulationTable(report)), section(simulationComparisonTable(report)));
  }
  const sweeps = sweepTables(report);
  parts.push(
    sweeps.length === 0
      ? "## Sweeps\n\n_No sweep in this report._"
      : ["## Sweeps", ...sweeps.map((t) => section(t, 3))].join("\n\n"),
  );
  parts.push(section(criteriaTable(report)));
  parts.push(section(disclosureTable(report)));
  parts.push(section(reproduceTable(report)));
  parts.push(
    notes.length === 0
      ? "## Notes\n\n_None._"
      : ["## Notes", "", ...notes.map((n) => `- ${escapeMarkdown(n)}`)].join("\n"),
  );
  return `${parts.join("\n\n")}\n`;
}
