// Cairn clusters in Docker containers: `cairn testnet --docker` writes the homes, a Compose file and
// a description of the cluster (DIR/docker.json); `DockerCluster` brings the cluster up, reports its
// status, tears it down, and injects faults (stop, kill, pause, restart, cut a node off the network)
// for `cairn docker ...`, the end-to-end test and `cairn bench`. See docs/docker.md.
import { execFile, spawn } from "node:child_process";
import { chown, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { StatusInfo } from "@cairn/client";
import type { ReadAccess } from "@cairn/ledger";
import { ClusterError } from "./errors.ts";
import { createTestnet, type TestnetOptions, type TestnetResult } from "./testnet.ts";

/** The file, beside docker-compose.yml, that describes a Docker cluster to `cairn docker ...`. */
export const DOCKER_CLUSTER_FILE = "docker.json";
export const COMPOSE_FILE = "docker-compose.yml";
export const DEFAULT_NODE_IMAGE = "cairn-node:latest";
export const DEFAULT_SUBNET = "10.213.0.0/24";
/** The libp2p port inside every container (each container has its own address). */
export const CONTAINER_P2P_PORT = 26656;
/** The uid and gid the image runs as (`cairn` in cairn-base, `node` in node:24-slim). */
export const IMAGE_UID = 1000;
const PROMETHEUS_IMAGE = "prom/prometheus:v2.55.1";
const GRAFANA_IMAGE = "grafana/grafana:11.3.0";

export interface DockerNodeInfo {
  /** node0 ... (validators), observer0 ... (observers): the Compose service and the home's directory. */
  readonly name: string;
  readonly role: "validator" | "observer";
  readonly container: string;
  /** Fixed address on the cluster's network. */
  readonly ip: string;
  /** The API port, inside the container and published on 127.0.0.1 of the host. */
  readonly apiPort: number;
  /** The API as the host reaches it. */
  readonly url: string;
  readonly volume: string;
}

/** DIR/docker.json. */
export interface DockerClusterInfo {
  readonly format: 1;
  /** Compose project name; also the prefix of the containers, network and volumes. */
  readonly project: string;
  readonly chainId: string;
  readonly image: string;
  readonly network: string;
  readonly subnet: string;
  readonly nodes: readonly DockerNodeInfo[];
  /** Host ports of the `monitoring` profile (defaults; CAIRN_PROMETHEUS_PORT / CAIRN_GRAFANA_PORT override). */
  readonly monitoring: { readonly prometheusPort: number; readonly grafanaPort: number };
}

export interface DockerTestnetOptions {
  readonly validators: number;
  readonly out: string;
  /** The chain's consensus engine (default "tendermint"). */
  readonly engine?: TestnetOptions["engine"];
  readonly observers?: number;
  /** Node i's API is published on 127.0.0.1:(basePort + i) (default 26600). */
  readonly basePort?: number;
  readonly chainId?: string;
  readonly clients?: number;
  readonly readAccess?: ReadAccess;
  readonly maxBlockTxs?: number;
  /** The cluster's network, IPv4 CIDR /16 to /24 (default 10.213.0.0/24): node i gets .10+i. */
  readonly subnet?: string;
  /** The node image (default cairn-node:latest, built by `cairn docker build`). */
  readonly image?: string;
  /** Compose project name (default: cairn-<name of DIR>). */
  readonly project?: string;
  /** Log level of every node (default info). */
  readonly logLevel?: string;
}

export interface DockerTestnetResult extends TestnetResult {
  readonly cluster: DockerClusterInfo;
  readonly composeFile: string;
  /** What was written and what to do next, for people (`cairn testnet --docker` prints it). */
  readonly summary: readonly string[];
}

/** A Compose project name from a directory name: lowercase letters, digits, - and _. */
export function projectName(dir: string): string {
  const base = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
  if (base === "") return "cairn";
  return base.startsWith("cairn") ? base : `cairn-${base}`;
}

function ipv4(s: string): number {
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return Number.NaN;
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
}

function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * The subnet's network address and the addresses Cairn uses in it: node i at .10+i (fixed, so
 * libp2p addresses in the homes stay right), and the upper half of the first /24 for containers
 * without a fixed address (Prometheus, Grafana).
 */
