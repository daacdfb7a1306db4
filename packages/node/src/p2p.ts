import { BLOCK_SYNC_PROTOCOL, type BlockExecutor, BlockFetcher, type BlockSource, serveBlocks } from "@cairn/consensus";
import { toHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import type { ExecutedBlock, Genesis, Ledger, SnapshotStore } from "@cairn/ledger";
import type { NodeLoggers } from "@cairn/management";
import type { Mempool } from "@cairn/mempool";
import { decode, encode, type SignedTransaction } from "@cairn/messaging";
import { createNetwork, type Network } from "@cairn/network";
import type { homePaths, NodeConfig } from "./config.ts";
import { NodeError } from "./errors.ts";
import { followMembership } from "./private-data.ts";
import { STATE_SYNC_PROTOCOL, type StateSyncCounts, serveSnapshots, stateSync } from "./state-sync.ts";

export interface P2pComponents {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly paths: ReturnType<typeof homePaths>;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  /** Commits the blocks start-up sync fetches (and runs everything that follows a commit). */
  readonly executor: BlockExecutor<ExecutedBlock>;
  readonly loggers: NodeLoggers;
  /** Told when block sync runs (GET /status `sync`). */
  readonly sync?: SyncTracker;
  /** Snapshots served to joining nodes; with config.stateSync.enable, an empty node restores one first. */
  readonly snapshots?: SnapshotStore;
  readonly stateSyncCounts?: StateSyncCounts;
}

/** Whether block sync is running now, and when it last brought in missed blocks (GET /status `sync`). */
export class SyncTracker {
  private running = 0;
  private lastCaughtUpAt: number | undefined;

  status(): { catchingUp: boolean; lastCaughtUpAt?: number } {
    const catchingUp = this.running > 0;
    return this.lastCaughtUpAt === undefined ? { catchingUp } : { catchingUp, lastCaughtUpAt: this.lastCaughtUpAt };
  }

  begin(): void {
    this.running++;
  }

  /** `advanced`: the sync committed at least one block. */
  end(advanced: boolean): void {
    this.running--;
    if (advanced) this.lastCaughtUpAt = Date.now();
  }
}

/** Request protocol carrying pending transactions to a peer that (re)connected. */
const TX_ANNOUNCE = "txs-announce";
/** Bytes of envelopes per announcement (under the network's 1 MiB request limit). */
const ANNOUNCE_BYTES = 512 * 1024;

/** Sends every pending transaction to `peer`, in requests of at most ANNOUNCE_BYTES. */
async function announcePending(
  net: Network,
  mempool: Mempool,
  peer: string,
  txs: readonly SignedTransaction[] = mempool.pending(),
): Promise<void> {
  let chunk: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const body = encode(chunk);
    chunk = [];
    bytes = 0;
    await net.request(peer, TX_ANNOUNCE, body, { timeoutMs: 10_000 });
  };
  try {
    for (const t of txs) {
      if (bytes + t.bytes.length > ANNOUNCE_BYTES) await flush();
      chunk.push(t.bytes);
      bytes += t.bytes.length;
    }
    await flush();
  } catch {
    // the peer went away again; it gets them at its next connection
  }
}

/** Most lingering transactions one re-announcement round sends each peer. */
const REANNOUNCE_MAX_TXS = 1_000;

/**
 * Re-announces, every `intervalMs`, the transactions that were already pending at the last round
 * to every peer. Only a Raft leader proposes, so a transaction accepted by a follower whose gossip
 * never reached the leader (a partition that kept connections open) would wait until it expired;
 * once re-announced, the leader has it. Returns the stopper.
 */
