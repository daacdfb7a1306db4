import { PRIVATE_CONTRACT, parsePrivateStateKey, privateStateKey } from "@cairn/contracts";
import { concatBytes, equalBytes, toHex } from "@cairn/crypto";
import type { ChainRegistry, Collection } from "@cairn/management";
import {
  decode,
  decodePrivateWrites,
  encode,
  encodePrivateWrites,
  matchesRef,
  type PrivateRef,
  type PrivateWrite,
  privateKeyHash,
  privateWriteFromValue,
  privateWriteToValue,
  RECEIPT_OK,
  type Receipt,
  type SignedTransaction,
  type Value,
} from "@cairn/messaging";
import type { Database, WriteBatch } from "@cairn/storage";
import { Columns, u32be, u64be } from "../columns.ts";

// The private data of a member node (docs/privacy.md), beside the ledger in the same database:
// - transient: plaintext received with (or ahead of) a transaction, until the block that commits it;
// - private: the plaintext of each key's committed hash, until blockToLive or a purge removes it;
// - missing: committed writes of a collection this node is a member of whose plaintext it never
//   received (it was down): the node pulls them from other members.
// Nothing here is hashed into the state root: every node holds the same hashes in the state tree.

/** What a member keeps of one private key. */
export interface PrivateRecord {
  readonly write: PrivateWrite;
  readonly valueHash: Uint8Array;
  /** Height of the block that wrote it. */
  readonly height: number;
  readonly txHash: Uint8Array;
  /** Height whose commit purges it; undefined when it is kept until purged. */
  readonly expiresAt: number | undefined;
}

/** A committed private write this node should hold but does not. */
export interface MissingPrivate {
  readonly ref: PrivateRef;
  readonly height: number;
  readonly txHash: Uint8Array;
}

/** A private write that a block committed: its transaction made the key's hash the ref's value hash. */
export interface CommittedPrivateWrite {
  readonly ref: PrivateRef;
  readonly tx: SignedTransaction;
}

/** What one commit did to this node's private data (for the log and metrics). */
export interface PrivateCommitSummary {
  readonly stored: number;
  readonly missing: number;
  readonly purged: number;
}

const encodeRecord = (r: PrivateRecord) =>
  encode([privateWriteToValue(r.write), r.valueHash, r.height, r.txHash, r.expiresAt ?? 0]);

function decodeRecord(b: Uint8Array): PrivateRecord {
  const [w, valueHash, height, txHash, expiresAt] = decode(b) as [Value, Uint8Array, number, Uint8Array, number];
  return {
    write: privateWriteFromValue(w, "record"),
    valueHash,
    height,
    txHash,
    expiresAt: expiresAt === 0 ? undefined : expiresAt,
  };
}

/** [valueHash, height, txHash]: what a missing record keeps of the committed write. */
const encodeMissing = (m: Omit<MissingPrivate, "ref"> & { valueHash: Uint8Array }) =>
  encode([m.valueHash, m.height, m.txHash]);

function decodeMissing(skey: Uint8Array, b: Uint8Array): MissingPrivate {
  const { collection, keyHash } = parsePrivateStateKey(skey) as { collection: string; keyHash: Uint8Array };
  const [valueHash, height, txHash] = decode(b) as [Uint8Array, number, Uint8Array];
  return { ref: { collection, keyHash: keyHash.slice(), valueHash }, height, txHash };
}

/** Transient entries dropped per commit at most (bounded like the replay index's pruning). */
const TRANSIENT_PRUNE_LIMIT = 1_000;
/** blockToLive purges per commit at most; the rest follow at the next commits. */
const EXPIRY_PRUNE_LIMIT = 10_000;

export class PrivateDataStore {
  private readonly db: Database;
  /** This node's organisation (from the node registry), or undefined: a member of no collection. */
  private org: () => string | undefined = () => undefined;
  private compacting: Promise<void> = Promise.resolve();
  /**
   * The lowest purge height in the expiry index and the lowest expiry in the transient index
   * (Infinity: empty; undefined: to be read again). Read when the store opens, so a commit reads an
   * index only when something in it is due: a chain without private data does no I/O here.
   */
  private expiryDue: number | undefined;
  private transientDue: number | undefined;
  private readonly purgeListeners = new Set<(purged: number) => void>();
  /** What this store did since the node started (cairn_private_data_total). */
  readonly counts = { stored: 0, missing: 0, pulled: 0, purged: 0 };