export function subnetPlan(subnet: string): {
  subnet: string;
  gateway: string;
  nodeIp(i: number): string;
  ipRange: string;
} {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  const len = Number(m?.[2]);
  const addr = ipv4(m?.[1] ?? "");
  if (m === null || Number.isNaN(addr) || !Number.isInteger(len) || len < 16 || len > 24) {
    throw new ClusterError("BAD_SUBNET", `--subnet must be an IPv4 network from /16 to /24, such as ${DEFAULT_SUBNET}`);
  }
  const net = (addr & (~0 << (32 - len))) >>> 0;
  return {
    subnet: `${ipv4Text(net)}/${len}`,
    gateway: ipv4Text(net + 1),
    nodeIp: (i) => ipv4Text(net + 10 + i),
    ipRange: `${ipv4Text(net + 128)}/25`,
  };
}

// ---- the Compose file ----

type Yaml = string | number | boolean | readonly Yaml[] | { readonly [k: string]: Yaml | undefined };

/** YAML for the Compose file: block mappings, flow sequences of scalars, double-quoted strings. */
function yaml(v: Yaml, indent = ""): string {
  const scalar = (x: Yaml) => (typeof x === "string" ? JSON.stringify(x) : String(x));
  const lines: string[] = [];
  for (const [k, val] of Object.entries(v as Record<string, Yaml | undefined>)) {
    if (val === undefined) continue;
    const key = /^[A-Za-z0-9_.-]+$/.test(k) ? k : JSON.stringify(k);
    if (Array.isArray(val)) {
      const flow = `${indent}${key}: [${val.map(scalar).join(", ")}]`;
      if (val.every((x) => typeof x !== "object") && flow.length <= 100) lines.push(flow);
      else {
        lines.push(`${indent}${key}:`);
        for (const item of val) {
          const body = typeof item === "object" ? yaml(item as Yaml, `${indent}    `).trimStart() : scalar(item);
          lines.push(`${indent}  - ${body}`);
        }
      }
    } else if (typeof val === "object") {
      lines.push(`${indent}${key}:`);
      lines.push(yaml(val as Yaml, `${indent}  `));
    } else {
      lines.push(`${indent}${key}: ${scalar(val)}`);
    }
  }
  return lines.join("\n");
}

/** The Compose file of a cluster: one service per node, the network, the data volumes, the monitoring profile. */
export function composeFile(c: DockerClusterInfo, opts: { logLevel?: string; user?: string } = {}): string {
  const services: Record<string, Yaml> = {};
  for (const n of c.nodes) {
    services[n.name] = {
      image: c.image,
      container_name: n.container,
      hostname: n.name,
      command: ["start", "--home", "/cairn", "--api-host", "0.0.0.0", "--log-level", opts.logLevel ?? "info"],
      user: opts.user,
      volumes: [
        `./${n.name}/config.json:/cairn/config.json:ro`,
        `./${n.name}/genesis.json:/cairn/genesis.json:ro`,
        `./${n.name}/keys:/cairn/keys:ro`,
        `${n.name}-data:/cairn/data`,
      ],
      ports: [`127.0.0.1:${n.apiPort}:${n.apiPort}`],
      networks: { cairn: { ipv4_address: n.ip } },
      stop_grace_period: "30s",
      logging: { driver: "json-file", options: { "max-size": "20m", "max-file": "3" } },
      labels: { "io.cairn.node": n.name, "io.cairn.role": n.role },
    };
  }
  services.prometheus = {
    image: `\${CAIRN_PROMETHEUS_IMAGE:-${PROMETHEUS_IMAGE}}`,
    container_name: `${c.project}-prometheus`,
    profiles: ["monitoring"],
    command: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.retention.time=2d"],
    volumes: ["./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro"],
    ports: [`127.0.0.1:\${CAIRN_PROMETHEUS_PORT:-${c.monitoring.prometheusPort}}:9090`],
    networks: ["cairn"],
  };
  services.grafana = {
    image: `\${CAIRN_GRAFANA_IMAGE:-${GRAFANA_IMAGE}}`,
    container_name: `${c.project}-grafana`,
    profiles: ["monitoring"],
    depends_on: ["prometheus"],
    environment: {
      GF_AUTH_ANONYMOUS_ENABLED: "true",
      GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer",
      GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: "/var/lib/grafana/dashboards/cairn-dashboard.json",
    },
    volumes: [
      "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro",
      "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro",
    ],
    ports: [`127.0.0.1:\${CAIRN_GRAFANA_PORT:-${c.monitoring.grafanaPort}}:3000`],
    networks: ["cairn"],
  };
  const volumes: Record<string, Yaml> = {};
  for (const n of c.nodes) volumes[`${n.name}-data`] = { name: n.volume };
  const doc = {
    services,
    networks: {
      cairn: {
        name: c.network,
        driver: "bridge",
        ipam: {
          config: [{ subnet: c.subnet, gateway: subnetPlan(c.subnet).gateway, ip_range: subnetPlan(c.subnet).ipRange }],
        },
      },
    },
    volumes,
  };
  const header = [
    `# A Cairn cluster in Docker: ${c.nodes.length} nodes of chain ${c.chainId} (written by \`cairn testnet --docker\`).`,
    "#   cairn docker up|status|down [--wipe] --dir <this directory>     (docs/docker.md)",
    `#   or: docker compose -p ${c.project} up -d                          (docker-compose works too)`,
    "# Each node's API is published on 127.0.0.1 (the port in its config.json); peers talk on the",
    `# private network ${c.network} (${c.subnet}) at fixed addresses, which the homes' p2p addresses name.`,
    "# `--profile monitoring` adds Prometheus and Grafana (images pulled from a registry).",
  ];
  return `${header.join("\n")}\n${yaml(doc)}\n`;
}

