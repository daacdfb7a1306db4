import { existsSync } from "node:fs";
import { type ApiServer, createApiServer } from "@cairn/api";
import { type BftEngine, type ConsensusEngine, createBlockExecutor, createSoloEngine } from "@cairn/consensus";
import { type ConsoleSettings, loadConsoleAssets } from "@cairn/console/assets";
import { createNativeRegistry } from "@cairn/contracts";
import { toHex } from "@cairn/crypto";
import { createNativeSigner, VerifyPool } from "@cairn/crypto/native";
import { createLedger, type ExecutedBlock, type Genesis, type Ledger, SnapshotStore } from "@cairn/ledger";
import {
  apiTelemetry,
  consensusTelemetry,
  createLogBuffer,
  createLoggers,
  createNodeMetrics,
  governanceContract,
  mempoolTelemetry,
  type NetworkCounters,
  type NodeLoggers,
  type NodeMetrics,
  parseLogLevel,
  RecentBuffer,
  TxTracer,
} from "@cairn/management";
import { Mempool } from "@cairn/mempool";
import type { ConsensusEventData } from "@cairn/messaging";
import { peerIdFromKeyFile } from "@cairn/network";
import { type Database, openDatabase } from "@cairn/storage";
import { type BackendComponents, NodeBackend } from "./backend.ts";
import { checkEngine, homePaths, loadConfig, loadGenesis, type NodeConfig, readKeyFile } from "./config.ts";
import { NodeError } from "./errors.ts";
import { createMempoolJournal } from "./mempool-journal.ts";
import { startNetworked } from "./networked.ts";
import { SyncTracker } from "./p2p.ts";
import { createPrivateData, followMembership, type PrivateDataService } from "./private-data.ts";
import { StateSyncCounts, takeSnapshots } from "./state-sync.ts";
import { VERSION } from "./version.ts";

/** Consensus events kept for GET /consensus/events: a few minutes of a 4-validator chain at full speed. */
const CONSENSUS_EVENTS_KEPT = 5_000;

export interface NodeOptions {
  readonly home: string;
  /** Overrides applied on top of HOME/config.json (e.g. from CLI flags). */
  readonly config?: Partial<Pick<NodeConfig, "logLevel" | "verifyWorkers">> & { apiPort?: number; apiHost?: string };
  /** Use these loggers instead of building them from the config. */
  readonly loggers?: NodeLoggers;
  /** What the console (GET /console) is told: the local cluster's control endpoint, under `cairn cluster`. */
  readonly console?: ConsoleSettings;
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
  /** Journeys through the layers of the transactions that reached this node's mempool (docs/metrics.md). */
  readonly tracer: TxTracer;
  /**
   * Cuts this node off from these libp2p peers until the next call ([] heals): the local cluster
   * supervisor's partition (docs/console.md). A solo node has no peers and ignores it.
   */
  sever(peerIds: readonly string[]): void;
  /** Stops consensus after the block in progress, closes the API, then the database. */
  stop(): Promise<void>;
}

/**
 * Starts the node whose files are in `home`: opens its database, the ledger at its last committed
 * height, the mempool with parallel signature verification, the consensus engine and the API.
 */