  private constructor(db: Database) {
    this.db = db;
  }

  /** The store of `db`, with what is due in its indexes read. */
  static async open(db: Database): Promise<PrivateDataStore> {
    const store = new PrivateDataStore(db);
    store.expiryDue = await store.firstDue(Columns.privateExpiry, 8);
    store.transientDue = await store.firstDue(Columns.privateTransientByExpiry, 4);
    return store;
  }

  /** Tells the store which organisation this node belongs to (the node resolves it from the registry). */
  setOrganization(org: () => string | undefined): void {
    this.org = org;
  }

  organization(): string | undefined {
    return this.org();
  }

  /** Whether this node holds the plaintext of `collection`'s writes. */
  isMember(collection: Collection | undefined): boolean {
    const org = this.org();
    return collection !== undefined && org !== undefined && collection.members.includes(org);
  }

  /**
   * Keeps the writes of a transaction not yet committed (one fsynced write): those of collections
   * this node is a member of. Returns how many it kept.
   */
  async putTransient(
    stx: SignedTransaction,
    writes: readonly PrivateWrite[],
    registry: ChainRegistry,
  ): Promise<number> {
    const mine = writes.filter((w) => this.isMember(registry.collection(w.collection)));
    if (mine.length === 0) return 0;
    const expiry = stx.tx.expiry;
    await this.db
      .batch()
      .put(Columns.privateTransient, stx.hash, encode([expiry, encodePrivateWrites(mine)]))
      .put(Columns.privateTransientByExpiry, concatBytes(u32be(expiry), stx.hash), new Uint8Array(0))
      .write({ sync: true });
    if (this.transientDue !== undefined) this.transientDue = Math.min(this.transientDue, expiry);
    return mine.length;
  }

  async dropTransient(txHash: Uint8Array): Promise<void> {
    const t = await this.db.get(Columns.privateTransient, txHash);
    if (t === undefined) return;
    const [expiry] = decode(t) as [number];
    await this.db
      .batch()
      .del(Columns.privateTransient, txHash)
      .del(Columns.privateTransientByExpiry, concatBytes(u32be(expiry), txHash))
      .write({ sync: true });
  }

  private async transient(txHash: Uint8Array): Promise<{ expiry: number; writes: PrivateWrite[] } | undefined> {
    const t = await this.db.get(Columns.privateTransient, txHash);
    if (t === undefined) return undefined;
    const [expiry, writes] = decode(t) as [number, Uint8Array];
    return { expiry, writes: decodePrivateWrites(writes) };
  }

  /** The plaintext this node holds for a key (whatever its current hash). */
  async get(collection: string, keyHash: Uint8Array): Promise<PrivateRecord | undefined> {
    const b = await this.db.get(Columns.privateData, privateStateKey(collection, keyHash));
    return b === undefined ? undefined : decodeRecord(b);
  }

  /** Committed writes this node should hold and does not, oldest first, at most `limit`. */
  async missing(limit = 100): Promise<MissingPrivate[]> {
    const out: MissingPrivate[] = [];
    for await (const [k, v] of this.db.iterate(Columns.privateMissing, { limit })) out.push(decodeMissing(k, v));
    return out.sort((a, b) => a.height - b.height);
  }

  /**
   * Writes another member sent for a missing entry: kept if it is still missing and the plaintext
   * hashes to it. Returns how many were kept.
   */
  async storePulled(writes: readonly PrivateWrite[], registry: ChainRegistry, head: number): Promise<number> {
    const batch = this.db.batch();
    let kept = 0;
    for (const w of writes) {
      const collection = registry.collection(w.collection);
      if (!this.isMember(collection)) continue;
      const skey = privateStateKey(w.collection, privateKeyHash(w.collection, w.key));
      const lacking = await this.db.get(Columns.privateMissing, skey);
      if (lacking === undefined) continue;
      const m = decodeMissing(skey, lacking);
      if (!matchesRef(w, m.ref)) continue;
      const expiresAt = expiryOf(collection as Collection, m.height);
      if (expiresAt !== undefined && expiresAt <= head) {
        // It would already have been purged here: it arrives too late to be kept.
        batch.del(Columns.privateMissing, skey);
        continue;
      }
      this.putRecord(batch, { write: w, valueHash: m.ref.valueHash, height: m.height, txHash: m.txHash, expiresAt });
      kept++;
    }
    if (batch.length > 0) await batch.write({ sync: true });
    this.counts.pulled += kept;
    return kept;
  }

