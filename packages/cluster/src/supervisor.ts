// The local cluster supervisor behind `cairn cluster` (and `npm start`): one `cairn start` process
// per validator, their output prefixed by node name, DIR/cluster.pid while they run, a detached mode,
// and `cairn cluster stop`.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, type Dirent, existsSync, openSync, readFileSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { peerIdFromKeyFile } from "@cairn/network";
import { homePaths, loadConfig } from "@cairn/node/config";
import { type ClusterControl, ControlError, type NodeState, startControlServer } from "./control.ts";
import { ClusterError } from "./errors.ts";
import { createTestnet, type TestnetOptions } from "./testnet.ts";

export interface ClusterOptions {
  /** The `cairn` CLI entry (a .ts or .js file) the supervisor runs for each node and for --detach. */
  readonly cli: string;
  readonly validators: number;
  readonly out: string;
  readonly basePort: number;
  readonly logLevel: string;
  /** Run in the background: write DIR/cluster.pid and DIR/cluster.log, and return (`cairn cluster stop`). */
  readonly detach?: boolean;
  /** First run only: a teaching chain (TEACH_CONSENSUS: paced steps, long timeouts, small blocks). */
  readonly teach?: boolean;
  /** First run only: the chain's consensus engine (default "tendermint"). */
  readonly engine?: TestnetOptions["engine"];
  /** Port of the loopback control endpoint (default node0's API port + 99; any free port when taken). */
  readonly controlPort?: number;
}

/** What DIR/cluster.pid records about a running cluster. */
export interface ClusterRecord {
  readonly supervisor: number;
  readonly nodes: readonly number[];
  readonly urls: readonly string[];
  /** The control endpoint (control.ts), on loopback. */
  readonly control?: string;
  readonly startedAt: number;
  readonly detached: boolean;
}

/** Env var naming the supervisor's pid: a node started with it exits when that process is gone. */
export const SUPERVISOR_ENV = "CAIRN_SUPERVISOR_PID";
/** Env var telling a node the control endpoint's URL, which its console shows (docs/console.md). */
export const CONTROL_ENV = "CAIRN_CLUSTER_CONTROL";
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

/** Config of a teaching cluster (`cairn cluster --teach`): steps a class can follow, small blocks. */
export const TEACH_CONSENSUS = {
  // Each proposal and vote waits this long before it is sent, so every step shows in the console.
  stepPaceMs: 1_500,
  // Long enough that pacing never times a step out; a missing proposer still costs one visible round.
  timeouts: {
    timeoutPropose: 12_000,
    timeoutProposeDelta: 2_000,
    timeoutPrevote: 8_000,
    timeoutPrevoteDelta: 2_000,
    timeoutPrecommit: 8_000,
    timeoutPrecommitDelta: 2_000,
  },
  emptyBlockInterval: 20_000,
} as const;
/** Transactions per block on a teaching chain. */
export const TEACH_MAX_BLOCK_TXS = 5;

/** One node process the supervisor runs. */
interface NodeProcess {
  readonly name: string;
  readonly home: string;
  readonly url: string;
  readonly peerId: string;
  child: ChildProcess | undefined;
  state: NodeState;
  exited: Promise<void>;
}

