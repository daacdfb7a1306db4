import { compareBytes } from "@cairn/crypto";
import { StateError } from "./errors.ts";
import { encodeStateKey } from "./hashing.ts";

/** One key's new value in a block (`value` undefined: deleted). */
export interface StateChange {
  readonly contract: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/**
 * Buffered writes of a block being executed, on top of the committed state it was created from.
 * Nothing reaches the committed state until `prepare` + `commit`; dropping the overlay discards them.
 * Returned values are shared with the overlay: treat them as read-only.
 */
export interface StateOverlay {
  /** The committed state root this overlay reads through to. */
  readonly baseRoot: Uint8Array;
  /** Number of distinct keys written (including deletes). */
  readonly size: number;
  get(contract: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  /** `get` without awaiting (a blocking read on a miss): for contract host functions, which are synchronous. */
  getSync(contract: string, key: Uint8Array): Uint8Array | undefined;
  /** This overlay's own writes to `contract` under `prefix` (deletes as undefined), in key order. */
  written(contract: string, prefix: Uint8Array): StateChange[];
  set(contract: string, key: Uint8Array, value: Uint8Array): void;
  delete(contract: string, key: Uint8Array): void;
  /** Marks the current writes; `revertTo` undoes everything written after it (e.g. one failed transaction). */
  checkpoint(): number;
  /** Undoes the writes made since `checkpoint`; later checkpoints become invalid. */
  revertTo(checkpoint: number): void;
  /** The keys written so far, with their final values, in first-write order. */
  changes(): StateChange[];
}

/** A buffered write; `stateKey` is the encoded contract/key and `id` its Map key. */
export interface OverlayEntry extends StateChange {
  readonly stateKey: Uint8Array;
  readonly id: string;
}

/** Reads the committed value (after checking the overlay is still based on the committed root). */
export type CommittedReader = (
  stateKey: Uint8Array,
  id: string,
  baseRoot: Uint8Array,
) => Promise<Uint8Array | undefined>;

/** The synchronous form of CommittedReader. */
export type CommittedSyncReader = (stateKey: Uint8Array, id: string) => Uint8Array | undefined;

export function stateId(stateKey: Uint8Array): string {
  return Buffer.from(stateKey.buffer, stateKey.byteOffset, stateKey.byteLength).toString("latin1");
}

interface JournalEntry {
  readonly id: string;
  readonly previous: OverlayEntry | undefined;
}

export class Overlay implements StateOverlay {
  readonly baseRoot: Uint8Array;
  /** The WorldState that created this overlay (prepare refuses another's). */
  readonly owner: object;
  #read: CommittedReader;
  #readSync: CommittedSyncReader;
  #entries = new Map<string, OverlayEntry>();
  #journal: JournalEntry[] = [];

  constructor(owner: object, baseRoot: Uint8Array, read: CommittedReader, readSync: CommittedSyncReader) {
    this.owner = owner;
    this.baseRoot = baseRoot;
    this.#read = read;
    this.#readSync = readSync;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(contract: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const stateKey = encodeStateKey(contract, key);
    const id = stateId(stateKey);
    const e = this.#entries.get(id);
    if (e !== undefined) return e.value;
    return this.#read(stateKey, id, this.baseRoot);
  }

  getSync(contract: string, key: Uint8Array): Uint8Array | undefined {
    const stateKey = encodeStateKey(contract, key);
    const id = stateId(stateKey);
    const e = this.#entries.get(id);
    if (e !== undefined) return e.value;
    return this.#readSync(stateKey, id);
  }

  written(contract: string, prefix: Uint8Array): StateChange[] {
    const out: StateChange[] = [];
    for (const e of this.#entries.values()) {
      if (e.contract !== contract || e.key.length < prefix.length) continue;
      if (compareBytes(e.key.subarray(0, prefix.length), prefix) === 0)
        out.push({ contract, key: e.key, value: e.value });
    }
    return out.sort((a, b) => compareBytes(a.key, b.key));
  }

  set(contract: string, key: Uint8Array, value: Uint8Array): void {
    // Copies, so a caller reusing its buffer cannot change the state after the fact.
    this.#write(contract, key, value.slice());
  }

  delete(contract: string, key: Uint8Array): void {
    this.#write(contract, key, undefined);
  }

  #write(contract: string, key: Uint8Array, value: Uint8Array | undefined): void {
    const stateKey = encodeStateKey(contract, key);
    const id = stateId(stateKey);
    this.#journal.push({ id, previous: this.#entries.get(id) });
    this.#entries.set(id, { contract, key: key.slice(), value, stateKey, id });
  }

  checkpoint(): number {
    return this.#journal.length;
  }

  revertTo(checkpoint: number): void {
    if (!Number.isInteger(checkpoint) || checkpoint < 0 || checkpoint > this.#journal.length) {
      throw new StateError("STATE_BAD_CHECKPOINT", `checkpoint ${checkpoint} is not one of this overlay's`);
    }
    while (this.#journal.length > checkpoint) {
      const j = this.#journal.pop() as JournalEntry;
      if (j.previous === undefined) this.#entries.delete(j.id);
      else this.#entries.set(j.id, j.previous);
    }
  }

  changes(): StateChange[] {
    return Array.from(this.#entries.values(), (e) => ({ contract: e.contract, key: e.key, value: e.value }));
  }

  /** The buffered writes themselves, for prepare. */
  entries(): IterableIterator<OverlayEntry> {
    return this.#entries.values();
  }
}
