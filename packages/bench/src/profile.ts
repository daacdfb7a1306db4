// `cairn bench --profile`: where every microsecond of a node's CPU goes during a round's measured
// phase, per committed transaction, split by layer.
//
// Sources, per node:
//   - the main thread's CPU over the measured phase (/proc/<pid>/task/<pid>/stat), split in the
//     proportions of its V8 CPU profile (`cairn start --cpu-profile`), restricted to the samples taken in the
//     measured phase (profile timestamps and process.hrtime share CLOCK_MONOTONIC);
//   - every other thread's CPU over the same phase, by what the thread does: the verify pool's
//     workers check signatures, libuv's pool runs LevelDB's reads and writes, V8's helper threads
//     collect garbage (and compile) concurrently.
// A sample belongs to the layer of the innermost frame that names one (libraries like msgpackr or
// @noble/hashes name none: their time is their caller's); a sample with no such frame is "other".
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CallFrame, type CpuProfile, indexNodes, type ProfileNode, shortUrl } from "./cpuprofile.ts";
import { threadCpu } from "./process.ts";

export const PROFILE_LAYERS = [
  "API intake",
  "encoding and decoding",
  "signature verification",
  "mempool",
  "gossip and libp2p",
  "consensus",
  "execution",
  "state tree",
  "storage",
  "metrics and logging",
  "GC",
  "other",
] as const;
export type ProfileLayer = (typeof PROFILE_LAYERS)[number];

