// Summaries of V8 .cpuprofile files (written by `node --cpu-prof`): where the time went, by
// function (self and inclusive) and by package.
import { readFileSync } from "node:fs";

/** A V8 .cpuprofile's frame, node and profile (the fields Cairn reads). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
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
  /** Percent of the busy (non-idle) sampled time. */
  readonly pct: number;
}

/**
 * A phase of the node's work: a sample belongs to the first rule (in order) with a frame on its
 * stack whose "function@file" ends with one of `frames` (file relative to the repository).
 */
export interface PhaseRule {
  readonly phase: string;
  readonly frames: readonly string[];
}

/** Where a Cairn node's main thread spends its time, from most to least specific. */
export const CAIRN_PHASES: readonly PhaseRule[] = [
  { phase: "GC", frames: ["(garbage collector)"] },
  { phase: "idle", frames: ["(idle)"] },
  {
    phase: "admission: hand signatures to the verify workers",
    frames: ["verifyBatch@packages/crypto/src/native/verify-pool.ts"],
  },
  { phase: "admission: decodeTransaction", frames: ["decodeTransaction@packages/messaging/src/tx.ts"] },
  { phase: "admission: ledger.checkAdmission", frames: ["checkAdmission@packages/ledger/src/ledger.ts"] },
  { phase: "admission: rest of mempool.add", frames: ["add@packages/mempool/src/mempool.ts"] },
  { phase: "HTTP: decode the msgpack request body", frames: ["readItems@packages/api/src/server.ts"] },
  { phase: "HTTP: render + serialise responses", frames: ["send@packages/api/src/server.ts"] },
  {
    phase: "events: render blocks for GET /events",
    frames: ["serveEvents@packages/api/src/events.ts", "send@packages/api/src/events.ts"],
  },
  { phase: "onCommit: waiters and block events", frames: ["onCommit@packages/node/src/backend.ts"] },
  { phase: "execute: state root (WorldState.prepare)", frames: ["prepare@packages/ledger/src/state/world-state.ts"] },
  { phase: "execute: encode receipts", frames: ["encodeReceipt@packages/messaging/src/receipt.ts"] },
  { phase: "execute: tx + receipt Merkle roots", frames: ["merkleRoot@packages/crypto/src/merkle.ts"] },
  { phase: "execute: contract calls (executeTx)", frames: ["executeTx@packages/ledger/src/ledger.ts"] },
  { phase: "execute: rest (replay and envelope checks)", frames: ["execute@packages/ledger/src/ledger.ts"] },
  { phase: "commit: WorldState.commit (state puts)", frames: ["commit@packages/ledger/src/state/world-state.ts"] },
  { phase: "commit: prune replay index", frames: ["pruneReplay@packages/ledger/src/ledger.ts"] },
  { phase: "commit: encodeBlock", frames: ["encodeBlock@packages/messaging/src/block.ts"] },
  {
    phase: "commit: rest of Ledger.commit (indexes, receipts, write)",
    frames: ["commit@packages/ledger/src/ledger.ts"],
  },
  {
    phase: "mempool upkeep after a block (reap, removeCommitted, dropExpired)",
    frames: [
      "reap@packages/mempool/src/mempool.ts",
      "removeCommitted@packages/mempool/src/mempool.ts",
      "dropExpired@packages/mempool/src/mempool.ts",
    ],
  },
  { phase: "consensus: rest of block production", frames: ["produce@packages/consensus/src/solo/solo.ts"] },
];

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
  /** Self time by phase (see PhaseRule); samples no rule matches are grouped by the package of their leaf frame. */
  readonly phases: ProfileEntry[];
}

const ROOT = new URL("../../../", import.meta.url).pathname;

/** A profile's nodes by id, and each node's parent id. */
export function indexNodes(p: CpuProfile): { byId: Map<number, ProfileNode>; parent: Map<number, number> } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  return { byId, parent };
}

/** A frame's file relative to the repository (node: and node_modules paths as they are). */
export function shortUrl(url: string): string {
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
    .filter(([name]) => name !== "(idle)" && name !== "idle")
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
}

function frameKey(f: CallFrame): string {
  return f.url === "" ? f.functionName : `${f.functionName}@${shortUrl(f.url)}`;
}

export function summariseProfile(file: string, n = 25, rules: readonly PhaseRule[] = CAIRN_PHASES): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const { byId, parent } = indexNodes(p);
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
  const phases = new Map<string, number>();
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
    const keys = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fr = (byId.get(cur) as ProfileNode).callFrame;
      if (fr.functionName === "(root)") continue;
      keys.add(frameKey(fr));
      const k = frameName(fr);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
    const rule = rules.find((r) => r.frames.some((fr) => keys.has(fr)));
    const phase = rule?.phase ?? `other: ${pkg}`;
    phases.set(phase, (phases.get(phase) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  return {
    file,
    totalMs: total / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    selfTop: top(self, busy, n),
    inclusiveTop: top(inclusive, busy, n),
    byPackage: top(byPackage, busy, n),
    phases: top(phases, busy, 100),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const busy = s.totalMs - s.idleMs;
  const lines = [
    `${shortUrl(s.file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (not idle); ` +
      `GC ${((100 * s.gcMs) / busy).toFixed(1)}% of busy. Percentages below are of busy time; times are wall-clock ` +
      "samples (they include time the thread was runnable but descheduled).",
  ];
  const section = (title: string, entries: readonly ProfileEntry[]) => {
    lines.push(`  ${title}:`);
    for (const e of entries)
      lines.push(`    ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  };
  section("by phase (self time; first matching frame on the stack)", s.phases.slice(0, 30));
  section("by package (self time)", s.byPackage.slice(0, 15));
  section("top functions, self time", s.selfTop);
  section("top functions, inclusive time", s.inclusiveTop);
  return lines.join("\n");
}
