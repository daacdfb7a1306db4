// What `cairn bench` drives: a cluster of validators it can start, watch, hurt and stop. The
// benchmark itself only talks HTTP to the nodes' APIs; everything that depends on how the nodes run
// (local processes today, Docker containers later) is behind this interface.
//
// Implementations:
//   - ProcessTarget (targets/processes.ts): `cairn testnet` + one `cairn start` process per
//     validator on this machine, on loopback or, for partitions, in network namespaces;
//   - AttachedTarget (targets/attached.ts): a running cluster given by its API URLs and key files,
//     which the benchmark measures but cannot start, stop or hurt.
// A Docker target implements the same interface with `docker run/kill/restart/pause` and a
// network disconnect for partitions.

import type { NetworkProfile } from "./network/profile.ts";

/** Settings of a cluster the target starts (ignored by targets that attach to a running one). */
export interface ClusterSpec {
  /** Number of validators (node0 ... nodeN-1). */
  readonly validators: number;
  /** Registered, funded client keys to write (keys/client.json, keys/client-1.json ...): the senders. */
  readonly clients: number;
  /** The chain's bound on transactions per block (genesis `maxBlockTxs`); default: `cairn testnet`'s. */
  readonly maxBlockTxs?: number;
  /** Node config `consensus.emptyBlockInterval` (ms): how often an idle chain makes an empty block. */
  readonly emptyBlockIntervalMs?: number;
  /** Whether the cluster must support `partition` (processes: run each node in a network namespace). */
  readonly partitionable?: boolean;
  /**
   * Run every node with `cairn start --cpu-profile DIR/<node name>` (its main thread's CPU profile,
   * written when it stops; `cairn bench --profile`); targets that cannot ignore it.
   */
  readonly cpuProfDir?: string;
  /** Log level of every node (default "warn"). */
  readonly logLevel?: string;
  /** The chain's consensus engine (genesis; default "tendermint"). */
  readonly engine?: "tendermint" | "raft";
  /** An emulated network between the validators (latency, jitter, loss, bandwidth; network/profile.ts). */
  readonly network?: NetworkProfile;
}

/** One node of the cluster under test. */
export interface TargetNode {
  /** Stable name, the validator's moniker: node0, node1, ... */
  readonly name: string;
  /** Base URL of its HTTP API, reachable from the benchmark process. */
  readonly url: string;
  /** Its validator public key (hex), to find the proposer; undefined when unknown. */
  readonly validatorKey?: string;
  /** Local process id while it runs (processes target): CPU, memory and disk I/O come from /proc. */
  readonly pid?: number;
  /** Container id or another handle of the implementation (Docker). */
  readonly id?: string;
  /** Its home directory on this machine (data size), when local. */
  readonly home?: string;
}

/** Resource counters of one node since it started (cumulative, like /proc). */
export interface NodeUsage {
  readonly cpuSec: number;
  readonly rssBytes: number;
  /** Bytes read from and written to storage; undefined when the target cannot tell. */
  readonly diskReadBytes?: number;
  readonly diskWriteBytes?: number;
}

/** What a target can do to its nodes: true, or why not (printed in the report's notes). */
export interface TargetCapabilities {
  readonly kill: true | string;
  readonly restart: true | string;
  readonly pause: true | string;
  readonly partition: true | string;
  /** Emulating the network between validators (ClusterSpec.network); absent: not supported. */
  readonly emulate?: true | string;
}

export interface BenchTarget {
  /** As the report discloses it. */
  readonly kind: "processes" | "docker";
  /** The network between the nodes, for the report ("loopback TCP", "network namespaces", ...). */
  readonly network: string;
  readonly capabilities: TargetCapabilities;

  /** Starts the cluster (or checks the attached one) and resolves once every node answers and a block committed. */
  start(): Promise<void>;
  /** The nodes, in validator order; pids change when a node restarts. */
  nodes(): readonly TargetNode[];
  /** Directory holding admin.json and the client keys (client.json, client-1.json, ...). */
  keysDir(): string;

  /** SIGKILL (or the container equivalent): the node stops at once, nothing flushed. */
  kill(name: string): Promise<void>;
  /** Starts a killed or stopped node again on its data; resolves once its API answers. */
  restart(name: string): Promise<void>;
  /** Freezes the node (SIGSTOP / docker pause) and thaws it. */
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Cuts every path between the groups (both directions), and restores them. */
  partition(groups: readonly (readonly string[])[]): Promise<void>;
  heal(): Promise<void>;

  /** Cumulative resource counters of a running node; undefined when the target cannot read them (then /metrics is used). */
  usage(name: string): NodeUsage | undefined;
  /** Bytes of the node's data on disk, if the target can see them (else /metrics `cairn_storage_size_bytes`). */
  storageBytes(name: string): number | undefined;

  /** Stops every node and removes what start() created (unless told to keep it). */
  stop(): Promise<void>;
}

/** The node called `name`, or an error naming the known ones. */
export function nodeByName(target: BenchTarget, name: string): TargetNode {
  const n = target.nodes().find((x) => x.name === name);
  if (n === undefined) {
    throw new Error(
      `no node ${name} in the target (nodes: ${target
        .nodes()
        .map((x) => x.name)
        .join(", ")})`,
    );
  }
  return n;
}
