// Renderers of a BenchReport (../report.ts): the Markdown summary in Caliper's column layout and
// the self-contained HTML report with charts. Both read nothing but the report.
export { escapeHtml, escapeMarkdown, formatCount, formatRate, formatSeconds } from "./format.ts";
export { CHART_KINDS, renderHtml } from "./html.ts";
export { markdownTable, renderMarkdown } from "./markdown.ts";
export { allTables, criteriaOf, type Table } from "./tables.ts";
