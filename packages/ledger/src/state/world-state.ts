// The world state (FG DLT: Ledger / status): committed key-value state per contract, speculative
// overlays for blocks being executed, and the sparse Merkle state tree that yields the state root.
import { concatBytes } from "@cairn/crypto";
import type { Column, Database, WriteBatch } from "@cairn/storage";
import { GenerationalCache } from "./cache.ts";
import { StateError } from "./errors.ts";
import { bytesToHash, hashBit, hashToBytes, sha256String } from "./fast-hash.ts";
import { encodeContractPrefix, encodeStateKey } from "./hashing.ts";
import { Overlay, type OverlayEntry, type StateChange, type StateOverlay, stateId } from "./overlay.ts";
import type { StateProof } from "./proof.ts";
import {
  applyChanges,
  decodeRecord,
  decodeRootRecord,
  encodeRootRecord,
  INode,
  Leaf,
  loadTouched,
  type NodeWrite,
  pathKey,
  pathKeyLength,
  pruneTree,
  type RecordFetcher,
  type Ref,
  recordLength,
  refHash,
  type TreeChange,
  writePathKey,
  writeRecord,
} from "./tree.ts";

/** Default column of the flat state values (key: u16be(len) ‖ contract ‖ key). */
export const STATE_VALUES_COLUMN: Column = 0x10;
/** Default column of the state tree's internal nodes (key: depth ‖ path bits) and its root (empty key). */
export const STATE_TREE_COLUMN: Column = 0x11;

export interface WorldStateOptions {
  readonly valuesColumn?: Column;
  readonly treeColumn?: Column;
  /**
   * Internal nodes of the state tree kept in memory (default 2 000 000). A tree of n keys has about
   * 1.44 n internal nodes, and costs about 330 bytes of heap per key with its leaves, so the default
   * keeps a 1.3M-key state wholly in memory (~450 MB). Beyond it, the top levels (which every block
   * touches) stay, and deeper nodes are read from LevelDB when a block touches them, in one batched
   * read per tree level.
   */
  readonly maxCachedNodes?: number;
  /** Bytes of committed values kept in memory for `get` (default 64 MiB). */
  readonly valueCacheBytes?: number;
}

/** The result of `prepare`: the state root a block's changes lead to, not yet committed. */
export interface PreparedState {
  /** The committed root the changes were applied to. */
  readonly baseRoot: Uint8Array;
  /** The state root after the changes. */
  readonly root: Uint8Array;
  /** The changes that alter the state (same-value writes and deletes of absent keys left out), by contract then key. */
  readonly writes: readonly StateChange[];
}

export interface IterateStateOptions {
  /** Only keys starting with these bytes. */
  readonly prefix?: Uint8Array;
  /** Only keys greater than this one (in byte order). */
  readonly after?: Uint8Array;
  readonly limit?: number;
}

interface PreparedInternal {
  readonly owner: WorldState;
  readonly baseHash: string;
  readonly newRoot: Ref;
  readonly values: readonly OverlayEntry[];
  readonly nodes: readonly NodeWrite[];
  committed: boolean;
}

interface Change extends TreeChange {
  readonly entry: OverlayEntry;
}

interface PendingValue {
  readonly seq: number;
  readonly entry: OverlayEntry;
}

const ROOT_KEY = new Uint8Array(0);
const ZERO_BYTE = new Uint8Array([0]);
const prepared = new WeakMap<PreparedState, PreparedInternal>();

