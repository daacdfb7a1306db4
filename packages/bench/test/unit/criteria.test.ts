import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildCriteria, NON_MEASURED, referenceLatencyRound } from "../../src/criteria.ts";
import type { CriterionRow, RoundResult } from "../../src/report.ts";
import { fixture, mutableFixture } from "./fixture.ts";

const ROOT = new URL("../../../../", import.meta.url);

function row(rows: readonly CriterionRow[], prefix: string): CriterionRow {
  const r = rows.find((c) => c.criterion.startsWith(prefix));
  expect(r, `criterion starting with "${prefix}"`).toBeDefined();
  return r as CriterionRow;
}

type MutableRound = { -readonly [K in keyof RoundResult]: RoundResult[K] };

describe("buildCriteria on the fixture", () => {
  const report = fixture();
  const rows = buildCriteria(report);

  it("gives every performance criterion of fg-dlt.md section 3 its measured value", () => {
    expect(row(rows, "Performance · Transaction throughput").value).toContain("1,128.4 tx/s on 4 validators");
    expect(row(rows, "Performance · Transaction throughput").value).toContain("702.3 tx/s on 7 validators");

    // Latency at the PSWG threshold for BFT, from the kv round at half load (half the saturation).
    const latency = row(rows, "Performance · Transaction latency (threshold: 100 % of validators)");
    expect(latency.value).toContain("on all 4 validators");
    expect(latency.value).toContain("p99 0.548 s");
    expect(latency.value).toContain("to the first validator: p50 0.101 s");
    expect(latency.source).toBe("kv · half load, 564 tx/s · 4 validators");
    expect(referenceLatencyRound(report)?.name).toBe(latency.source);

    expect(row(rows, "Performance · Read throughput").value).toContain("601.2 reads/s");
    expect(row(rows, "Performance · Success rate").value).toContain("MEMPOOL_FULL 14");
    expect(row(rows, "Performance · Success rate").value).toMatch(/^99\.99 % over all rounds/);
    expect(row(rows, "Performance · Send rate").value).toContain("998.1 of 1,000");
    const res = row(rows, "Performance · Resource consumption");
    expect(res.value).toMatch(/cores of CPU, RSS .* MiB .*disk .* written .*network .* sent/);
    expect(res.value).toContain("µs of CPU per committed transaction over all 4 nodes");
    expect(res.source).toBe("kv · closed loop (saturation) · 4 validators");
  });

  it("has network size, scalability from the sweep and fault tolerance from the fault round", () => {
    expect(row(rows, "Network size").value).toMatch(/^4, 7 validators/);
    const scal = row(rows, "Scalability");
    expect(scal.value).toContain("4 → 1,128.4 tx/s");
    expect(scal.value).toContain("7 → 702.3 tx/s");
    expect(scal.value).toContain("62 % of the 4-validator throughput kept at 7");
    const fault = row(rows, "Fault tolerance: kill-validator");
    expect(fault.value).toContain("node3 at 10 s");
    expect(fault.value).toContain("561.3 tx/s before, 554.6 during (99 %)");
    expect(fault.value).toContain("next commit 1.87 s after the fault");
    expect(fault.value).toContain("safety: held");
  });

  it("states the performance targets as met or not, with the ratio to the verification bound", () => {
    const tput = row(rows, "Target: ≥ 2,000 tx/s");
    expect(tput.value).toMatch(/^NOT met: 1,128\.4 tx\/s \(56 % of the target\)/);
    expect(tput.value).toContain("43 % of the signature-verification bound");
    expect(tput.value).toContain("10,600 Ed25519 verifies/s on all cores / 4 validators = 2,650.0 tx/s");
    // Both readings of "half load": half the measured saturation, and half the target.
    const p99 = row(rows, "Target: p99 ≤ 1 s at half load");
    expect(p99.value).toMatch(
      /^at half the measured saturation: met: p99 0\.548 s \(all validators\) at 564 tx\/s offered, 562\.8 committed; the offered load is 21 % of the signature-verification bound/,
    );
    expect(p99.value).toContain(
      "; at half the 2,000 tx/s target: NOT met: p99 1.473 s (all validators) at 1,000 tx/s offered",
    );
    expect(p99.source).toBe("kv · half load, 564 tx/s · 4 validators; kv · 1,000 tx/s · 4 validators");
  });

  it("discloses consensus, node count, hardware, network, data store, workload, faults and software", () => {
    for (const item of ["Consensus protocol", "Node count", "Hardware", "Network", "Data store", "Workload"]) {
      expect(row(rows, `Disclosure · ${item}`).value.length).toBeGreaterThan(0);
    }
    expect(row(rows, "Disclosure · Faults injected").value).toContain("kill-validator of node3");
    expect(row(rows, "Disclosure · Software").value).toContain(report.system.commit);
  });

  it("says how Cairn meets the criteria groups a benchmark does not measure", () => {
    for (const group of [
      "private key management",
      "smart contract mechanism",
      "access control",
      "user authentication",
      "data integrity",
      "consensus effectiveness",
      "security of cryptography",
      "information privacy",
    ]) {
      expect(
        rows.some((r) => r.criterion.includes(group)),
        group,
      ).toBe(true);
    }
    for (const r of NON_MEASURED) expect(rows).toContainEqual(r);
  });

  it("points only at docs and tests that exist (and at sections that exist)", () => {
    const cited = rows.flatMap((r) => r.source.split(";").map((s) => s.trim()));
    const paths = cited.filter((s) => /^(docs|test|packages)\/|^LICENSE/.test(s));
    expect(paths.length).toBeGreaterThan(15);
    for (const p of paths) {
      const [file, section] = p.split(/ "(.*)"$/) as [string, string | undefined];
      expect(existsSync(new URL(file, ROOT)), file).toBe(true);
      if (section !== undefined) {
        expect(readFileSync(new URL(file, ROOT), "utf8"), `${file} section ${section}`).toMatch(
          new RegExp(`^#+ ${section}$`, "m"),
        );
      }
    }
    // The fault-tolerance row of a run without faults points at tests too.
    const r = mutableFixture();
    for (const round of r.rounds) (round as MutableRound).faults = [];
    const none = row(buildCriteria(r as never), "Fault tolerance");
    for (const p of none.value.match(/test\/e2e\/[\w.-]+/g) ?? []) expect(existsSync(new URL(p, ROOT)), p).toBe(true);
  });

  it("labels the published figures of fg-dlt.md section 4 as theirs, next to the like-for-like figure of the run", () => {
    const published = rows.filter((r) => r.criterion.startsWith("Published: "));
    expect(published.map((r) => r.criterion)).toEqual([
      "Published: Hyperledger Fabric (EuroSys 2018)",
      "Published: Hyperledger Besu, 4 QBFT validators (Caliper)",
      "Published: etcd 3.4 (Raft), 3 members on one 2-core machine",
    ]);
    for (const r of published) expect(r.value).toMatch(/^their published figure on their hardware/);
    expect(row(rows, "Published: Hyperledger Besu").value).toContain("750–1,200 tx/s simple contract");
    expect(row(rows, "Published: Hyperledger Besu").value).toContain("1,128.4 tx/s kv");
    expect(row(rows, "Published: Hyperledger Besu").value).toContain(
      "398.2 tx/s token transfers (smallbank · 400 tx/s · 4 validators, open loop at 400 tx/s offered: not a saturation figure)",
    );
    expect(row(rows, "Published figures not compared").value).toContain("CometBFT");
  });
});