  /** The plaintext of these references that this node holds (for another member that lacks them). */
  async serve(refs: readonly PrivateRef[]): Promise<PrivateWrite[]> {
    const out: PrivateWrite[] = [];
    for (const ref of refs) {
      const r = await this.get(ref.collection, ref.keyHash);
      if (r !== undefined && equalBytes(r.valueHash, ref.valueHash)) out.push(r.write);
    }
    return out;
  }

  private putExpiry(batch: WriteBatch, at: number, skey: Uint8Array, valueHash: Uint8Array): void {
    batch.put(Columns.privateExpiry, concatBytes(u64be(at), skey), valueHash);
    if (this.expiryDue !== undefined) this.expiryDue = Math.min(this.expiryDue, at);
  }

  /** The number in the first `width` bytes of a column's first key; Infinity when it is empty. */
  private async firstDue(column: number, width: 4 | 8): Promise<number> {
    for await (const [k] of this.db.iterate(column, { limit: 1 })) {
      const view = new DataView(k.buffer, k.byteOffset, width);
      return width === 8 ? Number(view.getBigUint64(0)) : view.getUint32(0);
    }
    return Number.POSITIVE_INFINITY;
  }

  private putRecord(batch: WriteBatch, r: PrivateRecord): void {
    const skey = privateStateKey(r.write.collection, privateKeyHash(r.write.collection, r.write.key));
    batch.put(Columns.privateData, skey, encodeRecord(r));
    batch.del(Columns.privateMissing, skey);
    if (r.expiresAt !== undefined) this.putExpiry(batch, r.expiresAt, skey, r.valueHash);
  }

  /**
   * Whether a block's commit has anything to do with private data: a private write, a purge, a
   * transaction carrying plaintext in the transient store, or an index entry due at `height`. Most
   * blocks have none, and their commit then skips this store altogether.
   */
  concerns(
    height: number,
    committed: readonly CommittedPrivateWrite[],
    receipts: readonly Receipt[],
    txs: readonly SignedTransaction[],
  ): boolean {
    return (
      committed.length > 0 ||
      this.expiryDue === undefined ||
      this.expiryDue <= height ||
      this.transientDue === undefined ||
      this.transientDue < height ||
      txs.some((t) => t.tx.private !== undefined) ||
      receipts.some(
        (r) => r.code === RECEIPT_OK && r.events.some((e) => e.contract === PRIVATE_CONTRACT && e.name === "purge"),
      )
    );
  }

