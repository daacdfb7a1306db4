// Workloads as declarative JSON files (benchmarks/workloads/*.json): what one run sends, in which
// mix, over which keys, by how many senders, at which default rate and for how long. Parsed and
// validated here with errors that name the file and the field; see benchmarks/README.md for the
// format.
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/**
 * The operations a workload can mix. Transactions are signed before the measured phase and sent
 * with POST /txs; reads are timed one by one (read throughput and latency).
 */
export const OPERATIONS = {
  /** kv put: a key of the key space (an update) or, without a key space, a new unique key (an insert). */
  "kv.put": { kind: "tx", contract: "kv", method: "put" },
  /** GET /state/kv/:key of a key of the (preloaded) key space, with its Merkle proof. */
  "kv.get": { kind: "read", contract: "kv", method: "get" },
  /** Native token transfer of `amount` from one sender to another (SmallBank's sendPayment). */
  "token.transfer": { kind: "tx", contract: "token", method: "transfer" },
  /** GET /state/token/:account of a sender's balance. */
  "token.balance": { kind: "read", contract: "token", method: "balance" },
  /** transfer(to, amount) in the example WebAssembly token, deployed and funded untimed as `wtoken`. */
  "wasm-token.transfer": { kind: "tx", contract: "wtoken", method: "transfer" },
  /** POST /query of balance(account) in the Wasm token. */
  "wasm-token.balance": { kind: "read", contract: "wtoken", method: "balance" },
  /** noop.noop(): a transaction that does nothing (BLOCKBENCH's DoNothing): the ledger's fixed cost. */
  noop: { kind: "tx", contract: "noop", method: "noop" },
} as const;

export type OperationName = keyof typeof OPERATIONS;

export interface MixEntry {
  readonly op: OperationName;
  /** Share of the operations, normalised over the mix (weights 50/50 and 1/1 are the same). */
  readonly weight: number;
}

export interface KeySpace {
  /** Number of distinct keys (YCSB's recordcount). */
  readonly keys: number;
  /** How keys are picked: uniformly, or Zipfian (theta 0.99, hot keys scattered, as YCSB). */
  readonly distribution: "uniform" | "zipfian";
  /** Put every key once before the run (untimed; YCSB's load phase). Required for reads. */
  readonly preload: boolean;
}

export interface WorkloadSpec {
  readonly name: string;
  readonly description: string;
  readonly mix: readonly MixEntry[];
  readonly keySpace?: KeySpace;
  /** Bytes of each kv value (1 to 16,384, the kv contract's bound). */
  readonly valueBytes: number;
  /** Distinct signing keys: registered clients (keys/client.json, client-1.json ...). */
  readonly senders: number;
  /** Token amount per transfer. */
  readonly amount: number;
  /** Default offered load, operations per second (transactions and reads together). */
  readonly rate: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  /** Seed of the key and account choices (default 1), so two runs send the same sequence. */
  readonly seed: number;
  /** Where it was read from. */
  readonly source: string;
}

export class WorkloadError extends Error {
  readonly code = "BAD_WORKLOAD";
}

const FIELDS = [
  "$schema",
  "name",
  "description",
  "mix",
  "keySpace",
  "valueBytes",
  "senders",
  "amount",
  "rate",
  "durationSec",
  "warmupSec",
  "seed",
] as const;

export const WORKLOAD_LIMITS = {
  keys: 1_000_000,
  valueBytes: 16 * 1024,
  senders: 10_000,
  rate: 100_000,
  durationSec: 3_600,
  warmupSec: 600,
} as const;

