// `npm start` is the README's one command to run a ledger: it must create a dev chain on first use,
// run it, print where its API is, and stop cleanly on Ctrl-C (SIGINT).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, REPO, tempDir } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

function runNpm(script: string, args: string[]) {
  const child = spawn(
    "npm",
    [script === "start" ? "start" : "run", ...(script === "start" ? [] : [script]), "--silent", "--", ...args],
    {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so "Ctrl-C" reaches npm and the node together, as in a terminal.
      detached: true,
    },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ctrlC = () => process.kill(-(child.pid as number), "SIGINT");
  return { child, exited, output: () => out, ctrlC };
}

/** npm itself dies of the SIGINT (exit code null); the node must print that it stops and close its API. */
async function stopped(run: ReturnType<typeof runNpm>, port: number): Promise<void> {
  const code = await run.exited;
  expect(code === 0 || run.child.signalCode === "SIGINT").toBe(true);
  await until(() => run.output().includes("stopping the node"), 10_000);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (!up) return;
    if (Date.now() > deadline) throw new Error("the node kept serving after Ctrl-C");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start", () => {
  it("writes a 4-validator cluster on first use, starts it, prints every API, runs the example contracts, and stops every node on Ctrl-C", {
    timeout: 240_000,
  }, async () => {
    const out = join(tempDir("npm-start"), "cluster");
    const base = 20_000 + ((await freePort()) % 20_000);
    const run = runNpm("start", ["--out", out, "--base-port", String(base)]);
    try {
      await until(() => run.output().includes("Ctrl-C to stop every node"), 90_000);
      for (let i = 0; i < 4; i++) expect(run.output()).toContain(`node${i} API: http://127.0.0.1:${base + i}`);
      expect(existsSync(join(out, "node3", "genesis.json"))).toBe(true);
      // The cluster commits: a transaction sent to one node is committed.
      const { kvPut, postTxs, readKey } = await import("../helpers/txs.ts");
      const chainId = JSON.parse(readFileSync(join(out, "node0", "genesis.json"), "utf8")).chainId;
      const r = await postTxs(
        `http://127.0.0.1:${base + 2}`,
        [kvPut(readKey(join(out, "node0")), chainId, "k", "v", 100)],
        true,
      );
      expect(r.body.results[0].status).toBe("committed");
      // The README's next step: each example contract's walkthrough deploys it and plays its use case.
      for (const example of ["token", "provenance", "identity", "roaming"]) {
        const walk = runNpm(`example:${example}`, [
          "--url",
          `http://127.0.0.1:${base + 1}`,
          "--keys",
          join(out, "keys"),
        ]);
        expect(await walk.exited, `${example}:\n${walk.output()}`).toBe(0);
        expect(walk.output()).toContain(`${example} walkthrough completed`);
      }
    } finally {
      run.ctrlC();
    }
    await run.exited;
    await until(() => run.output().includes("All nodes stopped"), 30_000);
    for (let i = 0; i < 4; i++) {
      const up = await fetch(`http://127.0.0.1:${base + i}/health`).then(
        () => true,
        () => false,
      );
      expect(up, `node${i} still serving`).toBe(false);
    }
  });

  it("npm run start:solo runs a one-node dev chain and stops on Ctrl-C", { timeout: 90_000 }, async () => {
    const home = join(tempDir("npm-start"), "dev");
    const port = await freePort();
    const first = runNpm("start:solo", ["--home", home, "--api-port", String(port)]);
    try {
      await until(() => first.output().includes("API:"), 45_000);
      expect(first.output()).toContain(`http://127.0.0.1:${port}`);
      const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
      expect(status.height).toBe(0);
    } finally {
      first.ctrlC();
    }
    await stopped(first, port);
  });
});
