// A structural check of a report against report.ts (schema cairn-bench-report/1), for tests and for
// anyone reading a report file written by another version: every required field present with the
// right type. Numbers may be null in JSON where a figure could not be measured (NaN).
import { REPORT_SCHEMA } from "./report.ts";

type Check = (v: unknown, path: string, errors: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const num: Check = (v, p, e) => {
  // JSON has no NaN: an unmeasured figure is written as null.
  if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) e.push(`${p}: a number, got ${JSON.stringify(v)}`);
};
const str: Check = (v, p, e) => {
  if (typeof v !== "string") e.push(`${p}: a string, got ${JSON.stringify(v)}`);
};
const bool: Check = (v, p, e) => {
  if (typeof v !== "boolean") e.push(`${p}: a boolean, got ${JSON.stringify(v)}`);
};
const oneOf =
  (...values: readonly string[]): Check =>
  (v, p, e) => {
    if (typeof v !== "string" || !values.includes(v))
      e.push(`${p}: one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
  };
const arrayOf =
  (item: Check): Check =>
  (v, p, e) => {
    if (!Array.isArray(v)) {
      e.push(`${p}: an array`);
      return;
    }
    v.forEach((x, i) => {
      item(x, `${p}[${i}]`, e);
    });
  };
const optional =
  (c: Check): Check =>
  (v, p, e) => {
    if (v !== undefined) c(v, p, e);
  };
const nullable =
  (c: Check): Check =>
  (v, p, e) => {
    if (v !== null) c(v, p, e);
  };
const record =
  (value: Check): Check =>
  (v, p, e) => {
    if (!isObj(v)) {
      e.push(`${p}: an object`);
      return;
    }
    for (const [k, x] of Object.entries(v)) value(x, `${p}.${k}`, e);
  };
const obj =
  (fields: Record<string, Check>): Check =>
  (v, p, e) => {
    if (!isObj(v)) {
      e.push(`${p}: an object, got ${JSON.stringify(v)}`);
      return;
    }
    for (const [k, c] of Object.entries(fields)) c(v[k], `${p}.${k}`, e);
  };

const latency = obj({
  count: num,
  min: num,
  max: num,
  mean: num,
  stddev: num,
  p50: num,
  p95: num,
  p99: num,
  histogram: optional(obj({ bounds: arrayOf(num), counts: arrayOf(num) })),
});

const fault = obj({
  kind: oneOf("kill-validator", "kill-proposer", "partition", "restart", "pause"),
  targets: arrayOf(str),
  at: num,
  healedAt: optional(num),
  throughputBefore: num,
  throughputDuring: num,
  throughputAfter: optional(num),
  recoverySec: nullable(num),
  safe: bool,
  recoveryFrom: optional(oneOf("fault", "heal")),
  caughtUpSec: optional(nullable(num)),
  victimHeight: optional(num),
  error: optional(str),
});

const step = obj({ rate: num, sendRate: num, throughput: num, p50: num, p99: num, successRate: num });

const round = obj({
  name: str,
  workload: str,
  validators: num,
  mode: oneOf("open", "closed"),
  targetRate: optional(num),
  block: obj({ maxTxs: num, emptyBlockIntervalMs: optional(num) }),
  durationSec: num,
  warmupSec: num,
  succeeded: num,
  committed: optional(num),
  failed: num,
  failures: record(num),
  successRate: num,
  sendRate: num,
  throughput: num,
  latencyAll: latency,
  latencyFirst: latency,
  reads: optional(obj({ throughput: num, latency, failed: num })),
  timeline: arrayOf(obj({ t: num, committed: num, sent: num, reads: optional(num), height: num })),
  nodes: arrayOf(
    obj({
      name: str,
      cpuSec: num,
      cpuCores: num,
      rssMiB: obj({ mean: num, peak: num }),
      diskWriteMiB: num,
      diskReadMiB: num,
      storageMiB: num,
      netSentMiB: num,
      netReceivedMiB: num,
    }),
  ),
  generator: obj({ cpuSec: num, cpuCores: num, presignSec: num }),
  faults: arrayOf(fault),
  verifyBound: obj({ verifiesPerSec: num, boundTxPerSec: num, ratio: num }),
  description: optional(str),
  senders: optional(num),
  blocks: optional(obj({ count: num, meanTxs: num, maxTxs: num, perSec: num, rounds: optional(record(num)) })),
  saturation: optional(obj({ steps: arrayOf(step), rate: num, throughput: num, reason: str })),
  setup: optional(obj({ txs: num, seconds: num })),
  notOnAll: optional(num),
  engine: optional(oneOf("tendermint", "raft")),
  cpuMsPerTx: optional(num),
  consensus: optional(obj({ messagesPerBlock: num, bytesPerBlock: num })),
  trials: optional(
    obj({ n: num, figures: record(obj({ values: arrayOf(nullable(num)), mean: num, ci95: nullable(num) })) }),
  ),
  network: optional(
    obj({
      label: str,
      method: str,
      latencyMs: num,
      jitterMs: num,
      lossPercent: num,
      bandwidthMbit: optional(num),
      matrix: optional(arrayOf(arrayOf(num))),
    }),
  ),
  profile: optional(
    obj({
      nodes: arrayOf(str),
      committed: num,
      usPerTxPerNode: arrayOf(num),
      usPerTx: num,
      layers: arrayOf(
        obj({
          layer: str,
          usPerTx: num,
          pct: num,
          perNode: arrayOf(num),
          top: arrayOf(obj({ name: str, usPerTx: num })),
        }),
      ),
      samples: num,
      profilerUsPerTx: num,
      notes: optional(arrayOf(str)),
    }),
  ),
  notes: optional(arrayOf(str)),
});

const report = obj({
  schema: (v, p, e) => {
    if (v !== REPORT_SCHEMA) e.push(`${p}: "${REPORT_SCHEMA}", got ${JSON.stringify(v)}`);
  },
  title: str,
  date: (v, p, e) => {
    if (typeof v !== "string" || Number.isNaN(Date.parse(v)))
      e.push(`${p}: an ISO 8601 date, got ${JSON.stringify(v)}`);
  },
  durationSec: num,
  system: obj({
    cairnVersion: str,
    commit: optional(str),
    consensus: str,
    dataStore: str,
    network: str,
    target: oneOf("processes", "docker"),
    hardware: obj({ cpuModel: str, cores: num, memoryGiB: num }),
    os: str,
    node: str,
    verifiesPerSec: num,
  }),
  rounds: arrayOf(round),
  sweeps: arrayOf(obj({ name: str, parameter: str, points: arrayOf(obj({ value: num, round: str })) })),
  comparisons: optional(arrayOf(obj({ name: str, rounds: obj({ tendermint: str, raft: str }) }))),
  reproduce: optional(
    obj({
      command: str,
      commit: optional(str),
      dirty: bool,
      repeat: num,
      clusters: arrayOf(obj({ name: str })),
      workloads: record(() => {}),
    }),
  ),
  criteria: arrayOf(obj({ criterion: str, value: str, source: str })),
  simulation: optional(
    obj({
      kind: oneOf("simulation"),
      method: str,
      points: arrayOf(
        obj({
          engine: oneOf("tendermint", "raft"),
          validators: num,
          model: str,
          blocks: num,
          messagesPerBlock: num,
          transmissionsPerBlock: num,
          bytesPerBlock: num,
          roundsPerBlock: num,
          commitLatencyMs: obj({ mean: num, p50: num, p95: num }),
          blockTimeMs: nullable(num),
        }),
      ),
      comparisons: arrayOf(
        obj({
          round: str,
          engine: oneOf("tendermint", "raft"),
          validators: num,
          model: str,
          measured: obj({ messagesPerBlock: optional(num), blockTimeMs: optional(num) }),
          simulated: obj({ messagesPerBlock: num, blockTimeMs: nullable(num) }),
        }),
      ),
      seconds: num,
    }),
  ),
  notes: arrayOf(str),
});

/** The ways `value` (a parsed report JSON) differs from the report schema; empty when it matches. */
export function validateReport(value: unknown): string[] {
  const errors: string[] = [];
  report(value, "report", errors);
  if (errors.length === 0 && isObj(value)) {
    const names = new Set<string>();
    for (const r of value.rounds as { name: string }[]) {
      if (names.has(r.name)) errors.push(`report.rounds: two rounds named "${r.name}"`);
      names.add(r.name);
    }
    for (const c of (value.comparisons ?? []) as { name: string; rounds: Record<string, string> }[]) {
      for (const r of Object.values(c.rounds)) {
        if (!names.has(r)) errors.push(`report.comparisons "${c.name}": no round named "${r}"`);
      }
    }
    for (const s of value.sweeps as { name: string; points: { round: string }[] }[]) {
      for (const pt of s.points) {
        if (!names.has(pt.round)) errors.push(`report.sweeps "${s.name}": no round named "${pt.round}"`);
      }
    }
  }
  return errors;
}