/** Parses and validates a workload; `source` names it in errors (a path, or "<inline>"). */
export function parseWorkload(value: unknown, source = "<inline>"): WorkloadSpec {
  const fail = (field: string, msg: string): never => {
    throw new WorkloadError(`${source}: ${field} ${msg}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WorkloadError(`${source}: a workload is a JSON object`);
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      fail(k, `is not a workload field (fields: ${FIELDS.filter((f) => f !== "$schema").join(", ")})`);
    }
  }
  const int = (field: string, v: unknown, min: number, max: number, dflt?: number): number => {
    if (v === undefined) {
      if (dflt !== undefined) return dflt;
      return fail(field, "is required");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return fail(
        field,
        `must be a whole number from ${min} to ${max.toLocaleString("en-US")}, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const num = (field: string, v: unknown, min: number, max: number, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      return fail(field, `must be a number from ${min} to ${max.toLocaleString("en-US")}, got ${JSON.stringify(v)}`);
    }
    return v;
  };

  if (typeof o.name !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(o.name)) {
    fail("name", `must be lower-case letters, digits and dashes (at most 63), got ${JSON.stringify(o.name)}`);
  }
  if (typeof o.description !== "string" || o.description.trim() === "") {
    fail("description", "must be a non-empty string");
  }
  if (!Array.isArray(o.mix) || o.mix.length === 0) {
    fail("mix", 'must be a non-empty array of {"op": ..., "weight": ...}');
  }
  const ops = Object.keys(OPERATIONS);
  const mix: MixEntry[] = [];
  (o.mix as unknown[]).forEach((e, i) => {
    const f = `mix[${i}]`;
    if (typeof e !== "object" || e === null || Array.isArray(e)) fail(f, 'must be {"op": ..., "weight": ...}');
    const entry = e as Record<string, unknown>;
    for (const k of Object.keys(entry))
      if (k !== "op" && k !== "weight") fail(`${f}.${k}`, "is not a mix field (op, weight)");
    if (typeof entry.op !== "string" || !ops.includes(entry.op)) {
      fail(`${f}.op`, `must be one of ${ops.join(", ")}, got ${JSON.stringify(entry.op)}`);
    }
    const weight = num(`${f}.weight`, entry.weight ?? 1, Number.MIN_VALUE, 1e9, 1);
    if (weight <= 0) fail(`${f}.weight`, "must be positive");
    if (mix.some((m) => m.op === entry.op)) fail(`${f}.op`, `${String(entry.op)} appears twice in the mix`);
    mix.push({ op: entry.op as OperationName, weight });
  });
  if (!mix.some((m) => OPERATIONS[m.op].kind === "tx")) {
    fail("mix", "needs at least one transaction operation (reads alone have no throughput to measure)");
  }

  let keySpace: KeySpace | undefined;
  if (o.keySpace !== undefined) {
    const ks = o.keySpace;
    if (typeof ks !== "object" || ks === null || Array.isArray(ks)) {
      fail("keySpace", 'must be {"keys": N, "distribution": "uniform" | "zipfian", "preload": true | false}');
    }
    const k = ks as Record<string, unknown>;
    for (const f of Object.keys(k)) {
      if (!["keys", "distribution", "preload"].includes(f)) {
        fail(`keySpace.${f}`, "is not a keySpace field (keys, distribution, preload)");
      }
    }
    const distribution = k.distribution ?? "uniform";
    if (distribution !== "uniform" && distribution !== "zipfian") {
      fail("keySpace.distribution", `must be "uniform" or "zipfian", got ${JSON.stringify(k.distribution)}`);
    }
    if (k.preload !== undefined && typeof k.preload !== "boolean") fail("keySpace.preload", "must be true or false");
    keySpace = {
      keys: int("keySpace.keys", k.keys, 1, WORKLOAD_LIMITS.keys),
      distribution: distribution as KeySpace["distribution"],
      preload: (k.preload as boolean | undefined) ?? true,
    };
  }
  const usesKv = mix.some((m) => m.op.startsWith("kv."));
  if (mix.some((m) => m.op === "kv.get") && keySpace?.preload !== true) {
    fail(
      "keySpace",
      'is needed with kv.get, with "preload": true (reads of keys that were never written measure nothing)',
    );
  }
  if (keySpace !== undefined && !usesKv) fail("keySpace", "applies to kv operations only; this mix has none");
  if (o.valueBytes !== undefined && !usesKv) fail("valueBytes", "applies to kv operations only; this mix has none");

  const durationSec = int("durationSec", o.durationSec, 1, WORKLOAD_LIMITS.durationSec, 15);
  return {
    name: o.name as string,
    description: (o.description as string).trim(),
    mix,
    ...(keySpace === undefined ? {} : { keySpace }),
    valueBytes: int("valueBytes", o.valueBytes, 1, WORKLOAD_LIMITS.valueBytes, 32),
    senders: int("senders", o.senders, 1, WORKLOAD_LIMITS.senders, 16),
    amount: int("amount", o.amount, 1, 1_000_000, 1),
    rate: num("rate", o.rate, 0.1, WORKLOAD_LIMITS.rate, 500),
    durationSec,
    warmupSec: int("warmupSec", o.warmupSec, 0, WORKLOAD_LIMITS.warmupSec, 3),
    seed: int("seed", o.seed, 0, 2 ** 31 - 1, 1),
    source,
  };
}

/** benchmarks/workloads in this repository. */
export const WORKLOADS_DIR = new URL("../../../benchmarks/workloads/", import.meta.url).pathname;

/**
 * A workload by name (benchmarks/workloads/NAME.json) or by path (anything with a slash or ending
 * in .json, relative to `cwd`).
 */
/** The file a workload name or path refers to. */
export function workloadPath(nameOrPath: string, cwd = process.cwd(), dir = WORKLOADS_DIR): string {
  const isPath = nameOrPath.includes("/") || nameOrPath.endsWith(".json");
  return isPath ? (isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath)) : join(dir, `${nameOrPath}.json`);
}

export function loadWorkload(nameOrPath: string, cwd = process.cwd(), dir = WORKLOADS_DIR): WorkloadSpec {
  const isPath = nameOrPath.includes("/") || nameOrPath.endsWith(".json");
  const path = workloadPath(nameOrPath, cwd, dir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new WorkloadError(
      isPath
        ? `cannot read the workload file ${path}`
        : `no workload named ${nameOrPath} (known: ${listWorkloads(dir).join(", ") || "none"}; or give a path to a .json file)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorkloadError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseWorkload(json, path);
}

/** Names of the workload files in `dir`. */
export function listWorkloads(dir = WORKLOADS_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json") && !f.startsWith("_"))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Operations per second of each kind at a total rate: transactions and reads. */
export function splitRate(spec: WorkloadSpec, rate: number): { txRate: number; readRate: number } {
  const total = spec.mix.reduce((s, m) => s + m.weight, 0);
  const reads = spec.mix.filter((m) => OPERATIONS[m.op].kind === "read").reduce((s, m) => s + m.weight, 0);
  const readRate = (rate * reads) / total;
  return { txRate: rate - readRate, readRate };
}

/** The mix's transaction (or read) operations with cumulative probabilities, for picking one. */
export function opPicker(spec: WorkloadSpec, kind: "tx" | "read"): (u: number) => OperationName {
  const entries = spec.mix.filter((m) => OPERATIONS[m.op].kind === kind);
  const total = entries.reduce((s, m) => s + m.weight, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const m of entries) {
    acc += m.weight / total;
    cum.push(acc);
  }
  return (u: number) => {
    for (let i = 0; i < cum.length; i++) if (u < (cum[i] as number)) return (entries[i] as MixEntry).op;
    return (entries.at(-1) as MixEntry).op;
  };
}
