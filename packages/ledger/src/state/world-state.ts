// The world state (FG DLT: Ledger / status): committed key-value state per contract, speculative
// overlays for blocks being executed, and the sparse Merkle state tree that yields the state root.
import { concatBytes } from "@cairn/crypto";
import type { Column, Database, WriteBatch } from "@cairn/storage";
import { StateError } from "./errors.ts";
import { encodeContractPrefix, encodeStateKey } from "./hashing.ts";
import { Lru } from "./lru.ts";
import { Overlay, type OverlayEntry, type StateChange, type StateOverlay, stateId } from "./overlay.ts";
import type { StateProof } from "./proof.ts";
import {
  applyChanges,
  bit,
  type Child,
  compareHash,
  decodeInternal,
  decodeRoot,
  encodeRoot,
  fastSha256,
  INTERNAL,
  LEAF,
  loadTouched,
  type NodeLoader,
  type NodeWrite,
  pathId,
  pathKey,
  type TreeChange,
} from "./tree.ts";

/** Default column of the flat state values (key: u16be(len) ‖ contract ‖ key). */
export const STATE_VALUES_COLUMN: Column = 0x10;
/** Default column of the state tree's internal nodes (key: depth ‖ path bits) and its root (empty key). */
export const STATE_TREE_COLUMN: Column = 0x11;

export interface WorldStateOptions {
  readonly valuesColumn?: Column;
  readonly treeColumn?: Column;
  /**
   * Internal-node records kept in memory (default 500 000, about 200 MB). The top of the tree, which
   * every block touches, stays cached; misses are read from LevelDB in one batch per tree level.
   */
  readonly nodeCacheSize?: number;
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
  readonly limit?: number;
}

