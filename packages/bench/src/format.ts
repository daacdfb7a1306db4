// Small formatting helpers shared by the benchmarks.

/** A Markdown table; numbers are right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), sep, ...cells.map(line)].join("\n");
}

/** Three significant digits, thousands separated: 12,345 / 123 / 1.23 / 0.0123. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString("en-US");
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return "0";
  return n.toPrecision(3);
}

/** Counts by code as "CODE n, CODE n", or "none". */
export function formatCodes(m: Readonly<Record<string, number>>): string {
  const entries = Object.entries(m);
  if (entries.length === 0) return "none";
  return entries.map(([k, v]) => `${k} ${v.toLocaleString("en-US")}`).join(", ");
}

/** A duration given in milliseconds, in the most readable unit. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 1000) return `${formatNumber(ms / 1000)} s`;
  if (ms >= 1) return `${formatNumber(ms)} ms`;
  if (ms >= 0.001) return `${formatNumber(ms * 1000)} µs`;
  return `${formatNumber(ms * 1e6)} ns`;
}

/** Parses `--name value` / `--flag` command-line options against the known names. */
export function parseArgs(
  argv: readonly string[],
  known: Readonly<Record<string, "string" | "boolean">>,
  usage: string,
): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") ? a.slice(2, eq < 0 ? undefined : eq) : "";
    const kind = known[name];
    if (kind === undefined) {
      process.stderr.write(`unknown option ${a}\n${usage}\n`);
      process.exit(2);
    }
    if (kind === "boolean") out.set(name, true);
    else {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) {
        process.stderr.write(`option --${name} needs a value\n${usage}\n`);
        process.exit(2);
      }
      out.set(name, v);
    }
  }
  return out;
}

/** A positive integer option, or the default. */
export function intOption(opts: Map<string, string | true>, name: string, dflt: number): number {
  const v = opts.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got ${String(v)}\n`);
    process.exit(2);
  }
  return n;
}
