// The Docker target: a cluster of Cairn containers made the way a user makes one (docs/docker.md):
// `cairn testnet --docker` writes the homes and a Compose file, Compose brings the nodes up on a
// private bridge network at fixed addresses, each API published on 127.0.0.1. Faults are what
// `cairn docker ...` does: docker kill (SIGKILL), docker start, docker pause/unpause, and partitions
// as iptables DROP rules between the groups' addresses in the host's DOCKER-USER chain (the nodes'
// APIs stay reachable from the host meanwhile). The node image must exist (`cairn docker build`,
// or `build` below).
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerTestnet, DockerCluster, run } from "@cairn/cluster";
import { dirBytes, freePort, processUsage, sleep } from "../process.ts";
import type { BenchTarget, ClusterSpec, NodeUsage, TargetCapabilities, TargetNode } from "../target.ts";

export interface DockerTargetOptions {
  readonly cluster: ClusterSpec;
  /** Parent directory of the cluster's directory (default: the system temp dir). */
  readonly dir?: string;
  /** Keep the cluster's directory and its data volumes after stop() (containers and network are removed). */
  readonly keep?: boolean;
  /** The node image (default cairn-node:latest). */
  readonly image?: string;
  /** Build the image first (`cairn docker build`), from this base image (e.g. cairn-base:24). */
  readonly build?: { readonly base: string };
  /** The cluster's network (default: a free 10.213.x.0/24). */
  readonly subnet?: string;
  readonly log?: (line: string) => void;
}