export async function startNode(opts: NodeOptions): Promise<CairnNode> {
  const base = await loadConfig(opts.home);
  const o = opts.config ?? {};
  const config: NodeConfig = {
    ...base,
    logLevel: o.logLevel ?? base.logLevel,
    verifyWorkers: o.verifyWorkers ?? base.verifyWorkers,
    api: { ...base.api, host: o.apiHost ?? base.api.host, port: o.apiPort ?? base.api.port },
  };
  // The last log lines and consensus events, kept for the console (GET /logs, GET /consensus/events).
  const logs = createLogBuffer();
  const consensusEvents = new RecentBuffer<ConsensusEventData>(CONSENSUS_EVENTS_KEPT);
  const loggers = opts.loggers ?? createLoggers({ ...parseLogLevel(config.logLevel), recent: logs });
  const log = loggers.layer("node");
  const paths = homePaths(opts.home);
  const genesis = await loadGenesis(opts.home);
  checkEngine(config, genesis);
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
    if (ledger.restoreInterrupted && config.consensus.engine === "solo") {
      throw new NodeError("STATE_SYNC_FAILED", "this node's state sync was interrupted; remove its data directory");
    }
    // Snapshots this node takes every stateSync.snapshotInterval blocks and serves to joining nodes.
    const stateSyncCounts = new StateSyncCounts();
    const snapshots = await SnapshotStore.open({
      dir: paths.snapshots,
      keep: config.stateSync.snapshotKeep,
      chunkBytes: config.stateSync.chunkBytes,
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
        network: () => netStats?.(),
        mempool: () => mempool,
        consensus: () => consensus?.status() ?? { height: ledger.head().height, round: 0, step: "stopped" },
        ledgerHeight: () => ledger.head().height,
        syncing: () => sync.status().catchingUp,
        consensusBuffered: () => bft?.buffered() ?? { messages: 0, bytes: 0 },
        dataDir: paths.data,
        storageWrites: () => db.writes,
        logLines: () => logs.counts,
        privateData: () => ({ ...ledger.privateData.counts, ...(privateData?.counts ?? {}) }),
        stateSync: () => stateSyncCounts.counts,
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
        telemetry: mempoolTelemetry(tracer, metrics),
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
      telemetry: consensusTelemetry(metrics, tracer, ledger.head(), consensusEvents),
    });
    const offCommit = executor.onCommit((executed, commit) => backend?.onCommit(executed, commit));
    const stopSnapshots = takeSnapshots(
      executor,
      ledger,
      snapshots,
      config.stateSync.snapshotInterval,
      stateSyncCounts,
      loggers.layer("ledger"),
    );
    closers.push(async () => {
      stopSnapshots();
      await snapshots.settled();
    });
    closers.push(async () => offCommit());
    let onAccepted: ((envelopes: Uint8Array[], hashes: string[]) => void) | undefined;
    let peers: (() => readonly string[]) | undefined;
    let members: (() => readonly string[]) | undefined;
    let sever: (peerIds: readonly string[]) => void = () => {};
    let evidence: BackendComponents["evidence"];
    let privateData: PrivateDataService | undefined;
    if (config.consensus.engine !== "solo") {
      const t = await startNetworked({
        config,
        genesis,
        paths,
        db,
        ledger,
        mempool,
        executor,
        signer,
        verifier,
        loggers,
        sync,
        metrics,
        tracer,
        snapshots,
        stateSyncCounts,
      });
      closers.push(...t.closers);
      consensus = t.engine;
      bft = t.bft;
      evidence = t.evidence;
      onAccepted = t.onAccepted;
      peers = t.peers;
      members = t.members;
      netStats = t.netStats;
      sever = t.sever;
      privateData = t.privateData;
    } else {
      // A solo node has no network; its organisation is that of its peer id in the node registry.
      const peerId = existsSync(paths.peerKey) ? (await peerIdFromKeyFile(paths.peerKey)).toString() : undefined;
      followMembership(ledger, peerId);
      privateData = await createPrivateData({ ledger, log: loggers.layer("ledger") });
      const service = privateData;
      closers.push(async () => service.stop());
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
      tracer,
      consensusEvents,
      logs,
      nodeId: key.publicKey,
      moniker: config.moniker,
      version: VERSION,
      ...(onAccepted === undefined ? {} : { onAccepted }),
      ...(peers === undefined ? {} : { peers }),
      ...(members === undefined ? {} : { members }),
      sync: () => sync.status(),
      ...(evidence === undefined ? {} : { evidence }),
      privateData,
    });
    const nodeBackend = backend;
    await consensus.start();
    closers.push(() => consensus.stop());
    const api = await createApiServer({
      backend,
      console: await loadConsoleAssets(opts.console),
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
      sever: (peerIds) => sever(peerIds),
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
