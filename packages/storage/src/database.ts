import { mkdir } from "node:fs/promises";
import { type BatchOperation, ClassicLevel, type Iterator as LevelIterator } from "classic-level";
import { StorageError } from "./errors.ts";

/**
 * A column namespace: a one-byte id (0..255) that prefixes every key stored in it. Callers declare
 * their columns as constants, e.g. `const BLOCKS: Column = 0x01`, and allocate ids centrally.
 */
export type Column = number;

export interface OpenOptions {
  /** Create the database if it does not exist (default true). */
  readonly createIfMissing?: boolean;
  /** Fail if the database already exists (default false). */
  readonly errorIfExists?: boolean;
  /** LevelDB block cache in bytes (default 64 MiB; LevelDB's own default of 8 MiB is small for a ledger). */
  readonly cacheSize?: number;
  /** LevelDB memtable size in bytes (default 16 MiB: fewer, larger level-0 files for block-sized batches). */
  readonly writeBufferSize?: number;
  /** Snappy-compress blocks on disk (default true). */
  readonly compression?: boolean;
  /** Maximum open table files (default 1000). */
  readonly maxOpenFiles?: number;
}

export interface IterateOptions {
  /** Only keys starting with these bytes (combined with the bounds below when both are given). */
  readonly prefix?: Uint8Array;
  /** Lower bound, inclusive (key without the column prefix). */
  readonly gte?: Uint8Array;
  /** Upper bound, exclusive (key without the column prefix). */
  readonly lt?: Uint8Array;
  /** Iterate from the largest key down (default false). */
  readonly reverse?: boolean;
  /** Stop after this many entries (default: no limit). */
  readonly limit?: number;
}

export interface WriteOptions {
  /**
   * fsync the LevelDB log before `write()` resolves (default true). With `sync: true` a batch whose
   * write resolved survives a crash or a power loss; with `sync: false` it survives a crash of the
   * process, but the last batches may be lost if the machine loses power. Committed blocks must be
   * written with the default; `false` is for data that can be recomputed.
   */
  readonly sync?: boolean;
}

type Operation =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: Uint8Array };

/**
 * Writes collected in memory and applied atomically, in ONE LevelDB batch, by `write()`: either all
 * of them are on disk afterwards, or (after a crash or an error) none. Later operations on the same
 * key win over earlier ones.
 */
export interface WriteBatch {
  put(column: Column, key: Uint8Array, value: Uint8Array): this;
  del(column: Column, key: Uint8Array): this;
  /** Number of operations queued. */
  readonly length: number;
  /**
   * Registers `callback` to run once `write()` has succeeded, before it resolves. Caches use it to
   * keep data pinned in memory until it is readable from disk.
   */
  onWritten(callback: () => void): this;
  write(options?: WriteOptions): Promise<void>;
}

export interface Database {
  /** The directory the database lives in. */
  readonly location: string;
  readonly isOpen: boolean;
  get(column: Column, key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Reads many keys in one call into LevelDB, far cheaper than as many `get` calls. */
  getMany(column: Column, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  has(column: Column, key: Uint8Array): Promise<boolean>;
  /** Entries of one column in key order (or reverse), keys returned without the column prefix. */
  iterate(column: Column, options?: IterateOptions): AsyncIterableIterator<[Uint8Array, Uint8Array]>;
  batch(): WriteBatch;
  close(): Promise<void>;
}

type Level = ClassicLevel<Uint8Array, Uint8Array>;

const EMPTY = new Uint8Array(0);

/** Opens (and by default creates) the LevelDB database in directory `path`. */
export async function openDatabase(path: string, options: OpenOptions = {}): Promise<Database> {
  const createIfMissing = options.createIfMissing ?? true;
  if (createIfMissing) {
    try {
      await mkdir(path, { recursive: true });
    } catch (cause) {
      throw new StorageError("STORAGE_IO", `cannot create database directory ${path}`, { cause });
    }
  }
  const level: Level = new ClassicLevel<Uint8Array, Uint8Array>(path, {
    keyEncoding: "view",
    valueEncoding: "view",
    createIfMissing,
    errorIfExists: options.errorIfExists ?? false,
    cacheSize: options.cacheSize ?? 64 * 1024 * 1024,
    writeBufferSize: options.writeBufferSize ?? 16 * 1024 * 1024,
    compression: options.compression ?? true,
    maxOpenFiles: options.maxOpenFiles ?? 1000,
  });
  try {
    await level.open();
  } catch (cause) {
    throw new StorageError("STORAGE_IO", `cannot open database at ${path}: ${messageOf(cause)}`, { cause });
  }
  return new LevelDatabase(path, level);
}

function messageOf(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return e instanceof Error ? e.message + cause : String(e);
}

function checkColumn(column: Column): void {
  if (!Number.isInteger(column) || column < 0 || column > 255) {
    throw new StorageError("STORAGE_BAD_COLUMN", `column must be an integer in 0..255, got ${column}`);
  }
}

function prefixed(column: Column, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = column;
  out.set(key, 1);
  return out;
}

// classic-level hands back Buffers; a plain Uint8Array view keeps `slice()` a copy, as everywhere else.
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The smallest key greater than every key that starts with `prefix`, or undefined if there is none. */
function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      // A copy even when handed a Buffer (whose slice() is a view).
      const out = Uint8Array.from(prefix.subarray(0, i + 1));
      out[i] = (out[i] as number) + 1;
      return out;
    }
  }
  return undefined;
}

function maxBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Buffer.compare(a, b) >= 0 ? a : b;
}

function minBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Buffer.compare(a, b) <= 0 ? a : b;
}

class LevelDatabase implements Database {
  readonly location: string;
  #level: Level;
  #closed = false;

