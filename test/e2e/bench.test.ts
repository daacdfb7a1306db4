// `cairn bench` for real, with tiny counts: a 4-validator cluster of processes, YCSB-A (reads and
// updates of a preloaded key space) at 120 ops/s with a validator killed during the measured phase.
// The three reports are written, the JSON matches the report schema, and the figures are sensible.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchReport } from "@cairn/bench";
import { emulationUnavailable, validateReport } from "@cairn/bench";
import { afterAll, describe, expect, it } from "vitest";
import { runCairn, tempDir } from "../helpers/processes.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("cairn bench", () => {
  it("benchmarks a 4-validator cluster and writes the JSON, Markdown and HTML reports", {
    timeout: 120_000,
  }, async () => {
    const out = tempDir("bench");
    dirs.push(out);
    const started = Date.now();
    const r = await runCairn(
      [
        "bench",
        "--workload",
        "ycsb-a",
        "--validators",
        "4",
        "--rate",
        "120",
        "--warmup",
        "1",
        "--duration",
        "5",
        "--fault",
        "kill-validator",
        "--fault-at",
        "2",
        "--senders",
        "4",
        "--out",
        out,
        "--name",
        "e2e",
        "--time-limit",
        "80",
      ],
      110_000,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(Date.now() - started).toBeLessThan(90_000);
    for (const ext of ["json", "md", "html"]) expect(existsSync(join(out, `e2e.${ext}`)), ext).toBe(true);
    expect(r.stdout).toContain(`wrote ${join(out, "e2e.json")}`);
    // A progress line each second.
    expect(r.stderr).toMatch(/\| measure \d\/5 s \| sent [\d,]+ \| committed [\d,]+/);

    const json = JSON.parse(readFileSync(join(out, "e2e.json"), "utf8")) as BenchReport;
    expect(validateReport(json)).toEqual([]);
    expect(json.system.target).toBe("processes");
    expect(json.system.verifiesPerSec).toBeGreaterThan(100);
    expect(json.criteria.length).toBeGreaterThan(5);
    expect(json.rounds).toHaveLength(1);
    const round = json.rounds[0] as BenchReport["rounds"][number];
    expect(round.workload).toBe("ycsb-a");
    expect(round.validators).toBe(4);
    expect(round.mode).toBe("open");
    expect(round.nodes.map((n) => n.name)).toEqual(["node0", "node1", "node2", "node3"]);
    // 60 updates/s and 60 reads/s offered for 5 s.
    expect(round.succeeded + round.failed).toBeGreaterThan(200);
    expect(round.successRate).toBeGreaterThan(0.9);
    expect(round.throughput).toBeGreaterThan(10);
    expect(round.throughput).toBeLessThan(120);
    expect(round.sendRate).toBeGreaterThan(40);
    expect(round.latencyFirst.count).toBeGreaterThan(100);
    expect(round.latencyAll.count).toBeGreaterThan(100);
    expect(round.latencyAll.p50).toBeGreaterThanOrEqual(round.latencyFirst.p50);
    expect(round.latencyAll.min).toBeGreaterThan(0);
    expect(round.latencyAll.max).toBeGreaterThanOrEqual(round.latencyAll.p99);
    expect(round.reads?.throughput).toBeGreaterThan(20);
    expect(round.reads?.latency.count).toBeGreaterThan(100);
    expect(round.timeline.length).toBeGreaterThanOrEqual(6);
    expect(round.timeline.reduce((s, p) => s + p.sent, 0)).toBeGreaterThan(300);
    expect(round.nodes[0]?.cpuSec).toBeGreaterThan(0);
    expect(round.nodes[0]?.rssMiB.peak).toBeGreaterThan(20);
    expect(round.nodes[0]?.storageMiB).toBeGreaterThan(0);
    expect(round.generator.cpuSec).toBeGreaterThan(0);
    expect(round.verifyBound.boundTxPerSec).toBe(Math.round(json.system.verifiesPerSec / 4));
    // The fault: node3 killed 2 s in; the other three keep committing, and nobody forks.
    expect(round.faults).toHaveLength(1);
    const f = round.faults[0] as BenchReport["rounds"][number]["faults"][number];
    expect(f.kind).toBe("kill-validator");
    expect(f.targets).toEqual(["node3"]);
    expect(f.safe).toBe(true);
    expect(f.throughputDuring).toBeGreaterThan(0);
    expect(f.recoverySec).not.toBeNull();

    const md = readFileSync(join(out, "e2e.md"), "utf8");
    expect(md).toContain("ycsb-a");
    const html = readFileSync(join(out, "e2e.html"), "utf8");
    expect(html).toMatch(/^<!doctype html>/i);
  });

  it.skipIf(emulationUnavailable() !== undefined)(
    "runs a round on an emulated network (50 ms ± 5 between validators) and discloses it",
    { timeout: 120_000 },
    async () => {
      const out = tempDir("bench-wan");
      dirs.push(out);
      const r = await runCairn(
        [
          "bench",
          "--workload",
          "kv",
          "--validators",
          "4",
          "--rate",
          "60",
          "--warmup",
          "1",
          "--duration",
          "5",
          "--senders",
          "4",
          "--latency",
          "50ms",
          "--jitter",
          "5ms",
          "--out",
          out,
          "--name",
          "wan",
          "--time-limit",
          "80",
        ],
        110_000,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const json = JSON.parse(readFileSync(join(out, "wan.json"), "utf8")) as BenchReport;
      expect(validateReport(json)).toEqual([]);
      const round = json.rounds[0] as BenchReport["rounds"][number];
      expect(round.name).toContain("50 ms ± 5 between validators (emulated)");
      expect(round.network).toMatchObject({ label: "50 ms ± 5", latencyMs: 50, jitterMs: 5, lossPercent: 0 });
      expect(round.network?.method).toMatch(/userspace relay/);
      expect(json.system.network).toMatch(/^emulated network \(50 ms ± 5\)/);
      expect(round.successRate).toBeGreaterThan(0.9);
      // A Tendermint commit takes at least three one-way message delays after the proposal
      // (proposal, prevotes, precommits), each at least 50 - 5 ms here.
      expect(round.latencyAll.min).toBeGreaterThanOrEqual(135);
      // With only emulated rounds, the criteria's figures come from them, and say so by the round's name.
      expect(json.criteria.some((c) => c.source.includes("between validators (emulated)"))).toBe(true);
      const md = readFileSync(join(out, "wan.md"), "utf8");
      expect(md).toContain("## Emulated networks");
      expect(md).toMatch(/\| Emulated network +\| 50 ms ± 5/);
      expect(readFileSync(join(out, "wan.html"), "utf8")).toContain('id="networks"');

      // Bad network options are refused before anything starts.
      const bad = await runCairn(["bench", "--workload", "kv", "--loss", "80%", "--out", out]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--loss is a percentage from 0% to 50%/);
    },
  );

  it("accounts every node's CPU per committed transaction by layer with --profile", { timeout: 120_000 }, async () => {
    const out = tempDir("bench-profile");
    const profiles = tempDir("bench-profiles");
    dirs.push(out, profiles);
    const r = await runCairn(
      [
        "bench",
        "--workload",
        "kv",
        "--validators",
        "4",
        "--rate",
        "150",
        "--warmup",
        "1",
        "--duration",
        "5",
        "--senders",
        "4",
        "--profile",
        profiles,
        "--out",
        out,
        "--name",
        "profile",
        "--time-limit",
        "80",
      ],
      110_000,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const json = JSON.parse(readFileSync(join(out, "profile.json"), "utf8")) as BenchReport;
    expect(validateReport(json)).toEqual([]);
    const round = json.rounds[0] as BenchReport["rounds"][number];
    const p = round.profile;
    expect(p).toBeDefined();
    if (p === undefined) return;
    expect(p.nodes).toEqual(["node0", "node1", "node2", "node3"]);
    expect(p.committed).toBe(round.committed);
    expect(round.committed).toBeLessThanOrEqual(round.succeeded);
    expect(round.committed).toBe(Math.round(round.throughput * round.durationSec));
    expect(p.samples).toBeGreaterThan(100);
    // Every thread's CPU is in the account: its total is the nodes' CPU over the phase (the
    // resources table, read from /proc at nearly the same instants), per committed transaction.
    const nodesUs = (round.nodes.reduce((s, n) => s + n.cpuSec, 0) * 1e6) / (round.committed ?? Number.NaN);
    const accountUs = p.usPerTx * 4 + p.profilerUsPerTx * 4;
    expect(accountUs / nodesUs).toBeGreaterThan(0.8);
    expect(accountUs / nodesUs).toBeLessThan(1.2);
    expect(p.layers.reduce((s, l) => s + l.usPerTx, 0)).toBeCloseTo(p.usPerTx, -1);
    const layer = (name: string) => p.layers.find((l) => l.layer === name);
    // Every validator checks every signature: batches this small (150 tx/s in ~20 requests a second)
    // inline on the main thread (OpenSSL's one-shot verify), larger ones in the verify workers.
    expect(layer("signature verification")?.usPerTx).toBeGreaterThan(20);
    expect(
      layer("signature verification")?.top.some((f) =>
        /^(run|verifyOneShot|nativeVerify)\b|^thread "WorkerThread/.test(f.name),
      ),
    ).toBe(true);
    for (const name of ["gossip and libp2p", "execution", "encoding and decoding", "storage"])
      expect(layer(name)?.usPerTx, name).toBeGreaterThan(0);
    // The profiles are kept where --profile said, one directory per node.
    expect(readdirSync(join(profiles, "cluster-1", "node0")).some((f) => f.endsWith(".cpuprofile"))).toBe(true);
    expect(json.notes.some((n) => n.startsWith("Profiled (--profile)"))).toBe(true);
    const md = readFileSync(join(out, "profile.md"), "utf8");
    expect(md).toContain("## Where the CPU goes");
    expect(md).toMatch(/\| signature verification +\| +[\d.,]+ \|/);
    expect(readFileSync(join(out, "profile.html"), "utf8")).toContain('id="profile-0"');
  });
});
