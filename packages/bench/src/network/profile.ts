// An emulated network between the validators (`cairn bench --latency 50ms --jitter 10ms --loss 0.5%
// --bandwidth 100mbit`, or a per-pair latency matrix): what it is, how it is written on the command
// line and in a matrix file, and how the report discloses it. How it is applied: ../netns.ts and
// ./relay.ts.
import { readFileSync } from "node:fs";

/**
 * One-way delay between regions `a` and `b` from a regions file's `latency` ("a-b" in either
 * order) and `within`; undefined when the file has no such pair.
 */
export function regionLatency(
  latency: Readonly<Record<string, unknown>>,
  within: number,
  a: string,
  b: string,
): unknown {
  return a === b ? within : (latency[`${a}-${b}`] ?? latency[`${b}-${a}`]);
}

export interface NetworkProfile {
  /** One-way delay added to every byte between two validators, ms (a round trip adds twice it). */
  readonly latencyMs: number;
  /** Each delay drawn uniformly from latency ± jitter (order within a connection is kept), ms. */
  readonly jitterMs: number;
  /** Packets between validators dropped at random, percent (TCP retransmits them). */
  readonly lossPercent: number;
  /** Each validator's link, each direction, Mbit/s; undefined: not limited. */
  readonly bandwidthMbit?: number;
  /** One-way delay from validator i to validator j, ms (overrides latencyMs); with region names. */
  readonly matrix?: readonly (readonly number[])[];
  /** What the matrix models, e.g. "three regions: eu (node0, node1), us (node2), ap (node3)". */
  readonly label?: string;
}

export class NetworkProfileError extends Error {
  readonly code = "BAD_NETWORK";
  constructor(message: string) {
    super(message);
    this.name = "NetworkProfileError";
  }
}

/** "50ms", "0.05s" or "50" (ms) → milliseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (m === null) throw new NetworkProfileError(`${what} is a duration like 50ms or 0.05s, not "${text}"`);
  const v = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (v > 10_000) throw new NetworkProfileError(`${what} is at most 10 s`);
  return v;
}

/** "0.5%" or "0.5" → percent (0 to 50). */
export function parsePercent(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const v = m === null ? Number.NaN : Number(m[1]);
  if (!(v >= 0 && v <= 50)) throw new NetworkProfileError(`${what} is a percentage from 0% to 50%, not "${text}"`);
  return v;
}

/** "100mbit", "1gbit", "500kbit" → Mbit/s. */
export function parseBandwidth(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/i.exec(text.trim());
  if (m === null) throw new NetworkProfileError(`${what} is a rate like 100mbit, 1gbit or 500kbit, not "${text}"`);
  const unit = (m[2] as string).toLowerCase();
  const v = Number(m[1]) * (unit === "kbit" ? 0.001 : unit === "gbit" ? 1000 : 1);
  if (!(v >= 0.1 && v <= 100_000)) throw new NetworkProfileError(`${what} is 100kbit to 100gbit`);
  return v;
}

/**
 * A latency matrix file (JSON), either explicit:
 *   { "label": "...", "matrix": [[0, 40, ...], ...] }         one-way ms from row to column
 * or by regions:
 *   { "regions": { "eu": [0, 1], "us": [2], "ap": [3] },      validator indexes per region
 *     "latency": { "eu-us": 40, "eu-ap": 110, "us-ap": 75 },   one-way ms between regions (both ways)
 *     "within": 1 }                                            one-way ms inside a region (default 0)
 * Checked against the number of validators.
 */
export function loadLatencyMatrix(file: string, validators: number): { matrix: number[][]; label: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new NetworkProfileError(`cannot read the latency matrix ${file}: ${(e as Error).message}`);
  }
  return latencyMatrix(raw, validators, file);
}

