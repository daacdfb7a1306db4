// Wiring of a networked node: the libp2p network (transaction gossip, block sync, the on-chain
// registry it admits) and the chain's engine on the node's block executor: Tendermint (BFT, with
// its evidence store) or Raft (crash-fault tolerant), as the genesis says.
import type {
  BftEngine,
  BlockExecutor,
  ConsensusEngine,
  ConsensusTransport,
  RaftEngine,
  Signer,
} from "@cairn/consensus";
import { createBftEngine, createRaftEngine, decodeResendBatch, encodeResendBatches } from "@cairn/consensus";
import { nativeVerify, type VerifyPool } from "@cairn/crypto/native";
import type { ExecutedBlock, Genesis, Ledger, SnapshotStore } from "@cairn/ledger";
import type { NetworkCounters, NodeLoggers, NodeMetrics, TxTracer } from "@cairn/management";
import type { Mempool } from "@cairn/mempool";
import { encode, type SignedTransaction, txSignatureCheck } from "@cairn/messaging";
import type { Network } from "@cairn/network";
import type { Database } from "@cairn/storage";
import type { BackendComponents } from "./backend.ts";
import type { homePaths, NodeConfig } from "./config.ts";
import { createEvidenceStore, evidenceView } from "./evidence-store.ts";
import { blockSource, followRegistry, reannounceLingering, type SyncTracker, startNetwork } from "./p2p.ts";
import { createPrivateData, type PrivateDataService } from "./private-data.ts";
import { createRaftStore } from "./raft-store.ts";
import { createSafetyStore } from "./safety-store.ts";
import type { StateSyncCounts } from "./state-sync.ts";

/** Raft: how often a follower re-announces the transactions still pending since the last time (ms). */
const REANNOUNCE_MS = 3_000;

/** Consensus messages re-sent straight to each peer (gossip refuses to publish the same bytes twice). */
const CONSENSUS_RESEND = "consensus-resend";

export interface NetworkedWiring {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly paths: ReturnType<typeof homePaths>;
  readonly db: Database;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly executor: BlockExecutor<ExecutedBlock>;
  readonly signer: Signer;
  readonly verifier: VerifyPool;
  readonly loggers: NodeLoggers;
  readonly sync: SyncTracker;
  readonly metrics: NodeMetrics;
  readonly tracer: TxTracer;
  readonly snapshots: SnapshotStore;
  readonly stateSyncCounts: StateSyncCounts;
}

/** What the rest of the node needs from a networked node's network and engine. */
export interface NetworkedParts {
  readonly engine: ConsensusEngine;
  /** The BFT engine (for its buffered-message metrics), when the chain runs Tendermint. */
  readonly bft?: BftEngine<ExecutedBlock>;
  /** Tendermint's evidence store (a Raft chain has no evidence). */
  readonly evidence?: NonNullable<BackendComponents["evidence"]>;
  /** Gossips transactions this node's API admitted (and marks them "gossiped"). */
  readonly onAccepted: (envelopes: Uint8Array[], hashes: string[]) => void;
  readonly peers: () => readonly string[];
  readonly members: () => readonly string[];
  readonly netStats: () => NetworkCounters;
  /** Cuts this node off from these peers until the next call (a local cluster's partition; [] heals). */
  readonly sever: (peerIds: readonly string[]) => void;
  /** Private data pushed to and pulled from member nodes (docs/privacy.md). */
  readonly privateData: PrivateDataService;
  /** What stops them, in the order they were started. */
  readonly closers: (() => Promise<void>)[];
}

