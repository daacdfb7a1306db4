// State sync (docs/state-sync.md): a node joining a chain with a long history restores a recent
// snapshot of the world state from its peers instead of replaying every block, then block-syncs
// from there. Serving nodes take a snapshot every `snapshotInterval` blocks.
//
// Trust: the snapshot's block is accepted when validators trusted from genesis holding more than
// a third of its power signed its certificate (the light client's rule: one of them is honest);
// the manifest must make that header's state root, each chunk must make the manifest's parts, and
// once restored, the block's certificate must also hold two thirds of the validator set the
// restored state names for that height. The blocks of the replay window before it (maxTxTtl
// heights, so replayed transactions are still refused) are checked by hash back from it.
import {
  BLOCK_SYNC_PROTOCOL,
  type BlockExecutor,
  decodeBlocksResponse,
  type SyncedBlock,
  type VerifyFn,
  verifyCommit,
  verifyCommitTrusting,
} from "@cairn/consensus";
import { equalBytes, merkleRoot, sha256, toHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import {
  checkManifest,
  decodeManifest,
  type ExecutedBlock,
  type Ledger,
  manifestHash,
  type RestoredBlock,
  type SnapshotEntry,
  type SnapshotManifest,
  type SnapshotOffer,
  type SnapshotStore,
  verifyChunk,
} from "@cairn/ledger";
import { blockHash, type Commit, decode, encode, encodeCommit, type Value } from "@cairn/messaging";
import type { Network } from "@cairn/network";
import { NodeError } from "./errors.ts";

/** Request/response protocol of snapshots (the network layer namespaces it by chain id). */
export const STATE_SYNC_PROTOCOL = "snapshots";
/** Most heights of receipts in one answer. */
const MAX_RECEIPT_HEIGHTS = 64;
/** How long a peer gets to answer one snapshot request (ms). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Requests in flight while fetching chunks. */
const MAX_PARALLEL_CHUNKS = 4;
/** Failed requests (not bad data: that is once) before a peer is no longer asked during this sync. */
const MAX_PEER_FAILURES = 3;

/** Event counts for cairn_state_sync_total{event}. */
export class StateSyncCounts {
  readonly counts: Record<string, number> = {};
  add(event: string, n = 1): void {
    this.counts[event] = (this.counts[event] ?? 0) + n;
  }
}

type Log = {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
};

function badRequest(): never {
  throw new NodeError(
    "BAD_SNAPSHOT_REQUEST",
    'a snapshot request is ["list"], ["manifest", h], ["chunk", h, i] or ["receipts", from, count]',
  );
}

function whole(v: Value | undefined): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) badRequest();
  return v;
}

/**
 * Answers snapshot requests: the snapshots on offer, a manifest, a chunk (empty bytes when not
 * kept), and the receipts of committed blocks (which let a restoring node store the blocks of its
 * replay window complete).
 */
export function serveSnapshots(
  store: SnapshotStore,
  ledger: Ledger,
  counts: StateSyncCounts,
): (request: Uint8Array) => Promise<Uint8Array> {
  return async (request) => {
    let v: Value;
    try {
      v = decode(request);
    } catch {
      return badRequest();
    }
    if (!Array.isArray(v) || typeof v[0] !== "string") badRequest();
    switch (v[0]) {
      case "list":
        return encode(store.list().map((o) => [o.height, o.manifestHash, o.chunks]));
      case "manifest":
        return (await store.manifest(whole(v[1]))) ?? new Uint8Array(0);
      case "chunk": {
        const chunk = await store.chunk(whole(v[1]), whole(v[2]));
        if (chunk !== undefined) counts.add("chunk_served");
        return chunk ?? new Uint8Array(0);
      }
      case "receipts": {
        const from = whole(v[1]);
        const count = Math.min(whole(v[2]), MAX_RECEIPT_HEIGHTS);
        const out: Value[] = [];
        for (let h = from; h < from + count; h++) {
          const receipts = await ledger.getEncodedReceipts(h);
          if (receipts === undefined) break;
          out.push(receipts);
        }
        return encode(out);
      }
      default:
        return badRequest();
    }
  };
}

/**
 * Takes a snapshot after every `interval`-th block, as a listener of the block executor (which
 * calls it right after the commit, so the state read is that block's); the work runs in the
 * background. Returns the unsubscriber.
 */
