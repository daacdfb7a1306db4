import { type ApiServer, createApiServer } from "@cairn/api";
import {
  type BftEngine,
  type ConsensusEngine,
  createBftEngine,
  createBlockExecutor,
  createSoloEngine,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify, VerifyPool } from "@cairn/crypto/native";
import { createLedger, type ExecutedBlock, type Genesis, type Ledger } from "@cairn/ledger";
import {
  apiTelemetry,
  consensusTelemetry,
  createLoggers,
  createNodeMetrics,
  governanceContract,
  mempoolTelemetry,
  type NetworkCounters,
  type NodeLoggers,
  type NodeMetrics,
  parseLogLevel,
  TxTracer,
} from "@cairn/management";
import { Mempool } from "@cairn/mempool";
import { encode, txSigningBytes } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { type BackendComponents, NodeBackend } from "./backend.ts";
import { homePaths, loadConfig, loadGenesis, type NodeConfig, readKeyFile } from "./config.ts";
import { createEvidenceStore, evidenceView } from "./evidence-store.ts";
import { createMempoolJournal } from "./mempool-journal.ts";
import { blockSource, followRegistry, SyncTracker, startNetwork } from "./p2p.ts";
import { createSafetyStore } from "./safety-store.ts";
import { VERSION } from "./version.ts";

/** Request/response protocol that carries a validator's retransmitted consensus messages. */
const CONSENSUS_RESEND = "consensus-resend";

export interface NodeOptions {
  readonly home: string;
  /** Overrides applied on top of HOME/config.json (e.g. from CLI flags). */
  readonly config?: Partial<Pick<NodeConfig, "logLevel" | "verifyWorkers">> & { apiPort?: number; apiHost?: string };
  /** Use these loggers instead of building them from the config. */
  readonly loggers?: NodeLoggers;
}

/** A running Cairn node: every layer wired together, and its HTTP API listening. */
export interface CairnNode {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly consensus: ConsensusEngine;
  readonly api: ApiServer;
  /** Base URL of the HTTP API. */
  readonly apiUrl: string;
  readonly nodeId: string;
  readonly loggers: NodeLoggers;
  /** The node's Prometheus metrics (served at GET /metrics). */
  readonly metrics: NodeMetrics;
  /** Journeys through the layers of the transactions this node's API received (docs/metrics.md). */
  readonly tracer: TxTracer;
  /** Stops consensus after the block in progress, closes the API, then the database. */
  stop(): Promise<void>;
}

/**
 * Starts the node whose files are in `home`: opens its database, the ledger at its last committed
 * height, the mempool with parallel signature verification, the consensus engine and the API.
 */
/** The network's counters of a node without one (solo). */
const NO_NETWORK: NetworkCounters = {
  peers: 0,
  members: 0,
  gossipPublished: 0,
  gossipBytesOut: 0,
  gossipAccepted: 0,
  gossipBytesIn: 0,
  gossipRejected: 0,
  gossipIgnored: 0,
  requestBytesOut: 0,
  requestBytesIn: 0,
  connectionsDenied: 0,
  dialFailures: 0,
};

