// `npm start` is the README's one command to run a ledger: it must create a dev chain on first use,
// run it, print where its API is, and stop cleanly on Ctrl-C (SIGINT).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, REPO, tempDir } from "../helpers/processes.ts";

function runNpmStart(home: string, port: number) {
  const child = spawn("npm", ["start", "--silent", "--", "--home", home, "--api-port", String(port)], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so "Ctrl-C" reaches npm and the node together, as in a terminal.
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ctrlC = () => process.kill(-(child.pid as number), "SIGINT");
  return { child, exited, output: () => out, ctrlC };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** npm itself dies of the SIGINT (exit code null); the node must print that it stops and close its API. */
async function stopped(run: ReturnType<typeof runNpmStart>, port: number): Promise<void> {
  const code = await run.exited;
  expect(code === 0 || run.child.signalCode === "SIGINT").toBe(true);
  await waitFor(() => run.output().includes("stopping the node"), 10_000);
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
  it("initialises a dev chain on first use, prints its API, serves it, and stops on SIGINT", {
    timeout: 90_000,
  }, async () => {
    const home = join(tempDir("npm-start"), "dev");
    const port = await freePort();
    const first = runNpmStart(home, port);
    try {
      await waitFor(() => first.output().includes("API:"), 45_000);
      expect(first.output()).toContain(`http://127.0.0.1:${port}`);
      expect(existsSync(join(home, "genesis.json"))).toBe(true);
      const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
      expect(status.height).toBe(0);
    } finally {
      first.ctrlC();
    }
    await stopped(first, port);

    // Second start reuses the chain rather than creating another.
    const second = runNpmStart(home, port);
    try {
      await waitFor(() => second.output().includes("API:"), 45_000);
      expect(second.output()).not.toContain("Initialised");
    } finally {
      second.ctrlC();
    }
    await stopped(second, port);
  });
});
