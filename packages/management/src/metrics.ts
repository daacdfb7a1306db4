// Prometheus metrics of a node (FG DLT: Operation & maintenance). Every layer has its own group,
// named cairn_<layer>_<what>, as lodestar and CometBFT do. A node builds one NodeMetrics with its
// own Registry (never prom-client's global one, so several nodes can share a process) and hands the
// groups to its components; values that a layer already keeps (peer counts, mempool size, consensus
// step) are read at scrape time through the `sources` callbacks, so those layers need no change.
// docs/metrics.md lists every metric.
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The network layer's counters (a subset of @cairn/network's NetworkStats, which satisfies it). */
export interface NetworkCounters {
  readonly peers: number;
  readonly members: number;
  readonly gossipPublished: number;
  readonly gossipBytesOut: number;
  readonly gossipAccepted: number;
  readonly gossipBytesIn: number;
  readonly gossipRejected: number;
  readonly gossipIgnored: number;
  readonly requestBytesOut: number;
  readonly requestBytesIn: number;
  readonly connectionsDenied: number;
  readonly dialFailures: number;
  readonly peerPenalties?: number;
  readonly peersBanned?: number;
  readonly peersCoolingOff?: number;
}

/** What the metrics read at scrape time. Each is optional: a missing source leaves its metrics at 0. */
export interface NodeMetricsSources {
  /** The network layer's counters; undefined (all 0) while a node has no network. */
  readonly network?: () => NetworkCounters | undefined;
  readonly mempool?: () => { readonly size: number; readonly bytes: number; readonly maxSize: number };
  readonly consensus?: () => {
    readonly height: number;
    readonly round: number;
    readonly step: string;
    readonly clockOffsetMs?: number;
    readonly raft?: { readonly term: number; readonly role: string; readonly commitIndex: number };
  };
  /** Height of the latest committed block. */
  readonly ledgerHeight?: () => number;
  /** True while the node fetches blocks it missed from a peer (block sync). */
  readonly syncing?: () => boolean;
  /** Consensus messages of later heights buffered until this node gets there (BFT). */
  readonly consensusBuffered?: () => { readonly messages: number; readonly bytes: number };
  /** The node's data directory (LevelDB): its size is reported as cairn_storage_size_bytes. */
  readonly dataDir?: string;
  /** Atomic batches the database has written. */
  readonly storageWrites?: () => number;
  /** Log lines at info and above, by level, since start. */
  readonly logLines?: () => Readonly<Record<string, number>>;
  /** Private data events since start (stored, missing, pulled, purged, pushed, push_failed, received, refused). */
  readonly privateData?: () => Readonly<Record<string, number>>;
  /** Snapshot and state sync events since start (docs/state-sync.md). */
  readonly stateSync?: () => Readonly<Record<string, number>>;
}

export interface NodeMetricsOptions {
  readonly sources?: NodeMetricsSources;
  /** Labels of cairn_node_info (chain id, moniker, version, engine...). */
  readonly info?: Readonly<Record<string, string>>;
  /** How long a computed storage size is reused, ms. Default 5000. */
  readonly storageCacheMs?: number;
  /** Collect prom-client's default process and Node.js metrics. Default true. */
  readonly defaultMetrics?: boolean;
}

export interface NetworkMetrics {
  readonly peers: Gauge;
  readonly members: Gauge;
  readonly receivedBytes: Counter<"kind">;
  readonly sentBytes: Counter<"kind">;
  readonly gossipMessages: Counter<"result">;
  readonly gossipPublished: Counter;
  readonly connectionsDenied: Counter;
  readonly dialFailures: Counter;
  readonly peerPenalties: Counter;
  readonly peersBanned: Counter;
  readonly peersCoolingOff: Gauge;
}

export interface MempoolMetrics {
  readonly size: Gauge;
  readonly bytes: Gauge;
  readonly maxSize: Gauge;
  /** Transactions whose signature this node checked at admission (the cipher library's work). */
  readonly verified: Counter;
  /** Transactions admitted to the mempool. */
  readonly admitted: Counter;
}