function prometheusConfig(c: DockerClusterInfo): string {
  const lines = [
    `# Prometheus for the Docker cluster ${c.project} (compose profile "monitoring"): every node's`,
    "# /metrics, scraped over the cluster's network by service name, labelled node=<name>.",
    "global:",
    "  scrape_interval: 5s",
    "  scrape_timeout: 4s",
    "  evaluation_interval: 5s",
    "scrape_configs:",
    "  - job_name: cairn",
    "    metrics_path: /metrics",
    "    static_configs:",
  ];
  for (const n of c.nodes) {
    lines.push(`      - targets: ["${n.name}:${n.apiPort}"]`, "        labels:", `          node: ${n.name}`);
  }
  return `${lines.join("\n")}\n`;
}

const GRAFANA_DATASOURCE = `apiVersion: 1
datasources:
  - name: Prometheus
    uid: cairn-prometheus
    type: prometheus
    access: proxy
    url: http://prometheus:9090
    isDefault: true
`;

const GRAFANA_DASHBOARDS = `apiVersion: 1
providers:
  - name: cairn
    folder: Cairn
    type: file
    options:
      path: /var/lib/grafana/dashboards
`;

/** The repository's docker/ directory (Dockerfile, build-base.sh, the Grafana dashboard). */
export const DOCKER_DIR = new URL("../../../docker/", import.meta.url).pathname;

/**
 * Writes a cluster for Docker: the homes, keys and genesis of `cairn testnet` (with each node's
 * libp2p address at its container's fixed address, and its API on 127.0.0.1:base+i, which the
 * container publishes there), DIR/docker-compose.yml, DIR/.env (the project name, for
 * `docker compose` run in DIR), DIR/docker.json, and the monitoring profile's configuration.
 * When run as root, the homes are given to uid 1000, the image's user, so that it can read its keys;
 * run as another user than 1000, the containers run with that uid (and gid 0, which owns the data volume).
 */
