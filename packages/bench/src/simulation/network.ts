// The simulated network of the consensus-at-scale simulation (./scale.ts): where each validator is,
// how long a message takes between two of them, and how gossip carries a broadcast. Deterministic
// from its seed.
//
// Gossip follows gossipsub's mesh: every validator keeps D mesh peers (D = 8 here, gossipsub's
// default is 6 to 12), forwards each new message once to each mesh peer but the one it came from,
// and so a broadcast reaches every validator along the fastest path through the mesh. Up to D + 1
// validators the mesh is complete, as it is on Cairn's small clusters.
import { prng } from "@cairn/crypto";
import { regionLatency } from "../network/profile.ts";

/** How far apart the validators are: one delay for every pair, or regions (validator i is in region i mod R). */
export type LatencyModel =
  | { readonly kind: "uniform"; readonly latencyMs: number }
  | {
      readonly kind: "regions";
      readonly regions: readonly string[];
      /** One-way delay between two regions, ms, by "a-b" (either order). */
      readonly latency: Readonly<Record<string, number>>;
      /** One-way delay inside a region, ms. */
      readonly within: number;
    };

export const MESH_DEGREE = 8;

export function modelLabel(m: LatencyModel): string {
  if (m.kind === "uniform") return `uniform ${m.latencyMs} ms`;
  const pairs = Object.entries(m.latency).map(([k, v]) => `${k} ${v} ms`);
  return `${m.regions.length} regions (${pairs.join(", ")}; ${m.within} ms within)`;
}

/** One-way link delay from i to j, ms. */
export function linkDelay(m: LatencyModel, i: number, j: number): number {
  if (i === j) return 0;
  if (m.kind === "uniform") return m.latencyMs;
  const a = m.regions[i % m.regions.length] as string;
  const b = m.regions[j % m.regions.length] as string;
  const v = regionLatency(m.latency, m.within, a, b);
  if (typeof v !== "number") throw new RangeError(`no latency between regions ${a} and ${b}`);
  return v;
}

export interface SimNetwork {
  readonly n: number;
  /** Mesh peers of each validator. */
  readonly mesh: readonly (readonly number[])[];
  /** Time for a message of `bytes` from i to reach j through the mesh (fastest path), ms. */
  arrival(i: number, j: number, bytes: number): number;
  /** Link transmissions of one broadcast: the originator to each mesh peer, every other validator to all but one. */
  readonly transmissionsPerBroadcast: number;
}

export interface SimNetworkOptions {
  readonly model: LatencyModel;
  readonly seed: number;
  /** Each link's rate, Mbit/s: a message of b bytes takes b / rate more per hop (default 1000). */
  readonly bandwidthMbit?: number;
  /** Time a relaying validator takes to pass a message on (check and forward), ms (default 0.2). */
  readonly hopMs?: number;
}

export function createSimNetwork(n: number, o: SimNetworkOptions): SimNetwork {
  const rand = prng(o.seed);
  const degree = Math.min(MESH_DEGREE, n - 1);
  const links = Array.from({ length: n }, () => new Set<number>());
  const link = (a: number, b: number) => {
    links[a]?.add(b);
    links[b]?.add(a);
  };
  if (degree >= n - 1) {
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) link(a, b);
  } else {
    // A ring keeps the mesh connected; random links fill each validator up to the degree.
    for (let a = 0; a < n; a++) link(a, (a + 1) % n);
    for (let a = 0; a < n; a++) {
      let tries = 0;
      while ((links[a] as Set<number>).size < degree && tries++ < 10 * n) {
        const b = Math.floor(rand() * n);
        if (b !== a && (links[b] as Set<number>).size < degree + 2) link(a, b);
      }
    }
  }
  const mesh = links.map((s) => [...s].sort((x, y) => x - y));
  const hop = o.hopMs ?? 0.2;
  const bytesPerMs = ((o.bandwidthMbit ?? 1000) * 1e6) / 8 / 1000;
  // Fastest paths (Floyd–Warshall) of the latency part; the size part is per hop, so paths are
  // also counted in hops (along the fastest path) to add it.
  const INF = Number.POSITIVE_INFINITY;
  const dist = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : INF)));
  const hops = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let a = 0; a < n; a++) {
    for (const b of mesh[a] as number[]) {
      (dist[a] as number[])[b] = linkDelay(o.model, a, b) + hop;
      (hops[a] as number[])[b] = 1;
    }
  }
  for (let k = 0; k < n; k++) {
    const dk = dist[k] as number[];
    const hk = hops[k] as number[];
    for (let i = 0; i < n; i++) {
      const di = dist[i] as number[];
      const hi = hops[i] as number[];
      const dik = di[k] as number;
      if (dik === INF) continue;
      for (let j = 0; j < n; j++) {
        const via = dik + (dk[j] as number);
        if (via < (di[j] as number)) {
          di[j] = via;
          hi[j] = (hi[k] as number) + (hk[j] as number);
        }
      }
    }
  }
  const sumDegree = mesh.reduce((s, m) => s + m.length, 0);
  return {
    n,
    mesh,
    arrival: (i, j, bytes) => (dist[i]?.[j] as number) + ((hops[i]?.[j] as number) * bytes) / bytesPerMs,
    transmissionsPerBroadcast: sumDegree - (n - 1),
  };
}
