import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLoggers, LoggingError, parseLogLevel } from "../../src/index.ts";

describe("logging", () => {
  it("writes JSON lines tagged with the layer, honouring per-layer levels", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cairn-log-")), "log");
    const fd = openSync(file, "w");
    const logs = createLoggers({ level: "info", layers: { consensus: "debug", api: "silent" }, pretty: false, fd });
    logs.layer("consensus").debug({ height: 3 }, "committed");
    logs.layer("ledger").debug("hidden");
    logs.layer("ledger").info("shown");
    logs.layer("api").error("hidden too");
    logs.root.flush();
    await new Promise((r) => setTimeout(r, 100));
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.layer, l.msg])).toEqual([
      ["consensus", "committed"],
      ["ledger", "shown"],
    ]);
    expect(lines[0].height).toBe(3);
  });

  it("parses --log-level specs and explains mistakes", () => {
    expect(parseLogLevel("warn,consensus=debug")).toEqual({ level: "warn", layers: { consensus: "debug" } });
    expect(() => parseLogLevel("loud")).toThrow(LoggingError);
    expect(() => parseLogLevel("nolayer=info")).toThrow(/unknown layer/);
  });
});
