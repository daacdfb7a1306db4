import { equalBytes } from "@cairn/crypto";
import {
  type Block,
  blockHash,
  type Commit,
  commitFromValue,
  commitToValue,
  decode,
  decodeBlock,
  decodeTransaction,
  encode,
  encodeBlock,
  type Value,
} from "@cairn/messaging";
import { ConsensusError, type VerifyFn, verifyCommit } from "../commit.ts";
import { type ExecutedBlockView, type LedgerPort, validatorsOf } from "../types.ts";

// Data synchronization (FG DLT: Consistency): a node that was offline, or a new one, fetches
// committed blocks with their certificates from a peer, checks each certificate against the
// validator set, re-executes the block and commits it only if its own execution reproduces the
// certified block hash (which covers the txRoot, the stateRoot and every other header field).

/** Request/response protocol name (the network layer namespaces it by chain id). */
export const BLOCK_SYNC_PROTOCOL = "blocks";

export interface BlockSyncLimits {
  /** Most blocks in one response. */
  readonly maxBlocks: number;
  /** Stop adding blocks to a response past this many bytes (at least one block is always sent). */
  readonly maxResponseBytes: number;
}

export const defaultBlockSyncLimits: BlockSyncLimits = { maxBlocks: 64, maxResponseBytes: 8 * 1024 * 1024 };

/** What serving and applying blocks needs from the ledger. */
export interface SyncLedgerPort<E extends ExecutedBlockView> extends LedgerPort<E> {
  getBlock(height: number): Promise<Block | undefined>;
}

export interface SyncedBlock {
  readonly block: Block;
  readonly commit: Commit;
}

export function encodeBlocksRequest(from: number, max: number): Uint8Array {
  return encode([from, max]);
}

function decodeBlocksRequest(bytes: Uint8Array): { from: number; max: number } {
  const v = decode(bytes);
  if (!Array.isArray(v) || v.length !== 2 || !Number.isSafeInteger(v[0]) || !Number.isSafeInteger(v[1])) {
    throw new ConsensusError("BAD_SYNC_REQUEST", "a block request is [fromHeight, maxBlocks]");
  }
  const [from, max] = v as [number, number];
  if (from < 1 || max < 1) throw new ConsensusError("BAD_SYNC_REQUEST", "fromHeight and maxBlocks must be positive");
  return { from, max };
}

/** Answers a block request from the local ledger: committed blocks from `from` on, with their certificates. */
export async function serveBlocks<E extends ExecutedBlockView>(
  ledger: SyncLedgerPort<E>,
  request: Uint8Array,
  limits: BlockSyncLimits = defaultBlockSyncLimits,
): Promise<Uint8Array> {
  const { from, max } = decodeBlocksRequest(request);
  const last = Math.min(ledger.head().height, from + Math.min(max, limits.maxBlocks) - 1);
  const items: Value[] = [];
  let bytes = 0;
  for (let h = from; h <= last; h++) {
    const [block, commit] = await Promise.all([ledger.getBlock(h), ledger.getCommit(h)]);
    if (block === undefined || commit === undefined) break;
    const encoded = encodeBlock(block);
    if (items.length > 0 && bytes + encoded.length > limits.maxResponseBytes) break;
    bytes += encoded.length;
    items.push([encoded, commitToValue(commit)]);
  }
  return encode(items);
}

export function decodeBlocksResponse(bytes: Uint8Array): SyncedBlock[] {
  const v = decode(bytes);
  if (!Array.isArray(v)) throw new ConsensusError("BAD_SYNC_RESPONSE", "a block response is an array");
  return v.map((item) => {
    if (!Array.isArray(item) || item.length !== 2 || !(item[0] instanceof Uint8Array)) {
      throw new ConsensusError("BAD_SYNC_RESPONSE", "each item is [block, commit]");
    }
    return { block: decodeBlock(item[0]), commit: commitFromValue(item[1] as Value) };
  });
}

/**
 * Verifies and commits synced blocks in order on top of the local head. Stops with BAD_SYNC_BLOCK
 * at the first block that does not extend the head, whose certificate does not verify, or whose
 * re-execution gives a different block hash; everything before it stays committed.
 */
export async function applySyncedBlocks<E extends ExecutedBlockView>(
  ledger: LedgerPort<E>,
  blocks: readonly SyncedBlock[],
  verify: VerifyFn,
  /** What executes and commits a checked block: the block executor, which runs everything after a commit. */
  apply: Pick<LedgerPort<E>, "execute" | "commit"> = ledger,
): Promise<number> {
  let applied = 0;
  for (const { block, commit } of blocks) {
    const head = ledger.head();
    const h = block.header;
    if (h.height <= head.height) continue; // already have it
    if (h.height !== head.height + 1) {
      throw new ConsensusError("BAD_SYNC_BLOCK", `expected height ${head.height + 1}, got ${h.height}`);
    }
    const hash = blockHash(h);
    if (commit.height !== h.height) throw new ConsensusError("BAD_SYNC_BLOCK", "certificate is for another height");
    verifyCommit(ledger.chainId, commit, hash, validatorsOf(ledger, h.height), verify, ledger.consensus);
    const txs = block.txs.map((t) => decodeTransaction(t));
    const executed = await apply.execute({ time: h.time, proposer: h.proposer, txs, lastCommit: block.lastCommit });
    if (!equalBytes(executed.hash, hash)) {
      throw new ConsensusError(
        "BAD_SYNC_BLOCK",
        `block ${h.height}: executing it here does not reproduce the certified block (different state or contents)`,
      );
    }
    await apply.commit(executed, commit);
    applied++;
  }
  return applied;
}

/**
 * Catches up from a peer: asks for blocks after the local head until the peer has no more.
 * `fetch` sends one request (e.g. network.request(peer, BLOCK_SYNC_PROTOCOL, bytes)).
 */
export async function syncFrom<E extends ExecutedBlockView>(
  ledger: SyncLedgerPort<E>,
  fetch: (request: Uint8Array) => Promise<Uint8Array>,
  verify: VerifyFn,
  batch = defaultBlockSyncLimits.maxBlocks,
): Promise<number> {
  let total = 0;
  for (;;) {
    const from = ledger.head().height + 1;
    const blocks = decodeBlocksResponse(await fetch(encodeBlocksRequest(from, batch)));
    if (blocks.length === 0) return total;
    const n = await applySyncedBlocks(ledger, blocks, verify);
    if (n === 0) return total;
    total += n;
  }
}