function stale(what: string): StateError {
  return new StateError("STATE_STALE", what);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * Sorts by key hash: a counting sort on the first 16 bits, then insertion sort inside each bucket.
 * Key hashes are uniform, so buckets hold ~n/65536 entries: ~10x faster than a comparison sort.
 */
function sortByKeyHash(changes: Change[]): void {
  const n = changes.length;
  if (n < 2048) {
    changes.sort((a, b) => (a.kh < b.kh ? -1 : a.kh > b.kh ? 1 : 0));
    return;
  }
  const start = new Int32Array(65537);
  const bucket = (c: Change) => (c.kh.charCodeAt(0) << 8) | c.kh.charCodeAt(1);
  for (const c of changes) {
    const b = bucket(c) + 1;
    start[b] = (start[b] as number) + 1;
  }
  for (let b = 0; b < 65536; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
  const fill = start.slice(0, 65536);
  const out = new Array<Change>(n);
  for (const c of changes) {
    const b = bucket(c);
    const at = fill[b] as number;
    out[at] = c;
    fill[b] = at + 1;
  }
  for (let b = 0; b < 65536; b++) {
    const lo = start[b] as number;
    const hi = start[b + 1] as number;
    for (let i = lo + 1; i < hi; i++) {
      const c = out[i] as Change;
      let j = i - 1;
      while (j >= lo && (out[j] as Change).kh > c.kh) {
        out[j + 1] = out[j] as Change;
        j--;
      }
      out[j + 1] = c;
    }
  }
  for (let i = 0; i < n; i++) changes[i] = out[i] as Change;
}

/** Opens the world state stored in `db` (an empty state if there is none yet). */
export async function createWorldState(db: Database, options: WorldStateOptions = {}): Promise<WorldState> {
  const root = decodeRootRecord(await db.get(options.treeColumn ?? STATE_TREE_COLUMN, ROOT_KEY));
  return new WorldState(db, root, options);
}

export class WorldState {
  #db: Database;
  #valuesColumn: Column;
  #treeColumn: Column;
  #root: Ref;
  // Bumped by every commit: a read that straddles a commit must not be used (or cached).
  #generation = 0;
  #commitSeq = 0;
  #values: GenerationalCache<Uint8Array | null>;
  // Values committed into a batch that is not written yet: they win over the cache and the disk.
  #pendingValues = new Map<string, PendingValue>();
  #unwrittenBatches = 0;
  #maxNodes: number;
  #nodesInMemory = 0;
  #readers = 0;

  /** Use createWorldState(), which loads the root. */
  constructor(db: Database, root: Ref, options: WorldStateOptions = {}) {
    this.#db = db;
    this.#valuesColumn = options.valuesColumn ?? STATE_VALUES_COLUMN;
    this.#treeColumn = options.treeColumn ?? STATE_TREE_COLUMN;
    this.#root = root;
    this.#maxNodes = Math.max(1, options.maxCachedNodes ?? 2_000_000);
    this.#values = new GenerationalCache(options.valueCacheBytes ?? 64 * 1024 * 1024, (v) =>
      v === null ? 64 : v.length + 64,
    );
  }

  /** The committed state root (32 zero bytes for the empty state). */
  root(): Uint8Array {
    return hashToBytes(refHash(this.#root));
  }

  /** The committed value of `contract`/`key`, or undefined. Treat the result as read-only. */
  get(contract: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const stateKey = encodeStateKey(contract, key);
    return this.#read(stateKey, stateId(stateKey));
  }

  /** `get` without awaiting: a blocking LevelDB read on a cache miss (see Database.getSync). */
  getSync(contract: string, key: Uint8Array): Uint8Array | undefined {
    const stateKey = encodeStateKey(contract, key);
    return this.#readSync(stateKey, stateId(stateKey));
  }

  #readSync(stateKey: Uint8Array, id: string): Uint8Array | undefined {
    const p = this.#pendingValues.get(id);
    if (p !== undefined) return p.entry.value;
    const c = this.#values.get(id);
    if (c !== undefined) return c ?? undefined;
    // Nothing can commit in between: this runs to completion without yielding.
    const v = this.#db.getSync(this.#valuesColumn, stateKey);
    this.#values.set(id, v ?? null);
    return v;
  }

  async #read(stateKey: Uint8Array, id: string): Promise<Uint8Array | undefined> {
    for (;;) {
      const p = this.#pendingValues.get(id);
      if (p !== undefined) return p.entry.value;
      const c = this.#values.get(id);
      if (c !== undefined) return c ?? undefined;
      const generation = this.#generation;
      const v = await this.#db.get(this.#valuesColumn, stateKey);
      // A commit during the read may have changed this key: look again.
      if (generation !== this.#generation) continue;
      this.#values.set(id, v ?? null);
      return v;
    }
  }

  /** Committed entries of one contract as [key, value], in key order. */
  async *iterate(contract: string, options: IterateStateOptions = {}): AsyncIterableIterator<[Uint8Array, Uint8Array]> {
    const contractPrefix = encodeContractPrefix(contract);
    const prefix = options.prefix ? concatBytes(contractPrefix, options.prefix) : contractPrefix;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    const cut = contractPrefix.length;
    const strip = (k: Uint8Array) => new Uint8Array(k.buffer, k.byteOffset + cut, k.byteLength - cut);
    // Committed changes whose batch is not on disk yet are merged in.
    // The smallest key greater than `after` is `after` followed by a zero byte.
    const gte = options.after === undefined ? undefined : concatBytes(contractPrefix, options.after, ZERO_BYTE);
    const pending: OverlayEntry[] = [];
    for (const { entry } of this.#pendingValues.values()) {
      const k = entry.stateKey;
      if (k.length < prefix.length || compareBytes(k.subarray(0, prefix.length), prefix) !== 0) continue;
      if (gte === undefined || compareBytes(k, gte) >= 0) pending.push(entry);
    }
    pending.sort((a, b) => compareBytes(a.stateKey, b.stateKey));
    const bounds = gte === undefined ? { prefix } : { prefix, gte };
    const dbOptions = pending.length === 0 && Number.isFinite(limit) ? { ...bounds, limit } : bounds;
    let n = 0;
    let i = 0;
    for await (const [k, v] of this.#db.iterate(this.#valuesColumn, dbOptions)) {
      let cmp = 1;
      while (i < pending.length) {
        cmp = compareBytes((pending[i] as OverlayEntry).stateKey, k);
        if (cmp >= 0) break;
        const p = pending[i++] as OverlayEntry;
        if (p.value !== undefined) {
          yield [p.key, p.value];
          if (++n >= limit) return;
        }
      }
      if (i < pending.length && cmp === 0) {
        const p = pending[i++] as OverlayEntry;
        if (p.value === undefined) continue;
        yield [p.key, p.value];
      } else yield [strip(k), v];
      if (++n >= limit) return;
    }
    for (; i < pending.length; i++) {
      const p = pending[i] as OverlayEntry;
      if (p.value !== undefined) {
        yield [p.key, p.value];
        if (++n >= limit) return;
      }
    }
  }

  /**
   * Every committed entry as [stateKey, value], in stateKey order, as of this call: the LevelDB
   * iterator (and the storage snapshot it holds) is opened before this returns, so commits made
   * while the caller reads are not seen. Call it when every committed batch is written.
   */
  committedEntries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    if (this.#unwrittenBatches > 0) throw stale("a committed batch is not written yet");
    const it = this.#db.iterate(this.#valuesColumn);
    // The generator runs up to its first await here, which opens the iterator.
    const first = it.next();
    return {
      async *[Symbol.asyncIterator]() {
        for (let r = await first; r.done !== true; r = await it.next()) yield r.value;
      },
    };
  }

  /** A fresh overlay for executing a block on top of the committed state. */
  overlay(): StateOverlay {
    const base = this.root();
    const baseHash = refHash(this.#root);
    return new Overlay(
      this,
      base,
      (stateKey, id) => {
        if (refHash(this.#root) !== baseHash) {
          return Promise.reject(stale("the overlay's base root is no longer the committed state root"));
        }
        return this.#read(stateKey, id);
      },
      (stateKey, id) => {
        if (refHash(this.#root) !== baseHash)
          throw stale("the overlay's base root is no longer the committed state root");
        return this.#readSync(stateKey, id);
      },
    );
  }

  /** Reads tree records, refusing (STATE_STALE) a result that a commit overtook. */
  #fetcher(generation: number): RecordFetcher {
    return async (keys) => {
      if (generation !== this.#generation) throw stale("the state was committed during the read");
      const records = await this.#db.getMany(this.#treeColumn, keys);
      if (generation !== this.#generation) throw stale("the state was committed during the read");
      return records;
    };
  }

  /**
   * Computes the root the overlay's changes lead to, without changing the committed state (it only
   * loads committed tree nodes into memory). Only the changed keys' paths are read and hashed.
   */
  async prepare(overlay: StateOverlay): Promise<PreparedState> {
    if (!(overlay instanceof Overlay) || overlay.owner !== this) {
      throw new StateError("STATE_FOREIGN", "the overlay was not created by this world state");
    }
    const generation = this.#generation;
    const baseHash = refHash(this.#root);
    if (bytesToHash(overlay.baseRoot) !== baseHash) {
      throw stale("the overlay's base root is no longer the committed root");
    }
    const changes: Change[] = [];
    for (const entry of overlay.entries()) {
      const vh = entry.value === undefined ? null : sha256String(entry.value);
      changes.push({ kh: sha256String(entry.stateKey), vh, effective: false, entry });
    }
    sortByKeyHash(changes);
    this.#readers++;
    let base: Ref;
    try {
      const loaded = await loadTouched(this.#root, changes, this.#fetcher(generation));
      if (generation !== this.#generation) throw stale("the state was committed while preparing");
      base = this.#install(loaded.root, loaded.loaded);
    } finally {
      this.#readers--;
    }
    const { root, writes } = applyChanges(base, changes);
    this.#maybePrune();
    const values: OverlayEntry[] = [];
    for (const c of changes) if (c.effective) values.push(c.entry);
    // The latin1 id orders like the stateKey bytes, and compares far faster than Buffer.compare.
    values.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const result: PreparedState = Object.freeze({
      baseRoot: hashToBytes(baseHash),
      root: hashToBytes(refHash(root)),
      writes: Object.freeze(values.map((e) => ({ contract: e.contract, key: e.key, value: e.value }))),
    });
    prepared.set(result, { owner: this, baseHash, newRoot: root, values, nodes: writes, committed: false });
    return result;
  }

  /** After loading nodes for the current root: installs a loaded root and counts the nodes. */
  #install(root: Ref, loaded: number): Ref {
    if (typeof this.#root === "string" && root instanceof INode && root.h === this.#root) this.#root = root;
    this.#nodesInMemory += loaded;
    return root;
  }

  /**
   * Adds the prepared changes (values, tree nodes, root) to `batch` and makes them the committed
   * state in memory at once. The caller writes the batch atomically with the block; until the write
   * succeeds the changes are pinned in memory. If the write fails, memory is ahead of disk: stop the
   * node and reopen. Throws STATE_STALE if `ready` was not prepared on the current root.
   */
  commit(ready: PreparedState, batch: WriteBatch): void {
    const p = prepared.get(ready);
    if (p === undefined || p.owner !== this) {
      throw new StateError("STATE_FOREIGN", "the prepared state was not prepared by this world state");
    }
    if (p.committed) throw new StateError("STATE_ALREADY_COMMITTED", "the prepared state was already committed");
    if (p.baseHash !== refHash(this.#root)) {
      throw stale("the prepared state is based on a root that is no longer the committed root");
    }
    const seq = ++this.#commitSeq;
    // Registered first: it throws if the batch was already written, before anything changed.
    batch.onWritten(() => this.#written(seq, p));
    for (const e of p.values) {
      if (e.value === undefined) batch.del(this.#valuesColumn, e.stateKey);
      else batch.put(this.#valuesColumn, e.stateKey, e.value);
    }
    // All node keys and records go into one buffer, rather than ~2 small allocations per node.
    let size = 0;
    for (const w of p.nodes) size += pathKeyLength(w.depth) + (w.node === null ? 0 : recordLength(w.node));
    const buf = new Uint8Array(size);
    let off = 0;
    let created = 0;
    for (const w of p.nodes) {
      const kl = pathKeyLength(w.depth);
      writePathKey(buf, off, w.depth, w.kh);
      const key = buf.subarray(off, off + kl);
      off += kl;
      if (w.node === null) batch.del(this.#treeColumn, key);
      else {
        const rl = recordLength(w.node);
        writeRecord(buf, off, w.node);
        batch.put(this.#treeColumn, key, buf.subarray(off, off + rl));
        off += rl;
        created++;
      }
    }
    if (refHash(p.newRoot) !== p.baseHash) batch.put(this.#treeColumn, ROOT_KEY, encodeRootRecord(p.newRoot));

    for (const e of p.values) {
      this.#pendingValues.set(e.id, { seq, entry: e });
      this.#values.set(e.id, e.value ?? null);
    }
    this.#root = p.newRoot;
    this.#nodesInMemory += created;
    this.#generation++;
    this.#unwrittenBatches++;
    p.committed = true;
  }

  #written(seq: number, p: PreparedInternal): void {
    for (const e of p.values) if (this.#pendingValues.get(e.id)?.seq === seq) this.#pendingValues.delete(e.id);
    this.#unwrittenBatches--;
    this.#maybePrune();
  }

  // Nodes of a commit whose batch is not written yet are only in memory, and a prepare or proof in
  // progress walks the tree: pruning waits for neither to be the case.
  #maybePrune(): void {
    if (this.#nodesInMemory <= this.#maxNodes || this.#unwrittenBatches > 0 || this.#readers > 0) return;
    this.#nodesInMemory = pruneTree(this.#root, Math.floor(this.#maxNodes * 0.75));
  }

  /** An inclusion (key present) or non-inclusion (absent) proof of `contract`/`key` against root(). */
  async prove(contract: string, key: Uint8Array): Promise<StateProof> {
    const kh = sha256String(encodeStateKey(contract, key));
    this.#readers++;
    try {
      for (;;) {
        const fetch = this.#fetcher(this.#generation);
        const siblings: string[] = [];
        let cur: Ref = this.#root;
        let parent: INode | null = null;
        let right = false;
        try {
          for (let depth = 0; ; depth++) {
            if (typeof cur === "string") {
              const [rec] = await fetch([pathKey(depth, kh)]);
              if (rec === undefined) throw new StateError("STATE_CORRUPT", `state tree node at depth ${depth} missing`);
              const node = decodeRecord(rec, cur);
              if (parent === null) this.#install(node, 1);
              else if ((right ? parent.r : parent.l) === cur) {
                if (right) parent.r = node;
                else parent.l = node;
                this.#nodesInMemory++;
              }
              cur = node;
            }
            if (!(cur instanceof INode)) break;
            parent = cur;
            right = hashBit(kh, depth) === 1;
            siblings.push(refHash(right ? cur.l : cur.r));
            cur = right ? cur.r : cur.l;
          }
        } catch (e) {
          if (e instanceof StateError && e.code === "STATE_STALE") continue;
          throw e;
        }
        const leaf = cur instanceof Leaf ? { keyHash: hashToBytes(cur.kh), valueHash: hashToBytes(cur.vh) } : null;
        return { siblings: siblings.map(hashToBytes), leaf };
      }
    } finally {
      this.#readers--;
      this.#maybePrune();
    }
  }
}
