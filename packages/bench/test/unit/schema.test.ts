import { describe, expect, it } from "vitest";
import { REPORT_SCHEMA } from "../../src/report.ts";
import { validateReport } from "../../src/schema.ts";
import { latencyStats } from "../../src/stats.ts";

function report(): Record<string, unknown> {
  const lat = latencyStats([100, 200, 300]);
  return {
    schema: REPORT_SCHEMA,
    title: "t",
    date: "2026-11-22T21:00:00.000Z",
    durationSec: 10,
    system: {
      cairnVersion: "0.1.0",
      commit: "abc",
      consensus: "Tendermint",
      dataStore: "LevelDB",
      network: "loopback",
      target: "processes",
      hardware: { cpuModel: "x", cores: 2, memoryGiB: 8 },
      os: "Linux",
      node: "v24",
      verifiesPerSec: 10_000,
    },
    rounds: [
      {
        name: "kv · 100 tx/s · 4 validators",
        workload: "kv",
        validators: 4,
        mode: "open",
        targetRate: 100,
        block: { maxTxs: 2000 },
        durationSec: 5,
        warmupSec: 1,
        succeeded: 500,
        failed: 0,
        failures: {},
        successRate: 1,
        sendRate: 100,
        throughput: 100,
        latencyAll: lat,
        latencyFirst: lat,
        timeline: [{ t: 0, committed: 100, sent: 100, height: 3 }],
        nodes: [
          {
            name: "node0",
            cpuSec: 1,
            cpuCores: 0.2,
            rssMiB: { mean: 200, peak: 210 },
            diskWriteMiB: 1,
            diskReadMiB: 0,
            storageMiB: 3,
            netSentMiB: null,
            netReceivedMiB: 0.5,
          },
        ],
        generator: { cpuSec: 0.1, cpuCores: 0.02, presignSec: 0.1 },
        faults: [],
        verifyBound: { verifiesPerSec: 10_000, boundTxPerSec: 2500, ratio: 0.04 },
      },
    ],
    sweeps: [{ name: "s", parameter: "validators", points: [{ value: 4, round: "kv · 100 tx/s · 4 validators" }] }],
    criteria: [{ criterion: "c", value: "v", source: "s" }],
    notes: [],
  };
}

describe("validateReport", () => {
  it("accepts a report of the schema (an unmeasured figure may be null, as NaN is written in JSON)", () => {
    expect(validateReport(JSON.parse(JSON.stringify(report())))).toEqual([]);
  });

  it("names every field that is missing or of the wrong type", () => {
    const r = report();
    r.schema = "cairn-bench-report/0";
    (r.system as Record<string, unknown>).target = "vm";
    const round = (r.rounds as Record<string, unknown>[])[0] as Record<string, unknown>;
    round.mode = "both";
    delete round.latencyAll;
    round.throughput = "fast";
    expect(validateReport(r)).toEqual([
      'report.schema: "cairn-bench-report/1", got "cairn-bench-report/0"',
      'report.system.target: one of processes, docker, got "vm"',
      'report.rounds[0].mode: one of open, closed, got "both"',
      'report.rounds[0].throughput: a number, got "fast"',
      "report.rounds[0].latencyAll: an object, got undefined",
    ]);
  });

  it("checks that sweep points name rounds of the report", () => {
    const r = report();
    (r.sweeps as { points: { round: string }[] }[])[0]?.points.push({ round: "nowhere" } as never);
    ((r.sweeps as { points: { value?: number }[] }[])[0]?.points[1] as { value?: number }).value = 7;
    expect(validateReport(r)).toEqual(['report.sweeps "s": no round named "nowhere"']);
  });
});
