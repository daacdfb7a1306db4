import { type ChildProcess, spawn } from "node:child_process";
import { type Dirent, existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { StatusInfo } from "@cairn/client";
import { homePaths, loadConfig } from "../config.ts";
import { createTestnet } from "../testnet.ts";
import { blockAge, formatTable } from "./output.ts";
import { apiUrl, CliError, fetchStatus, unreachableReason } from "./shared.ts";

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

/** One row of `cairn cluster status`: a node home and what its API answered, or why it did not. */
export interface ClusterNodeStatus {
  /** The home's directory name (node0, node1, ...). */
  readonly name: string;
  readonly home: string;
  /** The API address from the home's config.json ("" when that cannot be read). */
  readonly url: string;
  readonly status?: StatusInfo;
  /** Why the node is counted as down. */
  readonly error?: string;
}

/** The node homes in `dir`: its subdirectories holding a config.json, in natural order (node2 before node10). */
export async function clusterHomes(dir: string): Promise<string[]> {
  const root = resolve(dir);
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new CliError("NO_CLUSTER", `no cluster in ${root}; write one with \`cairn testnet\` or \`cairn cluster\``);
  }
  const homes = entries
    .filter((e) => e.isDirectory() && existsSync(homePaths(join(root, e.name)).config))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (homes.length === 0) {
    throw new CliError(
      "NO_CLUSTER",
      `no node homes in ${root}; write them with \`cairn testnet\` or \`cairn cluster\``,
    );
  }
  return homes.map((h) => join(root, h));
}

/** Asks every node in `dir` for its status at once; a node that does not answer within `timeoutMs` is down. */
export async function clusterStatus(dir: string, timeoutMs: number): Promise<ClusterNodeStatus[]> {
  const homes = await clusterHomes(dir);
  return Promise.all(
    homes.map(async (home): Promise<ClusterNodeStatus> => {
      const name = basename(home);
      let url: string;
      try {
        url = await apiUrl({ home });
      } catch (e) {
        return { name, home, url: "", error: (e as Error).message };
      }
      try {
        return { name, home, url, status: await fetchStatus(url, timeoutMs) };
      } catch (e) {
        return { name, home, url, error: unreachableReason(e, timeoutMs) ?? (e as Error).message };
      }
    }),
  );
}

/** The table of `cairn cluster status`, then a line per down node saying how to start it. */
export function formatClusterStatus(nodes: readonly ClusterNodeStatus[], now = Date.now()): string[] {
  const header = ["NODE", "API", "STATE", "ROLE", "HEIGHT", "ROUND", "STEP", "PEERS", "MEMPOOL", "LAST BLOCK"];
  const rows = nodes.map((n) => {
    const s = n.status;
    if (s === undefined) return [n.name, n.url || "?", "down", "-", "-", "-", "-", "-", "-", "-"];
    return [
      n.name,
      n.url,
      s.sync.catchingUp ? "up, syncing" : "up",
      s.role,
      String(s.height),
      String(s.consensus.round),
      s.consensus.step,
      String(s.network.peers),
      String(s.mempool.size),
      blockAge(s.blockTime, now),
    ];
  });
  const lines = formatTable(header, rows);
  const down = nodes.filter((n) => n.status === undefined);
  const chains = new Set(nodes.flatMap((n) => (n.status === undefined ? [] : [n.status.chainId])));
  lines.push("");
  lines.push(
    `${nodes.length - down.length} of ${nodes.length} nodes up${chains.size === 0 ? "" : `, chain ${[...chains].join(" and ")}`}`,
  );
  for (const n of down) {
    lines.push(
      `  ${n.name} is down (${n.url || "no API address"}: ${n.error}); start it: cairn start --home ${n.home}`,
    );
  }
  return lines;
}
