// Number formatting and escaping shared by the Markdown and HTML renderers and the criteria table.

const EN = "en-US";

/** An integer count with thousands separators: 30,000. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString(EN);
}

/** A rate (tx/s, reads/s) with one decimal and thousands separators, as Caliper prints it: 1,128.4. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString(EN, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** Milliseconds as seconds with three decimals (Caliper's latency columns are in seconds): 0.551. */
export function formatSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return (ms / 1000).toLocaleString(EN, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
}

/** At most three significant digits, thousands separated: 12,345 / 123 / 1.23 / 4 / 0.09. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString(EN);
  if (a === 0) return "0";
  // toPrecision, without trailing zeros: 0.36 rather than 0.360, 4 rather than 4.00.
  return String(Number(n.toPrecision(3)));
}

/** A ratio (0..1 or more) as a percentage with `digits` decimals: 0.564 → "56 %". */
export function formatPercent(ratio: number, digits = 0): string {
  if (!Number.isFinite(ratio)) return "–";
  return `${(ratio * 100).toLocaleString(EN, { minimumFractionDigits: digits, maximumFractionDigits: digits })} %`;
}

/** MiB with up to one decimal. */
export function formatMiB(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return `${n.toLocaleString(EN, { maximumFractionDigits: n >= 100 ? 0 : 1 })} MiB`;
}

/** Counts by code as "CODE 12, CODE 3", or "none". */
export function formatCodes(m: Readonly<Record<string, number>>): string {
  const entries = Object.entries(m).filter(([, v]) => v > 0);
  if (entries.length === 0) return "none";
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(", ");
}

/**
 * Text for one cell of a Markdown table: newlines become spaces, the pipe and Markdown's
 * emphasis/code/link characters are backslash-escaped, and HTML is neutralised (GitHub renders
 * inline HTML in Markdown).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n|\r/g, " ")
    .replace(/[\\`*_[\]|]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** Text for HTML element content or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * JSON safe to place inside a <script> element: no "</script>", "<!--" or "]]>" can appear
 * (every <, > and & is a \u escape, which JSON.parse reads back unchanged), nor the line
 * separators that older JavaScript parsers refuse.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