export async function createDockerTestnet(opts: DockerTestnetOptions): Promise<DockerTestnetResult> {
  const out = resolve(opts.out);
  const plan = subnetPlan(opts.subnet ?? DEFAULT_SUBNET);
  const project = opts.project ?? projectName(out);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new ClusterError("BAD_PROJECT", "--project must be lowercase letters, digits, - and _");
  }
  const basePort = opts.basePort ?? 26600;
  const r = await createTestnet({
    validators: opts.validators,
    out,
    basePort,
    ...(opts.chainId === undefined ? {} : { chainId: opts.chainId }),
    ...(opts.observers === undefined ? {} : { observers: opts.observers }),
    ...(opts.clients === undefined ? {} : { clients: opts.clients }),
    ...(opts.readAccess === undefined ? {} : { readAccess: opts.readAccess }),
    ...(opts.maxBlockTxs === undefined ? {} : { maxBlockTxs: opts.maxBlockTxs }),
    ...(opts.engine === undefined ? {} : { engine: opts.engine }),
    p2pAddress: (i) => `/ip4/${plan.nodeIp(i)}/tcp/${CONTAINER_P2P_PORT}`,
  });
  const nodes: DockerNodeInfo[] = r.homes.map((home, i) => {
    const name = basename(home);
    return {
      name,
      role: i < opts.validators ? "validator" : "observer",
      container: `${project}-${name}`,
      ip: plan.nodeIp(i),
      apiPort: basePort + i,
      url: `http://127.0.0.1:${basePort + i}`,
      volume: `${project}-${name}-data`,
    };
  });
  const cluster: DockerClusterInfo = {
    format: 1,
    project,
    chainId: r.chainId,
    image: opts.image ?? DEFAULT_NODE_IMAGE,
    network: `${project}-net`,
    subnet: plan.subnet,
    nodes,
    monitoring: { prometheusPort: 9090, grafanaPort: 3000 },
  };

  // Who the containers run as, so that they can read their keys (mode 600).
  const uid = process.getuid?.() ?? IMAGE_UID;
  let user: string | undefined;
  if (uid === 0) {
    for (const home of r.homes) {
      for (const f of [
        "",
        "config.json",
        "genesis.json",
        "keys",
        "keys/validator.json",
        "keys/peer.key",
        "keys/admin.json",
      ]) {
        await chown(join(home, f), IMAGE_UID, IMAGE_UID);
      }
    }
  } else if (uid !== IMAGE_UID) {
    user = `${uid}:0`;
  }

  const composePath = join(out, COMPOSE_FILE);
  await writeFile(
    composePath,
    composeFile(cluster, {
      ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
      ...(user === undefined ? {} : { user }),
    }),
    { flag: "wx" },
  );
  await writeFile(join(out, ".env"), `COMPOSE_PROJECT_NAME=${project}\n`, { flag: "wx" });
  await writeFile(join(out, DOCKER_CLUSTER_FILE), `${JSON.stringify(cluster, null, 2)}\n`, { flag: "wx" });
  const grafana = join(out, "monitoring", "grafana");
  await mkdir(join(grafana, "provisioning", "datasources"), { recursive: true });
  await mkdir(join(grafana, "provisioning", "dashboards"), { recursive: true });
  await mkdir(join(grafana, "dashboards"), { recursive: true });
  await writeFile(join(out, "monitoring", "prometheus.yml"), prometheusConfig(cluster));
  await writeFile(join(grafana, "provisioning", "datasources", "cairn.yml"), GRAFANA_DATASOURCE);
  await writeFile(join(grafana, "provisioning", "dashboards", "cairn.yml"), GRAFANA_DASHBOARDS);
  await copyFile(
    join(DOCKER_DIR, "grafana", "cairn-dashboard.json"),
    join(grafana, "dashboards", "cairn-dashboard.json"),
  );
  const summary = [
    `Wrote a ${opts.validators}-validator Docker testnet (chain ${r.chainId}) to ${out}`,
    ...nodes.map((n) => `  ${n.name}: container ${n.container} at ${n.ip}, API ${n.url}`),
    `Compose file ${composePath} (project ${project}, network ${cluster.network} ${cluster.subnet})`,
    `Keys in ${join(out, "keys")}: admin.json (org0 admin), orgI-admin.json, client.json, auditor.json`,
    `Start it with: cairn docker up --dir ${opts.out}   (after building the image: cairn docker build)`,
  ];
  return { ...r, cluster, composeFile: composePath, summary };
}

// ---- running docker ----

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (see `code`), only when it cannot start. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    execFile(
      cmd,
      args,
      {
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 120_000,
        ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e !== null && typeof e.code === "string") {
          reject(
            e.code === "ENOENT"
              ? new ClusterError(
                  "NOT_INSTALLED",
                  `${cmd} is not installed${cmd.startsWith("docker") ? " (Debian: apt-get install docker.io)" : ""}`,
                )
              : e,
          );
          return;
        }
        resolveRun({ code: e === null ? 0 : typeof e.code === "number" ? e.code : 1, stdout, stderr });
      },
    );
  });
}