export function takeSnapshots(
  executor: Pick<BlockExecutor<ExecutedBlock>, "onCommit">,
  ledger: Ledger,
  store: SnapshotStore,
  interval: number,
  counts: StateSyncCounts,
  log: Log,
): () => void {
  if (interval <= 0) return () => {};
  return executor.onCommit((executed) => {
    const height = executed.block.header.height;
    if (height % interval !== 0 || store.busy) return;
    const started = Date.now();
    void store.take(ledger.state, ledger.head()).then(
      (offer) => {
        if (offer === undefined) return;
        counts.add("snapshot_taken");
        log.info({ height, chunks: offer.chunks, ms: Date.now() - started }, "snapshot taken");
      },
      (err) => {
        counts.add("snapshot_failed");
        log.warn({ height, err: (err as Error).message }, "snapshot failed");
      },
    );
  });
}

interface Candidate {
  readonly height: number;
  readonly manifestHash: Uint8Array;
  readonly chunks: number;
  readonly peers: string[];
}

export interface StateSyncComponents {
  readonly net: Network;
  readonly ledger: Ledger;
  readonly counts: StateSyncCounts;
  readonly log: Log;
}

/** A state sync that failed after it began changing the state: the node cannot go on without one. */
export class StateSyncFatal extends NodeError {}

/**
 * Joins by state sync: asks the connected peers for their snapshots and restores the newest one
 * that checks out (several peers serving it share the chunks). Returns the restored height, or
 * undefined when no peer offers a usable snapshot (the node then block-syncs from genesis; a node
 * whose earlier restore was interrupted cannot, and this throws).
 */
export async function stateSync(c: StateSyncComponents): Promise<number | undefined> {
  const { ledger, log } = c;
  const started = Date.now();
  const candidates = await discover(c);
  for (const candidate of candidates) {
    try {
      const height = await restore(c, candidate, started);
      c.counts.add("snapshot_restored");
      return height;
    } catch (err) {
      if (err instanceof StateSyncFatal) throw err;
      log.warn(
        { height: candidate.height, err: (err as Error).message },
        "cannot restore this snapshot; trying another",
      );
    }
  }
  if (ledger.restoreInterrupted) {
    throw new StateSyncFatal(
      "STATE_SYNC_FAILED",
      "an earlier state sync was interrupted and no peer offers a snapshot to finish it; start again when peers serve snapshots, or remove the data directory",
    );
  }
  log.info({ offers: candidates.length }, "no usable snapshot offered; syncing every block from genesis");
  return undefined;
}

async function discover(c: StateSyncComponents): Promise<Candidate[]> {
  const byId = new Map<string, Candidate>();
  await Promise.all(
    c.net.peers().map(async (peer) => {
      let offers: SnapshotOffer[];
      try {
        const v = decode(
          await c.net.request(peer, STATE_SYNC_PROTOCOL, encode(["list"]), { timeoutMs: REQUEST_TIMEOUT_MS }),
        );
        if (!Array.isArray(v)) return;
        offers = v.flatMap((o) =>
          Array.isArray(o) &&
          typeof o[0] === "number" &&
          o[1] instanceof Uint8Array &&
          o[1].length === 32 &&
          typeof o[2] === "number"
            ? [{ height: o[0], manifestHash: o[1], chunks: o[2] }]
            : [],
        );
      } catch {
        return;
      }
      for (const o of offers) {
        const id = `${o.height}:${toHex(o.manifestHash)}`;
        const known = byId.get(id);
        if (known === undefined) byId.set(id, { ...o, peers: [peer] });
        else known.peers.push(peer);
      }
    }),
  );
  // Newest first; among equal heights, the one most peers serve.
  return [...byId.values()].sort((a, b) => b.height - a.height || b.peers.length - a.peers.length);
}

function request(c: StateSyncComponents, peer: string, req: Value, protocol = STATE_SYNC_PROTOCOL) {
  return c.net.request(peer, protocol, encode(req), { timeoutMs: REQUEST_TIMEOUT_MS });
}

/** The first answer that `check` accepts, asking the peers in turn; a peer whose answer fails the check is penalised. */
async function fromAnyPeer<T>(
  c: StateSyncComponents,
  peers: readonly string[],
  ask: (peer: string) => Promise<Uint8Array>,
  check: (bytes: Uint8Array) => T,
  what: string,
): Promise<T> {
  for (const peer of peers) {
    let bytes: Uint8Array;
    try {
      bytes = await ask(peer);
    } catch {
      continue;
    }
    try {
      return check(bytes);
    } catch (err) {
      c.net.penalize(peer, `state sync: ${what}: ${(err as Error).message}`);
      c.log.warn({ peer, err: (err as Error).message }, `state sync: a peer's ${what} does not check out`);
    }
  }
  throw new NodeError("STATE_SYNC_FAILED", `no peer served a valid ${what}`);
}

