// `cairn docker ...`: build the node image, bring a Docker cluster up, show its status, tear it
// down, and inject faults into its nodes (docs/docker.md). The clusters are written by
// `cairn testnet --docker` (or by `cairn docker up` on first use).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { DockerNodeStatus, Fault } from "@cairn/cluster";
import { type Command, CommanderError } from "commander";
import { blockAge, formatTable, printJson, printLine } from "./output.ts";
import { CliError } from "./shared.ts";

const DEFAULT_DIR = ".cairn/docker";

function whole(v: string, flag: string, min = 0): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < min)
    throw new CliError("BAD_ARGS", `${flag} must be a whole number of at least ${min}`);
  return x;
}

/** The table of `cairn docker status`: per node its container, health, network and what its API says. */
export function formatDockerStatus(rows: readonly DockerNodeStatus[], project: string, now = Date.now()): string[] {
  const header = [
    "NODE",
    "CONTAINER",
    "STATE",
    "HEALTH",
    "NETWORK",
    "API",
    "ROLE",
    "HEIGHT",
    "ROUND",
    "STEP",
    "PEERS",
    "LAST BLOCK",
  ];
  const table = rows.map((r) => {
    const c = r.container;
    const state = c.status === "exited" && c.exitCode !== undefined ? `exited (${c.exitCode})` : c.status;
    const net = c.status === "absent" ? "-" : c.connected ? "connected" : "cut off";
    const s = r.status;
    const api = s === undefined ? "down" : s.sync.catchingUp ? "up, syncing" : "up";
    return [
      r.node.name,
      r.node.container,
      state,
      c.health ?? "-",
      net,
      `${r.node.url} ${api}`,
      s?.role ?? "-",
      s === undefined ? "-" : String(s.height),
      s === undefined ? "-" : String(s.consensus.round),
      s?.consensus.step ?? "-",
      s === undefined ? "-" : String(s.network.peers),
      s === undefined ? "-" : blockAge(s.blockTime, now),
    ];
  });
  const lines = formatTable(header, table);
  const up = rows.filter((r) => r.status !== undefined).length;
  const heights = rows.flatMap((r) => (r.status === undefined ? [] : [r.status.height]));
  lines.push("");
  lines.push(
    `${up} of ${rows.length} nodes answer (project ${project})` +
      (heights.length > 0 ? `, heights ${Math.min(...heights)}..${Math.max(...heights)}` : ""),
  );
  for (const r of rows) {
    if (r.status !== undefined) continue;
    const c = r.container;
    const hint =
      c.status === "absent"
        ? "cairn docker up"
        : c.status === "paused"
          ? `cairn docker unpause ${r.node.name}`
          : c.status === "running" && !c.connected
            ? `cairn docker connect ${r.node.name}`
            : c.status === "running"
              ? `docker logs ${r.node.container}`
              : `cairn docker start ${r.node.name}`;
    lines.push(`  ${r.node.name}: ${r.error ?? "no answer"}; ${hint}`);
  }
  return lines;
}

const FAULT_HELP: Record<Fault, string> = {
  stop: "stop a node cleanly (SIGTERM; SIGKILL after --timeout seconds)",
  start: "start a stopped or killed node again",
  kill: "kill a node (SIGKILL: a crash)",
  restart: "stop a node cleanly and start it again",
  pause: "freeze every process of a node (docker pause)",
  unpause: "thaw a paused node",
  disconnect: "cut a node off the cluster's network (docker network disconnect)",
  connect: "attach a cut-off node to the network again, at its fixed address",
};

