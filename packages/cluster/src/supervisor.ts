// The local cluster supervisor behind `cairn cluster` (and `npm start`): one `cairn start` process
// per validator, their output prefixed by node name, DIR/cluster.pid while they run, a detached mode,
// and `cairn cluster stop`.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, type Dirent, existsSync, openSync, readFileSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { homePaths, loadConfig } from "@cairn/node/config";
import { ClusterError } from "./errors.ts";
import { createTestnet } from "./testnet.ts";

export interface ClusterOptions {
  /** The `cairn` CLI entry (a .ts or .js file) the supervisor runs for each node and for --detach. */
  readonly cli: string;
  readonly validators: number;
  readonly out: string;
  readonly basePort: number;
  readonly logLevel: string;
  /** Run in the background: write DIR/cluster.pid and DIR/cluster.log, and return (`cairn cluster stop`). */
  readonly detach?: boolean;
}

/** What DIR/cluster.pid records about a running cluster. */
export interface ClusterRecord {
  readonly supervisor: number;
  readonly nodes: readonly number[];
  readonly urls: readonly string[];
  readonly startedAt: number;
  readonly detached: boolean;
}

/** Env var naming the supervisor's pid: a node started with it exits when that process is gone. */
export const SUPERVISOR_ENV = "CAIRN_SUPERVISOR_PID";
/** Env var asking `cairn start` to print one line per committed block. */
export const BLOCK_LINES_ENV = "CAIRN_BLOCK_LINES";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running cluster recorded in `dir`, if its supervisor is still alive. */
export function runningCluster(dir: string): ClusterRecord | undefined {
  const file = join(resolve(dir), "cluster.pid");
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as ClusterRecord;
    return alive(r.supervisor) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the cluster recorded in `dir` (SIGTERM to its supervisor); resolves once every node exited. */
export async function stopCluster(dir: string, timeoutMs = 20_000): Promise<ClusterRecord | undefined> {
  const r = runningCluster(dir);
  if (r === undefined) return undefined;
  process.kill(r.supervisor, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while ([r.supervisor, ...r.nodes].some(alive)) {
    if (Date.now() > deadline) {
      for (const pid of [r.supervisor, ...r.nodes]) if (alive(pid)) process.kill(pid, "SIGKILL");
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  await rm(join(resolve(dir), "cluster.pid"), { force: true });
  return r;
}

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
  const running = runningCluster(out);
  if (running !== undefined) {
    throw new ClusterError(
      "CLUSTER_RUNNING",
      `a cluster from ${out} is already running: supervisor pid ${running.supervisor}, node pids ` +
        `${running.nodes.join(", ")}, APIs ${running.urls.join(", ")}. Use it, or stop it first ` +
        `(Ctrl-C where it runs, or \`cairn cluster stop --dir ${opts.out}\`).`,
    );
  }
  if (opts.detach === true) return detach(opts, out);
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
  // Each node watches this process and exits when it is gone (even by SIGKILL); node0 prints one
  // line per committed block when a person watches (a terminal, or a detached cluster's log).
  const watched = process.stderr.isTTY === true || process.env[BLOCK_LINES_ENV] === "1";
  const children = homes.map((home, i) => {
    const child = spawn(process.execPath, [opts.cli, "start", "--home", home, "--log-level", opts.logLevel], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        [SUPERVISOR_ENV]: String(process.pid),
        ...(i === 0 && watched ? { [BLOCK_LINES_ENV]: "1" } : {}),
      },
    });
    pipeWithPrefix(child, `node${i}`);
    return child;
  });
  const record: ClusterRecord = {
    supervisor: process.pid,
    nodes: children.map((c) => c.pid ?? 0),
    urls,
    startedAt: Date.now(),
    detached: process.env.CAIRN_CLUSTER_DETACHED === "1",
  };
  await writeFile(join(out, "cluster.pid"), `${JSON.stringify(record)}\n`);
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
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watchParent);
      process.stderr.write(`\n${why}: stopping ${children.length} nodes...\n`);
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
      Promise.all(exited).then(() => resolveStop());
    };
    // `on`, not `once`: a terminal's Ctrl-C reaches us, and npm passes the same signal on again; a
    // second one must not kill us with the default action before every node has stopped.
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGHUP", () => stop("SIGHUP"));
    // Run by npm (or any process manager) that exits on a signal without passing it on: when the
    // process that started us is gone, we are reparented, and stop rather than outlive it.
    const parent = process.ppid;
    const watchParent = setInterval(() => {
      if (!record.detached && process.ppid !== parent) stop("the process that started the cluster exited");
    }, 300);
  });
  await rm(join(out, "cluster.pid"), { force: true });
  process.stderr.write("All nodes stopped.\n");
}

/** `cairn cluster --detach`: the same supervisor in the background, its output in DIR/cluster.log. */
async function detach(opts: ClusterOptions, out: string): Promise<void> {
  const log = join(out, "cluster.log");
  if (!existsSync(out)) await import("node:fs/promises").then((f) => f.mkdir(out, { recursive: true }));
  const fd = openSync(log, "a");
  const args = [opts.cli, "cluster", "--out", out, "--validators", String(opts.validators)];
  args.push("--base-port", String(opts.basePort), "--log-level", opts.logLevel);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, CAIRN_CLUSTER_DETACHED: "1", [BLOCK_LINES_ENV]: "1" },
  });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = runningCluster(out);
    if (r !== undefined && (await Promise.all(r.urls.map(healthy))).every(Boolean)) {
      process.stderr.write(
        `Cairn cluster running in the background (supervisor pid ${r.supervisor}; log ${log}):\n` +
          r.urls.map((u, i) => `  node${i} API: ${u}\n`).join("") +
          `Stop it with: cairn cluster stop --dir ${opts.out}\n`,
      );
      return;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new ClusterError("CLUSTER_START_FAILED", `the cluster did not start; see ${log}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** The node homes in `dir`: its subdirectories holding a config.json, in natural order (node2 before node10). */
export async function clusterHomes(dir: string): Promise<string[]> {
  const root = resolve(dir);
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new ClusterError(
      "NO_CLUSTER",
      `no cluster in ${root}; write one with \`cairn testnet\` or \`cairn cluster\``,
    );
  }
  const homes = entries
    .filter((e) => e.isDirectory() && existsSync(homePaths(join(root, e.name)).config))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (homes.length === 0) {
    throw new ClusterError(
      "NO_CLUSTER",
      `no node homes in ${root}; write them with \`cairn testnet\` or \`cairn cluster\``,
    );
  }
  return homes.map((h) => join(root, h));
}