/** Restores one offered snapshot; `started`: when the state sync began (its log line reports the time since). */
async function restore(c: StateSyncComponents, offer: Candidate, started: number): Promise<number> {
  const { ledger, log } = c;
  const g = ledger.genesis;
  const kind = ledger.consensus;
  // The snapshot block's certificate is checked twice (trusting genesis, then against the restored
  // set): each signature is verified once.
  const verify = verifiedOnce(nativeVerify);
  log.info({ height: offer.height, chunks: offer.chunks, peers: offer.peers.length }, "state sync: restoring snapshot");
  // 1. The snapshot's block and its certificate, vouched for by the validators trusted from genesis.
  const top = await fromAnyPeer(
    c,
    offer.peers,
    (peer) => request(c, peer, [offer.height, 1], BLOCK_SYNC_PROTOCOL),
    (bytes) => {
      const got = decodeBlocksResponse(bytes)[0];
      if (got === undefined || got.block.header.height !== offer.height || got.commit.height !== offer.height) {
        throw new NodeError("STATE_SYNC_FAILED", "not the snapshot's block");
      }
      verifyCommitTrusting(g.chainId, got.commit, blockHash(got.block.header), g.validators, verify, kind);
      return got;
    },
    "snapshot block",
  );
  const topHash = blockHash(top.block.header);
  // 2. The manifest: the offered one, making that header's state root.
  const manifest = await fromAnyPeer(
    c,
    offer.peers,
    (peer) => request(c, peer, ["manifest", offer.height]),
    (bytes) => {
      if (!equalBytes(manifestHash(bytes), offer.manifestHash)) {
        throw new NodeError("STATE_SYNC_FAILED", "not the manifest it offered");
      }
      const m = decodeManifest(bytes);
      checkManifest(m, top.block.header, topHash);
      return m;
    },
    "snapshot manifest",
  );
  // 3. The chunks, each checked against the manifest as it arrives, and meanwhile 4. the blocks of
  // the replay window, chained by hash back from the snapshot's block.
  const t0 = Date.now();
  let chunksMs = 0;
  const [chunks, window] = await Promise.all([
    fetchChunks(c, offer, manifest).finally(() => {
      chunksMs = Date.now() - t0;
    }),
    fetchWindow(c, offer.peers, top, topHash),
  ]);
  const t2 = Date.now();
  // 5. Apply: the state, then the full certificate check against the restored validator set.
  const registry = await ledger.restoreState(manifest, chunks).catch((err) => {
    throw new StateSyncFatal("STATE_SYNC_FAILED", `restoring the snapshot failed: ${(err as Error).message}`);
  });
  try {
    verifyCommit(g.chainId, top.commit, topHash, registry.validatorsAt(offer.height), verify, kind);
    await ledger.finishRestore(manifest, window);
  } catch (err) {
    throw new StateSyncFatal("STATE_SYNC_FAILED", `finishing the restore failed: ${(err as Error).message}`);
  }
  log.info(
    {
      height: offer.height,
      keys: manifest.keys,
      chunks: manifest.chunks.length,
      windowBlocks: window.length,
      ms: Date.now() - started,
      fetchMs: t2 - t0,
      chunksMs,
      applyMs: Date.now() - t2,
    },
    "state sync: snapshot restored",
  );
  return offer.height;
}

/** `verify`, remembering each (signature, message, key) it answered. */
function verifiedOnce(verify: VerifyFn): VerifyFn {
  const known = new Map<string, boolean>();
  return (signature, message, publicKey) => {
    const k = `${toHex(signature)}:${toHex(publicKey)}:${toHex(sha256(message))}`;
    let ok = known.get(k);
    if (ok === undefined) {
      ok = verify(signature, message, publicKey);
      known.set(k, ok);
    }
    return ok;
  };
}

