// Network namespaces for partitioning a cluster of local processes (as test/helpers/netns.ts does for
// the partition test): one namespace per node, each on its own small subnet routed through one
// router namespace, so every packet between two nodes crosses the router; the benchmark (in the
// root namespace) reaches every node through the router too. A partition is a set of blackhole
// policy-routing rules in the router between the nodes of different groups: a real network fault
// the nodes see only as lost packets, which leaves the benchmark's own connections alone.
// Needs root (CAP_NET_ADMIN) and iproute2.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { delayBetween, type NetworkProfile } from "./network/profile.ts";
import type { RelayConfig, RelayPair } from "./network/relay.ts";

/** The relay process's entry point (run with this process's Node). */
const RELAY_MAIN = new URL("./network/relay-main.ts", import.meta.url).pathname;

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "partitions need root (CAP_NET_ADMIN) to create network namespaces";
  try {
    ip("-V");
  } catch {
    return "partitions need iproute2 (`ip`), which is not installed";
  }
  return undefined;
}

/** Why the network cannot be emulated here (namespaces, iptables), or undefined when it can. */
export function emulationUnavailable(): string | undefined {
  const why = netnsUnavailable();
  if (why !== undefined) return why.replace("partitions need", "network emulation needs");
  try {
    execFileSync("iptables", ["-V"], { stdio: "ignore" });
  } catch {
    return "network emulation needs iptables, which is not installed";
  }
  return undefined;
}

export interface NetLab {
  /** Namespace and address of node i. */
  readonly nodes: readonly { readonly netns: string; readonly ip: string }[];
  /**
   * Emulates `profile` between the nodes (network/profile.ts), whose peer-to-peer ports are
   * `p2pPorts` (node i listens on nodes[i].ip:p2pPorts[i]): starts the delaying relay in the router
   * namespace and redirects every node-to-node connection to it; adds loss rules. Once per lab.
   */
  emulate(profile: NetworkProfile, p2pPorts: readonly number[]): Promise<void>;
  /** Blackholes every path between nodes (by index) of different groups. */
  partition(groups: readonly (readonly number[])[]): void;
  heal(): void;
  destroy(): void;
}

