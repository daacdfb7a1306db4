import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { accountRound, accountSamples, frameLayer, mainThreadProfiles, threadLayer } from "../../src/profile.ts";

const ROOT = new URL("../../../../", import.meta.url).pathname;
const file = (path: string) => `file://${ROOT}${path}`;
const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0, columnNumber: 0 });

// (root) ─┬─ (idle)                                   id 2
//         ├─ (garbage collector)                      id 3
//         ├─ add mempool.ts ── unpack msgpackr        id 4, 5   (msgpackr names no layer: mempool's)
//         ├─ onData libp2p ── receive consensus ──    id 6, 7
//         │      └─ put world-state.ts                id 8     (innermost layer wins: state tree)
//         └─ tick node:internal/timers                id 9     (no layer anywhere: other)
const profile = {
  nodes: [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 3, 4, 6, 9] },
    { id: 2, callFrame: frame("(idle)", "") },
    { id: 3, callFrame: frame("(garbage collector)", "") },
    { id: 4, callFrame: frame("add", file("packages/mempool/src/mempool.ts")), children: [5] },
    { id: 5, callFrame: frame("unpack", file("node_modules/msgpackr/unpack.js")) },
    {
      id: 6,
      callFrame: frame("onData", file("node_modules/@chainsafe/libp2p-gossipsub/dist/src/index.js")),
      children: [7],
    },
    { id: 7, callFrame: frame("receive", file("packages/consensus/src/bft/engine.ts")), children: [8] },
    { id: 8, callFrame: frame("put", file("packages/ledger/src/state/world-state.ts")) },
    { id: 9, callFrame: frame("tick", "node:internal/timers") },
  ],
  startTime: 1_000_000,
  endTime: 1_000_000 + 12 * 1000,
  // A sample's time is the start plus the deltas up to and including its own: 1,001,000 for the
  // first, one a millisecond, so the window [1,002,000, 1,011,000) holds the second to the tenth.
  samples: [4, 4, 2, 2, 3, 4, 5, 7, 8, 9, 8, 6],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the CPU account of --profile", () => {
  it("gives a frame the layer of its file, and libraries none (their caller's)", () => {
    expect(frameLayer(frame("add", file("packages/mempool/src/mempool.ts")))).toBe("mempool");
    expect(frameLayer(frame("unpack", file("node_modules/msgpackr/unpack.js")))).toBeUndefined();
    expect(frameLayer(frame("x", file("node_modules/@libp2p/yamux/dist/src/muxer.js")))).toBe("gossip and libp2p");
    expect(frameLayer(frame("x", file("node_modules/classic-level/index.js")))).toBe("storage");
    expect(frameLayer(frame("x", file("packages/ledger/src/state/tree.ts")))).toBe("state tree");
    expect(frameLayer(frame("x", file("packages/ledger/src/ledger.ts")))).toBe("execution");
    expect(frameLayer(frame("x", file("packages/consensus/src/executor.ts")))).toBe("execution");
    expect(frameLayer(frame("x", file("packages/crypto/src/native/verify-pool.ts")))).toBe("signature verification");
    expect(frameLayer(frame("(garbage collector)", ""))).toBe("GC");
    expect(threadLayer("WorkerThread")).toBe("signature verification");
    expect(threadLayer("libuv-worker")).toBe("storage");
    expect(threadLayer("V8Worker")).toBe("GC");
    expect(threadLayer("v8:ProfEvntProc")).toBeUndefined();
  });

  it("counts only the samples of the window, each to its innermost layer", () => {
    const a = accountSamples(profile, 1_002_000, 1_011_000);
    // Nine samples in the window; the two (idle) ones are not busy.
    expect(a.count).toBe(7);
    expect(a.busyUs).toBe(7000);
    expect(Object.fromEntries(a.layers)).toEqual({
      GC: 1000,
      mempool: 3000,
      consensus: 1000,
      "state tree": 1000,
      other: 1000,
    });
    expect([...(a.functions.get("mempool")?.keys() ?? [])].sort()).toEqual([
      "add packages/mempool/src/mempool.ts:1",
      "unpack msgpackr/unpack.js:1",
    ]);
  });

  it("splits the main thread's CPU by the samples and adds the other threads by what they do", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-profile-test-"));
    dirs.push(dir);
    mkdirSync(join(dir, "node0"));
    // The main thread's profile (tid 0) and a worker's (tid 1, ignored: threads are counted from /proc).
    writeFileSync(join(dir, "node0", "CPU.20261207.060000.4242.0.001.cpuprofile"), JSON.stringify(profile));
    writeFileSync(join(dir, "node0", "CPU.20261207.060000.4242.1.002.cpuprofile"), JSON.stringify(profile));
    expect(mainThreadProfiles(join(dir, "node0"), 4242)).toHaveLength(1);
    expect(mainThreadProfiles(join(dir, "node0"), 999)).toHaveLength(0);
    const account = accountRound(
      {
        fromUs: 1_002_000,
        toUs: 1_011_000,
        nodes: [
          {
            name: "node0",
            pid: 4242,
            // 0.0014 s of main-thread CPU: 7 busy samples → 200 µs each.
            threads: {
              "MainThread (main)": 0.0014,
              "WorkerThread x2": 0.001,
              "libuv-worker x4": 0.0002,
              "v8:ProfEvntProc x3": 0.0005,
            },
          },
        ],
      },
      10,
      (node) => join(dir, node),
    );
    const us = Object.fromEntries(account.layers.map((l) => [l.layer, l.usPerTx]));
    // Per transaction (10 committed): mempool 3 samples × 200 µs / 10 = 60 µs; workers 1000 µs / 10 = 100 µs.
    expect(us.mempool).toBeCloseTo(60, 5);
    expect(us["state tree"]).toBeCloseTo(20, 5);
    expect(us.consensus).toBeCloseTo(20, 5);
    expect(us.GC).toBeCloseTo(20, 5);
    expect(us.other).toBeCloseTo(20, 5);
    expect(us["signature verification"]).toBeCloseTo(100, 5);
    expect(us.storage).toBeCloseTo(20, 5);
    // The profiler's own thread is reported apart, not in the total.
    expect(account.profilerUsPerTx).toBeCloseTo(50, 5);
    expect(account.usPerTx).toBeCloseTo(260, 5);
    expect(account.layers.reduce((s, l) => s + l.usPerTx, 0)).toBeCloseTo(account.usPerTx, 5);
    expect(account.layers.find((l) => l.layer === "signature verification")?.top[0]?.name).toBe(
      'thread "WorkerThread x2"',
    );
    expect(account.samples).toBe(7);
    expect(account.notes).toBeUndefined();
  });

  it("says so when a node has no profile of the phase, and counts its main thread as other", () => {
    const account = accountRound(
      { fromUs: 0, toUs: 1, nodes: [{ name: "node9", pid: 1, threads: { "MainThread (main)": 0.001 } }] },
      1,
      () => "/nonexistent",
    );
    expect(account.notes?.[0]).toMatch(/node9: no CPU profile/);
    expect(account.layers.find((l) => l.layer === "other")?.usPerTx).toBe(1000);
  });
});