/** Frame location rules, innermost frame first; the first rule matching a frame's file decides. */
const FILE_RULES: readonly (readonly [RegExp, ProfileLayer])[] = [
  [/^packages\/api\//, "API intake"],
  [/^packages\/node\/src\/(backend|private-data)\.ts$/, "API intake"],
  [/node_modules\/(fastify|find-my-way|light-my-request|avvio|@fastify\/[^/]+|fast-json-stringify)\//, "API intake"],
  [/^node:_http_|^node:http$/, "API intake"],
  [/^packages\/messaging\//, "encoding and decoding"],
  [/^packages\/crypto\/src\/(native\/|ed25519\.ts)/, "signature verification"],
  [/^packages\/mempool\//, "mempool"],
  [/^packages\/node\/src\/mempool-journal\.ts$/, "mempool"],
  [/^packages\/network\//, "gossip and libp2p"],
  [/^packages\/node\/src\/(p2p|networked|state-sync)\.ts$/, "gossip and libp2p"],
  [
    /node_modules\/(@libp2p\/[^/]+|libp2p|@chainsafe\/[^/]+|it-[^/]+|uint8arraylist|protons-runtime|@multiformats\/[^/]+|multiformats|race-signal|p-queue|main-event|progress-events|@achingbrain\/[^/]+)\//,
    "gossip and libp2p",
  ],
  [/^packages\/consensus\/src\/executor\.ts$/, "execution"],
  [/^packages\/consensus\//, "consensus"],
  [/^packages\/node\/src\/(safety-store|evidence-store|raft-store)\.ts$/, "consensus"],
  [/^packages\/ledger\/src\/state\//, "state tree"],
  [/^packages\/(ledger|contracts|vm)\//, "execution"],
  [/^packages\/storage\//, "storage"],
  [
    /node_modules\/(classic-level|abstract-level|level-transcoder|module-error|level-supports|maybe-combine-errors)\//,
    "storage",
  ],
  [/^packages\/management\//, "metrics and logging"],
  [
    /node_modules\/(prom-client|pino|pino-std-serializers|sonic-boom|thread-stream|tdigest|bintrees)\//,
    "metrics and logging",
  ],
];

/** V8's profiler thread, which exists only because of --profile (reported apart, as its overhead). */
export function isProfilerThread(name: string): boolean {
  return /^v8:ProfEvntProc/.test(name);
}

/** Layer of a thread other than the main one, by its name in /proc (see threadCpu); undefined for the profiler's. */
export function threadLayer(name: string): ProfileLayer | undefined {
  if (isProfilerThread(name)) return undefined;
  if (/^WorkerThread/.test(name)) return "signature verification";
  if (/^libuv-worker/.test(name)) return "storage";
  if (/^V8/.test(name)) return "GC";
  return "other";
}

/** The layer a frame names, or undefined when its time belongs to its caller. */
export function frameLayer(f: { functionName: string; url: string }): ProfileLayer | undefined {
  if (f.url === "") {
    if (f.functionName === "(garbage collector)") return "GC";
    return undefined;
  }
  const file = shortUrl(f.url);
  for (const [re, layer] of FILE_RULES) if (re.test(file)) return layer;
  return undefined;
}

function frameLabel(f: CallFrame): string {
  const fn = f.functionName === "" ? "(anonymous)" : f.functionName;
  if (f.url === "") return fn;
  const file = shortUrl(f.url).replace(/^.*node_modules\//, "");
  return `${fn} ${file}:${f.lineNumber + 1}`;
}

/** Adds `v` to `m[k]`. */
function addTo<K>(m: Map<K, number>, k: K, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

/** `m[k]`, made empty first if missing. */
function bucket<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let b = m.get(k);
  if (b === undefined) {
    b = new Map();
    m.set(k, b);
  }
  return b;
}

/** Sampled main-thread time in a window, by layer, with each layer's functions (self time). */
export interface SampledAccount {
  /** Busy (non-idle) sampled time in the window, µs, and the samples it is made of. */
  readonly busyUs: number;
  readonly count: number;
  readonly layers: ReadonlyMap<ProfileLayer, number>;
  readonly functions: ReadonlyMap<ProfileLayer, ReadonlyMap<string, number>>;
}

/** Accounts the samples of `profile` whose timestamps fall in [fromUs, toUs) (CLOCK_MONOTONIC µs). */
export function accountSamples(profile: CpuProfile, fromUs: number, toUs: number): SampledAccount {
  const { byId, parent } = indexNodes(profile);
  // The layer and label of each sampled node, computed once per node.
  const cache = new Map<number, { layer: ProfileLayer | "idle"; label: string }>();
  const classify = (id: number) => {
    let hit = cache.get(id);
    if (hit !== undefined) return hit;
    const leaf = (byId.get(id) as ProfileNode).callFrame;
    let layer: ProfileLayer | "idle" | undefined = leaf.functionName === "(idle)" ? "idle" : undefined;
    for (let cur: number | undefined = id; layer === undefined && cur !== undefined; cur = parent.get(cur))
      layer = frameLayer((byId.get(cur) as ProfileNode).callFrame);
    hit = { layer: layer ?? "other", label: frameLabel(leaf) };
    cache.set(id, hit);
    return hit;
  };
  const layers = new Map<ProfileLayer, number>();
  const functions = new Map<ProfileLayer, Map<string, number>>();
  let busyUs = 0;
  let count = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's timestamp is the start plus the deltas up to it; it stands for the time until the next.
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const { layer, label } = classify(profile.samples[i] as number);
    if (layer === "idle") continue;
    busyUs += us;
    count++;
    addTo(layers, layer, us);
    addTo(bucket(functions, layer), label, us);
  }
  return { busyUs, count, layers, functions };
}

/** The main thread's profiles of process `pid` in `dir` (named as `node --cpu-prof` names them: CPU.<date>.<time>.<pid>.<tid>.<seq>, tid 0). */
export function mainThreadProfiles(dir: string, pid?: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => {
      const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(f);
      return m !== null && m[2] === "0" && (pid === undefined || Number(m[1]) === pid);
    })
    .map((f) => join(dir, f));
}

/** What a round records while it runs, per node, for the account made once the profiles are written. */
export interface ProfileWindow {
  /** The measured phase on CLOCK_MONOTONIC, µs. */
  readonly fromUs: number;
  readonly toUs: number;
  /** Per node (validator order): its pid, and CPU seconds of each thread name over the measured phase. */
  readonly nodes: readonly { readonly name: string; readonly pid: number; readonly threads: Record<string, number> }[];
}

/** CLOCK_MONOTONIC in µs: the clock of V8's CPU profile timestamps. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The start of a measured phase: the time, and each local node's CPU by thread. */
export interface ProfileWindowStart {
  readonly fromUs: number;
  readonly nodes: readonly { readonly name: string; readonly pid: number; readonly threads: Map<string, number> }[];
}

type LocalNode = { readonly name: string; readonly pid?: number };

function threadSnapshot(nodes: readonly LocalNode[]): ProfileWindowStart["nodes"] {
  return nodes.flatMap((n) => (n.pid === undefined ? [] : [{ name: n.name, pid: n.pid, threads: threadCpu(n.pid) }]));
}

/** Marks the start of a measured phase (nodes without a local pid are left out). */
export function startProfileWindow(nodes: readonly LocalNode[]): ProfileWindowStart {
  return { fromUs: monotonicUs(), nodes: threadSnapshot(nodes) };
}

/** Marks its end: each node's thread CPU over the phase (a node restarted meanwhile, with a new pid, is left out). */
export function endProfileWindow(start: ProfileWindowStart, nodes: readonly LocalNode[]): ProfileWindow {
  const toUs = monotonicUs();
  return {
    fromUs: start.fromUs,
    toUs,
    nodes: threadSnapshot(nodes).flatMap((after) => {
      const before = start.nodes.find((x) => x.name === after.name && x.pid === after.pid);
      if (before === undefined) return [];
      const threads: Record<string, number> = {};
      for (const [t, sec] of after.threads) threads[t] = Math.max(0, sec - (before.threads.get(t) ?? 0));
      return [{ name: after.name, pid: after.pid, threads }];
    }),
  };
}

/** One layer's CPU per committed transaction. */
export interface LayerCost {
  readonly layer: ProfileLayer;
  /** µs of CPU per committed transaction, mean over the nodes. */
  readonly usPerTx: number;
  /** Percent of the nodes' CPU. */
  readonly pct: number;
  /** µs per committed transaction on each node (validator order). */
  readonly perNode: readonly number[];
  /** The layer's top functions (self time, main thread), µs per committed transaction, mean over the nodes. */
  readonly top: readonly { readonly name: string; readonly usPerTx: number }[];
}

/** RoundResult.profile: the account of every microsecond of the measured phase. */
export interface ProfileAccount {
  readonly nodes: readonly string[];
  /** Transactions committed OK in the measured phase (the divisor). */
  readonly committed: number;
  /** CPU per committed transaction on each node, µs (every thread). */
  readonly usPerTxPerNode: readonly number[];
  /** Mean over the nodes. */
  readonly usPerTx: number;
  readonly layers: readonly LayerCost[];
  /** Busy main-thread samples in the measured phase, all nodes together. */
  readonly samples: number;
  /** CPU of V8's profiler threads per committed transaction per node: the cost of --profile itself, outside the layers. */
  readonly profilerUsPerTx: number;
  readonly notes?: readonly string[];
}

const MAIN = /\(main\)$/;

/** The account of a round from its window and the node's profile files in `dirOf(node)`. */
export function accountRound(
  window: ProfileWindow,
  committed: number,
  dirOf: (node: string) => string,
  topN = 4,
): ProfileAccount {
  const notes: string[] = [];
  const perNodeLayers: Map<ProfileLayer, number>[] = [];
  const topFns = new Map<ProfileLayer, Map<string, number>>();
  let samples = 0;
  let profilerUs = 0;
  for (const node of window.nodes) {
    const layers = new Map<ProfileLayer, number>();
    let mainSec = 0;
    for (const [thread, sec] of Object.entries(node.threads)) {
      if (MAIN.test(thread)) {
        mainSec += sec;
        continue;
      }
      // Other threads are named in their layer's top list, as `thread "NAME"`.
      const layer = threadLayer(thread);
      if (layer === undefined) {
        profilerUs += sec * 1e6;
        continue;
      }
      addTo(layers, layer, sec * 1e6);
      addTo(bucket(topFns, layer), `thread "${thread}"`, sec * 1e6);
    }
    const files = mainThreadProfiles(dirOf(node.name), node.pid);
    let sampled: SampledAccount | undefined;
    for (const f of files) {
      const p = JSON.parse(readFileSync(f, "utf8")) as CpuProfile;
      if (p.endTime < window.fromUs || p.startTime > window.toUs) continue;
      sampled = accountSamples(p, window.fromUs, window.toUs);
      samples += sampled.count;
      break;
    }
    if (sampled === undefined || sampled.busyUs === 0) {
      notes.push(`${node.name}: no CPU profile of the measured phase (its main thread counted as "other")`);
      addTo(layers, "other", mainSec * 1e6);
    } else {
      // The thread's CPU, in the proportions of the samples (samples count wall time while busy,
      // including time the thread waited for a core; the CPU counters do not).
      const scale = (mainSec * 1e6) / sampled.busyUs;
      for (const [layer, us] of sampled.layers) addTo(layers, layer, us * scale);
      for (const [layer, fns] of sampled.functions) {
        const acc = bucket(topFns, layer);
        for (const [fn, us] of fns) addTo(acc, fn, us * scale);
      }
    }
    perNodeLayers.push(layers);
  }
  const n = Math.max(1, window.nodes.length);
  const per = (us: number) => (committed > 0 ? us / committed : 0);
  const usPerTxPerNode = perNodeLayers.map((m) => per([...m.values()].reduce((s, x) => s + x, 0)));
  const usPerTx = usPerTxPerNode.reduce((s, x) => s + x, 0) / n;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const layers: LayerCost[] = PROFILE_LAYERS.map((layer) => {
    const perNode = perNodeLayers.map((m) => per(m.get(layer) ?? 0));
    const mean = perNode.reduce((s, x) => s + x, 0) / n;
    const top = [...(topFns.get(layer) ?? new Map<string, number>())]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, us]) => ({ name, usPerTx: r1(per(us) / n) }));
    return {
      layer,
      usPerTx: r1(mean),
      pct: usPerTx > 0 ? r1((100 * mean) / usPerTx) : 0,
      perNode: perNode.map(r1),
      top,
    };
  });
  return {
    nodes: window.nodes.map((x) => x.name),
    committed,
    usPerTxPerNode: usPerTxPerNode.map(r1),
    usPerTx: r1(usPerTx),
    layers,
    samples,
    profilerUsPerTx: r1(per(profilerUs) / n),
    ...(notes.length > 0 ? { notes } : {}),
  };
}