export async function startNode(opts: NodeOptions): Promise<CairnNode> {
  const base = await loadConfig(opts.home);
  const o = opts.config ?? {};
  const config: NodeConfig = {
    ...base,
    logLevel: o.logLevel ?? base.logLevel,
    verifyWorkers: o.verifyWorkers ?? base.verifyWorkers,
    api: { ...base.api, host: o.apiHost ?? base.api.host, port: o.apiPort ?? base.api.port },
  };
  const loggers = opts.loggers ?? createLoggers(parseLogLevel(config.logLevel));
  const log = loggers.layer("node");
  const paths = homePaths(opts.home);
  const genesis = await loadGenesis(opts.home);
  const key = await readKeyFile(paths.validatorKey);
  const signer = createNativeSigner(key.secretKey, key.publicKey);

  const db: Database = await openDatabase(paths.data);
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log.error({ err }, "error while stopping"));
  };
  try {
    const ledger = await createLedger({
      db,
      genesis,
      contracts: createNativeRegistry([governanceContract]),
      sync: config.storage.sync,
      maxQueryGas: config.maxQueryGas,
    });
    const verifier = new VerifyPool(config.verifyWorkers === undefined ? {} : { workers: config.verifyWorkers });
    closers.push(() => verifier.close());
    let backend: NodeBackend | undefined;
    let consensus: ConsensusEngine | undefined;
    let bft: BftEngine<ExecutedBlock> | undefined;
    let netStats: (() => NetworkCounters) | undefined;
    const sync = new SyncTracker();
    // Read at scrape time from the layers, or recorded by the telemetry each layer is handed.
    const metrics = createNodeMetrics({
      info: {
        chain_id: genesis.chainId,
        moniker: config.moniker,
        version: VERSION,
        engine: config.consensus.engine,
      },
      sources: {
        network: () => netStats?.() ?? NO_NETWORK,
        mempool: () => mempool,
        consensus: () => consensus?.status() ?? { height: ledger.head().height, round: 0, step: "stopped" },
        ledgerHeight: () => ledger.head().height,
        syncing: () => sync.status().catchingUp,
        consensusBuffered: () => bft?.buffered() ?? { messages: 0, bytes: 0 },
        dataDir: paths.data,
      },
    });
    const tracer = new TxTracer(config.mempool.maxTxs);
    const journal = createMempoolJournal(db);
    const mempool = new Mempool(
      {
        admission: ledger,
        verifier,
        maxTxBytes: genesis.params.maxTxBytes,
        journal,
        telemetry: mempoolTelemetry(tracer),
      },
      { maxTxs: config.mempool.maxTxs, maxBytes: config.mempool.maxBytes },
    );
    // What this node acknowledged before it stopped (or crashed) and has not seen committed.
    const kept = await journal.load();
    if (kept.length > 0) {
      const back = await mempool.restore(kept);
      log.info({ journal: kept.length, pending: back }, "mempool restored from its journal");
    }
    // The one owner of applying a block: the engine and start-up block sync both commit through it,
    // and blocks reach the API (waiters, event stream) and the metrics from here alone.
    const executor = createBlockExecutor<ExecutedBlock>({
      ledger,
      mempool,
      logger: loggers.layer("consensus"),
      telemetry: consensusTelemetry(metrics, tracer, ledger.head()),
    });
    const offCommit = executor.onCommit((executed, commit) => backend?.onCommit(executed, commit));
    closers.push(async () => offCommit());
    let onAccepted: ((envelopes: Uint8Array[], hashes: string[]) => void) | undefined;
    let peers: (() => readonly string[]) | undefined;
    let members: (() => readonly string[]) | undefined;
    let evidence: BackendComponents["evidence"];
    if (config.consensus.engine === "tendermint") {
      const net = await startNetwork({ config, genesis, paths, ledger, mempool, executor, loggers, sync });
      closers.push(() => net.stop());
      const unfollow = followRegistry(net, ledger, loggers.layer("network"));
      closers.push(async () => unfollow());
      onAccepted = (envelopes, hashes) =>
        void net.publish("txs", encode(envelopes)).then(
          () => tracer.mark("gossiped", hashes),
          () => {},
        );
      peers = () => net.peers();
      members = () => net.members();
      netStats = () => net.stats();
      const evidenceStore = await createEvidenceStore(db);
      const engine = createBftEngine<ExecutedBlock>(
        {
          ledger,
          mempool,
          executor,
          signer,
          transport: {
            broadcast: (bytes) => void net.publish("consensus", bytes).catch(() => {}),
            // Retransmissions go straight to each peer: gossip ids are content hashes, so gossipsub
            // refuses to publish the same bytes twice.
            resend: (bytes) => {
              for (const peer of net.peers()) {
                void net.request(peer, CONSENSUS_RESEND, bytes, { timeoutMs: 5_000 }).catch(() => {});
              }
            },
            // The engine's verdict feeds the network's peer scoring, whatever the path: malformed or
            // badly signed consensus messages, or ones from non-validators, count against the peer
            // that sent them, by gossip (gossipsub's validation) or straight (consensus-resend).
            onMessage: (handler) => {
              const off = net.subscribe("consensus", (bytes, from) => handler(bytes, from));
              void net
                .handle(CONSENSUS_RESEND, (bytes, from) => {
                  void handler(bytes, from).then((verdict) => {
                    if (verdict === "reject") net.penalize(from, "invalid consensus message (resend)");
                  });
                  return new Uint8Array(0);
                })
                .catch((err) => log.error({ err }, "cannot serve consensus retransmissions"));
              return () => {
                off();
                void net.unhandle(CONSENSUS_RESEND);
              };
            },
          },
          safety: createSafetyStore(paths.safetyRecord, db),
          verify: nativeVerify,
          // Signatures are checked once per node: those the mempool admitted are not checked again.
          verifyTxs: async (txs) => {
            const unseen = txs.filter((t) => !mempool.has(t.hash));
            if (unseen.length === 0) return true;
            const ok = await verifier.verifyBatch(
              unseen.map((t) => ({ publicKey: t.tx.sender, message: txSigningBytes(t.body), signature: t.signature })),
            );
            return ok.every(Boolean);
          },
          logger: loggers.layer("consensus"),
          onEvidence: async (e) => {
            if (await evidenceStore.add(e)) metrics.consensus.evidence.inc({ kind: e.kind });
          },
          sync: blockSource(net),
          onSync: (running, advanced) => (running ? sync.begin() : sync.end(advanced)),
          onHalt: (err) =>
            log.fatal?.(
              { err },
              "storage failed: this validator no longer takes part in consensus; free space or repair the disk, then restart it",
            ),
        },
        {
          maxBlockTxs: genesis.params.maxBlockTxs,
          maxBlockBytes: genesis.params.maxBlockBytes,
          ...(config.consensus.emptyBlockInterval === undefined
            ? {}
            : { emptyBlockInterval: config.consensus.emptyBlockInterval }),
        },
      );
      consensus = engine;
      bft = engine;
      evidence = {
        list: (q) => {
          const page = evidenceStore.list(q);
          return { items: page.items.map((k) => evidenceView(k.id, k.evidence)), total: page.total };
        },
        get: async (id) => {
          const e = await evidenceStore.get(id);
          return e === undefined ? undefined : evidenceView(id, e);
        },
      };
    } else {
      consensus = createSoloEngine<ExecutedBlock>(
        { ledger, mempool, executor, signer, logger: loggers.layer("consensus") },
        {
          blockInterval: config.consensus.blockInterval,
          maxBlockTxs: genesis.params.maxBlockTxs,
          maxBlockBytes: genesis.params.maxBlockBytes,
        },
      );
    }
    backend = new NodeBackend({
      ledger,
      mempool,
      consensus,
      metrics,
      nodeId: key.publicKey,
      moniker: config.moniker,
      version: VERSION,
      ...(onAccepted === undefined ? {} : { onAccepted }),
      ...(peers === undefined ? {} : { peers }),
      ...(members === undefined ? {} : { members }),
      sync: () => sync.status(),
      ...(evidence === undefined ? {} : { evidence }),
    });
    const nodeBackend = backend;
    await consensus.start();
    closers.push(() => consensus.stop());
    const api = await createApiServer({
      backend,
      host: config.api.host,
      port: config.api.port,
      logger: loggers.layer("api"),
      telemetry: apiTelemetry(metrics, tracer),
      ...(config.api.limits === undefined ? {} : { guards: config.api.limits }),
    });
    closers.push(async () => {
      nodeBackend.stop();
      await api.close();
    });
    const head = ledger.head();
    log.info(
      { chainId: genesis.chainId, height: head.height, api: api.address, nodeId: toHex(key.publicKey) },
      "node started",
    );
    let stopped: Promise<void> | undefined;
    return {
      config,
      genesis,
      ledger,
      mempool,
      consensus,
      api,
      apiUrl: api.address,
      nodeId: toHex(key.publicKey),
      loggers,
      metrics,
      tracer,
      stop() {
        stopped ??= closeAll().then(() => log.info("node stopped"));
        return stopped;
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