/** Runs a command with its output on this process's stdout/stderr; resolves with the exit code. */
export function runInherit(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "inherit", "inherit"],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolveRun(code ?? (signal === null ? 1 : 128)));
  });
}

async function docker(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await run("docker", args, timeoutMs === undefined ? {} : { timeoutMs });
  if (r.code !== 0) {
    throw new ClusterError("DOCKER_FAILED", `docker ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

async function iptables(args: readonly string[]): Promise<void> {
  const r = await run("iptables", args, { timeoutMs: 20_000 }).catch((e: Error) => ({
    code: 127,
    stdout: "",
    stderr: e.message,
  }));
  if (r.code !== 0) {
    throw new ClusterError(
      "IPTABLES_FAILED",
      `iptables ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()} (partitions need root and iptables on the Docker host)`,
    );
  }
}

/** Throws a ClusterError that says what to do when the Docker engine does not answer. */
export async function checkEngine(): Promise<string> {
  const r = await run("docker", ["version", "--format", "{{.Server.Version}}"], { timeoutMs: 20_000 });
  if (r.code !== 0 || r.stdout.trim() === "") {
    throw new ClusterError(
      "NO_DOCKER_ENGINE",
      `the Docker engine does not answer (${(r.stderr || r.stdout).trim().split("\n").pop()}); start it (\`systemctl start docker\`, or \`dockerd &\` as root) or install it (Debian: apt-get install docker.io)`,
    );
  }
  return r.stdout.trim();
}

let composeCache: readonly string[] | undefined;

/**
 * The Compose command: $CAIRN_COMPOSE if set, else `docker compose` (the plugin) when it answers,
 * else the older standalone `docker-compose` (Debian's docker-compose package).
 */
export async function composeCommand(): Promise<readonly string[]> {
  composeCache ??= await findCompose();
  return composeCache;
}

async function findCompose(): Promise<readonly string[]> {
  const fromEnv = process.env.CAIRN_COMPOSE?.trim();
  if (fromEnv) return fromEnv.split(/\s+/);
  const works = async (cmd: string, args: string[]) => {
    try {
      return (await run(cmd, args, { timeoutMs: 20_000 })).code === 0;
    } catch {
      return false;
    }
  };
  if (await works("docker", ["compose", "version"])) return ["docker", "compose"];
  if (await works("docker-compose", ["version"])) return ["docker-compose"];
  throw new ClusterError(
    "NO_COMPOSE",
    "neither `docker compose` nor `docker-compose` works: install one (Debian: apt-get install docker-compose)",
  );
}

// ---- a running cluster ----

/** A container as `docker inspect` sees it. */
export interface ContainerState {
  /** created, running, paused, restarting, exited, dead, or absent (no such container). */
  readonly status: string;
  readonly exitCode?: number;
  /** starting, healthy, unhealthy (from the image's HEALTHCHECK). */
  readonly health?: string;
  /** Whether it is attached to the cluster's network. */
  readonly connected: boolean;
  readonly startedAt?: string;
  /** The host's pid of the container's first process (the node) while it runs. */
  readonly pid?: number;
}

export interface DockerNodeStatus {
  readonly node: DockerNodeInfo;
  readonly container: ContainerState;
  /** GET /status through the published port, when it answered. */
  readonly status?: StatusInfo;
  readonly error?: string;
}

export type Fault = "stop" | "start" | "kill" | "restart" | "pause" | "unpause" | "disconnect" | "connect";
export const FAULTS: readonly Fault[] = [
  "stop",
  "start",
  "kill",
  "restart",
  "pause",
  "unpause",
  "disconnect",
  "connect",
];

/** A cluster written by `cairn testnet --docker`, driven with docker and Compose. */
export class DockerCluster {
  readonly dir: string;
  readonly info: DockerClusterInfo;

  private constructor(dir: string, info: DockerClusterInfo) {
    this.dir = dir;
    this.info = info;
  }

