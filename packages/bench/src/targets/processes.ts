// The processes target: a cluster of `cairn start` processes on this machine, made the way a user
// makes one: `cairn testnet --validators N --clients K --out DIR`, then `cairn start --home
// DIR/nodeI` for each validator. On loopback by default; when the cluster must be partitionable,
// each node runs in its own network namespace (netns.ts) and listens on that namespace's address.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetLab, emulationUnavailable, type NetLab, netnsUnavailable } from "../netns.ts";
import { EMULATION_METHOD, emulates, networkLabel } from "../network/profile.ts";
import { CAIRN, dirBytes, freePort, processUsage, ROOT, sleep } from "../process.ts";
import type { BenchTarget, ClusterSpec, NodeUsage, TargetCapabilities, TargetNode } from "../target.ts";

export interface ProcessTargetOptions {
  readonly cluster: ClusterSpec;
  /** Parent directory of the cluster's directory (default: the system temp dir). */
  readonly dir?: string;
  /** Keep the cluster's directory (homes, keys, node logs) after stop(). */
  readonly keep?: boolean;
  /** The `cairn` launcher (default: this repository's packages/cli/bin/cairn.js). */
  readonly cairn?: string;
  readonly log?: (line: string) => void;
}

interface Proc {
  readonly name: string;
  readonly home: string;
  readonly url: string;
  readonly logFile: string;
  readonly host: string;
  readonly netns?: string;
  child?: ChildProcess;
  exited?: Promise<void>;
}

/** Whether the API (base+i) and p2p (base+100+i) ports of n nodes can be bound now. */
async function portsFree(base: number, n: number): Promise<boolean> {
  const ports = Array.from({ length: n }, (_, i) => [base + i, base + 100 + i]).flat();
  for (const port of ports) {
    const free = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once("error", () => res(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
    });
    if (!free) return false;
  }
  return true;
}

export class ProcessTarget implements BenchTarget {
  readonly kind = "processes" as const;
  readonly capabilities: TargetCapabilities;
  readonly network: string;
  readonly #o: ProcessTargetOptions;
  readonly #procs: Proc[] = [];
  #dir = "";
  #lab: NetLab | undefined;
  #stopped = false;

  constructor(o: ProcessTargetOptions) {
    this.#o = o;
    const emulated = emulates(o.cluster.network);
    const namespaces = o.cluster.partitionable === true || emulated;
    const why = namespaces ? netnsUnavailable() : "the cluster was started without namespaces";
    const emulate = emulationUnavailable();
    this.capabilities = { kill: true, restart: true, pause: true, partition: why ?? true, emulate: emulate ?? true };
    this.network =
      emulated && o.cluster.network !== undefined
        ? `emulated network (${networkLabel(o.cluster.network)}): ${EMULATION_METHOD} libp2p TCP + gossipsub`
        : namespaces && why === undefined
          ? "one network namespace per node, routed through a router namespace (veth pairs); libp2p TCP + gossipsub"
          : "loopback TCP on one machine; libp2p TCP + gossipsub";
  }