  constructor(location: string, level: Level) {
    this.location = location;
    this.#level = level;
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  #check(): void {
    if (this.#closed) throw new StorageError("STORAGE_CLOSED", `database ${this.location} is closed`);
  }

  #wrap(e: unknown, what: string): StorageError {
    if (e instanceof StorageError) return e;
    const code = (e as { code?: unknown }).code;
    if (this.#closed || code === "LEVEL_DATABASE_NOT_OPEN") {
      return new StorageError("STORAGE_CLOSED", `database ${this.location} is closed`, { cause: e });
    }
    return new StorageError("STORAGE_IO", `${what} failed in ${this.location}: ${messageOf(e)}`, { cause: e });
  }

  async get(column: Column, key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check();
    checkColumn(column);
    try {
      const v = await this.#level.get(prefixed(column, key));
      return v === undefined ? undefined : plain(v);
    } catch (e) {
      throw this.#wrap(e, "get");
    }
  }

  async getMany(column: Column, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    checkColumn(column);
    if (keys.length === 0) return [];
    const full = new Array<Uint8Array>(keys.length);
    for (let i = 0; i < keys.length; i++) full[i] = prefixed(column, keys[i] as Uint8Array);
    try {
      const values = await this.#level.getMany(full);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v !== undefined) values[i] = plain(v);
      }
      return values;
    } catch (e) {
      throw this.#wrap(e, "getMany");
    }
  }

  async has(column: Column, key: Uint8Array): Promise<boolean> {
    this.#check();
    checkColumn(column);
    try {
      return await this.#level.has(prefixed(column, key));
    } catch (e) {
      throw this.#wrap(e, "has");
    }
  }

  async *iterate(column: Column, options: IterateOptions = {}): AsyncIterableIterator<[Uint8Array, Uint8Array]> {
    this.#check();
    checkColumn(column);
    // Bounds inside the column, then the column prefix in front of them.
    let gte = options.gte ?? EMPTY;
    let lt = options.lt;
    if (options.prefix !== undefined) {
      gte = maxBytes(gte, options.prefix);
      const end = prefixEnd(options.prefix);
      if (end !== undefined) lt = lt === undefined ? end : minBytes(lt, end);
    }
    const range: { gte: Uint8Array; lt?: Uint8Array } = { gte: prefixed(column, gte) };
    if (lt !== undefined) range.lt = prefixed(column, lt);
    else if (column < 255) range.lt = new Uint8Array([column + 1]);
    const limit = options.limit ?? -1;
    if (limit === 0) return;
    let it: LevelIterator<Level, Uint8Array, Uint8Array>;
    try {
      it = this.#level.iterator<Uint8Array, Uint8Array>({ ...range, reverse: options.reverse ?? false, limit });
    } catch (e) {
      throw this.#wrap(e, "iterate");
    }
    try {
      for (;;) {
        let entries: [Uint8Array, Uint8Array][];
        try {
          entries = await it.nextv(512);
        } catch (e) {
          throw this.#wrap(e, "iterate");
        }
        if (entries.length === 0) return;
        for (const [k, v] of entries) {
          yield [new Uint8Array(k.buffer, k.byteOffset + 1, k.byteLength - 1), plain(v)];
        }
      }
    } finally {
      // Releases the LevelDB snapshot also when the consumer breaks out early.
      if (!this.#closed) await it.close().catch(() => {});
    }
  }

  batch(): WriteBatch {
    this.#check();
    return new LevelWriteBatch(this, (ops, sync) => this.#write(ops, sync));
  }

  async #write(ops: Operation[], sync: boolean): Promise<void> {
    this.#check();
    if (ops.length === 0) return;
    try {
      await this.#level.batch<Uint8Array, Uint8Array>(ops as BatchOperation<Level, Uint8Array, Uint8Array>[], { sync });
    } catch (e) {
      throw this.#wrap(e, "batch write");
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#level.close();
    } catch (e) {
      throw new StorageError("STORAGE_IO", `close failed in ${this.location}: ${messageOf(e)}`, { cause: e });
    }
  }
}

class LevelWriteBatch implements WriteBatch {
  #db: Database;
  #ops: Operation[] = [];
  #callbacks: (() => void)[] = [];
  #used = false;
  #apply: (ops: Operation[], sync: boolean) => Promise<void>;

  constructor(db: Database, apply: (ops: Operation[], sync: boolean) => Promise<void>) {
    this.#db = db;
    this.#apply = apply;
  }

  get length(): number {
    return this.#ops.length;
  }

  #check(): void {
    if (this.#used) throw new StorageError("STORAGE_BATCH_USED", "this write batch was already written");
  }

  put(column: Column, key: Uint8Array, value: Uint8Array): this {
    this.#check();
    checkColumn(column);
    this.#ops.push({ type: "put", key: prefixed(column, key), value });
    return this;
  }

  del(column: Column, key: Uint8Array): this {
    this.#check();
    checkColumn(column);
    this.#ops.push({ type: "del", key: prefixed(column, key) });
    return this;
  }

  onWritten(callback: () => void): this {
    this.#check();
    this.#callbacks.push(callback);
    return this;
  }

  async write(options: WriteOptions = {}): Promise<void> {
    this.#check();
    if (!this.#db.isOpen) throw new StorageError("STORAGE_CLOSED", `database ${this.#db.location} is closed`);
    this.#used = true;
    try {
      await this.#apply(this.#ops, options.sync ?? true);
    } catch (e) {
      // Nothing was applied (the batch is atomic), so the same batch may be written again.
      this.#used = false;
      throw e;
    }
    this.#ops = [];
    for (const cb of this.#callbacks) cb();
  }
}