  /**
   * Adds to a block's commit batch what the block does to private data: the plaintext of each
   * committed write of a collection this node is a member of moves from transient to private (or is
   * recorded missing), purge transactions and blockToLive remove plaintext (the hashes stay in the
   * state), and transient entries of committed or expired transactions go.
   */
  async prepareCommit(
    batch: WriteBatch,
    height: number,
    committed: readonly CommittedPrivateWrite[],
    receipts: readonly Receipt[],
    txs: readonly SignedTransaction[],
    registry: ChainRegistry,
  ): Promise<PrivateCommitSummary> {
    let stored = 0;
    let missing = 0;
    let purged = 0;
    const transients = new Map<string, Promise<{ expiry: number; writes: PrivateWrite[] } | undefined>>();
    for (const { ref, tx } of committed) {
      const collection = registry.collection(ref.collection);
      if (!this.isMember(collection)) continue;
      const id = toHex(tx.hash);
      if (!transients.has(id)) transients.set(id, this.transient(tx.hash));
      const write = (await transients.get(id))?.writes.find((w) => matchesRef(w, ref));
      const skey = privateStateKey(ref.collection, ref.keyHash);
      const expiresAt = expiryOf(collection as Collection, height);
      if (write === undefined) {
        batch.put(Columns.privateMissing, skey, encodeMissing({ valueHash: ref.valueHash, height, txHash: tx.hash }));
        // Missing data past its blockToLive is no longer asked for: the same purge drops the record.
        if (expiresAt !== undefined) this.putExpiry(batch, expiresAt, skey, ref.valueHash);
        missing++;
        continue;
      }
      this.putRecord(batch, { write, valueHash: ref.valueHash, height, txHash: tx.hash, expiresAt });
      stored++;
    }
    // Explicit purges: pkv.purge transactions that succeeded.
    for (let i = 0; i < receipts.length; i++) {
      const r = receipts[i] as Receipt;
      if (r.code !== RECEIPT_OK) continue;
      for (const e of r.events) {
        if (e.contract !== PRIVATE_CONTRACT || e.name !== "purge") continue;
        const [collection, keyHash] = e.data as [string, Uint8Array];
        const skey = privateStateKey(collection, keyHash);
        batch.del(Columns.privateData, skey);
        batch.del(Columns.privateMissing, skey);
        purged++;
      }
    }
    // blockToLive: records whose purge height has come, unless a newer write replaced them.
    this.expiryDue ??= await this.firstDue(Columns.privateExpiry, 8);
    const expiring =
      this.expiryDue <= height
        ? this.db.iterate(Columns.privateExpiry, { lt: u64be(height + 1), limit: EXPIRY_PRUNE_LIMIT })
        : [];
    if (this.expiryDue <= height) this.expiryDue = undefined;
    for await (const [k, valueHash] of expiring) {
      const skey = k.subarray(8);
      batch.del(Columns.privateExpiry, k);
      const { collection, keyHash } = parsePrivateStateKey(skey) as { collection: string; keyHash: Uint8Array };
      if (rewritten(committed, collection, keyHash)) continue;
      const held = await this.get(collection, keyHash);
      if (held !== undefined && equalBytes(held.valueHash, valueHash)) {
        batch.del(Columns.privateData, skey);
        purged++;
      }
      const lacking = await this.db.get(Columns.privateMissing, skey);
      if (lacking !== undefined && equalBytes(decodeMissing(skey, lacking).ref.valueHash, valueHash)) {
        batch.del(Columns.privateMissing, skey);
      }
    }
    // Transient entries: those of this block's transactions, and those whose transaction expired.
    for (const stx of txs) {
      if (stx.tx.private === undefined) continue;
      batch.del(Columns.privateTransient, stx.hash);
      batch.del(Columns.privateTransientByExpiry, concatBytes(u32be(stx.tx.expiry), stx.hash));
    }
    this.transientDue ??= await this.firstDue(Columns.privateTransientByExpiry, 4);
    const expired =
      this.transientDue < height
        ? this.db.iterate(Columns.privateTransientByExpiry, {
            lt: u32be(Math.min(height, 0xffffffff)),
            limit: TRANSIENT_PRUNE_LIMIT,
          })
        : [];
    if (this.transientDue < height) this.transientDue = undefined;
    for await (const [k] of expired) {
      batch.del(Columns.privateTransientByExpiry, k);
      batch.del(Columns.privateTransient, k.subarray(4));
    }
    return { stored, missing, purged };
  }

  /**
   * Called once the commit is on disk: when plaintext was purged, the private columns are compacted
   * so that the bytes leave LevelDB's files too (one compaction at a time, in the background).
   */
  afterCommit(summary: PrivateCommitSummary): void {
    this.counts.stored += summary.stored;
    this.counts.missing += summary.missing;
    this.counts.purged += summary.purged;
    if (summary.purged === 0) return;
    this.compacting = this.compacting
      .then(async () => {
        await this.db.compact(Columns.privateData);
        await this.db.compact(Columns.privateTransient);
      })
      .then(() => {
        for (const l of this.purgeListeners) l(summary.purged);
      })
      .catch(() => {
        // The database closed while compacting: the next purge compacts again.
      });
  }

  /** Resolves once the compactions already started are done (tests, shutdown). */
  compacted(): Promise<void> {
    return this.compacting;
  }

  /** Called after each purge has been compacted out of the database files. */
  onPurged(listener: (purged: number) => void): () => void {
    this.purgeListeners.add(listener);
    return () => this.purgeListeners.delete(listener);
  }
}

function expiryOf(collection: Collection, height: number): number | undefined {
  return collection.blockToLive === 0 ? undefined : height + collection.blockToLive;
}

function rewritten(committed: readonly CommittedPrivateWrite[], collection: string, keyHash: Uint8Array): boolean {
  return committed.some((c) => c.ref.collection === collection && equalBytes(c.ref.keyHash, keyHash));
}
