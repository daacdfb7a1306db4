// Prints where the time went in V8 .cpuprofile files:
//   node benchmarks/tools/cpuprofile-summary.ts [--top N] FILE_OR_DIR...
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { formatSummary, summariseProfile } from "@cairn/bench";

const args = process.argv.slice(2);
let n = 25;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === "--top") n = Number(args[++i]);
  else if (statSync(a).isDirectory()) {
    for (const f of readdirSync(a).sort()) if (f.endsWith(".cpuprofile")) files.push(join(a, f));
  } else files.push(a);
}
if (files.length === 0 || !Number.isInteger(n) || n < 1) {
  process.stderr.write("usage: node benchmarks/tools/cpuprofile-summary.ts [--top N] FILE_OR_DIR...\n");
  process.exit(2);
}
for (const f of files) process.stdout.write(`${formatSummary(summariseProfile(f, n))}\n\n`);