export interface ConsensusMetrics {
  readonly height: Gauge;
  readonly round: Gauge;
  readonly step: Gauge<"step">;
  readonly syncing: Gauge;
  /** Incremented by commit.round for each committed block: the rounds that did not decide. */
  readonly roundChanges: Counter;
  /** Seconds between the header times of consecutive committed blocks. */
  readonly blockInterval: Histogram;
  /** Seconds from a transaction's admission by this node to its commit. */
  readonly commitLatency: Histogram;
  /** Seconds to execute a block (proposed here, received or synced), before it is committed. */
  readonly blockExecution: Histogram;
  /** Seconds to commit a block: the ledger's durable write and the mempool update after it. */
  readonly blockCommit: Histogram;
  /** Evidence of validators' misbehaviour recorded, by kind. */
  readonly evidence: Counter<"kind">;
  /** Messages of later heights held until this node gets there. */
  readonly bufferedMessages: Gauge;
  readonly bufferedBytes: Gauge;
  /** 1 when the engine halted after a storage failure. */
  readonly halted: Gauge;
  /** How far this node's clock is behind the proposers' (seconds; negative: ahead). */
  readonly clockOffset: Gauge;
  /** Consensus messages this node sent and received (valid ones), by direction, and their bytes. */
  readonly messages: Counter<"direction">;
  readonly messageBytes: Counter<"direction">;
  /** Raft: the current term, the highest height known committed, and 1 on the leader. */
  readonly raftTerm: Gauge;
  readonly raftCommitIndex: Gauge;
  readonly raftLeader: Gauge;
}

export interface LedgerMetrics {
  readonly height: Gauge;
  readonly blocksCommitted: Counter;
  /** Committed transactions by receipt code ("OK" or the failure code). */
  readonly txsCommitted: Counter<"code">;
  /** Transactions refused at admission, by error code. */
  readonly txsRejected: Counter<"code">;
  readonly gasUsed: Counter<"contract">;
}

export interface StorageMetrics {
  readonly sizeBytes: Gauge;
  readonly writes: Counter;
}

export interface ApiMetrics {
  readonly requests: Counter<"method" | "route" | "status">;
  readonly requestDuration: Histogram<"route">;
  /** Counts one answered request (what @cairn/api's `ApiTelemetry.request` reports). */
  observe(r: { method: string; route: string; status: number; seconds: number }): void;
}

export interface NodeMetrics {
  /** This node's own registry. */
  readonly register: Registry;
  readonly network: NetworkMetrics;
  readonly mempool: MempoolMetrics;
  readonly consensus: ConsensusMetrics;
  readonly ledger: LedgerMetrics;
  readonly storage: StorageMetrics;
  readonly api: ApiMetrics;
  /** The Prometheus text exposition of every metric, with its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** Histogram buckets, seconds. */
const BLOCK_INTERVAL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300];
const COMMIT_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];
const BLOCK_WORK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const API_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A counter that mirrors a running total kept elsewhere (set at scrape time). */
function mirror(counter: { reset(): void; inc(v: number): void }, value: number | undefined): void {
  counter.reset();
  if (value !== undefined && value > 0) counter.inc(value);
}

/**
 * A counter with one label whose values are another layer's running totals, copied at scrape time
 * (the totals are the source of truth; the counter only mirrors them).
 */
function labelledMirror<L extends string>(
  registers: Registry[],
  name: string,
  help: string,
  label: L,
  read: () => Readonly<Record<string, number>> | undefined,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      const totals = read();
      this.reset();
      if (totals === undefined) return;
      for (const [value, n] of Object.entries(totals)) this.inc({ [label]: value } as Record<L, string>, n);
    },
  });
}