export function latencyMatrix(
  raw: unknown,
  validators: number,
  where = "the latency matrix",
): { matrix: number[][]; label: string } {
  const bad = (what: string): never => {
    throw new NetworkProfileError(`${where}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null) return bad("a JSON object with `matrix`, or `regions` and `latency`");
  const o = raw as Record<string, unknown>;
  const ms = (v: unknown, what: string): number =>
    typeof v === "number" && v >= 0 && v <= 10_000 ? v : bad(`${what} is 0 to 10000 ms`);
  if (o.matrix !== undefined) {
    const m = o.matrix;
    if (!Array.isArray(m) || m.length !== validators || !m.every((r) => Array.isArray(r) && r.length === validators)) {
      return bad(`matrix is ${validators} rows of ${validators} one-way delays (ms), one per validator`);
    }
    const matrix = m.map((r: unknown[], i) => r.map((v, j) => (i === j ? 0 : ms(v, `matrix[${i}][${j}]`))));
    return { matrix, label: typeof o.label === "string" ? o.label : "a per-pair latency matrix" };
  }
  if (typeof o.regions !== "object" || o.regions === null || typeof o.latency !== "object" || o.latency === null) {
    return bad("a JSON object with `matrix`, or `regions` and `latency`");
  }
  const regionOf = new Array<string | undefined>(validators).fill(undefined);
  const regions = o.regions as Record<string, unknown>;
  for (const [name, members] of Object.entries(regions)) {
    if (!Array.isArray(members)) bad(`regions.${name} is a list of validator indexes`);
    for (const i of members as unknown[]) {
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= validators) {
        bad(`regions.${name}: ${String(i)} is not a validator index (0 to ${validators - 1})`);
      }
      if (regionOf[i as number] !== undefined) bad(`validator ${i} is in two regions`);
      regionOf[i as number] = name;
    }
  }
  const missing = regionOf.indexOf(undefined);
  if (missing >= 0) bad(`validator ${missing} is in no region`);
  const latency = o.latency as Record<string, unknown>;
  const within = o.within === undefined ? 0 : ms(o.within, "within");
  const between = (a: string, b: string): number => {
    const v = regionLatency(latency, within, a, b);
    return v === undefined ? bad(`latency has no "${a}-${b}"`) : ms(v, `latency.${a}-${b}`);
  };
  const matrix = regionOf.map((a, i) => regionOf.map((b, j) => (i === j ? 0 : between(a as string, b as string))));
  const label =
    typeof o.label === "string"
      ? o.label
      : `${Object.keys(regions).length} regions: ${Object.entries(regions)
          .map(([name, m]) => `${name} (${(m as number[]).map((i) => `node${i}`).join(", ")})`)
          .join(", ")}`;
  return { matrix, label };
}

/** The one-way delay from validator i to j under `p`, ms. */
export function delayBetween(p: NetworkProfile, i: number, j: number): number {
  return p.matrix?.[i]?.[j] ?? p.latencyMs;
}

/** Whether the profile changes anything (a zero profile is the plain network). */
export function emulates(p: NetworkProfile | undefined): p is NetworkProfile {
  return (
    p !== undefined &&
    (p.latencyMs > 0 || p.jitterMs > 0 || p.lossPercent > 0 || p.bandwidthMbit !== undefined || p.matrix !== undefined)
  );
}

/** Short label for round names: "50 ms", "three regions", "50 ms ± 10, 0.5 % loss, 100 Mbit/s". */
export function networkLabel(p: NetworkProfile): string {
  const parts = [p.matrix !== undefined ? (p.label ?? "latency matrix") : `${p.latencyMs} ms`];
  if (p.jitterMs > 0) parts[0] += ` ± ${p.jitterMs}`;
  if (p.lossPercent > 0) parts.push(`${p.lossPercent} % loss`);
  if (p.bandwidthMbit !== undefined) parts.push(`${p.bandwidthMbit} Mbit/s`);
  return parts.join(", ");
}

/** How the network was emulated, for the report. */
export const EMULATION_METHOD =
  "one network namespace per validator, routed through a router namespace; every peer-to-peer TCP connection between two validators is redirected (iptables DNAT in the router) to a userspace relay for that ordered pair, which delays each direction's bytes by the pair's one-way latency (± jitter, order kept) and paces them by each validator's link rate (bandwidth, shared by its connections, each way); loss: iptables statistic drops of peer-to-peer packets in each validator's namespace, which TCP retransmits. The kernel has no netem. Client (API) traffic crosses the router without delay or limit.";
