// Stopping a local cluster the way process managers do: no terminal, npm in its own process group,
// and a signal to the npm process alone (not the group, as a terminal's Ctrl-C would). Every node
// must be gone within 10 s and its ports free; nodes must not outlive a supervisor killed with
// SIGKILL; a second `npm start` says which cluster already runs; `--detach` and `cairn cluster stop`.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, REPO, runCairn, tempDir } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

interface Run {
  pid: number;
  exited: Promise<number | null>;
  output: () => string;
}

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function npmStart(out: string, base: number): Run {
  const child = spawn("npm", ["start", "--silent", "--", "--out", out, "--base-port", String(base)], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, no terminal
  });
  let text = "";
  child.stdout.on("data", (d) => (text += d));
  child.stderr.on("data", (d) => (text += d));
  return {
    pid: child.pid as number,
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    output: () => text,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const record = (out: string) =>
  JSON.parse(readFileSync(join(out, "cluster.pid"), "utf8")) as { supervisor: number; nodes: number[]; urls: string[] };

async function up(url: string): Promise<boolean> {
  return fetch(`${url}/health`).then(
    () => true,
    () => false,
  );
}

async function runningCluster(out: string, base: number): Promise<{ run: Run; pids: number[]; urls: string[] }> {
  const run = npmStart(out, base);
  started.push(run.pid);
  await until(() => run.output().includes("Ctrl-C to stop every node"), 120_000, "the cluster to start");
  const r = record(out);
  started.push(r.supervisor, ...r.nodes);
  return { run, pids: [r.supervisor, ...r.nodes], urls: r.urls };
}

describe("stopping a local cluster", () => {
  it("SIGTERM or SIGINT to the npm process alone stops every node within 10 s and frees the ports; a second start says which cluster runs", {
    timeout: 300_000,
  }, async () => {
    const out = join(tempDir("lifecycle"), "cluster");
    const base = 20_000 + ((await freePort()) % 20_000);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const { run, pids, urls } = await runningCluster(out, base);
      if (signal === "SIGTERM") {
        // While it runs, a second start refuses and names it.
        const second = await runCairn(["cluster", "--out", out, "--base-port", String(base)]);
        expect(second.code).toBe(1);
        expect(second.stderr).toContain("already running");
        expect(second.stderr).toContain(String(pids[0]));
        expect(second.stderr).toContain(urls[0]);
      }
      process.kill(run.pid, signal); // the npm process only, not its group
      const ms = await until(() => pids.every((p) => !alive(p)), 10_000, `every node gone after ${signal} to npm`);
      for (const u of urls) expect(await up(u)).toBe(false);
      expect(existsSync(join(out, "cluster.pid"))).toBe(false);
      console.log(`${signal} to npm: every node gone after ${ms} ms`);
    }
  });

  it("nodes do not outlive a supervisor killed with SIGKILL", { timeout: 300_000 }, async () => {
    const out = join(tempDir("lifecycle"), "cluster");
    const base = 20_000 + ((await freePort()) % 20_000);
    const { pids, urls } = await runningCluster(out, base);
    process.kill(pids[0]!, "SIGKILL");
    const ms = await until(() => pids.slice(1).every((p) => !alive(p)), 10_000, "the nodes to exit");
    for (const u of urls) expect(await up(u)).toBe(false);
    console.log(`supervisor SIGKILLed: every node gone after ${ms} ms`);
  });

  it("--detach runs it in the background; cairn cluster stop stops it", { timeout: 300_000 }, async () => {
    const out = join(tempDir("lifecycle"), "cluster");
    const base = 20_000 + ((await freePort()) % 20_000);
    const d = await runCairn(["cluster", "--detach", "--out", out, "--base-port", String(base)], 120_000);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain("running in the background");
    const r = record(out);
    started.push(r.supervisor, ...r.nodes);
    for (const u of r.urls) expect(await up(u)).toBe(true);
    // Its log shows the chain moving: one line per committed block, from node0.
    await until(
      () =>
        /\[node0\] block \d+ {2}txs \d+ {2}proposer node\d {2}round \d+ {2}\+\d+ ms/.test(
          readFileSync(join(out, "cluster.log"), "utf8"),
        ),
      20_000,
      "a block line in cluster.log",
    );
    const s = await runCairn(["cluster", "stop", "--dir", out]);
    expect(s.code, s.stderr).toBe(0);
    for (const p of [r.supervisor, ...r.nodes]) expect(alive(p)).toBe(false);
    for (const u of r.urls) expect(await up(u)).toBe(false);
    expect((await runCairn(["cluster", "stop", "--dir", out])).code).toBe(1);
  });

  it("a later run starts every validator written on the first, whatever --validators says", {
    timeout: 300_000,
  }, async () => {
    const out = join(tempDir("lifecycle"), "cluster");
    const base = 20_000 + ((await freePort()) % 20_000);
    const first = await runCairn(
      ["cluster", "--detach", "--validators", "5", "--out", out, "--base-port", String(base)],
      120_000,
    );
    expect(first.code, first.stderr).toBe(0);
    let r = record(out);
    started.push(r.supervisor, ...r.nodes);
    expect(r.urls).toHaveLength(5);
    expect((await runCairn(["cluster", "stop", "--dir", out])).code).toBe(0);
    // Without --validators (4 by default), and with another count: the same five, and the chain
    // goes on (four of five could not commit: a quorum of five needs four, and the fifth's log
    // would fall behind).
    for (const extra of [[], ["--validators", "3"]]) {
      const again = await runCairn(["cluster", "--detach", ...extra, "--out", out], 120_000);
      expect(again.code, again.stderr).toBe(0);
      r = record(out);
      started.push(r.supervisor, ...r.nodes);
      expect(r.urls).toHaveLength(5);
      expect(again.stderr).toContain(`node4 API: ${r.urls[4]}`);
      const height = async (u: string) => ((await (await fetch(`${u}/status`)).json()) as { height: number }).height;
      const before = await height(r.urls[4] as string);
      await until(async () => (await height(r.urls[4] as string)) > before + 1, 30_000, "node4 to commit blocks");
      expect((await runCairn(["cluster", "stop", "--dir", out])).code).toBe(0);
    }
  });
});