export async function startNetworked(w: NetworkedWiring): Promise<NetworkedParts> {
  const { config, genesis, paths, ledger, mempool, executor, loggers, metrics, tracer } = w;
  const log = loggers.layer("node");
  const closers: (() => Promise<void>)[] = [];
  const net = await startNetwork({
    config,
    genesis,
    paths,
    ledger,
    mempool,
    executor,
    loggers,
    sync: w.sync,
    snapshots: w.snapshots,
    stateSyncCounts: w.stateSyncCounts,
  });
  closers.push(() => net.stop());
  const unfollow = followRegistry(net, ledger, loggers.layer("network"));
  closers.push(async () => unfollow());
  const privateData = await createPrivateData({ ledger, net, log: loggers.layer("ledger") });
  closers.push(async () => privateData.stop());
  const shared = {
    ledger,
    mempool,
    executor,
    signer: w.signer,
    transport: countedTransport(consensusTransport(net, log), metrics),
    verify: nativeVerify,
    // Signatures are checked once per node: those the mempool admitted are not checked again.
    // Urgent: a proposal's check goes ahead of queued admissions, which can wait; the round cannot.
    verifyTxs: async (txs: readonly SignedTransaction[]) => {
      const unseen = txs.filter((t) => !mempool.has(t.hash));
      if (unseen.length === 0) return true;
      const ok = await w.verifier.verifyBatch(unseen.map(txSignatureCheck), { urgent: true });
      // ...nor, when their gossip arrives after the proposal, again by the mempool.
      mempool.noteVerified(unseen.filter((_, i) => ok[i] === true).map((t) => t.hash));
      return ok.every(Boolean);
    },
    logger: loggers.layer("consensus"),
    sync: blockSource(net),
    onSync: (running: boolean, advanced: boolean) => (running ? w.sync.begin() : w.sync.end(advanced)),
    onHalt: (err: Error) =>
      log.fatal?.(
        { err },
        "storage failed: this validator no longer takes part in consensus; free space or repair the disk, then restart it",
      ),
  };
  const network = {
    onAccepted: (envelopes: Uint8Array[], hashes: string[]) =>
      void net.publish("txs", encode(envelopes)).then(
        () => tracer.mark("gossiped", hashes),
        () => {},
      ),
    peers: () => net.peers(),
    members: () => net.members(),
    netStats: () => net.stats(),
    sever: (peerIds: readonly string[]) => net.sever(peerIds),
    privateData,
    closers,
  };
  const c = config.consensus;
  if (genesis.consensus === "raft") {
    const engine: RaftEngine<ExecutedBlock> = createRaftEngine<ExecutedBlock>(
      { ...shared, store: createRaftStore(w.db) },
      {
        maxBlockTxs: genesis.params.maxBlockTxs,
        maxBlockBytes: genesis.params.maxBlockBytes,
        ...(c.emptyBlockInterval === undefined ? {} : { emptyBlockInterval: c.emptyBlockInterval }),
        ...c.raft,
      },
    );
    const stopAnnouncing = reannounceLingering(net, mempool, REANNOUNCE_MS);
    closers.push(async () => stopAnnouncing());
    return { engine, ...network };
  }
  const evidenceStore = await createEvidenceStore(w.db);
  const safety = createSafetyStore(paths.safetyRecord, w.db);
  closers.push(() => safety.close());
  const engine = createBftEngine<ExecutedBlock>(
    {
      ...shared,
      safety,
      onEvidence: async (e) => {
        if (await evidenceStore.add(e)) metrics.consensus.evidence.inc({ kind: e.kind });
      },
    },
    {
      maxBlockTxs: genesis.params.maxBlockTxs,
      maxBlockBytes: genesis.params.maxBlockBytes,
      ...(c.emptyBlockInterval === undefined ? {} : { emptyBlockInterval: c.emptyBlockInterval }),
      ...(c.minBlockInterval === undefined ? {} : { minBlockInterval: c.minBlockInterval }),
      ...(c.timeouts === undefined ? {} : { timeouts: c.timeouts }),
      ...(c.stepPaceMs === undefined ? {} : { stepPaceMs: c.stepPaceMs }),
    },
  );
  return {
    engine,
    bft: engine,
    evidence: {
      list: (q) => {
        const page = evidenceStore.list(q);
        return { items: page.items.map((k) => evidenceView(k.id, k.evidence)), total: page.total };
      },
      get: async (id) => {
        const e = await evidenceStore.get(id);
        return e === undefined ? undefined : evidenceView(id, e);
      },
    },
    ...network,
  };
}

/** Counts the consensus messages sent and the valid ones received (cairn_consensus_messages_total). */
function countedTransport(t: ConsensusTransport, metrics: NodeMetrics): ConsensusTransport {
  const m = metrics.consensus;
  const sent = (bytes: Uint8Array) => {
    m.messages.inc({ direction: "sent" });
    m.messageBytes.inc({ direction: "sent" }, bytes.length);
  };
  return {
    broadcast: (bytes) => {
      sent(bytes);
      t.broadcast(bytes);
    },
    ...(t.resend === undefined
      ? {}
      : {
          resend: (messages: readonly Uint8Array[]) => {
            for (const bytes of messages) sent(bytes);
            t.resend?.(messages);
          },
        }),
    onMessage: (handler) =>
      t.onMessage(async (bytes, from) => {
        const verdict = await handler(bytes, from);
        if (verdict === "accept") {
          m.messages.inc({ direction: "received" });
          m.messageBytes.inc({ direction: "received" }, bytes.length);
        }
        return verdict;
      }),
  };
}

/** Consensus messages over the network: gossip, with direct re-sends, and verdicts feeding peer scores. */
function consensusTransport(net: Network, log: { error(o: object, m?: string): void }): ConsensusTransport {
  return {
    broadcast: (bytes) => void net.publish("consensus", bytes).catch(() => {}),
    // Retransmissions go straight to each peer: gossip ids are content hashes, so gossipsub
    // refuses to publish the same bytes twice. One request carries many messages: a stream per
    // message per peer cost more than the messages themselves.
    resend: (messages) => {
      for (const batch of encodeResendBatches(messages)) {
        for (const peer of net.peers()) {
          void net.request(peer, CONSENSUS_RESEND, batch, { timeoutMs: 5_000 }).catch(() => {});
        }
      }
    },
    // The engine's verdict feeds the network's peer scoring, whatever the path: malformed or
    // badly signed consensus messages, or ones from non-validators, count against the peer
    // that sent them, by gossip (gossipsub's validation) or straight (consensus-resend).
    onMessage: (handler) => {
      const off = net.subscribe("consensus", (bytes, from) => handler(bytes, from));
      void net
        .handle(CONSENSUS_RESEND, (bytes, from) => {
          const messages = decodeResendBatch(bytes);
          if (messages === undefined) {
            net.penalize(from, "malformed consensus retransmission");
            return new Uint8Array(0);
          }
          // In order; a batch stops at its first message the engine rejects (its sender broke the
          // protocol, and a batch can hold thousands of messages to check).
          void (async () => {
            for (const m of messages) {
              if ((await handler(m, from)) === "reject") {
                net.penalize(from, "invalid consensus message (resend)");
                return;
              }
            }
          })().catch((err) => log.error({ err }, "consensus retransmission not handled"));
          return new Uint8Array(0);
        })
        .catch((err) => log.error({ err }, "cannot serve consensus retransmissions"));
      return () => {
        off();
        void net.unhandle(CONSENSUS_RESEND);
      };
    },
  };
}
