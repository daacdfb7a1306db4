// The README's own flow, command by command, as a newcomer types it after `npm start`: every
// `npm run cairn -- ...` line of its "In another terminal" block runs here (with the cluster's
// ports moved to free ones), in a directory holding the local cluster, and must succeed; alice,
// once admitted by governance, spends her tokens.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, REPO, runCairn, tempDir } from "../helpers/processes.ts";

let cwd: string | undefined;
afterAll(async () => {
  if (cwd !== undefined) await runCairn(["cluster", "stop"], 30_000, cwd);
});

/** The shell lines of the README block that follows "In another terminal". */
function readmeFlow(): string[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const from = readme.indexOf("In another terminal");
  const start = readme.indexOf("```sh", from) + "```sh".length;
  const block = readme.slice(start, readme.indexOf("```", start));
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

describe("the README flow", () => {
  it("runs end to end against a local cluster: kv, tokens, governance admits alice, alice spends", {
    timeout: 240_000,
  }, async () => {
    cwd = tempDir("readme");
    const base = 20_000 + ((await freePort()) % 20_000);
    const up = await runCairn(["cluster", "--detach", "--base-port", String(base)], 120_000, cwd);
    expect(up.code, up.stderr).toBe(0);
    const accounts: Record<string, string> = {};
    const lines = readmeFlow();
    expect(lines.some((l) => l.includes("gov approve"))).toBe(true);
    for (const line of lines) {
      const port = (p: string) => String(base + Number(p) - 26600);
      const shifted = line.replace(/127\.0\.0\.1:(266\d\d)/g, (_, p: string) => `127.0.0.1:${port(p)}`);
      if (shifted.startsWith("curl ")) {
        const r = await fetch(shifted.split(" ")[1] as string);
        expect(r.status, line).toBe(200);
        continue;
      }
      expect(shifted.startsWith("npm run cairn -- "), line).toBe(true);
      const args = shifted
        .slice("npm run cairn -- ".length)
        .split(/\s+/)
        .map((a) => a.replace(/^<(\w+)>$/, (_, who: string) => accounts[who] ?? `<${who}>`));
      const r = await runCairn(args, 60_000, cwd);
      expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      const made = /keys new --out (\w+)\.json/.exec(shifted);
      if (made !== null) accounts[made[1] as string] = r.stdout.trim();
      if (shifted.includes("query balance")) expect(r.stdout.trim()).toBe("70");
    }
  });
});