describe("buildCriteria on other runs", () => {
  it("reports a target as met when the run meets it", () => {
    const r = mutableFixture();
    const closed = r.rounds.find((x) => x.name === "kv · closed loop (saturation) · 4 validators") as MutableRound;
    closed.throughput = 2_104.7;
    closed.verifyBound = { ...closed.verifyBound, ratio: 2_104.7 / 2_650 };
    const half = r.rounds.find((x) => x.name === "kv · 1,000 tx/s · 4 validators") as MutableRound;
    half.latencyAll = { ...half.latencyAll, p99: 870 };
    const rows = buildCriteria(r as never);
    expect(row(rows, "Target: ≥ 2,000 tx/s").value).toMatch(/^met: 2,104\.7 tx\/s \(105 % of the target\); 79 %/);
    expect(row(rows, "Target: p99 ≤ 1 s at half load").value).toContain(
      "at half the 2,000 tx/s target: met: p99 0.870 s",
    );
  });

  it("divides the phase's CPU by what committed in the phase, not by what was sent in it", () => {
    const r = mutableFixture();
    const closed = r.rounds.find((x) => x.name === "kv · closed loop (saturation) · 4 validators") as MutableRound;
    const cpuUs = closed.nodes.reduce((s, n) => s + n.cpuSec, 0) * 1e6;
    const perTx = (n: number) => `${Math.round(cpuUs / n).toLocaleString("en-US")} µs of CPU per committed transaction`;
    // A report from before `committed`: the measured transactions that succeeded.
    expect(row(buildCriteria(r as never), "Performance · Resource consumption").value).toContain(
      perTx(closed.succeeded),
    );
    // A lagging cluster: half of the phase's transactions committed after it.
    closed.committed = Math.floor(closed.succeeded / 2);
    expect(row(buildCriteria(r as never), "Performance · Resource consumption").value).toContain(
      perTx(closed.committed),
    );
  });

  it("does not claim the latency target from a round far from half load", () => {
    const r = mutableFixture();
    r.rounds = r.rounds.filter((x) => x.name !== "kv · half load, 564 tx/s · 4 validators");
    (r.rounds.find((x) => x.name === "kv · 1,000 tx/s · 4 validators") as MutableRound).targetRate = 800;
    const rows = buildCriteria(r as never);
    expect(row(rows, "Target: p99 ≤ 1 s at half load").value).toMatch(
      /^not measured at half load \(no "half load" round, and the open-loop rate closest to 1,000 tx\/s is 800 tx\/s\): p99 1\.473 s/,
    );
  });

  it("says what was not measured instead of inventing it", () => {
    const r = mutableFixture();
    r.rounds = r.rounds.filter((x) => x.validators === 4 && x.faults.length === 0 && x.reads === undefined);
    r.sweeps = [];
    r.system.hardware.cores = 16;
    const rows = buildCriteria(r as never);
    expect(row(rows, "Performance · Read throughput").value).toMatch(/^not measured in this run/);
    expect(row(rows, "Scalability").value).toMatch(/^not measured in this run/);
    expect(row(rows, "Fault tolerance").value).toMatch(/^not measured in this run \(no fault injected\)/);
    expect(row(rows, "Disclosure · Faults injected").value).toBe("none");
    expect(row(rows, "Published figures not compared").value).toContain("etcd 3.4");
    expect(rows.some((x) => x.criterion.startsWith("Published: etcd"))).toBe(false);

    const empty = mutableFixture();
    empty.rounds = [];
    empty.sweeps = [];
    const none = buildCriteria(empty as never);
    expect(row(none, "Performance · Transaction throughput").value).toBe("not measured in this run");
    expect(row(none, "Target: ≥ 2,000 tx/s").value).toMatch(/^not measured in this run/);
    expect(none.some((x) => x.criterion.startsWith("Published: "))).toBe(false);
  });

  it("flags a safety violation and a fault the cluster did not recover from", () => {
    const r = mutableFixture();
    const round = r.rounds.find((x) => x.faults.length > 0) as MutableRound;
    round.faults = [{ ...(round.faults[0] as RoundResult["faults"][number]), safe: false, recoverySec: null }];
    const fault = row(buildCriteria(r as never), "Fault tolerance: kill-validator");
    expect(fault.value).toContain("did not recover");
    expect(fault.value).toContain("safety: VIOLATED");
  });
});
