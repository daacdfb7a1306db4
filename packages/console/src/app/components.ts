// The 22 components of the ITU-T FG DLT reference architecture (../shared/reference/fg-dlt.md),
// each with what it does, where Cairn implements it (docs/architecture.md), the log layer whose
// lines it shows, and the live figures the map draws for it from the home node's snapshot.
import { TRACE_POINTS, type TracePoint } from "@cairn/client";
import { bytes, count, rate, short } from "./format.ts";
import type { Snapshot } from "./monitor.ts";

export type LayerName = "Infrastructure" | "Core" | "Interface" | "Cross-layer";

export interface Component {
  readonly slug: string;
  readonly layer: LayerName;
  /** The FG DLT group (Network, Ledger, Consistency...). */
  readonly group: string;
  readonly name: string;
  readonly what: string;
  readonly where: string;
  /** The node's log layer whose recent lines belong to this component. */
  readonly logLayer: string;
  /** Whether the consensus event log is this component's trace. */
  readonly consensusTrace?: boolean;
  /** The transaction trace points this component records (GET /txs/:hash/trace). */
  readonly tracePoints?: readonly TracePoint[];
  figures(s: Snapshot): readonly (readonly [string, string])[];
}

const r = (s: Snapshot, name: string) => rate(s.rates[name]);
const m = (s: Snapshot, name: string, where: Record<string, string> = {}) =>
  s.metrics === undefined ? undefined : s.metrics.sum(name, where);

/** Mean of a histogram (seconds → ms), or undefined before its first observation. */
function meanMs(s: Snapshot, name: string): string {
  const sum = m(s, `${name}_sum`);
  const n = m(s, `${name}_count`);
  return sum === undefined || n === undefined || n === 0 ? "—" : `${((sum / n) * 1000).toFixed(1)} ms`;
}