interface PreparedInternal {
  readonly owner: WorldState;
  readonly baseRoot: Child;
  readonly newRoot: Child;
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

interface PendingNode {
  readonly seq: number;
  readonly record: Uint8Array | null;
}

const ROOT_KEY = new Uint8Array(0);
const prepared = new WeakMap<PreparedState, PreparedInternal>();

function stale(what: string): StateError {
  return new StateError("STATE_STALE", what);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function sameRoot(a: Uint8Array, b: Uint8Array): boolean {
  return compareHash(a, b) === 0;
}

/** Opens the world state stored in `db` (an empty state if there is none yet). */
export async function createWorldState(db: Database, options: WorldStateOptions = {}): Promise<WorldState> {
  const treeColumn = options.treeColumn ?? STATE_TREE_COLUMN;
  const root = decodeRoot(await db.get(treeColumn, ROOT_KEY));
  return new WorldState(db, root, options);
}

export class WorldState {
  #db: Database;
  #valuesColumn: Column;
  #treeColumn: Column;
  #root: Child;
  // Bumped by every commit; reads that straddle a commit do not fill the caches with old data.
  #generation = 0;
  #commitSeq = 0;
  #nodes: Lru<Uint8Array>;
  #values: Lru<Uint8Array | null>;
  // What commit() put into a batch that is not written yet: it wins over the caches and the disk.
  #pendingNodes = new Map<string, PendingNode>();
  #pendingValues = new Map<string, PendingValue>();

  /** Use createWorldState(), which loads the root. */
  constructor(db: Database, root: Child, options: WorldStateOptions = {}) {
    this.#db = db;
    this.#valuesColumn = options.valuesColumn ?? STATE_VALUES_COLUMN;
    this.#treeColumn = options.treeColumn ?? STATE_TREE_COLUMN;
    this.#root = root;
    this.#nodes = new Lru(options.nodeCacheSize ?? 500_000);
    this.#values = new Lru(options.valueCacheBytes ?? 64 * 1024 * 1024, (v) => (v === null ? 64 : v.length + 64));
  }

  /** The committed state root (32 zero bytes for the empty state). */
  root(): Uint8Array {
    return this.#root.hash.slice();
  }

  /** The committed value of `contract`/`key`, or undefined. Treat the result as read-only. */
  get(contract: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const stateKey = encodeStateKey(contract, key);
    return this.#read(stateKey, stateId(stateKey));
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
    const pending: OverlayEntry[] = [];
    for (const { entry } of this.#pendingValues.values()) {
      if (
        entry.stateKey.length >= prefix.length &&
        compareBytes(entry.stateKey.subarray(0, prefix.length), prefix) === 0
      )
        pending.push(entry);
    }
    pending.sort((a, b) => compareBytes(a.stateKey, b.stateKey));
    const dbOptions = pending.length === 0 && Number.isFinite(limit) ? { prefix, limit } : { prefix };
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

  /** A fresh overlay for executing a block on top of the committed state. */
  overlay(): StateOverlay {
    return new Overlay(this, this.root(), (stateKey, id, baseRoot) => {
      if (!sameRoot(baseRoot, this.#root.hash)) {
        return Promise.reject(stale("the overlay's base root is no longer the committed state root"));
      }
      return this.#read(stateKey, id);
    });
  }

  #loader(generation: number): NodeLoader {
    return async (keys, ids) => {
      if (generation !== this.#generation) throw stale("the state was committed during the read");
      const out = new Array<Uint8Array>(keys.length);
      const missKeys: Uint8Array[] = [];
      const missAt: number[] = [];
      for (let i = 0; i < keys.length; i++) {
        const id = ids[i] as string;
        const rec = this.#nodes.get(id) ?? this.#pendingNodes.get(id)?.record;
        if (rec === null) throw new StateError("STATE_CORRUPT", "state tree refers to a deleted node");
        if (rec !== undefined) out[i] = rec;
        else {
          missKeys.push(keys[i] as Uint8Array);
          missAt.push(i);
        }
      }
      if (missKeys.length === 0) return out;
      const fetched = await this.#db.getMany(this.#treeColumn, missKeys);
      if (generation !== this.#generation) throw stale("the state was committed during the read");
      for (let j = 0; j < fetched.length; j++) {
        const rec = fetched[j];
        if (rec === undefined) throw new StateError("STATE_CORRUPT", "state tree node missing on disk");
        const i = missAt[j] as number;
        out[i] = rec;
        this.#nodes.set(ids[i] as string, rec);
      }
      return out;
    };
  }

  /**
   * Computes the root the overlay's changes lead to, without changing the committed state (it only
   * warms the node cache with committed nodes). Only the changed keys' paths are read and hashed.
   */
  async prepare(overlay: StateOverlay): Promise<PreparedState> {
    if (!(overlay instanceof Overlay) || overlay.owner !== this) {
      throw new StateError("STATE_FOREIGN", "the overlay was not created by this world state");
    }
    const base = this.#root;
    const generation = this.#generation;
    if (!sameRoot(overlay.baseRoot, base.hash)) throw stale("the overlay's base root is no longer the committed root");
    const changes: Change[] = [];
    for (const entry of overlay.entries()) {
      changes.push({
        keyHash: fastSha256(entry.stateKey),
        valueHash: entry.value === undefined ? null : fastSha256(entry.value),
        effective: false,
        entry,
      });
    }
    changes.sort((a, b) => compareHash(a.keyHash, b.keyHash));
    const nodes = await loadTouched(base, changes, this.#loader(generation));
    if (generation !== this.#generation) throw stale("the state was committed while preparing");
    const { root, writes } = applyChanges(base, changes, nodes);
    const values: OverlayEntry[] = [];
    for (const c of changes) if (c.effective) values.push(c.entry);
    values.sort((a, b) => compareBytes(a.stateKey, b.stateKey));
    const result: PreparedState = Object.freeze({
      baseRoot: base.hash.slice(),
      root: root.hash.slice(),
      writes: Object.freeze(values.map((e) => ({ contract: e.contract, key: e.key, value: e.value }))),
    });
    prepared.set(result, { owner: this, baseRoot: base, newRoot: root, values, nodes: writes, committed: false });
    return result;
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
    if (!sameRoot(p.baseRoot.hash, this.#root.hash)) {
      throw stale("the prepared state is based on a root that is no longer the committed root");
    }
    const seq = ++this.#commitSeq;
    // Registered first: it throws if the batch was already written, before anything changed.
    batch.onWritten(() => this.#unpin(seq, p));
    for (const e of p.values) {
      if (e.value === undefined) batch.del(this.#valuesColumn, e.stateKey);
      else batch.put(this.#valuesColumn, e.stateKey, e.value);
    }
    for (const w of p.nodes) {
      if (w.record === null) batch.del(this.#treeColumn, w.key);
      else batch.put(this.#treeColumn, w.key, w.record);
    }
    if (!sameRoot(p.newRoot.hash, p.baseRoot.hash)) batch.put(this.#treeColumn, ROOT_KEY, encodeRoot(p.newRoot));

    for (const e of p.values) {
      this.#pendingValues.set(e.id, { seq, entry: e });
      this.#values.set(e.id, e.value ?? null);
    }
    for (const w of p.nodes) {
      this.#pendingNodes.set(w.id, { seq, record: w.record });
      if (w.record === null) this.#nodes.delete(w.id);
      else this.#nodes.set(w.id, w.record);
    }
    this.#root = p.newRoot;
    this.#generation++;
    p.committed = true;
  }

  #unpin(seq: number, p: PreparedInternal): void {
    for (const e of p.values) if (this.#pendingValues.get(e.id)?.seq === seq) this.#pendingValues.delete(e.id);
    for (const w of p.nodes) if (this.#pendingNodes.get(w.id)?.seq === seq) this.#pendingNodes.delete(w.id);
  }

  /** An inclusion (key present) or non-inclusion (absent) proof of `contract`/`key` against root(). */
  async prove(contract: string, key: Uint8Array): Promise<StateProof> {
    const keyHash = fastSha256(encodeStateKey(contract, key));
    for (;;) {
      const generation = this.#generation;
      const load = this.#loader(generation);
      let cur = this.#root;
      const siblings: Uint8Array[] = [];
      try {
        for (let depth = 0; cur.kind === INTERNAL; depth++) {
          const pk = pathKey(depth, keyHash);
          const [rec] = await load([pk], [pathId(pk)]);
          const [l, r] = decodeInternal(rec as Uint8Array);
          const right = bit(keyHash, depth) === 1;
          siblings.push((right ? l : r).hash.slice());
          cur = right ? r : l;
        }
      } catch (e) {
        if (e instanceof StateError && e.code === "STATE_STALE") continue;
        throw e;
      }
      if (generation !== this.#generation) continue;
      const leaf =
        cur.kind === LEAF
          ? { keyHash: (cur.keyHash as Uint8Array).slice(), valueHash: (cur.valueHash as Uint8Array).slice() }
          : null;
      return { siblings, leaf };
    }
  }
}
