// Where a node keeps the snapshots it serves: one directory per height holding the encoded
// manifest and chunks, written under a temporary name and renamed, so a crash never leaves a
// half-written snapshot on offer.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LedgerError } from "../errors.ts";
import type { LedgerHead } from "../ledger.ts";
import type { WorldState } from "../state/world-state.ts";
import {
  buildSnapshot,
  decodeManifest,
  encodeManifest,
  manifestHash,
  rootOfParts,
  type SnapshotEntry,
  type SnapshotManifest,
} from "./format.ts";

export interface SnapshotStoreOptions {
  readonly dir: string;
  /** Snapshots kept; older ones are deleted when a new one is written (default 2). */
  readonly keep?: number;
  /** Target size of a chunk in bytes; a part (1/256 of the keys) is never split (default 1 MiB). */
  readonly chunkBytes?: number;
}

/** What a node offers: a snapshot's height, its manifest's hash and its chunk count. */
export interface SnapshotOffer {
  readonly height: number;
  readonly manifestHash: Uint8Array;
  readonly chunks: number;
}

export const DEFAULT_SNAPSHOT_KEEP = 2;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const MANIFEST = "manifest.bin";
const chunkFile = (i: number) => `chunk-${String(i).padStart(5, "0")}.bin`;

export class SnapshotStore {
  readonly dir: string;
  readonly #keep: number;
  readonly #chunkBytes: number;
  #offers: SnapshotOffer[] = [];
  #taking: Promise<SnapshotOffer | undefined> | undefined;

  private constructor(opts: SnapshotStoreOptions) {
    this.dir = opts.dir;
    this.#keep = Math.max(1, opts.keep ?? DEFAULT_SNAPSHOT_KEEP);
    this.#chunkBytes = Math.max(1024, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }

  /** Opens (creating) the directory and reads the snapshots already in it; leftovers of a crash are removed. */
  static async open(opts: SnapshotStoreOptions): Promise<SnapshotStore> {
    const store = new SnapshotStore(opts);
    await mkdir(opts.dir, { recursive: true });
    for (const name of await readdir(opts.dir)) {
      if (!/^\d+$/.test(name)) {
        await rm(join(opts.dir, name), { recursive: true, force: true });
        continue;
      }
      try {
        const bytes = await readFile(join(opts.dir, name, MANIFEST));
        const m = decodeManifest(bytes);
        store.#offers.push({ height: m.height, manifestHash: manifestHash(bytes), chunks: m.chunks.length });
      } catch {
        await rm(join(opts.dir, name), { recursive: true, force: true });
      }
    }
    store.#offers.sort((a, b) => b.height - a.height);
    return store;
  }

  /** The snapshots on offer, newest first. */
  list(): readonly SnapshotOffer[] {
    return this.#offers;
  }

  /** A snapshot's encoded manifest, or undefined if it is not kept. */
  async manifest(height: number): Promise<Uint8Array | undefined> {
    if (!this.#offers.some((o) => o.height === height)) return undefined;
    return readFile(join(this.dir, String(height), MANIFEST)).catch(() => undefined);
  }

  /** One encoded chunk, or undefined. */
  async chunk(height: number, index: number): Promise<Uint8Array | undefined> {
    const offer = this.#offers.find((o) => o.height === height);
    if (offer === undefined || !Number.isSafeInteger(index) || index < 0 || index >= offer.chunks) return undefined;
    return readFile(join(this.dir, String(height), chunkFile(index))).catch(() => undefined);
  }

  /** Resolves when no snapshot is being written (a node waits for it before closing its database). */
  async settled(): Promise<void> {
    await this.#taking?.catch(() => {});
  }

  /** Whether a snapshot is being written now. */
  get busy(): boolean {
    return this.#taking !== undefined;
  }

  /**
   * Writes a snapshot of the committed state at `head` (which must be the state's current head,
   * every batch written). The state is read as of this call; the work continues in the background
   * of the returned promise. Resolves undefined when one is already being written.
   */
  take(state: WorldState, head: LedgerHead): Promise<SnapshotOffer | undefined> {
    if (this.#taking !== undefined) return Promise.resolve(undefined);
    const entries = state.committedEntries();
    this.#taking = this.#write(entries, head).finally(() => {
      this.#taking = undefined;
    });
    return this.#taking;
  }

  async #write(source: AsyncIterable<[Uint8Array, Uint8Array]>, head: LedgerHead): Promise<SnapshotOffer> {
    const entries: SnapshotEntry[] = [];
    for await (const e of source) entries.push(e);
    const { manifest, chunks } = buildSnapshot(
      entries,
      { height: head.height, blockHash: head.hash, stateRoot: head.stateRoot },
      this.#chunkBytes,
    );
    // The entries were read from storage while the chain moved on: check they are the head's state.
    if (Buffer.compare(rootOfParts(manifest.parts), head.stateRoot) !== 0) {
      throw new LedgerError("SNAPSHOT_FAILED", `the state read for height ${head.height} is not that block's state`);
    }
    return this.#save(manifest, chunks);
  }

  async #save(manifest: SnapshotManifest, chunks: readonly Uint8Array[]): Promise<SnapshotOffer> {
    const name = String(manifest.height);
    const tmp = join(this.dir, `${name}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    for (let i = 0; i < chunks.length; i++) await writeFile(join(tmp, chunkFile(i)), chunks[i] as Uint8Array);
    const bytes = encodeManifest(manifest);
    await writeFile(join(tmp, MANIFEST), bytes);
    await rm(join(this.dir, name), { recursive: true, force: true });
    await rename(tmp, join(this.dir, name));
    const offer: SnapshotOffer = { height: manifest.height, manifestHash: manifestHash(bytes), chunks: chunks.length };
    this.#offers = [offer, ...this.#offers.filter((o) => o.height !== manifest.height)].sort(
      (a, b) => b.height - a.height,
    );
    for (const old of this.#offers.slice(this.#keep)) {
      await rm(join(this.dir, String(old.height)), { recursive: true, force: true });
    }
    this.#offers = this.#offers.slice(0, this.#keep);
    return offer;
  }
}
