// `cairn cluster status`: every node of a local cluster at once, as one table.
import { basename } from "node:path";
import type { StatusInfo } from "@cairn/client";
import { clusterHomes } from "@cairn/cluster";
import { blockAge, formatTable } from "./output.ts";
import { apiUrl, fetchStatus, unreachableReason } from "./shared.ts";

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
  // On a Raft chain the engine's round is its term and its step is the node's Raft role.
  const raft = nodes.some((n) => n.status?.consensus.raft !== undefined);
  const header = [
    "NODE",
    "API",
    "STATE",
    "ROLE",
    "HEIGHT",
    raft ? "TERM" : "ROUND",
    raft ? "RAFT" : "STEP",
    "PEERS",
    "MEMPOOL",
    "LAST BLOCK",
  ];
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