  #log(s: string): void {
    this.#o.log?.(s);
  }

  /** The cluster's directory (homes in DIR/testnet/nodeI, node logs in DIR/nodeI.log). */
  get dir(): string {
    return this.#dir;
  }

  async start(): Promise<void> {
    const c = this.#o.cluster;
    const n = c.validators;
    this.#dir = await mkdtemp(join(this.#o.dir ?? tmpdir(), "cairn-bench-"));
    const out = join(this.#dir, "testnet");
    let base = 20_000 + ((await freePort()) % 20_000);
    for (let tries = 0; tries < 20 && !(await portsFree(base, n)); tries++)
      base = 20_000 + ((await freePort()) % 20_000);
    const args = [
      this.#o.cairn ?? CAIRN,
      "testnet",
      "--validators",
      String(n),
      "--out",
      out,
      "--base-port",
      String(base),
      "--clients",
      String(c.clients),
      ...(c.maxBlockTxs === undefined ? [] : ["--max-block-txs", String(c.maxBlockTxs)]),
      ...(c.engine === undefined ? [] : ["--consensus", c.engine]),
    ];
    const made = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    if (made.status !== 0) throw new Error(`cairn testnet failed (${made.status}):\n${made.stdout}${made.stderr}`);

    const emulated = emulates(c.network);
    if (emulated && this.capabilities.emulate !== true)
      throw new Error(`cannot emulate the network: ${this.capabilities.emulate}`);
    if ((c.partitionable === true || emulated) && this.capabilities.partition === true) {
      this.#lab = createNetLab(n, `${process.pid % 10_000}${Math.floor(Math.random() * 100)}`);
    }
    if (emulated && c.network !== undefined && this.#lab !== undefined) {
      await this.#lab.emulate(
        c.network,
        Array.from({ length: n }, (_, i) => base + 100 + i),
      );
      this.#log(`network emulated between the validators: ${networkLabel(c.network)}`);
    }
    const lab = this.#lab;
    for (let i = 0; i < n; i++) {
      const home = join(out, `node${i}`);
      const file = join(home, "config.json");
      const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown> & {
        api: { host: string; port: number };
        consensus: Record<string, unknown>;
        p2p: { listen: string; bootstrap: string[] };
      };
      const host = lab === undefined ? "127.0.0.1" : (lab.nodes[i]?.ip as string);
      if (lab !== undefined) {
        // Listen on, and reach peers at, the namespace addresses instead of loopback.
        const swap = (a: string) =>
          a.replace(/^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/, (_m, port: string) => {
            const j = Number(port) - base - 100;
            return `/ip4/${lab.nodes[j]?.ip ?? "127.0.0.1"}/tcp/${port}`;
          });
        config.p2p = { listen: swap(config.p2p.listen), bootstrap: config.p2p.bootstrap.map(swap) };
        config.api = { ...config.api, host };
      }
      if (c.emptyBlockIntervalMs !== undefined) {
        config.consensus = { ...config.consensus, emptyBlockInterval: c.emptyBlockIntervalMs };
      }
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
      this.#procs.push({
        name: `node${i}`,
        home,
        url: `http://${host}:${base + i}`,
        logFile: join(this.#dir, `node${i}.log`),
        host,
        ...(lab === undefined ? {} : { netns: lab.nodes[i]?.netns as string }),
      });
    }
    for (const p of this.#procs) this.#spawn(p);
    // Every node starts at once and they share the machine's cores: 16 nodes on 2 cores can take
    // more than a minute before the last one answers.
    const healthyWithinMs = Math.max(60_000, 5_000 * n);
    await Promise.all(this.#procs.map((p) => this.#waitHealthy(p, healthyWithinMs)));
    this.#log(`${n} validators up (${this.#procs.map((p) => p.url).join(", ")})`);
  }

  #spawn(p: Proc): void {
    const profDir = this.#o.cluster.cpuProfDir;
    const args = [
      this.#o.cairn ?? CAIRN,
      "start",
      "--home",
      p.home,
      "--log-level",
      this.#o.cluster.logLevel ?? "warn",
      ...(profDir === undefined ? [] : ["--cpu-profile", join(profDir, p.name)]),
    ];
    const fd = openSync(p.logFile, "a");
    // `ip netns exec` execs the node: the child's pid is the node's.
    const child =
      p.netns === undefined
        ? spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", fd, fd] })
        : spawn("ip", ["netns", "exec", p.netns, process.execPath, ...args], { cwd: ROOT, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    p.child = child;
    p.exited = new Promise<void>((r) => child.once("exit", () => r()));
  }

  async #waitHealthy(p: Proc, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = p.child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`${p.name} exited (${c?.exitCode ?? c?.signalCode}); its log:\n${this.#tail(p)}`);
      }
      try {
        if ((await fetch(`${p.url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`${p.name} did not answer /health within ${timeoutMs / 1000} s:\n${this.#tail(p)}`);
      await sleep(100);
    }
  }

  #tail(p: Proc): string {
    try {
      return readFileSync(p.logFile, "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "(no log)";
    }
  }

  #proc(name: string): Proc {
    const p = this.#procs.find((x) => x.name === name);
    if (p === undefined) throw new Error(`no node ${name} (nodes: ${this.#procs.map((x) => x.name).join(", ")})`);
    return p;
  }

  #running(p: Proc): boolean {
    return p.child !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  nodes(): readonly TargetNode[] {
    return this.#procs.map((p) => ({
      name: p.name,
      url: p.url,
      home: p.home,
      ...(p.child?.pid !== undefined && this.#running(p) ? { pid: p.child.pid } : {}),
    }));
  }

  keysDir(): string {
    return join(this.#dir, "testnet", "keys");
  }

  async kill(name: string): Promise<void> {
    const p = this.#proc(name);
    if (!this.#running(p)) return;
    p.child?.kill("SIGKILL");
    await p.exited;
  }

  async restart(name: string): Promise<void> {
    const p = this.#proc(name);
    if (this.#running(p)) {
      p.child?.kill("SIGCONT");
      p.child?.kill("SIGTERM");
      const killer = setTimeout(() => p.child?.kill("SIGKILL"), 20_000);
      await p.exited;
      clearTimeout(killer);
    }
    this.#spawn(p);
    await this.#waitHealthy(p, 60_000);
  }

  async pause(name: string): Promise<void> {
    const p = this.#proc(name);
    if (this.#running(p)) p.child?.kill("SIGSTOP");
  }

  async resume(name: string): Promise<void> {
    const p = this.#proc(name);
    if (this.#running(p)) p.child?.kill("SIGCONT");
  }

  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    if (this.#lab === undefined) throw new Error(`cannot partition: ${String(this.capabilities.partition)}`);
    const index = (name: string) => this.#procs.findIndex((p) => p.name === name);
    this.#lab.partition(groups.map((g) => g.map(index)));
  }

  async heal(): Promise<void> {
    this.#lab?.heal();
  }

  usage(name: string): NodeUsage | undefined {
    const p = this.#proc(name);
    const pid = p.child?.pid;
    if (pid === undefined || !this.#running(p)) return undefined;
    return processUsage(pid);
  }

  storageBytes(name: string): number | undefined {
    return dirBytes(join(this.#proc(name).home, "data"));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(
      this.#procs.map(async (p) => {
        if (!this.#running(p)) return;
        p.child?.kill("SIGCONT");
        p.child?.kill("SIGTERM");
        const killer = setTimeout(() => p.child?.kill("SIGKILL"), 20_000);
        await p.exited;
        clearTimeout(killer);
      }),
    );
    this.#lab?.destroy();
    if (this.#dir !== "") {
      if (this.#o.keep === true) this.#log(`kept ${this.#dir} (homes in testnet/, node logs node*.log)`);
      else await rm(this.#dir, { recursive: true, force: true });
    }
  }
}