export function dockerCommands(program: Command): Command {
  const dockerCmd = program
    .command("docker")
    .description("Cairn clusters in Docker: build the image, up/status/down, fault injection (docs/docker.md)");

  dockerCmd
    .command("build")
    .description(
      "build the node image from docker/Dockerfile (dependencies are installed on the host, none in the build)",
    )
    .option(
      "--base <image>",
      "base image with node 24 (cairn-base:24 from docker/build-base.sh needs no registry)",
      "node:24-slim",
    )
    .option("--tag <image>", "tag of the node image", "cairn-node:latest")
    .option("--verbose", "show npm's and docker build's output")
    .action(async (o: { base: string; tag: string; verbose?: boolean }) => {
      const { buildNodeImage } = await import("@cairn/cluster");
      const tag = await buildNodeImage({ base: o.base, tag: o.tag, verbose: o.verbose === true });
      printLine(tag);
    });

  dockerCmd
    .command("up")
    .description("start a Docker cluster (writing it on first use: 4 validators) and wait until every node answers")
    .option("--dir <dir>", "directory of the cluster (see `cairn testnet --docker`)", DEFAULT_DIR)
    .option("--validators <n>", "validators (first use only)", "4")
    .option("--observers <n>", "observers (first use only)", "0")
    .option("--base-port <port>", "node i's API on 127.0.0.1:base+i (first use only)", "26600")
    .option("--subnet <cidr>", "the cluster's private network (first use only)", "10.213.0.0/24")
    .option("--image <image>", "node image (first use only)", "cairn-node:latest")
    .option("--monitoring", "also start Prometheus and Grafana (the monitoring profile; needs their images)")
    .option("--no-wait", "return once the containers are started")
    .option("--timeout <s>", "how long to wait for the nodes", "120")
    .action(
      async (o: {
        dir: string;
        validators: string;
        observers: string;
        basePort: string;
        subnet: string;
        image: string;
        monitoring?: boolean;
        wait: boolean;
        timeout: string;
      }) => {
        const { createDockerTestnet, DockerCluster, DOCKER_CLUSTER_FILE } = await import("@cairn/cluster");
        if (!existsSync(join(resolve(o.dir), DOCKER_CLUSTER_FILE))) {
          const r = await createDockerTestnet({
            validators: whole(o.validators, "--validators", 1),
            observers: whole(o.observers, "--observers"),
            out: o.dir,
            basePort: whole(o.basePort, "--base-port", 1024),
            subnet: o.subnet,
            image: o.image,
          });
          process.stderr.write(`Wrote a ${o.validators}-validator Docker cluster (chain ${r.chainId}) to ${r.out}\n`);
        }
        const cluster = await DockerCluster.load(o.dir);
        await cluster.up({
          monitoring: o.monitoring === true,
          wait: o.wait,
          timeoutMs: whole(o.timeout, "--timeout", 1) * 1000,
          inherit: true,
        });
        printLine(
          `Cairn cluster ${cluster.info.project} is up (${cluster.info.nodes.length} nodes, chain ${cluster.info.chainId}):`,
        );
        for (const n of cluster.info.nodes)
          printLine(`  ${n.name.padEnd(10)} ${n.url}   (${n.role}, container ${n.container})`);
        if (o.monitoring) {
          printLine(
            `  Prometheus http://127.0.0.1:${cluster.info.monitoring.prometheusPort}   Grafana http://127.0.0.1:${cluster.info.monitoring.grafanaPort}`,
          );
        }
        printLine(`Try: cairn tx kv put hello world --home ${join(o.dir, "node0")}`);
        printLine(`     cairn docker status --dir ${o.dir}`);
      },
    );

  dockerCmd
    .command("status")
    .description("every node of a Docker cluster: container state, health, network, and its API's height, round, peers")
    .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR)
    .option("--timeout <ms>", "a node whose API does not answer within this many ms is down", "2000")
    .option("--json", "print the rows as JSON")
    .action(async (o: { dir: string; timeout: string; json?: boolean }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      const cluster = await DockerCluster.load(o.dir);
      const rows = await cluster.status(whole(o.timeout, "--timeout", 1));
      const groups = await cluster.partitionGroups();
      if (o.json) printJson({ nodes: rows, partition: groups });
      else {
        for (const line of formatDockerStatus(rows, cluster.info.project)) printLine(line);
        if (groups.length > 1) {
          printLine(`  partitioned: ${groups.map((g) => g.join(",")).join(" | ")}  (cairn docker heal)`);
        }
      }
      const down = rows.filter((r) => r.status === undefined).length;
      if (down > 0) throw new CommanderError(1, "cairn.nodesDown", `${down} of ${rows.length} nodes do not answer`);
    });

  dockerCmd
    .command("down")
    .description("stop and remove the cluster's containers and network; the chain data is kept unless --wipe")
    .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR)
    .option("--wipe", "also remove the data volumes (the next `up` starts a new chain from genesis)")
    .action(async (o: { dir: string; wipe?: boolean }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      const cluster = await DockerCluster.load(o.dir);
      await cluster.down({ wipe: o.wipe === true, inherit: true });
      printLine(
        o.wipe
          ? `Cluster ${cluster.info.project} removed, data volumes wiped.`
          : `Cluster ${cluster.info.project} removed; its data volumes are kept (\`cairn docker up --dir ${o.dir}\` continues the chain).`,
      );
    });

  dockerCmd
    .command("logs")
    .description("the last lines a node wrote (JSON lines; pipe into `npx pino-pretty`)")
    .argument("<node>", "node0, observer0, ...")
    .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR)
    .option("--tail <n>", "lines", "100")
    .action(async (node: string, o: { dir: string; tail: string }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      printLine(await (await DockerCluster.load(o.dir)).logs(node, whole(o.tail, "--tail", 1)));
    });

  dockerCmd
    .command("partition")
    .description(
      "split the network between groups of nodes (iptables on the host, root): cairn docker partition node0,node1 node2,node3",
    )
    .argument("<groups...>", "two or more comma-separated groups of nodes; nodes in no group reach everyone")
    .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR)
    .action(async (groups: string[], o: { dir: string }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      const cluster = await DockerCluster.load(o.dir);
      await cluster.partition(groups.map((g) => g.split(",").filter(Boolean)));
      printLine(`partitioned: ${(await cluster.partitionGroups()).map((g) => g.join(",")).join(" | ")}`);
    });

  dockerCmd
    .command("heal")
    .description("remove the partition: every node reaches every other again")
    .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR)
    .action(async (o: { dir: string }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      await (await DockerCluster.load(o.dir)).heal();
      printLine("healed");
    });

  for (const fault of Object.keys(FAULT_HELP) as Fault[]) {
    const cmd = dockerCmd
      .command(fault)
      .description(FAULT_HELP[fault])
      .argument("<node>", "node0, observer0, ... (or the container's name)")
      .option("--dir <dir>", "directory of the cluster", DEFAULT_DIR);
    if (fault === "stop" || fault === "restart") cmd.option("--timeout <s>", "seconds to wait before SIGKILL", "30");
    cmd.action(async (node: string, o: { dir: string; timeout?: string }) => {
      const { DockerCluster } = await import("@cairn/cluster");
      const cluster = await DockerCluster.load(o.dir);
      await cluster.fault(fault, node, o.timeout === undefined ? {} : { timeoutS: whole(o.timeout, "--timeout") });
      printLine(`${fault}: ${cluster.node(node).container}`);
    });
  }
  return dockerCmd;
}
