// A small network of Linux network namespaces for partition tests: one namespace per node, two
// subnets ("sides") joined by a router namespace, and the test (in the root namespace) reaching
// every node through the router. Partitioning = policy-routing rules in the router that blackhole
// forwarding between the two sides: a real network fault that the nodes see only as lost packets.
// Needs root (CAP_NET_ADMIN) and iproute2; nothing is sent outside the namespaces made here.
import { execFileSync } from "node:child_process";

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "partition tests need root (CAP_NET_ADMIN) to create network namespaces";
  try {
    ip("-V");
  } catch {
    return "partition tests need iproute2 (`ip`), which is not installed";
  }
  return undefined;
}

export interface NetLab {
  /** Namespace and address of node i. */
  readonly nodes: readonly { readonly netns: string; readonly ip: string; readonly side: 0 | 1 }[];
  /** Cuts every path between side 0 and side 1 (both directions). */
  partition(): void;
  heal(): void;
  destroy(): void;
}

/**
 * Makes `n` node namespaces; nodes listed in `side1` sit on the second subnet, the rest on the
 * first. `tag` (a few letters/digits) keeps names unique among concurrent runs.
 */
export function createNetLab(n: number, side1: readonly number[], tag: string): NetLab {
  const octet = 100 + (process.pid % 100); // 10.<octet>.{0,1,2}.x: unlikely to collide with the host's routes
  const router = `cairn-${tag}-rt`;
  const nets = [`10.${octet}.1`, `10.${octet}.2`];
  const nodes = Array.from({ length: n }, (_, i) => {
    const side = (side1.includes(i) ? 1 : 0) as 0 | 1;
    return { netns: `cairn-${tag}-n${i}`, ip: `${nets[side]}.${10 + i}`, side };
  });
  const made: string[] = [];
  const hostLink = `cr${tag}h`.slice(0, 15);
  const destroy = () => {
    for (const ns of made.reverse()) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
    try {
      ip("link", "del", hostLink);
    } catch {
      // deleted with the router namespace
    }
    try {
      ip("route", "del", `10.${octet}.0.0/16`);
    } catch {
      // deleted with the link
    }
  };
  try {
    ip("netns", "add", router);
    made.push(router);
    ip("-n", router, "link", "set", "lo", "up");
    execFileSync("ip", ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    // Root namespace <-> router: the test's path to every node.
    ip("link", "add", hostLink, "type", "veth", "peer", "name", "up0", "netns", router);
    ip("addr", "add", `10.${octet}.0.1/30`, "dev", hostLink);
    ip("link", "set", hostLink, "up");
    ip("-n", router, "addr", "add", `10.${octet}.0.2/30`, "dev", "up0");
    ip("-n", router, "link", "set", "up0", "up");
    ip("route", "add", `10.${octet}.0.0/16`, "via", `10.${octet}.0.2`);
    // One bridge per side in the router, with the side's gateway address.
    for (const side of [0, 1]) {
      ip("-n", router, "link", "add", `br${side}`, "type", "bridge");
      ip("-n", router, "addr", "add", `${nets[side]}.1/24`, "dev", `br${side}`);
      ip("-n", router, "link", "set", `br${side}`, "up");
    }
    nodes.forEach((node, i) => {
      ip("netns", "add", node.netns);
      made.push(node.netns);
      ip("-n", node.netns, "link", "set", "lo", "up");
      ip("-n", router, "link", "add", `v${i}`, "type", "veth", "peer", "name", "eth0", "netns", node.netns);
      ip("-n", router, "link", "set", `v${i}`, "master", `br${node.side}`);
      ip("-n", router, "link", "set", `v${i}`, "up");
      ip("-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", "eth0");
      ip("-n", node.netns, "link", "set", "eth0", "up");
      ip("-n", node.netns, "route", "add", "default", "via", `${nets[node.side]}.1`);
    });
  } catch (err) {
    destroy();
    throw err;
  }
  const rules = [
    ["from", `${nets[0]}.0/24`, "to", `${nets[1]}.0/24`],
    ["from", `${nets[1]}.0/24`, "to", `${nets[0]}.0/24`],
  ];
  let cut = false;
  return {
    nodes,
    partition() {
      if (cut) return;
      for (const r of rules) ip("-n", router, "rule", "add", ...r, "blackhole", "priority", "100");
      cut = true;
    },
    heal() {
      if (!cut) return;
      for (const r of rules) ip("-n", router, "rule", "del", ...r, "blackhole", "priority", "100");
      cut = false;
    },
    destroy,
  };
}
