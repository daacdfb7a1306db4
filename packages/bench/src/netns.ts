// Network namespaces for partitioning a cluster of local processes (as test/helpers/netns.ts does for
// the partition test): one namespace per node, each on its own small subnet routed through one
// router namespace, so every packet between two nodes crosses the router; the benchmark (in the
// root namespace) reaches every node through the router too. A partition is a set of blackhole
// policy-routing rules in the router between the nodes of different groups: a real network fault
// the nodes see only as lost packets, which leaves the benchmark's own connections alone.
// Needs root (CAP_NET_ADMIN) and iproute2.
import { execFileSync } from "node:child_process";

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

export interface NetLab {
  /** Namespace and address of node i. */
  readonly nodes: readonly { readonly netns: string; readonly ip: string }[];
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
  const destroy = () => {
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