export function reannounceLingering(net: Network, mempool: Mempool, intervalMs: number): () => void {
  let previous = new Set<string>();
  const timer = setInterval(() => {
    const now = mempool.pending();
    const lingering = now.filter((t) => previous.has(toHex(t.hash))).slice(0, REANNOUNCE_MAX_TXS);
    previous = new Set(now.map((t) => toHex(t.hash)));
    if (lingering.length === 0) return;
    for (const peer of net.peers()) void announcePending(net, mempool, peer, lingering);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** How long a starting node waits for a first peer before it catches up (or starts alone). */
const FIRST_PEER_WAIT_MS = 5_000;
/** State sync: how long to wait for more peers after the first, so several can share the chunks. */
const STATE_SYNC_PEER_GRACE_MS = 500;

/** Waits for a first peer (up to FIRST_PEER_WAIT_MS), then up to `graceMs` more for the other bootstrap peers. */
async function waitForPeers(net: Network, graceMs = 0, expected = 1): Promise<void> {
  const deadline = Date.now() + FIRST_PEER_WAIT_MS;
  while (net.peers().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const more = Date.now() + graceMs;
  while (net.peers().length > 0 && net.peers().length < expected && Date.now() < more) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How long one peer gets to answer a block request; a silent (paused) peer costs this once. */
export const SYNC_REQUEST_TIMEOUT_MS = 1_500;

/** Block requests over the network, with misbehaving peers reported to its peer scoring. */
export function blockSource(net: Network): BlockSource {
  return {
    peers: () => net.peers(),
    request: (peer, request, timeoutMs) => net.request(peer, BLOCK_SYNC_PROTOCOL, request, { timeoutMs }),
    penalize: (peer, reason) => net.penalize(peer, reason),
  };
}

/**
 * Starts the node's libp2p network: admits only the genesis members, gossips transactions into the
 * mempool, serves block sync, and catches the ledger up from peers before consensus starts.
 */
export async function startNetwork(c: P2pComponents): Promise<Network> {
  const { config, genesis, paths, ledger, mempool, loggers } = c;
  const log = loggers.layer("network");
  if (config.p2p === undefined) throw new NodeError("BAD_CONFIG", "config.p2p is required with the tendermint engine");
  const net = await createNetwork(
    { logger: log },
    {
      chainId: genesis.chainId,
      keyFile: paths.peerKey,
      listen: [config.p2p.listen],
      // The node registry on chain (genesis members, then governance changes).
      members: ledger.registry.nodes.map((m) => m.peerId),
      bootstrap: config.p2p.bootstrap,
    },
  );
  followMembership(ledger, net.peerId);
  try {
    await net.handle(BLOCK_SYNC_PROTOCOL, (request) => serveBlocks(ledger, request));
    // Transactions from peers: a canonical array of envelopes; anything else is rejected (and
    // the sender penalised). Each envelope is admitted on its own, as from the API.
    const admit = async (bytes: Uint8Array): Promise<boolean> => {
      let envelopes: unknown;
      try {
        envelopes = decode(bytes);
      } catch {
        return false;
      }
      if (!Array.isArray(envelopes) || !envelopes.every((e) => e instanceof Uint8Array)) return false;
      await mempool.add(envelopes as Uint8Array[]);
      return true;
    };
    net.subscribe("txs", async (bytes) => ((await admit(bytes)) ? "accept" : "reject"));
    // Pending transactions re-announced straight to a peer that (re)connects: gossip reaches only
    // the peers connected when a transaction was accepted, and a peer that was down missed it.
    await net.handle(TX_ANNOUNCE, async (bytes, from) => {
      if (!(await admit(bytes))) net.penalize(from, "malformed transaction announcement");
      return new Uint8Array(0);
    });
    net.on("peer:connect", (peer) => void announcePending(net, mempool, peer));
    for (const peer of net.peers()) void announcePending(net, mempool, peer);
    const counts = c.stateSyncCounts;
    if (c.snapshots !== undefined && counts !== undefined) {
      await net.handle(STATE_SYNC_PROTOCOL, serveSnapshots(c.snapshots, ledger, counts));
    }
    if (ledger.restoreInterrupted && !config.stateSync.enable) {
      throw new NodeError(
        "STATE_SYNC_FAILED",
        "this node's state sync was interrupted: set config.stateSync.enable to finish it, or remove the data directory",
      );
    }
    if (config.stateSync.enable && ledger.head().height === 0 && counts !== undefined) {
      await waitForPeers(net, STATE_SYNC_PEER_GRACE_MS, config.p2p.bootstrap.length);
      c.sync?.begin();
      try {
        await stateSync({ net, ledger, counts, log });
      } finally {
        c.sync?.end(ledger.head().height > 0);
      }
    }
    await catchUp(net, c.executor, log, c.sync);
    return net;
  } catch (e) {
    await net.stop();
    throw e;
  }
}

/**
 * Keeps the connection gater on the node registry: a node removed by governance is disconnected
 * and refused from the block that removed it on, an added one is admitted. Returns the unsubscriber.
 */
export function followRegistry(
  net: Network,
  ledger: Ledger,
  log: { info(o: object, m?: string): void; error(o: object, m?: string): void },
): () => void {
  return ledger.onRegistryChange((registry) => {
    const next = registry.nodes.map((m) => m.peerId);
    const now = net.members();
    if (next.length === now.length && next.every((p) => now.includes(p))) return;
    log.info({ members: next.length }, "node registry changed; updating the connection gater");
    void net.setMembers(next).catch((err) => log.error({ err }, "cannot update the connection gater"));
  });
}

/**
 * Fetches the blocks this node missed before consensus starts (data synchronization): from whichever
 * connected peer has them, each peer given SYNC_REQUEST_TIMEOUT_MS to answer, so a silent peer
 * delays start-up by that much once, not by a request timeout per batch.
 */
export async function catchUp(
  net: Network,
  executor: BlockExecutor<ExecutedBlock>,
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void },
  sync?: SyncTracker,
): Promise<void> {
  const { ledger } = executor;
  await waitForPeers(net);
  const started = Date.now();
  const before = ledger.head().height;
  const fetcher = new BlockFetcher(blockSource(net), { requestTimeoutMs: SYNC_REQUEST_TIMEOUT_MS });
  sync?.begin();
  try {
    for (;;) {
      const got = await fetcher.fetch(ledger.head().height + 1);
      if (got === null) break;
      try {
        // The executor also drops what these blocks commit from the mempool: gossip (and the lazy
        // repair that replays recent messages to a node that just joined) may have admitted them,
        // and proposing them again would make this validator's own block a replay.
        if ((await executor.applySynced(got.blocks, nativeVerify)) === 0) break;
      } catch (err) {
        fetcher.misbehaved(got.peer, (err as Error).message);
        log.warn({ peer: got.peer, err: (err as Error).message }, "block sync from peer failed");
      }
    }
  } finally {
    sync?.end(ledger.head().height > before);
  }
  const head = ledger.head().height;
  if (head === before) return;
  log.info({ from: before, to: head, ms: Date.now() - started }, "caught up from peers");
}
