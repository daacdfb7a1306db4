import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keyPicker, kvKey, prng } from "../../src/keys.ts";
import { listWorkloads, loadWorkload, opPicker, parseWorkload, splitRate, WorkloadError } from "../../src/workload.ts";

const minimal = { name: "w", description: "a workload", mix: [{ op: "kv.put", weight: 1 }] };

function errorOf(value: unknown): string {
  try {
    parseWorkload(value, "w.json");
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    return (e as Error).message;
  }
  throw new Error("parsed");
}

describe("parseWorkload", () => {
  it("fills the defaults", () => {
    const w = parseWorkload(minimal, "w.json");
    expect(w).toMatchObject({
      name: "w",
      valueBytes: 32,
      senders: 16,
      amount: 1,
      rate: 500,
      durationSec: 15,
      warmupSec: 3,
      seed: 1,
      source: "w.json",
    });
    expect(w.keySpace).toBeUndefined();
  });

  it("reads a YCSB mix with a key space", () => {
    const w = parseWorkload({
      ...minimal,
      mix: [
        { op: "kv.get", weight: 95 },
        { op: "kv.put", weight: 5 },
      ],
      keySpace: { keys: 1000, distribution: "zipfian" },
      valueBytes: 100,
      rate: 1000,
    });
    expect(w.keySpace).toEqual({ keys: 1000, distribution: "zipfian", preload: true });
    expect(splitRate(w, 1000)).toEqual({ txRate: 50, readRate: 950 });
  });

  it("names the file and the field in every error", () => {
    expect(errorOf([])).toBe("w.json: a workload is a JSON object");
    expect(errorOf({ ...minimal, name: "Bad Name" })).toMatch(/^w\.json: name must be lower-case letters/);
    expect(errorOf({ ...minimal, description: " " })).toBe("w.json: description must be a non-empty string");
    expect(errorOf({ ...minimal, mix: [] })).toMatch(/^w\.json: mix must be a non-empty array/);
    expect(errorOf({ ...minimal, mix: [{ op: "kv.gett" }] })).toMatch(
      /^w\.json: mix\[0\]\.op must be one of kv\.put, kv\.get, .*got "kv\.gett"/,
    );
    expect(errorOf({ ...minimal, mix: [{ op: "kv.put", weight: -1 }] })).toMatch(/mix\[0\]\.weight must be a number/);
    expect(errorOf({ ...minimal, mix: [{ op: "kv.put" }, { op: "kv.put" }] })).toMatch(/appears twice/);
    expect(errorOf({ ...minimal, mix: [{ op: "kv.put", wieght: 1 }] })).toMatch(/mix\[0\]\.wieght is not a mix field/);
    expect(errorOf({ ...minimal, rates: 5 })).toMatch(
      /^w\.json: rates is not a workload field \(fields: name, description/,
    );
    expect(errorOf({ ...minimal, valueBytes: 16385 })).toMatch(
      /valueBytes must be a whole number from 1 to 16,384, got 16385/,
    );
    expect(errorOf({ ...minimal, senders: 1.5 })).toMatch(/senders must be a whole number/);
    expect(errorOf({ ...minimal, rate: 0 })).toMatch(/rate must be a number from 0.1/);
    expect(errorOf({ ...minimal, durationSec: "10" })).toMatch(
      /durationSec must be a whole number from 1 to 3,600, got "10"/,
    );
  });

  it("checks that the mix makes sense", () => {
    expect(errorOf({ ...minimal, mix: [{ op: "kv.get" }], keySpace: { keys: 10 } })).toMatch(
      /needs at least one transaction operation/,
    );
    expect(errorOf({ ...minimal, mix: [{ op: "kv.get" }, { op: "kv.put" }] })).toMatch(
      /keySpace is needed with kv\.get/,
    );
    expect(
      errorOf({ ...minimal, mix: [{ op: "kv.get" }, { op: "kv.put" }], keySpace: { keys: 10, preload: false } }),
    ).toMatch(/keySpace is needed with kv\.get, with "preload": true/);
    expect(errorOf({ ...minimal, mix: [{ op: "noop" }], keySpace: { keys: 10 } })).toMatch(/keySpace applies to kv/);
    expect(errorOf({ ...minimal, mix: [{ op: "noop" }], valueBytes: 10 })).toMatch(/valueBytes applies to kv/);
    expect(errorOf({ ...minimal, keySpace: { keys: 0 } })).toMatch(/keySpace\.keys must be a whole number from 1/);
    expect(errorOf({ ...minimal, keySpace: { keys: 5, distribution: "latest" } })).toMatch(
      /keySpace\.distribution must be "uniform" or "zipfian"/,
    );
    expect(errorOf({ ...minimal, keySpace: { keys: 5, hot: 1 } })).toMatch(/keySpace\.hot is not a keySpace field/);
  });

  it("picks operations in proportion to their weights", () => {
    const w = parseWorkload({
      ...minimal,
      mix: [
        { op: "token.transfer", weight: 3 },
        { op: "noop", weight: 1 },
        { op: "token.balance", weight: 5 },
      ],
    });
    const pick = opPicker(w, "tx");
    const r = prng(7);
    const counts = { "token.transfer": 0, noop: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) {
      const op = pick(r());
      counts[op] = (counts[op] ?? 0) + 1;
    }
    expect(counts["token.transfer"]).toBeGreaterThan(2800);
    expect(counts["token.transfer"]).toBeLessThan(3200);
    expect(Object.keys(counts)).toEqual(["token.transfer", "noop"]);
    expect(opPicker(w, "read")(0.99)).toBe("token.balance");
  });
});

describe("the workload files in benchmarks/workloads", () => {
  it("all parse, and the standard suite's are there", () => {
    const names = listWorkloads();
    for (const n of ["kv", "ycsb-a", "ycsb-b", "smallbank", "wasm", "token", "noop", "large-payload"])
      expect(names).toContain(n);
    for (const n of names) {
      const w = loadWorkload(n);
      expect(w.name).toBe(n);
    }
    expect(loadWorkload("large-payload").valueBytes).toBe(16 * 1024);
  });

  it("loads a file by path, and says which names exist when one does not", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-workload-"));
    const file = join(dir, "mine.json");
    writeFileSync(file, JSON.stringify({ ...minimal, name: "mine" }));
    expect(loadWorkload(file).name).toBe("mine");
    expect(loadWorkload("mine.json", dir).source).toBe(file);
    writeFileSync(join(dir, "broken.json"), "{ nope");
    expect(() => loadWorkload(join(dir, "broken.json"))).toThrow(/broken\.json: not valid JSON/);
    expect(() => loadWorkload("no-such-workload")).toThrow(/no workload named no-such-workload \(known: .*kv.*\)/);
    expect(() => loadWorkload(join(dir, "absent.json"))).toThrow(/cannot read the workload file/);
  });
});

describe("key choice", () => {
  it("is deterministic for a seed", () => {
    const a = prng(42);
    const b = prng(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });

  it("uniform keys cover the key space evenly", () => {
    const pick = keyPicker(10, "uniform", prng(1));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[pick()]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it("Zipfian keys make a few keys hot, scattered over the key space", () => {
    const n = 1000;
    const pick = keyPicker(n, "zipfian", prng(1));
    const counts = new Array(n).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const k = pick();
      if (!(k >= 0 && k < n)) outside++;
      else counts[k]++;
    }
    expect(outside).toBe(0);
    const sorted = [...counts].sort((a, b) => b - a);
    // theta 0.99 over 1,000 keys: the hottest key takes ~13 %, the top 10 ~38 %.
    expect(sorted[0] / 100_000).toBeGreaterThan(0.1);
    expect(sorted.slice(0, 10).reduce((s, x) => s + x, 0) / 100_000).toBeGreaterThan(0.3);
    const hottest = counts.indexOf(sorted[0]);
    expect(hottest).not.toBe(0);
  });

  it("names keys as YCSB does", () => {
    expect(kvKey(42)).toBe("user0000000042");
  });
});