/** Makes `n` node namespaces (at most 200); `tag` (letters/digits) keeps names unique among concurrent runs. */
export function createNetLab(n: number, tag: string): NetLab {
  if (n < 1 || n > 200) throw new RangeError("a net lab holds 1 to 200 nodes");
  // 10.<octet>.<10+i>.2 for node i: unlikely to collide with the host's routes.
  const octet = 100 + (process.pid % 100);
  const router = `cb-${tag}-rt`;
  const hostLink = `cb${tag}h`.slice(0, 15);
  const nodes = Array.from({ length: n }, (_, i) => ({ netns: `cb-${tag}-n${i}`, ip: `10.${octet}.${10 + i}.2` }));
  const made: string[] = [];
  let routeAdded = false;
  let relay: ChildProcess | undefined;
  const destroy = () => {
    relay?.kill("SIGKILL");
    relay = undefined;
    for (const ns of made.reverse()) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
    made.length = 0;
    try {
      ip("link", "del", hostLink);
    } catch {
      // deleted with the router namespace
    }
    if (routeAdded) {
      try {
        ip("route", "del", `10.${octet}.0.0/16`);
      } catch {
        // deleted with the link
      }
      routeAdded = false;
    }
  };
  try {
    ip("netns", "add", router);
    made.push(router);
    ip("-n", router, "link", "set", "lo", "up");
    execFileSync("ip", ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    ip("link", "add", hostLink, "type", "veth", "peer", "name", "up0", "netns", router);
    ip("addr", "add", `10.${octet}.0.1/30`, "dev", hostLink);
    ip("link", "set", hostLink, "up");
    ip("-n", router, "addr", "add", `10.${octet}.0.2/30`, "dev", "up0");
    ip("-n", router, "link", "set", "up0", "up");
    ip("route", "add", `10.${octet}.0.0/16`, "via", `10.${octet}.0.2`);
    routeAdded = true;
    nodes.forEach((node, i) => {
      const net = `10.${octet}.${10 + i}`;
      ip("netns", "add", node.netns);
      made.push(node.netns);
      ip("-n", node.netns, "link", "set", "lo", "up");
      ip("-n", router, "link", "add", `v${i}`, "type", "veth", "peer", "name", "eth0", "netns", node.netns);
      ip("-n", router, "addr", "add", `${net}.1/24`, "dev", `v${i}`);
      ip("-n", router, "link", "set", `v${i}`, "up");
      ip("-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", "eth0");
      ip("-n", node.netns, "link", "set", "eth0", "up");
      ip("-n", node.netns, "route", "add", "default", "via", `${net}.1`);
    });
  } catch (err) {
    destroy();
    throw err;
  }
  let rules: string[][] = [];
  const heal = () => {
    for (const r of rules) {
      try {
        ip("-n", router, "rule", "del", ...r);
      } catch {
        // already gone
      }
    }
    rules = [];
  };
  return {
    nodes,
    async emulate(profile, p2pPorts) {
      if (relay !== undefined) throw new Error("the network is already emulated");
      const n = nodes.length;
      const routerIp = (i: number) => `10.${octet}.${10 + i}.1`;
      const pairs: RelayPair[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          pairs.push({
            from: i,
            to: j,
            listenHost: routerIp(i),
            listenPort: 20_000 + i * n + j,
            targetHost: nodes[j]?.ip as string,
            targetPort: p2pPorts[j] as number,
            delayMs: delayBetween(profile, i, j),
            returnDelayMs: delayBetween(profile, j, i),
          });
        }
      }
      const config: RelayConfig = {
        pairs,
        jitterMs: profile.jitterMs,
        ...(profile.bandwidthMbit === undefined ? {} : { bandwidthMbit: profile.bandwidthMbit }),
      };
      const child = spawn("ip", ["netns", "exec", router, process.execPath, RELAY_MAIN, JSON.stringify(config)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      relay = child;
      let output = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the delaying relay did not start in 15 s: ${output}`)),
          15_000,
        );
        child.stdout?.on("data", (d) => {
          output += d;
          if (output.includes("ready")) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr?.on("data", (d) => (output += d));
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`the delaying relay exited (${code}): ${output}`));
        });
      });
      const iptables = (ns: string, ...args: string[]) =>
        execFileSync("ip", ["netns", "exec", ns, "iptables", ...args], { stdio: ["ignore", "ignore", "pipe"] });
      // Every connection from node i to node j's peer-to-peer port goes to the relay of (i, j).
      for (const p of pairs) {
        iptables(
          router,
          ...["-t", "nat", "-A", "PREROUTING", "-i", `v${p.from}`, "-s", nodes[p.from]?.ip as string],
          ...["-d", p.targetHost, "-p", "tcp", "--dport", String(p.targetPort)],
          ...["-j", "DNAT", "--to-destination", `${p.listenHost}:${p.listenPort}`],
        );
      }
      if (profile.lossPercent > 0) {
        // Each packet between two nodes is sent by one of them: drop it there, at random.
        const lo = Math.min(...p2pPorts);
        const hi = Math.max(...p2pPorts);
        const probability = String(profile.lossPercent / 100);
        for (const node of nodes) {
          for (const port of ["--dport", "--sport"]) {
            iptables(
              node.netns,
              ...["-A", "OUTPUT", "-p", "tcp", port, `${lo}:${hi}`],
              ...["-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"],
            );
          }
        }
      }
    },
    partition(groups) {
      heal();
      for (const [gi, g] of groups.entries()) {
        for (const [hi, h] of groups.entries()) {
          if (gi === hi) continue;
          for (const a of g) {
            for (const b of h) {
              const from = nodes[a]?.ip;
              const to = nodes[b]?.ip;
              if (from === undefined || to === undefined) throw new RangeError(`no node ${a} or ${b} in the net lab`);
              const rule = ["from", `${from}/32`, "to", `${to}/32`, "blackhole", "priority", "100"];
              ip("-n", router, "rule", "add", ...rule);
              rules.push(rule);
            }
          }
        }
      }
    },
    heal,
    destroy,
  };
}
