// Summaries of V8 .cpuprofile files (written by `node --cpu-prof`): where the time went, by
// function (self and inclusive) and by package.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  readonly name: string;
  /** Milliseconds. */
  readonly ms: number;
  /** Percent of all sampled time (idle included). */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Sampled wall time, ms. */
  readonly totalMs: number;
  /** Time outside (idle): the thread had nothing to run. */
  readonly idleMs: number;
  /** Time V8 spent collecting garbage. */
  readonly gcMs: number;
  readonly selfTop: ProfileEntry[];
  readonly inclusiveTop: ProfileEntry[];
  readonly byPackage: ProfileEntry[];
}

const ROOT = new URL("../../", import.meta.url).pathname;

function shortUrl(url: string): string {
  let u = url.startsWith("file://") ? decodeURIComponent(url.slice(7)) : url;
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  return u;
}

function frameName(f: CallFrame): string {
  const fn = f.functionName === "" ? "(anonymous)" : f.functionName;
  if (f.url === "") return fn;
  return `${fn} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/** Where a frame's code lives: a Cairn package, an npm package, Node's own modules, or V8. */
function packageOf(f: CallFrame): string {
  const u = shortUrl(f.url);
  if (u === "") {
    if (f.functionName === "(garbage collector)") return "(gc)";
    if (f.functionName === "(idle)") return "(idle)";
    if (f.functionName === "(program)") return "(program: V8/native, unattributed)";
    return f.functionName === "" ? "(native)" : `(native) ${f.functionName}`;
  }
  if (u.startsWith("node:")) return `node:${u.slice(5).split("/")[0]}`;
  const cairn = /^packages\/([^/]+)\//.exec(u);
  if (cairn !== null) return `@cairn/${cairn[1]}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
  if (nm !== null) return nm[1] as string;
  return u;
}

function top(map: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
}

export function summariseProfile(file: string, n = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  // Time attributed to each node: a sample's delta belongs to the node sampled.
  const selfByNode = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i + 1] ?? 0;
    const id = p.samples[i] as number;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + d);
    total += d;
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfByNode) {
    const node = byId.get(id) as ProfileNode;
    const f = node.callFrame;
    if (f.functionName === "(idle)") idle += us;
    if (f.functionName === "(garbage collector)") gc += us;
    const name = frameName(f);
    self.set(name, (self.get(name) ?? 0) + us);
    const pkg = packageOf(f);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the time once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fr = (byId.get(cur) as ProfileNode).callFrame;
      if (fr.functionName === "(root)") continue;
      const k = frameName(fr);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  return {
    file,
    totalMs: total / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    selfTop: top(self, total, n),
    inclusiveTop: top(inclusive, total, n),
    byPackage: top(byPackage, total, n),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [
    `${shortUrl(s.file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, idle ${((100 * s.idleMs) / s.totalMs).toFixed(1)}%, GC ${(
      (100 * s.gcMs) / s.totalMs
    ).toFixed(1)}%`,
  ];
  const section = (title: string, entries: readonly ProfileEntry[]) => {
    lines.push(`  ${title}:`);
    for (const e of entries) lines.push(`    ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  };
  section("by package (self time)", s.byPackage.slice(0, 15));
  section("top functions, self time", s.selfTop);
  section("top functions, inclusive time", s.inclusiveTop);
  return lines.join("\n");
}