async function freeSubnet(): Promise<string> {
  const ids = (await run("docker", ["network", "ls", "-q"])).stdout.split("\n").filter(Boolean);
  const used =
    ids.length === 0
      ? ""
      : (await run("docker", ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", ...ids])).stdout;
  for (let o = 100; o < 250; o++) if (!used.includes(`10.213.${o}.`)) return `10.213.${o}.0/24`;
  throw new Error("no free 10.213.x.0/24 subnet for the cluster's network; pass one");
}

export class DockerTarget implements BenchTarget {
  readonly kind = "docker" as const;
  readonly network =
    "one Docker container per node on a private bridge network (fixed addresses, partitions by iptables on the host); libp2p TCP + gossipsub";
  readonly capabilities: TargetCapabilities;
  readonly #o: DockerTargetOptions;
  #dir = "";
  #cluster: DockerCluster | undefined;
  #pids = new Map<string, number>();
  #volumes = new Map<string, string>();
  #stopped = false;

  constructor(o: DockerTargetOptions) {
    this.#o = o;
    const partition =
      process.getuid?.() === 0 ? true : "partitions need root on the Docker host (iptables rules in DOCKER-USER)";
    this.capabilities = { kill: true, restart: true, pause: true, partition };
  }

  #log(s: string): void {
    this.#o.log?.(s);
  }

  get #c(): DockerCluster {
    if (this.#cluster === undefined) throw new Error("the Docker target is not started");
    return this.#cluster;
  }

  /** The cluster's directory (homes and keys in DIR/testnet). */
  get dir(): string {
    return this.#dir;
  }

  async start(): Promise<void> {
    const c = this.#o.cluster;
    if (this.#o.build !== undefined) {
      const { buildNodeImage } = await import("@cairn/cluster");
      await buildNodeImage({
        base: this.#o.build.base,
        ...(this.#o.image === undefined ? {} : { tag: this.#o.image }),
        log: (l) => this.#log(l),
      });
    }
    this.#dir = await mkdtemp(join(this.#o.dir ?? tmpdir(), "cairn-bench-docker-"));
    const out = join(this.#dir, "testnet");
    const r = await createDockerTestnet({
      validators: c.validators,
      clients: c.clients,
      ...(c.maxBlockTxs === undefined ? {} : { maxBlockTxs: c.maxBlockTxs }),
      ...(c.engine === undefined ? {} : { engine: c.engine }),
      out,
      basePort: 20_000 + ((await freePort()) % 20_000),
      subnet: this.#o.subnet ?? (await freeSubnet()),
      ...(this.#o.image === undefined ? {} : { image: this.#o.image }),
      project: `cairn-bench-${process.pid % 100_000}-${Math.floor(Math.random() * 1000)}`,
      logLevel: c.logLevel ?? "warn",
    });
    if (c.emptyBlockIntervalMs !== undefined) {
      for (const home of r.homes) {
        const file = join(home, "config.json");
        const config = JSON.parse(readFileSync(file, "utf8"));
        config.consensus = { ...config.consensus, emptyBlockInterval: c.emptyBlockIntervalMs };
        writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
      }
    }
    this.#cluster = await DockerCluster.load(out);
    await this.#cluster.up({ timeoutMs: 120_000 });
    await this.#refresh();
    // Resolves once a block committed, as the processes target's first measurement expects.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const heights = await Promise.all(
        this.#c.info.nodes.map(async (n) => {
          try {
            const res = await fetch(`${n.url}/status`, { signal: AbortSignal.timeout(2000) });
            return ((await res.json()) as { height: number }).height;
          } catch {
            return 0;
          }
        }),
      );
      if (heights.every((h) => h >= 1)) break;
      if (Date.now() > deadline) throw new Error(`no block committed within 60 s (heights ${heights.join(", ")})`);
      await sleep(250);
    }
    for (const n of this.#c.info.nodes) {
      const v = await run("docker", ["volume", "inspect", "-f", "{{.Mountpoint}}", n.volume]);
      if (v.code === 0) this.#volumes.set(n.name, v.stdout.trim());
    }
    this.#log(`${c.validators} validators up in Docker (${this.#c.info.nodes.map((n) => n.url).join(", ")})`);
  }

  /** Reads the containers' host pids (they change when a node restarts). */
  async #refresh(): Promise<void> {
    this.#pids.clear();
    for (const [name, s] of await this.#c.containers()) if (s.pid !== undefined) this.#pids.set(name, s.pid);
  }

  nodes(): readonly TargetNode[] {
    return this.#c.info.nodes.map((n) => {
      const pid = this.#pids.get(n.name);
      let validatorKey: string | undefined;
      try {
        validatorKey = JSON.parse(readFileSync(join(this.#dir, "testnet", n.name, "keys", "validator.json"), "utf8"))
          .publicKey as string;
      } catch {
        validatorKey = undefined;
      }
      return {
        name: n.name,
        url: n.url,
        id: n.container,
        home: join(this.#dir, "testnet", n.name),
        ...(pid === undefined ? {} : { pid }),
        ...(validatorKey === undefined ? {} : { validatorKey }),
      };
    });
  }

  keysDir(): string {
    return join(this.#dir, "testnet", "keys");
  }

  async kill(name: string): Promise<void> {
    const s = (await this.#c.containers()).get(name);
    if (s?.status === "paused") await this.#c.fault("unpause", name);
    if (s?.status === "running" || s?.status === "paused") await this.#c.fault("kill", name);
    this.#pids.delete(name);
  }

  async restart(name: string): Promise<void> {
    const s = (await this.#c.containers()).get(name);
    if (s?.status === "paused") await this.#c.fault("unpause", name);
    await this.#c.fault(s?.status === "running" || s?.status === "paused" ? "restart" : "start", name, {
      timeoutS: 20,
    });
    await this.#c.waitUntilUp([name], 60_000);
    await this.#refresh();
  }

  async pause(name: string): Promise<void> {
    await this.#c.fault("pause", name);
  }

  async resume(name: string): Promise<void> {
    await this.#c.fault("unpause", name);
  }

  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    if (this.capabilities.partition !== true) throw new Error(`cannot partition: ${this.capabilities.partition}`);
    await this.#c.partition(groups);
  }

  async heal(): Promise<void> {
    await this.#c.heal();
  }

  usage(name: string): NodeUsage | undefined {
    // The node is the container's first process; the host sees it in its own /proc.
    const pid = this.#pids.get(name);
    if (pid === undefined) return undefined;
    return processUsage(pid);
  }

  storageBytes(name: string): number | undefined {
    const dir = this.#volumes.get(name);
    return dir === undefined ? undefined : dirBytes(dir);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#cluster !== undefined) await this.#cluster.down({ wipe: this.#o.keep !== true });
    if (this.#dir !== "") {
      if (this.#o.keep === true) this.#log(`kept ${this.#dir} (homes in testnet/) and the data volumes`);
      else await rm(this.#dir, { recursive: true, force: true });
    }
  }
}