export const COMPONENTS: readonly Component[] = [
  {
    slug: "network-discovery",
    layer: "Infrastructure",
    group: "Network",
    name: "Discovery",
    what: "Finds and keeps connections to the chain's member nodes: bootstrap addresses, peer exchange, redial with back-off, and a connection gater that admits only the nodes of the on-chain registry.",
    where: "network · src/network.ts, src/pex.ts; node · src/p2p.ts (followRegistry)",
    logLayer: "network",
    figures: (s) => [
      ["peers", count(s.status?.network.peers)],
      ["members", count(s.status?.network.members)],
      ["dial failures", count(m(s, "cairn_network_dial_failures_total"))],
    ],
  },
  {
    slug: "data-transceiver",
    tracePoints: ["gossiped"],
    layer: "Infrastructure",
    group: "Network",
    name: "Data transceiver",
    what: "Moves bytes between nodes: gossipsub topics for transactions and consensus messages, and request/response streams for block sync.",
    where: "network · src/network.ts (gossipsub, length-prefixed request/response)",
    logLayer: "network",
    figures: (s) => [
      ["in", `${bytes(s.rates.cairn_network_received_bytes_total)}/s`],
      ["out", `${bytes(s.rates.cairn_network_sent_bytes_total)}/s`],
      ["gossip in/s", r(s, "cairn_network_gossip_received_total")],
    ],
  },
  {
    slug: "cipher-libraries",
    tracePoints: ["verified"],
    layer: "Infrastructure",
    group: "Utility",
    name: "Cipher libraries",
    what: "SHA-256 hashing, Ed25519 signatures (OpenSSL in a worker pool on hot paths, noble elsewhere) and RFC 6962 Merkle trees.",
    where: "crypto · src/hash.ts, src/ed25519.ts, src/native/ (VerifyPool), src/merkle.ts",
    logLayer: "node",
    figures: (s) => [
      ["tx signatures verified/s", r(s, "cairn_mempool_verified_total")],
      ["verified in all", count(m(s, "cairn_mempool_verified_total"))],
    ],
  },
  {
    slug: "data-persistence",
    tracePoints: ["committed"],
    layer: "Infrastructure",
    group: "Data persistence",
    name: "Data persistence",
    what: "Durable storage of blocks, receipts, state and indexes in LevelDB, each commit one atomic batch.",
    where: "storage · src/database.ts; ledger · src/columns.ts; node · src/mempool-journal.ts",
    logLayer: "storage",
    figures: (s) => [
      ["writes/s", r(s, "cairn_storage_writes_total")],
      ["size on disk", bytes(m(s, "cairn_storage_size_bytes"))],
    ],
  },
  {
    slug: "messaging",
    tracePoints: ["decoded"],
    layer: "Infrastructure",
    group: "Messaging",
    name: "Messaging",
    what: "The canonical MessagePack encodings of transactions, blocks, votes and receipts that every node hashes and signs byte for byte.",
    where: "messaging · src/codec.ts, src/tx.ts, src/block.ts, src/vote.ts; spec in docs/spec/",
    logLayer: "network",
    figures: (s) => [
      ["gossip published/s", r(s, "cairn_network_gossip_published_total")],
      ["gossip received/s", r(s, "cairn_network_gossip_received_total")],
    ],
  },
  {
    slug: "transaction",
    tracePoints: ["received", "admitted", "committed"],
    layer: "Core",
    group: "Ledger",
    name: "Transaction",
    what: "Signed contract calls with a chain id, nonce and expiry; the ledger refuses replays.",
    where: "messaging · src/tx.ts; ledger · src/ledger.ts (replay index)",
    logLayer: "ledger",
    figures: (s) => [
      ["committed/s", r(s, "cairn_ledger_txs_committed_total")],
      ["committed", count(m(s, "cairn_ledger_txs_committed_total"))],
      ["refused", count(m(s, "cairn_ledger_txs_rejected_total"))],
    ],
  },
  {
    slug: "record",
    tracePoints: ["committed"],
    layer: "Core",
    group: "Ledger",
    name: "Record (blocks)",
    what: "Blocks linked by hash, each with its commit certificate, and the indexes of blocks, transactions and receipts.",
    where: "ledger · src/ledger.ts (execute, commit, indexes)",
    logLayer: "ledger",
    figures: (s) => [
      ["height", count(s.status?.height)],
      ["blocks/s", r(s, "cairn_ledger_blocks_committed_total")],
      ["head", short(s.status?.blockHash)],
    ],
  },
  {
    slug: "status",
    layer: "Core",
    group: "Ledger",
    name: "Status (world state)",
    what: "The world state in a sparse Merkle tree: every key has a proof against the state root in the block header.",
    where: "ledger · src/state/ (sparse Merkle tree, overlays, proofs; docs/spec/state.md)",
    logLayer: "ledger",
    figures: (s) => [
      ["state root", short(s.status?.stateRoot)],
      ["at height", count(s.status?.height)],
    ],
  },
  {
    slug: "privacy-protection",
    layer: "Core",
    group: "Ledger",
    name: "Privacy protection",
    what: "Read access by role (on a members-only chain every read is signed by an active member), and private data collections: data shared only among some organisations' nodes, its salted hash on chain for everyone.",
    where:
      "api · src/access.ts (the access table); messaging · src/read.ts (signed reads), src/private.ts (private writes); ledger · src/private/store.ts; node · src/private-data.ts (docs/privacy.md)",
    logLayer: "ledger",
    figures: (s) => [
      ["reads", s.readsNeedKey ? "members only" : "open"],
      ["this page signs", s.readsNeedKey ? "with the loaded key" : "nothing needed"],
      ["collections", count(s.collections?.length)],
    ],
  },
  {
    slug: "data-synchronization",
    layer: "Core",
    group: "Consistency",
    name: "Data synchronization",
    what: "Block sync: a node behind fetches committed blocks with their certificates, checks each, re-executes and commits only what reproduces the certified hash.",
    where: "consensus · src/sync/block-sync.ts, src/sync/fetcher.ts",
    logLayer: "consensus",
    figures: (s) => [
      ["catching up", s.status === undefined ? "—" : s.status.sync.catchingUp ? "yes" : "no"],
      [
        "last caught up",
        s.status?.sync.lastCaughtUpAt === undefined
          ? "never"
          : new Date(s.status.sync.lastCaughtUpAt).toLocaleTimeString("en-GB"),
      ],
    ],
  },
  {
    slug: "legitimate-validation",
    tracePoints: ["admitted"],
    layer: "Core",
    group: "Consistency",
    name: "Legitimate validation",
    what: "Checks before anything is accepted: signature, chain, size, expiry, replay and arguments at admission; proposals re-executed before a vote.",
    where: "mempool · src/mempool.ts; ledger · Ledger.execute; consensus · BftEngine.prevalidate",
    logLayer: "mempool",
    figures: (s) => [
      ["admitted/s", r(s, "cairn_mempool_admitted_total")],
      ["mempool", `${count(s.status?.mempool.size)} txs`],
      ["refused/s", r(s, "cairn_ledger_txs_rejected_total")],
    ],
  },
  {
    slug: "consensus",
    tracePoints: ["proposed", "voted"],
    layer: "Core",
    group: "Consistency",
    name: "Consensus",
    what: "Tendermint BFT: propose, prevote, precommit; a block commits with precommits of more than two thirds of the voting power.",
    where: "consensus · src/bft/tendermint.ts, src/bft/engine.ts, src/executor.ts, src/solo/",
    logLayer: "consensus",
    consensusTrace: true,
    figures: (s) => [
      ["height", count(s.status?.consensus.height)],
      ["round · step", s.status === undefined ? "—" : `${s.status.consensus.round} · ${s.status.consensus.step}`],
      ["round changes", count(m(s, "cairn_consensus_round_changes_total"))],
    ],
  },
  {
    slug: "incentive",
    layer: "Core",
    group: "Consistency",
    name: "Incentive",
    what: "A permissioned chain mints no reward: gas accounting bounds each transaction's work (maxTxGas) and can feed quotas or cost sharing.",
    where: "ledger · receipts' gasUsed; chain parameter maxTxGas (docs/contracts.md, Incentive)",
    logLayer: "ledger",
    figures: (s) => [
      ["gas used", count(m(s, "cairn_ledger_gas_used_total"))],
      ["gas/s", r(s, "cairn_ledger_gas_used_total")],
    ],
  },
  {
    slug: "contract-verification",
    layer: "Core",
    group: "Smart contract",
    name: "Verification",
    what: "Every node checks a WebAssembly module at deploy: allowed imports, bounded memory, no floats or threads, metered.",
    where: "vm · src/validate.ts, src/meter.ts, src/prepare.ts; contracts · src/wasm/system.ts",
    logLayer: "contracts",
    figures: (s) => [["modules refused", count(m(s, "cairn_ledger_txs_committed_total", { code: "INVALID_MODULE" }))]],
  },
  {
    slug: "language-compiler",
    layer: "Core",
    group: "Smart contract",
    name: "Language compiler",
    what: "AssemblyScript compiled with Cairn's feature flags and checked by the chain's own verifier, on the developer's machine.",
    where: "contract-sdk · assembly/, src/build.ts; cli · cairn contract new|build",
    logLayer: "contracts",
    figures: () => [["runs", "offline: cairn contract build"]],
  },
  {
    slug: "execution-engine",
    tracePoints: ["executed"],
    layer: "Core",
    group: "Smart contract",
    name: "Execution engine",
    what: "Runs native and WebAssembly contracts with metered gas; each transaction reverts on its own failure.",
    where: "vm · src/engine.ts, src/host.ts; contracts · src/wasm/runner.ts, src/native/; ledger · Ledger.execute",
    logLayer: "contracts",
    figures: (s) => [
      ["gas/s", r(s, "cairn_ledger_gas_used_total")],
      ["block execution", meanMs(s, "cairn_consensus_block_execution_seconds")],
    ],
  },
  {
    slug: "interface",
    tracePoints: ["received", "streamed"],
    layer: "Interface",
    group: "Interface",
    name: "API",
    what: "The HTTP API (JSON and msgpack, server-sent events), the SDK and the cairn command line.",
    where: "api · src/server.ts, src/routes/; client (SDK); cli",
    logLayer: "api",
    figures: (s) => [
      ["requests/s", r(s, "cairn_api_requests_total")],
      ["requests", count(m(s, "cairn_api_requests_total"))],
    ],
  },
  {
    slug: "log",
    layer: "Cross-layer",
    group: "Operation & maintenance",
    name: "Log",
    what: "Structured JSON logs (pino), one channel per layer with its own level; the last lines are kept for GET /logs.",
    where: "management · src/logging.ts",
    logLayer: "node",
    figures: (s) => [
      ["info", count(m(s, "cairn_log_lines_total", { level: "info" }))],
      ["warn", count(m(s, "cairn_log_lines_total", { level: "warn" }))],
      ["error", count(m(s, "cairn_log_lines_total", { level: "error" }) ?? 0)],
    ],
  },
  {
    slug: "scaling",
    layer: "Cross-layer",
    group: "Operation & maintenance",
    name: "Scaling",
    what: "Observers: full nodes that check every certificate and serve reads without voting.",
    where: "cluster · src/join.ts (cairn join); cairn testnet --observers N",
    logLayer: "node",
    figures: (s) => [
      ["role", s.status?.role ?? "—"],
      ["nodes", count(s.status?.network.members)],
    ],
  },
  {
    slug: "monitoring",
    tracePoints: TRACE_POINTS,
    layer: "Cross-layer",
    group: "Operation & maintenance",
    name: "Monitoring",
    what: "Prometheus metrics per layer, health and readiness, and each transaction's trace points.",
    where: "management · src/metrics.ts, src/trace.ts, src/telemetry.ts; api · GET /metrics, /health, /ready",
    logLayer: "node",
    figures: (s) => [
      ["series", count(s.metrics?.samples.length)],
      ["consensus events", count(s.events.length)],
    ],
  },
  {
    slug: "privilege-management",
    layer: "Cross-layer",
    group: "System management",
    name: "Privilege management",
    what: "Organisations, identities and roles on chain, changed only by governance proposals approved by a threshold of organisations.",
    where: "management · src/privilege/roles.ts, src/governance/; ledger · checkAdmission",
    logLayer: "ledger",
    figures: (s) => {
      const ids = s.organizations?.flatMap((o) => o.identities.filter((i) => i.active)) ?? [];
      const roles = new Map<string, number>();
      for (const i of ids) for (const role of i.roles) roles.set(role, (roles.get(role) ?? 0) + 1);
      return [
        ["organisations", count(s.organizations?.length)],
        ["members", count(s.organizations === undefined ? undefined : ids.length)],
        ["roles", roles.size === 0 ? "—" : [...roles].map(([k, v]) => `${k} ${v}`).join(", ")],
      ];
    },
  },
  {
    slug: "nodes-management",
    layer: "Cross-layer",
    group: "System management",
    name: "Nodes management",
    what: "The validator set and node registry on chain; changes take effect at a scheduled height on every node.",
    where: "management · src/governance/ (validator schedule, node registry); node · src/p2p.ts",
    logLayer: "node",
    figures: (s) => [
      ["validators", count(s.status?.validators.length)],
      ["nodes", count(s.status?.network.members)],
    ],
  },
];

export const LAYERS: readonly LayerName[] = ["Interface", "Core", "Infrastructure", "Cross-layer"];
