// Wiring of a Tendermint node: the libp2p network (transaction gossip, block sync, the on-chain
// registry it admits), the evidence store, and the BFT engine on the node's block executor.
import type { BftEngine, BlockExecutor, ConsensusTransport, Signer } from "@cairn/consensus";
import { createBftEngine } from "@cairn/consensus";
import { nativeVerify, type VerifyPool } from "@cairn/crypto/native";
import type { ExecutedBlock, Genesis, Ledger } from "@cairn/ledger";
import type { NetworkCounters, NodeLoggers, NodeMetrics, TxTracer } from "@cairn/management";
import type { Mempool } from "@cairn/mempool";
import { encode, txSigningBytes } from "@cairn/messaging";
import type { Network } from "@cairn/network";
import type { Database } from "@cairn/storage";
import type { BackendComponents } from "./backend.ts";
import type { homePaths, NodeConfig } from "./config.ts";
import { createEvidenceStore, evidenceView } from "./evidence-store.ts";
import { blockSource, followRegistry, type SyncTracker, startNetwork } from "./p2p.ts";
import { createSafetyStore } from "./safety-store.ts";

/** Consensus messages re-sent straight to each peer (gossip refuses to publish the same bytes twice). */
const CONSENSUS_RESEND = "consensus-resend";

export interface TendermintWiring {
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
}

/** What the rest of the node needs from a Tendermint node's network and engine. */
export interface TendermintParts {
  readonly engine: BftEngine<ExecutedBlock>;
  readonly evidence: NonNullable<BackendComponents["evidence"]>;
  /** Gossips transactions this node's API admitted (and marks them "gossiped"). */
  readonly onAccepted: (envelopes: Uint8Array[], hashes: string[]) => void;
  readonly peers: () => readonly string[];
  readonly members: () => readonly string[];
  readonly netStats: () => NetworkCounters;
  /** Cuts this node off from these peers until the next call (a local cluster's partition; [] heals). */
  readonly sever: (peerIds: readonly string[]) => void;
  /** What stops them, in the order they were started. */
  readonly closers: (() => Promise<void>)[];
}

export async function startTendermint(w: TendermintWiring): Promise<TendermintParts> {
  const { config, genesis, paths, db, ledger, mempool, executor, loggers, metrics, tracer } = w;
  const log = loggers.layer("node");
  const closers: (() => Promise<void>)[] = [];
  const net = await startNetwork({ config, genesis, paths, ledger, mempool, executor, loggers, sync: w.sync });
  closers.push(() => net.stop());
  const unfollow = followRegistry(net, ledger, loggers.layer("network"));
  closers.push(async () => unfollow());
  const evidenceStore = await createEvidenceStore(db);
  const engine = createBftEngine<ExecutedBlock>(
    {
      ledger,
      mempool,
      executor,
      signer: w.signer,
      transport: consensusTransport(net, log),
      safety: createSafetyStore(paths.safetyRecord, db),
      verify: nativeVerify,
      // Signatures are checked once per node: those the mempool admitted are not checked again.
      verifyTxs: async (txs) => {
        const unseen = txs.filter((t) => !mempool.has(t.hash));
        if (unseen.length === 0) return true;
        const ok = await w.verifier.verifyBatch(
          unseen.map((t) => ({ publicKey: t.tx.sender, message: txSigningBytes(t.body), signature: t.signature })),
        );
        return ok.every(Boolean);
      },
      logger: loggers.layer("consensus"),
      onEvidence: async (e) => {
        if (await evidenceStore.add(e)) metrics.consensus.evidence.inc({ kind: e.kind });
      },
      sync: blockSource(net),
      onSync: (running, advanced) => (running ? w.sync.begin() : w.sync.end(advanced)),
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
      ...(config.consensus.timeouts === undefined ? {} : { timeouts: config.consensus.timeouts }),
      ...(config.consensus.stepPaceMs === undefined ? {} : { stepPaceMs: config.consensus.stepPaceMs }),
    },
  );
  return {
    engine,
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
    onAccepted: (envelopes, hashes) =>
      void net.publish("txs", encode(envelopes)).then(
        () => tracer.mark("gossiped", hashes),
        () => {},
      ),
    peers: () => net.peers(),
    members: () => net.members(),
    netStats: () => net.stats(),
    sever: (peerIds) => net.sever(peerIds),
    closers,
  };
}

/** Consensus messages over the network: gossip, with direct re-sends, and verdicts feeding peer scores. */
function consensusTransport(net: Network, log: { error(o: object, m?: string): void }): ConsensusTransport {
  return {
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
  };
}
