import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { homePaths, loadConfig } from "../config.ts";
import { createTestnet } from "../testnet.ts";

export interface ClusterOptions {
  readonly validators: number;
  readonly out: string;
  readonly basePort: number;
  readonly logLevel: string;
}

const CLI = new URL("../bin/cairn.ts", import.meta.url).pathname;

/** Prefixes each line a node writes with its name, so four nodes' logs stay readable on one terminal. */
function pipeWithPrefix(child: ChildProcess, name: string): void {
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let rest = "";
    stream?.on("data", (d: Buffer) => {
      const lines = (rest + d.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) out.write(`[${name}] ${l}\n`);
    });
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).ok;
  } catch {
    return false;
  }
}

/**
 * Runs a local BFT cluster: writes it with `createTestnet` on first use, starts one `cairn start`
 * process per validator, prints their API addresses, and stops them all on Ctrl-C.
 */
export async function runCluster(opts: ClusterOptions): Promise<void> {
  const out = resolve(opts.out);
  const homes = Array.from({ length: opts.validators }, (_, i) => join(out, `node${i}`));
  if (!existsSync(homePaths(homes[0] as string).config)) {
    await createTestnet({ validators: opts.validators, out, basePort: opts.basePort });
    process.stderr.write(`Wrote a ${opts.validators}-validator testnet to ${out}\n`);
  }
  const urls: string[] = [];
  for (const home of homes) {
    const c = await loadConfig(home);
    urls.push(`http://${c.api.host}:${c.api.port}`);
  }
  const children = homes.map((home, i) => {
    const child = spawn(process.execPath, [CLI, "start", "--home", home, "--log-level", opts.logLevel], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    pipeWithPrefix(child, `node${i}`);
    return child;
  });
  let stopping = false;
  const exited = children.map(
    (child, i) =>
      new Promise<void>((done) =>
        child.on("exit", (code, signal) => {
          if (!stopping) process.stderr.write(`node${i} exited (${signal ?? code}); the others keep running\n`);
          done();
        }),
      ),
  );
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(urls.map(healthy))).every(Boolean) && Date.now() < deadline && !stopping) {
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stderr.write(`Cairn cluster of ${opts.validators} validators running (homes in ${out}):\n`);
  urls.forEach((u, i) => {
    process.stderr.write(`  node${i} API: ${u}\n`);
  });
  process.stderr.write(`  admin key: ${join(out, "keys", "admin.json")}\n`);
  process.stderr.write(`  try: npm run cairn -- tx kv put hello world --home ${join(opts.out, "node0")}\n`);
  process.stderr.write("Ctrl-C to stop every node.\n");
  await new Promise<void>((resolveStop) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${sig}: stopping ${children.length} nodes...\n`);
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
      Promise.all(exited).then(() => resolveStop());
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  process.stderr.write("All nodes stopped.\n");
}