/** Sum of the sizes of the files under `dir` (0 if it does not exist). */
export async function directorySize(dir: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await directorySize(path);
    else if (e.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/**
 * Builds the metrics of one node in a registry of its own, with prom-client's default process
 * metrics (CPU, memory, event loop lag, GC) in it too.
 */
export function createNodeMetrics(options: NodeMetricsOptions = {}): NodeMetrics {
  const register = new Registry();
  const registers = [register];
  const src = options.sources ?? {};
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register });

  if (options.info !== undefined) {
    const info = options.info;
    new Gauge({
      name: "cairn_node_info",
      help: "Constant 1, labelled with what identifies the node",
      labelNames: Object.keys(info),
      registers,
    }).set(info, 1);
  }

  // network: read from the network layer's counters at scrape time.
  const network: NetworkMetrics = {
    peers: new Gauge({
      name: "cairn_network_peers",
      help: "Connected member peers",
      registers,
      collect() {
        this.set(src.network?.()?.peers ?? 0);
      },
    }),
    members: new Gauge({
      name: "cairn_network_members",
      help: "Size of the network's member set",
      registers,
      collect() {
        this.set(src.network?.()?.members ?? 0);
      },
    }),
    receivedBytes: labelledMirror(
      registers,
      "cairn_network_received_bytes_total",
      "Application payload bytes received from peers, by kind (gossip, request)",
      "kind",
      () => {
        const s = src.network?.();
        return s && { gossip: s.gossipBytesIn, request: s.requestBytesIn };
      },
    ),
    sentBytes: labelledMirror(
      registers,
      "cairn_network_sent_bytes_total",
      "Application payload bytes sent to peers, by kind (gossip, request)",
      "kind",
      () => {
        const s = src.network?.();
        return s && { gossip: s.gossipBytesOut, request: s.requestBytesOut };
      },
    ),
    gossipMessages: labelledMirror(
      registers,
      "cairn_network_gossip_received_total",
      "Gossip messages received, by validation result (accepted, rejected, ignored)",
      "result",
      () => {
        const s = src.network?.();
        return s && { accepted: s.gossipAccepted, rejected: s.gossipRejected, ignored: s.gossipIgnored };
      },
    ),
    gossipPublished: new Counter({
      name: "cairn_network_gossip_published_total",
      help: "Gossip messages this node published",
      registers,
      collect() {
        mirror(this, src.network?.()?.gossipPublished);
      },
    }),
    connectionsDenied: new Counter({
      name: "cairn_network_connections_denied_total",
      help: "Connections refused by the membership gater",
      registers,
      collect() {
        mirror(this, src.network?.()?.connectionsDenied);
      },
    }),
    dialFailures: new Counter({
      name: "cairn_network_dial_failures_total",
      help: "Failed dials to member peers",
      registers,
      collect() {
        mirror(this, src.network?.()?.dialFailures);
      },
    }),
    peerPenalties: new Counter({
      name: "cairn_network_peer_penalties_total",
      help: "Misbehaviour reports against peers (invalid messages on any path, syncs they could not serve)",
      registers,
      collect() {
        mirror(this, src.network?.()?.peerPenalties);
      },
    }),
    peersBanned: new Counter({
      name: "cairn_network_peers_banned_total",
      help: "Peers disconnected and refused for a cool-off after repeated misbehaviour",
      registers,
      collect() {
        mirror(this, src.network?.()?.peersBanned);
      },
    }),
    peersCoolingOff: new Gauge({
      name: "cairn_network_peers_cooling_off",
      help: "Peers refused now (cooling off after repeated misbehaviour)",
      registers,
      collect() {
        this.set(src.network?.()?.peersCoolingOff ?? 0);
      },
    }),
  };

  const mempool: MempoolMetrics = {
    size: new Gauge({
      name: "cairn_mempool_size",
      help: "Transactions in the mempool",
      registers,
      collect() {
        this.set(src.mempool?.().size ?? 0);
      },
    }),
    bytes: new Gauge({
      name: "cairn_mempool_bytes",
      help: "Bytes of the transactions in the mempool",
      registers,
      collect() {
        this.set(src.mempool?.().bytes ?? 0);
      },
    }),
    maxSize: new Gauge({
      name: "cairn_mempool_max_size",
      help: "Capacity of the mempool, transactions",
      registers,
      collect() {
        this.set(src.mempool?.().maxSize ?? 0);
      },
    }),
    verified: new Counter({
      name: "cairn_mempool_verified_total",
      help: "Transactions whose signature this node verified at admission (from its API or by gossip)",
      registers,
    }),
    admitted: new Counter({
      name: "cairn_mempool_admitted_total",
      help: "Transactions admitted to this node's mempool (from its API or by gossip)",
      registers,
    }),
  };

  const consensus: ConsensusMetrics = {
    height: new Gauge({
      name: "cairn_consensus_height",
      help: "Height the consensus engine is deciding (the latest committed height + 1)",
      registers,
      collect() {
        this.set(src.consensus?.().height ?? 0);
      },
    }),
    round: new Gauge({
      name: "cairn_consensus_round",
      help: "Round of the height being decided (always 0 for solo)",
      registers,
      collect() {
        this.set(src.consensus?.().round ?? 0);
      },
    }),
    step: new Gauge({
      name: "cairn_consensus_step",
      help: "1 for the step the consensus engine is in, as the step label; no sample before it runs",
      labelNames: ["step"],
      registers,
      collect() {
        this.reset();
        const s = src.consensus?.();
        if (s !== undefined) this.set({ step: s.step }, 1);
      },
    }),
    syncing: new Gauge({
      name: "cairn_consensus_syncing",
      help: "1 while the node fetches blocks it missed from a peer (block sync), else 0",
      registers,
      collect() {
        this.set(src.syncing?.() === true ? 1 : 0);
      },
    }),
    roundChanges: new Counter({
      name: "cairn_consensus_round_changes_total",
      help: "Rounds that ended without a decision: the sum of commit.round over committed blocks",
      registers,
    }),
    blockInterval: new Histogram({
      name: "cairn_consensus_block_interval_seconds",
      help: "Seconds between the header times of consecutive committed blocks",
      buckets: BLOCK_INTERVAL_BUCKETS,
      registers,
    }),
    commitLatency: new Histogram({
      name: "cairn_consensus_commit_latency_seconds",
      help: "Seconds from a transaction's admission through this node's API to its commit",
      buckets: COMMIT_LATENCY_BUCKETS,
      registers,
    }),
    blockExecution: new Histogram({
      name: "cairn_consensus_block_execution_seconds",
      help: "Seconds to execute a block (proposed here, received or synced) before its commit",
      buckets: BLOCK_WORK_BUCKETS,
      registers,
    }),
    blockCommit: new Histogram({
      name: "cairn_consensus_block_commit_seconds",
      help: "Seconds to commit a block: the ledger's durable write and the mempool update after it",
      buckets: BLOCK_WORK_BUCKETS,
      registers,
    }),
    evidence: new Counter({
      name: "cairn_consensus_evidence_total",
      help: "Evidence of validators' misbehaviour recorded by this node, by kind (duplicate-vote, conflicting-proposal, invalid-proposal)",
      labelNames: ["kind"],
      registers,
    }),
    bufferedMessages: new Gauge({
      name: "cairn_consensus_buffered_messages",
      help: "Consensus messages of later heights held until this node gets there (bounded per validator)",
      registers,
      collect() {
        this.set(src.consensusBuffered?.().messages ?? 0);
      },
    }),
    bufferedBytes: new Gauge({
      name: "cairn_consensus_buffered_bytes",
      help: "Proposal bytes of later heights held until this node gets there (bounded per validator)",
      registers,
      collect() {
        this.set(src.consensusBuffered?.().bytes ?? 0);
      },
    }),
    clockOffset: new Gauge({
      name: "cairn_consensus_clock_offset_seconds",
      help: "Median block time minus arrival time of recent proposals: how far this node's clock is behind the proposers' (negative: ahead)",
      registers,
      collect() {
        this.set((src.consensus?.().clockOffsetMs ?? 0) / 1000);
      },
    }),
    messages: new Counter({
      name: "cairn_consensus_messages_total",
      help: "Consensus messages this node sent (broadcast once) and received (valid, from a validator), by direction",
      labelNames: ["direction"],
      registers,
    }),
    messageBytes: new Counter({
      name: "cairn_consensus_message_bytes_total",
      help: "Bytes of the consensus messages counted by cairn_consensus_messages_total, by direction",
      labelNames: ["direction"],
      registers,
    }),
    raftTerm: new Gauge({
      name: "cairn_consensus_raft_term",
      help: "Raft: this node's current term (0 on other engines)",
      registers,
      collect() {
        this.set(src.consensus?.().raft?.term ?? 0);
      },
    }),
    raftCommitIndex: new Gauge({
      name: "cairn_consensus_raft_commit_index",
      help: "Raft: the highest height this node knows committed (0 on other engines)",
      registers,
      collect() {
        this.set(src.consensus?.().raft?.commitIndex ?? 0);
      },
    }),
    raftLeader: new Gauge({
      name: "cairn_consensus_raft_leader",
      help: "Raft: 1 while this node is the leader, else 0",
      registers,
      collect() {
        this.set(src.consensus?.().raft?.role === "leader" ? 1 : 0);
      },
    }),
    halted: new Gauge({
      name: "cairn_consensus_halted",
      help: "1 when consensus halted on this node after a storage failure",
      registers,
      collect() {
        this.set(src.consensus?.().step === "halted" ? 1 : 0);
      },
    }),
  };

  const ledger: LedgerMetrics = {
    height: new Gauge({
      name: "cairn_ledger_height",
      help: "Height of the latest committed block",
      registers,
      collect() {
        this.set(src.ledgerHeight?.() ?? 0);
      },
    }),
    blocksCommitted: new Counter({
      name: "cairn_ledger_blocks_committed_total",
      help: "Blocks committed by consensus since the node started (blocks fetched by block sync are not counted)",
      registers,
    }),
    txsCommitted: new Counter({
      name: "cairn_ledger_txs_committed_total",
      help: 'Transactions committed, by receipt code ("OK" or the failure code)',
      labelNames: ["code"],
      registers,
    }),
    txsRejected: new Counter({
      name: "cairn_ledger_txs_rejected_total",
      help: "Transactions refused at admission through the API, by error code",
      labelNames: ["code"],
      registers,
    }),
    gasUsed: new Counter({
      name: "cairn_ledger_gas_used_total",
      help: "Gas charged to committed transactions, by the contract they called",
      labelNames: ["contract"],
      registers,
    }),
  };

  const cacheMs = options.storageCacheMs ?? 5_000;
  let cached: { at: number; size: Promise<number> } | undefined;
  labelledMirror(registers, "cairn_log_lines_total", "Log lines at info and above, by level", "level", () =>
    src.logLines?.(),
  );
  labelledMirror(
    registers,
    "cairn_private_data_total",
    "Private data writes this node stored, recorded missing, pulled or purged, and plaintext pushes sent, failed, received or refused (docs/privacy.md)",
    "event",
    () => src.privateData?.(),
  );
  labelledMirror(
    registers,
    "cairn_state_sync_total",
    "Snapshots this node took or failed to take, chunks it served, and, joining by state sync, chunks it applied or rejected and snapshots it restored (docs/state-sync.md)",
    "event",
    () => src.stateSync?.(),
  );
  const storage: StorageMetrics = {
    writes: new Counter({
      name: "cairn_storage_writes_total",
      help: "Atomic batches written to the database (each block commit is one or more)",
      registers,
      collect() {
        mirror(this, src.storageWrites?.());
      },
    }),
    sizeBytes: new Gauge({
      name: "cairn_storage_size_bytes",
      help: "Bytes on disk of the node's data directory (recomputed at most every few seconds)",
      registers,
      async collect() {
        const dir = src.dataDir;
        if (dir === undefined) return;
        if (cached === undefined || Date.now() - cached.at > cacheMs) {
          cached = { at: Date.now(), size: directorySize(dir) };
        }
        this.set(await cached.size);
      },
    }),
  };

  const requests = new Counter({
    name: "cairn_api_requests_total",
    help: "HTTP API requests answered, by method, route pattern and status code",
    labelNames: ["method", "route", "status"],
    registers,
  });
  const requestDuration = new Histogram({
    name: "cairn_api_request_duration_seconds",
    help: "Seconds to answer an HTTP API request, by route pattern",
    labelNames: ["route"],
    buckets: API_DURATION_BUCKETS,
    registers,
  });
  const api: ApiMetrics = {
    requests,
    requestDuration,
    observe(r) {
      requests.inc({ method: r.method, route: r.route, status: String(r.status) });
      requestDuration.observe({ route: r.route }, r.seconds);
    },
  };

  return {
    register,
    network,
    mempool,
    consensus,
    ledger,
    storage,
    api,
    async scrape() {
      return { contentType: register.contentType, body: await register.metrics() };
    },
  };
}