  /** Reads DIR/docker.json. */
  static async load(dir: string): Promise<DockerCluster> {
    const root = resolve(dir);
    let text: string;
    try {
      text = await readFile(join(root, DOCKER_CLUSTER_FILE), "utf8");
    } catch {
      throw new ClusterError(
        "NO_DOCKER_CLUSTER",
        `no Docker cluster in ${root}: write one with \`cairn testnet --validators 4 --docker --out ${dir}\` (or \`cairn docker up --dir ${dir}\`)`,
      );
    }
    const info = JSON.parse(text) as DockerClusterInfo;
    if (info.format !== 1)
      throw new ClusterError("BAD_DOCKER_CLUSTER", `${join(root, DOCKER_CLUSTER_FILE)} has an unknown format`);
    return new DockerCluster(root, info);
  }

  /** A node by name (node0, observer1, ...); the error lists the names. */
  node(name: string): DockerNodeInfo {
    const n = this.info.nodes.find((x) => x.name === name || x.container === name);
    if (n === undefined) {
      throw new ClusterError(
        "NO_SUCH_NODE",
        `no node "${name}" in ${this.dir} (nodes: ${this.info.nodes.map((x) => x.name).join(", ")})`,
      );
    }
    return n;
  }

  /** `docker compose` (or `docker-compose`) with this cluster's project, file and directory. */
  async composeArgs(args: readonly string[], profiles: readonly string[] = []): Promise<[string, string[]]> {
    const [cmd, ...pre] = await composeCommand();
    return [
      cmd as string,
      [
        ...pre,
        "-p",
        this.info.project,
        "-f",
        join(this.dir, COMPOSE_FILE),
        "--project-directory",
        this.dir,
        ...profiles.flatMap((p) => ["--profile", p]),
        ...args,
      ],
    ];
  }