async function fetchChunks(
  c: StateSyncComponents,
  offer: Candidate,
  manifest: SnapshotManifest,
): Promise<SnapshotEntry[][]> {
  const results: SnapshotEntry[][] = new Array(manifest.chunks.length);
  const queue = manifest.chunks.map((_, i) => i);
  const good = [...offer.peers];
  const failures = new Map<string, number>();
  let turn = 0;
  const drop = (peer: string) => {
    const at = good.indexOf(peer);
    if (at >= 0) good.splice(at, 1);
  };
  const worker = async () => {
    for (;;) {
      const index = queue.shift();
      if (index === undefined) return;
      const peer = good[turn++ % Math.max(1, good.length)];
      if (peer === undefined) {
        throw new NodeError("STATE_SYNC_FAILED", "no peer left that serves this snapshot's chunks correctly");
      }
      let bytes: Uint8Array;
      try {
        bytes = await request(c, peer, ["chunk", offer.height, index]);
      } catch {
        const n = (failures.get(peer) ?? 0) + 1;
        failures.set(peer, n);
        if (n >= MAX_PEER_FAILURES) drop(peer);
        queue.push(index);
        continue;
      }
      try {
        results[index] = verifyChunk(manifest, index, bytes);
        c.counts.add("chunk_applied");
      } catch (err) {
        // Bad data is not an accident: the peer is not asked again during this sync, and reported.
        c.counts.add("chunk_rejected");
        drop(peer);
        c.net.penalize(peer, `state sync: ${(err as Error).message}`);
        c.log.warn(
          { peer, chunk: index, err: (err as Error).message },
          "state sync: a peer served a chunk that does not match the snapshot; no longer asking it",
        );
        queue.push(index);
      }
    }
  };
  const workers = Math.min(MAX_PARALLEL_CHUNKS, Math.max(1, offer.peers.length * 2), queue.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

async function fetchWindow(
  c: StateSyncComponents,
  peers: readonly string[],
  top: SyncedBlock,
  topHash: Uint8Array,
): Promise<RestoredBlock[]> {
  const height = top.block.header.height;
  const from = Math.max(1, height - c.ledger.genesis.params.maxTxTtl + 1);
  // The peers offering the snapshot first, then any other (a peer that state-synced lacks old blocks).
  const askOrder = [...peers, ...c.net.peers().filter((p) => !peers.includes(p))];
  // Blocks from..height-1, any peer, then checked from the top down.
  const blocks: SyncedBlock[] = [];
  while (from + blocks.length < height) {
    const next = from + blocks.length;
    const got = await fromAnyPeer(
      c,
      askOrder,
      (peer) => request(c, peer, [next, 64], BLOCK_SYNC_PROTOCOL),
      (bytes) => {
        const list = decodeBlocksResponse(bytes).filter((b) => b.block.header.height < height);
        if (list.length === 0 || list[0]?.block.header.height !== next) {
          throw new NodeError("STATE_SYNC_FAILED", `no blocks from ${next}`);
        }
        return list;
      },
      "replay-window blocks",
    );
    blocks.push(...got);
  }
  blocks.push(top);
  const commits: Commit[] = new Array(blocks.length);
  commits[blocks.length - 1] = top.commit;
  let expected = topHash;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = (blocks[i] as SyncedBlock).block;
    if (!equalBytes(blockHash(b.header), expected)) {
      throw new NodeError("STATE_SYNC_FAILED", `block ${b.header.height} is not the parent of the block after it`);
    }
    if (!equalBytes(merkleRoot(b.txs), b.header.txRoot)) {
      throw new NodeError("STATE_SYNC_FAILED", `block ${b.header.height}'s transactions do not make its txRoot`);
    }
    if (i > 0) {
      // The parent's certificate is the one this block carries (bound by its lastCommitHash).
      const carried = b.lastCommit;
      if (carried === null || !equalBytes(sha256(encodeCommit(carried)), b.header.lastCommitHash)) {
        throw new NodeError("STATE_SYNC_FAILED", `block ${b.header.height} does not carry its parent's certificate`);
      }
      commits[i - 1] = carried;
    }
    expected = b.header.prevHash;
  }
  // Receipts, each block's checked against its receiptRoot.
  const receipts: Uint8Array[][] = [];
  while (receipts.length < blocks.length) {
    const next = from + receipts.length;
    const got = await fromAnyPeer(
      c,
      askOrder,
      (peer) => request(c, peer, ["receipts", next, Math.min(MAX_RECEIPT_HEIGHTS, blocks.length - receipts.length)]),
      (bytes) => {
        const v = decode(bytes);
        if (!Array.isArray(v) || v.length === 0) throw new NodeError("STATE_SYNC_FAILED", `no receipts from ${next}`);
        return v.map((list, k) => {
          const header = (blocks[receipts.length + k] as SyncedBlock | undefined)?.block.header;
          if (header === undefined || !Array.isArray(list) || !list.every((r) => r instanceof Uint8Array)) {
            throw new NodeError("STATE_SYNC_FAILED", "receipts are arrays of byte strings, one per block asked");
          }
          if (!equalBytes(merkleRoot(list as Uint8Array[]), header.receiptRoot)) {
            throw new NodeError("STATE_SYNC_FAILED", `block ${header.height}'s receipts do not make its receiptRoot`);
          }
          return list as Uint8Array[];
        });
      },
      "receipts",
    );
    receipts.push(...got);
  }
  return blocks.map((b, i) => ({
    block: b.block,
    commit: commits[i] as Commit,
    receipts: receipts[i] as Uint8Array[],
  }));
}
