import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultNodeConfig, loadConfig } from "../../src/config.ts";

// config.json's stateSync section (docs/state-sync.md): defaults for what is left out, BAD_CONFIG
// naming the field for a bad value.

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function home(config: object): string {
  const h = mkdtempSync(join(tmpdir(), "cairn-config-"));
  homes.push(h);
  writeFileSync(join(h, "config.json"), JSON.stringify(config));
  return h;
}

describe("config.json stateSync", () => {
  it("fills in the defaults", async () => {
    expect((await loadConfig(home({}))).stateSync).toEqual({
      enable: false,
      snapshotInterval: 1000,
      snapshotKeep: 2,
      chunkBytes: 1048576,
    });
    expect((await loadConfig(home({ stateSync: { enable: true } }))).stateSync).toEqual({
      ...defaultNodeConfig.stateSync,
      enable: true,
    });
  });

  it.each([
    [{ enable: "yes" }, /stateSync.enable/],
    [{ snapshotInterval: -1 }, /stateSync.snapshotInterval/],
    [{ snapshotInterval: 1.5 }, /stateSync.snapshotInterval/],
    [{ snapshotKeep: 0 }, /stateSync.snapshotKeep/],
    [{ chunkBytes: 100 }, /stateSync.chunkBytes/],
    [{ chunkBytes: 32 * 1024 * 1024 }, /stateSync.chunkBytes/],
  ])("refuses %j", async (stateSync, message) => {
    await expect(loadConfig(home({ stateSync }))).rejects.toMatchObject({ code: "BAD_CONFIG", message });
  });
});
