import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogBuffer, createLoggers, RecentBuffer } from "../../src/index.ts";

describe("RecentBuffer", () => {
  it("numbers entries, answers what came after a number, and forgets the oldest once full", () => {
    const b = new RecentBuffer<string>(3);
    expect(b.since()).toEqual([]);
    for (const s of ["a", "b", "c", "d"]) b.push(s, 1);
    expect(b.last).toBe(4);
    expect(b.since().map((e) => [e.seq, e.data])).toEqual([
      [2, "b"],
      [3, "c"],
      [4, "d"],
    ]);
    expect(b.since(3).map((e) => e.data)).toEqual(["d"]);
    expect(b.since(4)).toEqual([]);
    // The newest `limit` of what matched, oldest first; a filter picks entries.
    expect(b.since(0, 2).map((e) => e.data)).toEqual(["c", "d"]);
    expect(b.since(0, 10, (d) => d !== "c").map((e) => e.data)).toEqual(["b", "d"]);
  });
});

describe("createLoggers with a recent-lines buffer", () => {
  it("keeps info and above from every layer, even a layer whose output shows only warnings, and counts them by level", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-logs-"));
    const { openSync, closeSync } = await import("node:fs");
    const file = join(dir, "out.log");
    const fd = openSync(file, "w");
    try {
      const recent = createLogBuffer(10);
      const loggers = createLoggers({ level: "warn", layers: { api: "silent" }, pretty: false, fd, recent });
      loggers.layer("consensus").debug("not kept");
      loggers.layer("consensus").info("committed block");
      loggers.layer("network").warn("peer gone");
      loggers.layer("api").error("failed");
      expect(recent.since().map((e) => [e.data.layer, e.data.level, e.data.msg])).toEqual([
        ["consensus", "info", "committed block"],
        ["network", "warn", "peer gone"],
        ["api", "error", "failed"],
      ]);
      expect(recent.counts).toEqual({ info: 1, warn: 1, error: 1, fatal: 0 });
      // The output still obeys each layer's level: the warning only (info is below warn, api is silent).
      await new Promise((r) => setTimeout(r, 100));
      const written = readFileSync(file, "utf8");
      expect(written).toContain("peer gone");
      expect(written).not.toContain("committed block");
      expect(written).not.toContain("failed");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