  private async compose(args: readonly string[], profiles: readonly string[], inherit: boolean): Promise<void> {
    const [cmd, full] = await this.composeArgs(args, profiles);
    if (inherit) {
      const code = await runInherit(cmd, full);
      if (code !== 0) throw new ClusterError("COMPOSE_FAILED", `${cmd} ${full.join(" ")} failed (exit ${code})`);
      return;
    }
    const r = await run(cmd, full, { timeoutMs: 300_000 });
    if (r.code !== 0)
      throw new ClusterError("COMPOSE_FAILED", `${cmd} ${full.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /**
   * Creates the network and volumes and starts every node (with `monitoring`, Prometheus and Grafana
   * too), then, unless `wait` is false, waits until every node's API answers.
   */
  async up(opts: { monitoring?: boolean; wait?: boolean; timeoutMs?: number; inherit?: boolean } = {}): Promise<void> {
    await checkEngine();
    if ((await run("docker", ["image", "inspect", this.info.image], { timeoutMs: 20_000 })).code !== 0) {
      throw new ClusterError(
        "NO_IMAGE",
        `the node image ${this.info.image} is not built: run \`cairn docker build --tag ${this.info.image}\` first (docs/docker.md)`,
      );
    }
    await this.compose(["up", "-d"], opts.monitoring ? ["monitoring"] : [], opts.inherit ?? false);
    if (opts.wait !== false)
      await this.waitUntilUp(
        this.info.nodes.map((n) => n.name),
        opts.timeoutMs ?? 120_000,
      );
  }

  /** Stops and removes the containers and the network; `wipe` removes the data volumes too. */
  async down(opts: { wipe?: boolean; inherit?: boolean } = {}): Promise<void> {
    // Paused containers cannot be stopped: resume them first.
    const states = await this.containers();
    for (const n of this.info.nodes)
      if (states.get(n.name)?.status === "paused") await docker(["unpause", n.container]);
    await this.heal();
    await this.compose(
      ["down", "--remove-orphans", "--timeout", "30", ...(opts.wipe ? ["--volumes"] : [])],
      ["monitoring"],
      opts.inherit ?? false,
    );
  }

  /** The state of every node's container, by node name. */
  async containers(): Promise<Map<string, ContainerState>> {
    const out = new Map<string, ContainerState>();
    const r = await run("docker", ["inspect", ...this.info.nodes.map((n) => n.container)], { timeoutMs: 30_000 });
    // `docker inspect` prints the containers it found even when some do not exist (exit 1).
    interface Inspected {
      Name?: string;
      State?: {
        Status?: string;
        Running?: boolean;
        ExitCode?: number;
        StartedAt?: string;
        Pid?: number;
        Health?: { Status?: string };
      };
      NetworkSettings?: { Networks?: Record<string, unknown> };
    }
    let found: Inspected[] = [];
    try {
      found = JSON.parse(r.stdout || "[]") as Inspected[];
    } catch {
      found = [];
    }
    for (const n of this.info.nodes) {
      const c = found.find((x) => x?.Name === `/${n.container}`);
      if (c === undefined) {
        out.set(n.name, { status: "absent", connected: false });
        continue;
      }
      out.set(n.name, {
        status: c.State?.Status ?? "unknown",
        ...(typeof c.State?.ExitCode === "number" && c.State?.Status === "exited"
          ? { exitCode: c.State.ExitCode }
          : {}),
        // A stopped container keeps the health of its last check: show it only while it runs.
        ...(c.State?.Health?.Status && c.State?.Status === "running" ? { health: c.State.Health.Status } : {}),
        connected: c.NetworkSettings?.Networks?.[this.info.network] !== undefined,
        ...(c.State?.StartedAt ? { startedAt: c.State.StartedAt } : {}),
        ...(c.State?.Running && c.State.Pid ? { pid: c.State.Pid } : {}),
      });
    }
    return out;
  }

  /** Every node's container state and, where its API answers, its GET /status. */
  async status(timeoutMs = 2_000): Promise<DockerNodeStatus[]> {
    const states = await this.containers();
    return Promise.all(
      this.info.nodes.map(async (node): Promise<DockerNodeStatus> => {
        const container = states.get(node.name) ?? { status: "absent", connected: false };
        try {
          const res = await fetch(`${node.url}/status`, { signal: AbortSignal.timeout(timeoutMs) });
          if (!res.ok) return { node, container, error: `HTTP ${res.status}` };
          return { node, container, status: (await res.json()) as StatusInfo };
        } catch (e) {
          const err = e as Error & { cause?: { code?: string } };
          const reason =
            err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (err.cause?.code ?? err.message);
          return { node, container, error: reason === "ECONNREFUSED" ? "connection refused" : reason };
        }
      }),
    );
  }

  /** Waits until the named nodes' APIs answer /health (fails early when a container exited). */
  async waitUntilUp(names: readonly string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(names);
    while (pending.size > 0) {
      for (const name of [...pending]) {
        try {
          const r = await fetch(`${this.node(name).url}/health`, { signal: AbortSignal.timeout(2_000) });
          if (r.ok) pending.delete(name);
        } catch {
          // not up yet
        }
      }
      if (pending.size === 0) break;
      const states = await this.containers();
      for (const name of pending) {
        const s = states.get(name);
        if (s !== undefined && (s.status === "exited" || s.status === "dead" || s.status === "absent")) {
          throw new ClusterError(
            "NODE_EXITED",
            `${name} is ${s.status}${s.exitCode === undefined ? "" : ` (exit ${s.exitCode})`}; its last log lines:\n${await this.logs(name, 20)}`,
          );
        }
      }
      if (Date.now() > deadline) {
        throw new ClusterError(
          "NOT_UP",
          `${[...pending].join(", ")} did not answer /health within ${timeoutMs / 1000} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The last `tail` lines a node's container wrote (stdout and stderr). */
  async logs(name: string, tail = 100): Promise<string> {
    const r = await run("docker", ["logs", "--tail", String(tail), this.node(name).container], { timeoutMs: 30_000 });
    return `${r.stdout}${r.stderr}`.trimEnd();
  }

  /** The iptables comment that marks this cluster's partition rules. */
  private get partitionTag(): string {
    return `cairn:${this.info.project}`;
  }

  /**
   * Splits the cluster's network into `groups` (node names): every packet between nodes of
   * different groups is dropped, both ways, by rules in the host's DOCKER-USER chain (Docker's
   * bridge traffic passes the host's iptables). Nodes named in no group keep reaching everyone.
   * Established connections stall as they would on a real partition; each node's API stays
   * reachable from the host through its published port. Needs root on the host (iptables).
   * A new partition replaces the previous one.
   */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    const named = groups.map((g) => g.map((n) => this.node(n)));
    const seen = new Set<string>();
    for (const n of named.flat()) {
      if (seen.has(n.name)) throw new ClusterError("BAD_PARTITION", `${n.name} is in two groups`);
      seen.add(n.name);
    }
    if (named.filter((g) => g.length > 0).length < 2) {
      throw new ClusterError("BAD_PARTITION", "a partition needs at least two groups of nodes");
    }
    await this.heal();
    for (const [i, a] of named.entries()) {
      for (const b of named.slice(i + 1)) {
        for (const x of a) {
          for (const y of b) {
            for (const [src, dst] of [
              [x.ip, y.ip],
              [y.ip, x.ip],
            ] as const) {
              await iptables([
                "-I",
                "DOCKER-USER",
                "-s",
                src,
                "-d",
                dst,
                "-m",
                "comment",
                "--comment",
                this.partitionTag,
                "-j",
                "DROP",
              ]);
            }
          }
        }
      }
    }
  }

  /** Removes this cluster's partition rules: every node reaches every other again. */
  async heal(): Promise<void> {
    for (const rule of await this.partitionRules()) await iptables(["-D", ...rule.slice(1)]);
  }

  /** This cluster's rules in DOCKER-USER, as `iptables -S` words ("-A", "DOCKER-USER", ...). */
  private async partitionRules(): Promise<string[][]> {
    const r = await run("iptables", ["-S", "DOCKER-USER"], { timeoutMs: 20_000 }).catch(() => undefined);
    if (r === undefined || r.code !== 0) return [];
    return r.stdout
      .split("\n")
      .filter((l) => l.includes(this.partitionTag))
      .map((l) =>
        l
          .trim()
          .split(/\s+/)
          .map((w) => w.replace(/^"|"$/g, "")),
      );
  }

  /** The groups of nodes that reach each other under the current partition rules (one group when there are none). */
  async partitionGroups(): Promise<string[][]> {
    const blocked = new Set<string>();
    for (const rule of await this.partitionRules()) {
      const src = rule[rule.indexOf("-s") + 1]?.replace(/\/32$/, "");
      const dst = rule[rule.indexOf("-d") + 1]?.replace(/\/32$/, "");
      blocked.add(`${src}>${dst}`);
    }
    const groups: string[][] = [];
    for (const n of this.info.nodes) {
      const g = groups.find((members) =>
        members.every((m) => {
          const o = this.node(m);
          return !blocked.has(`${n.ip}>${o.ip}`) && !blocked.has(`${o.ip}>${n.ip}`);
        }),
      );
      if (g === undefined) groups.push([n.name]);
      else g.push(n.name);
    }
    return groups;
  }

  /**
   * Injects a fault into one node, or undoes one:
   * - stop: SIGTERM, a clean stop (SIGKILL after `timeoutS`, 30 s); start: start a stopped or killed node
   * - kill: SIGKILL, a crash; restart: stop cleanly and start again
   * - pause / unpause: freeze every process of the container (cgroup freezer), then thaw it
   * - disconnect: cut it off the cluster's network (its peers and the host's port lose it);
   *   connect: attach it again at its fixed address
   */
  async fault(fault: Fault, name: string, opts: { timeoutS?: number } = {}): Promise<void> {
    const n = this.node(name);
    const t = String(opts.timeoutS ?? 30);
    switch (fault) {
      case "stop":
        await docker(["stop", "--time", t, n.container], 120_000);
        return;
      case "start":
        await docker(["start", n.container]);
        return;
      case "kill":
        await docker(["kill", "--signal", "KILL", n.container]);
        return;
      case "restart":
        await docker(["restart", "--time", t, n.container], 120_000);
        return;
      case "pause":
        await docker(["pause", n.container]);
        return;
      case "unpause":
        await docker(["unpause", n.container]);
        return;
      case "disconnect":
        await docker(["network", "disconnect", this.info.network, n.container]);
        return;
      case "connect":
        await docker(["network", "connect", "--ip", n.ip, "--alias", n.name, this.info.network, n.container]);
        return;
    }
  }
}