/**
 * Runs a local BFT cluster: writes it with `createTestnet` on first use, starts one `cairn start`
 * process per validator, prints their API addresses and the console's, serves the control endpoint
 * (control.ts) on loopback, and stops them all on Ctrl-C.
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
  if (!existsSync(homePaths(join(out, "node0")).config)) {
    await createTestnet({
      validators: opts.validators,
      out,
      basePort: opts.basePort,
      ...(opts.engine === undefined ? {} : { engine: opts.engine }),
      ...(opts.teach === true ? { maxBlockTxs: TEACH_MAX_BLOCK_TXS, consensus: TEACH_CONSENSUS } : {}),
    });
    process.stderr.write(
      `Wrote a ${opts.validators}-validator ${opts.teach === true ? "teaching " : ""}testnet to ${out}\n`,
    );
  }
  // The validators written on first use (`opts.validators` counts only then), in order.
  const homes = (await clusterHomes(out)).filter((h) => /^node\d+$/.test(basename(h)));
  const nodes: NodeProcess[] = [];
  for (const [i, home] of homes.entries()) {
    const c = await loadConfig(home);
    const peerId = String(await peerIdFromKeyFile(homePaths(home).peerKey));
    nodes.push({
      name: `node${i}`,
      home,
      url: `http://${c.api.host}:${c.api.port}`,
      peerId,
      child: undefined,
      state: "starting",
      exited: Promise.resolve(),
    });
  }
  const urls = nodes.map((n) => n.url);
  const teach = (await loadConfig(homes[0] as string)).consensus.stepPaceMs !== undefined;
  // Each node watches this process and exits when it is gone (even by SIGKILL); node0 prints one
  // line per committed block when a person watches (a terminal, or a detached cluster's log).
  const watched = process.stderr.isTTY === true || process.env[BLOCK_LINES_ENV] === "1";
  let stopping = false;
  let partition: number[][] = [];
  let controlUrl = "";

  const severFor = (i: number): string[] => {
    if (partition.length === 0) return [];
    const mine = partition.find((g) => g.includes(i)) ?? [];
    return nodes.filter((_, j) => j !== i && !mine.includes(j)).map((n) => n.peerId);
  };
  const tell = (n: NodeProcess, i: number) => {
    if (n.child?.connected === true && n.state === "running") n.child.send({ type: "sever", peers: severFor(i) });
  };
  const spawnNode = (n: NodeProcess, i: number) => {
    const child = spawn(process.execPath, [opts.cli, "start", "--home", n.home, "--log-level", opts.logLevel], {
      // The IPC channel carries the partition (control.ts); nothing else uses it.
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: {
        ...process.env,
        [SUPERVISOR_ENV]: String(process.pid),
        [CONTROL_ENV]: controlUrl,
        ...(i === 0 && watched ? { [BLOCK_LINES_ENV]: "1" } : {}),
      },
    });
    pipeWithPrefix(child, n.name);
    n.child = child;
    n.state = "running";
    n.exited = new Promise<void>((done) =>
      child.on("exit", (code, signal) => {
        if (n.child === child) n.state = n.state === "killed" ? "killed" : "exited";
        if (!stopping) process.stderr.write(`${n.name} exited (${signal ?? code}); the others keep running\n`);
        done();
      }),
    );
    // A restarted node learns the partition in force once it listens.
    if (partition.length > 0) {
      void waitHealthy(n.url, 60_000).then(() => tell(n, i));
    }
  };
  const signal = (i: number, sig: NodeJS.Signals, state: NodeState) => {
    const n = nodes[i] as NodeProcess;
    if (n.child === undefined || n.child.exitCode !== null || n.child.signalCode !== null) {
      throw new ControlError("NODE_NOT_RUNNING", 409, `${n.name} is not running (it is ${n.state}); restart it`);
    }
    n.child.kill(sig);
    n.state = state;
  };
  const control: ClusterControl = {
    teach,
    nodes: () => nodes.map((n) => ({ name: n.name, url: n.url, pid: n.child?.pid, state: n.state })),
    partition: () => partition,
    kill: (i) => {
      const n = nodes[i] as NodeProcess;
      // A paused process cannot act on SIGKILL's delivery until it is continued; the kernel kills it anyway.
      signal(i, "SIGKILL", "killed");
      n.child?.kill("SIGCONT");
    },
    pause: (i) => signal(i, "SIGSTOP", "paused"),
    resume: (i) => signal(i, "SIGCONT", "running"),
    restart: async (i) => {
      const n = nodes[i] as NodeProcess;
      if (n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null) {
        n.state = "killed";
        n.child.kill("SIGKILL");
        n.child.kill("SIGCONT");
        await n.exited;
      }
      spawnNode(n, i);
    },
    setPartition: (groups) => {
      partition = groups.map((g) => [...g]);
      nodes.forEach((n, i) => {
        tell(n, i);
      });
    },
    heal: () => {
      partition = [];
      nodes.forEach((n, i) => {
        tell(n, i);
      });
    },
    pauseChain: () => {
      for (const [i, n] of nodes.entries()) if (n.state === "running") signal(i, "SIGSTOP", "paused");
    },
    resumeChain: () => {
      for (const [i, n] of nodes.entries()) if (n.state === "paused") signal(i, "SIGCONT", "running");
    },
    stepChain: async (timeoutMs) => {
      const paused = nodes.flatMap((n, i) => (n.state === "paused" ? [i] : []));
      for (const i of paused) signal(i, "SIGCONT", "running");
      const before = await highest(urls);
      const deadline = Date.now() + timeoutMs;
      let h = before;
      while (h <= before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        h = await highest(urls);
      }
      for (const i of paused) if ((nodes[i] as NodeProcess).state === "running") signal(i, "SIGSTOP", "paused");
      return { height: h };
    },
  };
  // The control endpoint: node0's API port + 99 by default (26699 for `npm start`), any free port when taken.
  const wanted = opts.controlPort ?? Number(new URL(urls[0] as string).port) + 99;
  const server = await startControlServer(control, wanted).catch(() => startControlServer(control, 0));
  controlUrl = server.url;
  nodes.forEach((n, i) => {
    spawnNode(n, i);
  });
  const record: ClusterRecord = {
    supervisor: process.pid,
    nodes: nodes.map((n) => n.child?.pid ?? 0),
    urls,
    control: controlUrl,
    startedAt: Date.now(),
    detached: process.env.CAIRN_CLUSTER_DETACHED === "1",
  };
  await writeFile(join(out, "cluster.pid"), `${JSON.stringify(record)}\n`);
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(urls.map(healthy))).every(Boolean) && Date.now() < deadline && !stopping) {
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stderr.write(
    `Cairn ${teach ? "teaching " : ""}cluster of ${nodes.length} validators running (homes in ${out}):\n`,
  );
  urls.forEach((u, i) => {
    process.stderr.write(`  node${i} API: ${u}\n`);
  });
  process.stderr.write(`  console: ${urls[0]}/console/  (every node serves one at /console/)\n`);
  process.stderr.write(`  cluster control (loopback only): ${controlUrl}\n`);
  process.stderr.write(`  admin key: ${join(out, "keys", "admin.json")}\n`);
  process.stderr.write(`  try: npm run cairn -- tx kv put hello world --home ${join(opts.out, "node0")}\n`);
  process.stderr.write("Ctrl-C to stop every node.\n");
  await new Promise<void>((resolveStop) => {
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watchParent);
      process.stderr.write(`\n${why}: stopping ${nodes.length} nodes...\n`);
      for (const n of nodes) {
        const c = n.child;
        if (c === undefined || c.exitCode !== null || c.signalCode !== null) continue;
        c.kill("SIGTERM");
        c.kill("SIGCONT"); // a paused node must run to stop
      }
      Promise.all(nodes.map((n) => n.exited))
        .then(() => server.close())
        .then(() => resolveStop());
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

/** The highest height any of `urls` reports (0 when none answers). */
async function highest(urls: readonly string[]): Promise<number> {
  const hs = await Promise.all(
    urls.map(async (u) => {
      try {
        const r = await fetch(`${u}/status`, { signal: AbortSignal.timeout(1_000) });
        return ((await r.json()) as { height: number }).height;
      } catch {
        return 0;
      }
    }),
  );
  return Math.max(0, ...hs);
}

async function waitHealthy(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await healthy(url)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** `cairn cluster --detach`: the same supervisor in the background, its output in DIR/cluster.log. */
async function detach(opts: ClusterOptions, out: string): Promise<void> {
  const log = join(out, "cluster.log");
  if (!existsSync(out)) await import("node:fs/promises").then((f) => f.mkdir(out, { recursive: true }));
  const fd = openSync(log, "a");
  const args = [opts.cli, "cluster", "--out", out, "--validators", String(opts.validators)];
  args.push("--base-port", String(opts.basePort), "--log-level", opts.logLevel);
  if (opts.teach === true) args.push("--teach");
  if (opts.engine !== undefined) args.push("--consensus", opts.engine);
  if (opts.controlPort !== undefined) args.push("--control-port", String(opts.controlPort));
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
