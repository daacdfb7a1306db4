// State snapshots (docs/state-sync.md): the world state at one height, cut into chunks that a
// joining node checks one by one against the state root of a certified header.
//
// The state tree (docs/spec/state.md) splits by the bits of each key's hash. A snapshot divides the
// keys into the 256 subtrees at depth 8 ("parts", by the first byte of the key hash); its manifest
// lists each part's subtree (empty, one leaf, or an internal node's hash). The top 8 levels of the
// tree follow from those 256 descriptors alone, so a manifest is checked against the state root as
// soon as it arrives, and each chunk (a run of whole parts) against the manifest as soon as it
// arrives: a wrong byte anywhere is caught at the chunk that carries it, before anything is applied.
import { sha256 } from "@cairn/crypto";
import { decode, encode, type Value } from "@cairn/messaging";
import { LedgerError } from "../errors.ts";
import { bytesToHash, hashBit, hashPair, hashToBytes, sha256String, ZERO_HASH } from "../state/fast-hash.ts";

/** Version of the manifest and chunk encodings below. */
export const SNAPSHOT_FORMAT = 1;
/** Depth of the parts: 2^8 = 256 subtrees, one per first byte of the key hash. */
export const PART_BITS = 8;
export const PARTS = 1 << PART_BITS;

/** A part's subtree: no key, exactly one key (its leaf), or two or more keys (an internal node). */
export type PartRef =
  | { readonly kind: "empty" }
  | { readonly kind: "leaf"; readonly keyHash: Uint8Array; readonly valueHash: Uint8Array }
  | { readonly kind: "node"; readonly hash: Uint8Array };

/** The parts `first` .. `first + count - 1`, carried by one chunk. */
export interface ChunkRange {
  readonly first: number;
  readonly count: number;
}

export interface SnapshotManifest {
  readonly format: number;
  readonly height: number;
  /** Hash of the block at `height`: its header's stateRoot is the state the snapshot holds. */
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** Keys in the state. */
  readonly keys: number;
  /** The 256 parts' subtrees, in key-hash order. */
  readonly parts: readonly PartRef[];
  readonly chunks: readonly ChunkRange[];
}

/** One state entry: the encoded state key (u16be(len) ‖ contract ‖ key) and its value. */
export type SnapshotEntry = readonly [stateKey: Uint8Array, value: Uint8Array];

function bad(what: string): never {
  throw new LedgerError("BAD_SNAPSHOT", what);
}

// --- Parts -----------------------------------------------------------------------------------------

interface Sub {
  /** 0, 1 or 2 (two or more) keys. */
  readonly n: 0 | 1 | 2;
  readonly h: string;
  readonly kh?: string;
  readonly vh?: string;
}

const EMPTY: Sub = { n: 0, h: ZERO_HASH };

function leaf(kh: string, vh: string): Sub {
  return { n: 1, h: hashPair(0x00, kh, vh), kh, vh };
}

function join(l: Sub, r: Sub): Sub {
  if (l.n + r.n === 0) return EMPTY;
  // A subtree with exactly one key is its leaf, wherever it sits.
  if (l.n === 0 && r.n === 1) return r;
  if (r.n === 0 && l.n === 1) return l;
  return { n: 2, h: hashPair(0x01, l.h, r.h) };
}

/** The subtree at `depth` of keys sorted by key hash (docs/spec/state.md, reference algorithm). */
function subtree(khs: readonly string[], vhs: readonly string[], lo: number, hi: number, depth: number): Sub {
  if (hi === lo) return EMPTY;
  if (hi - lo === 1) return leaf(khs[lo] as string, vhs[lo] as string);
  let mid = lo;
  while (mid < hi && hashBit(khs[mid] as string, depth) === 0) mid++;
  return join(subtree(khs, vhs, lo, mid, depth + 1), subtree(khs, vhs, mid, hi, depth + 1));
}

function toRef(s: Sub): PartRef {
  if (s.n === 0) return { kind: "empty" };
  if (s.n === 1) return { kind: "leaf", keyHash: hashToBytes(s.kh as string), valueHash: hashToBytes(s.vh as string) };
  return { kind: "node", hash: hashToBytes(s.h) };
}

function fromRef(r: PartRef): Sub {
  if (r.kind === "empty") return EMPTY;
  if (r.kind === "leaf") return leaf(bytesToHash(r.keyHash), bytesToHash(r.valueHash));
  return { n: 2, h: bytesToHash(r.hash) };
}

/** The part of a key hash: its first byte. */
export function partOf(keyHash: string): number {
  return keyHash.charCodeAt(0);
}

/** A part's subtree, from its entries' key and value hashes sorted by key hash. */
export function partRef(khs: readonly string[], vhs: readonly string[]): PartRef {
  return toRef(subtree(khs, vhs, 0, khs.length, PART_BITS));
}

/** The state root the 256 parts make: the top 8 levels of the tree. */
export function rootOfParts(parts: readonly PartRef[]): Uint8Array {
  if (parts.length !== PARTS) bad(`a manifest has ${PARTS} parts, not ${parts.length}`);
  const level = (lo: number, hi: number): Sub => {
    if (hi - lo === 1) return fromRef(parts[lo] as PartRef);
    const mid = (lo + hi) >>> 1;
    return join(level(lo, mid), level(mid, hi));
  };
  return hashToBytes(level(0, PARTS).h);
}

function sameRef(a: PartRef, b: PartRef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "empty") return true;
  if (a.kind === "leaf" && b.kind === "leaf") {
    return Buffer.compare(a.keyHash, b.keyHash) === 0 && Buffer.compare(a.valueHash, b.valueHash) === 0;
  }
  return a.kind === "node" && b.kind === "node" && Buffer.compare(a.hash, b.hash) === 0;
}

// --- Encodings ---------------------------------------------------------------------------------------

function refToValue(r: PartRef): Uint8Array {
  if (r.kind === "empty") return new Uint8Array(0);
  if (r.kind === "leaf") {
    const out = new Uint8Array(64);
    out.set(r.keyHash, 0);
    out.set(r.valueHash, 32);
    return out;
  }
  return r.hash;
}

function refFromValue(v: Value): PartRef {
  if (!(v instanceof Uint8Array)) bad("a part is a byte string");
  if (v.length === 0) return { kind: "empty" };
  if (v.length === 64) return { kind: "leaf", keyHash: v.slice(0, 32), valueHash: v.slice(32) };
  if (v.length === 32) return { kind: "node", hash: v };
  return bad(`a part is 0, 32 or 64 bytes, not ${v.length}`);
}

/** [format, height, blockHash, stateRoot, keys, [part...], [[first, count]...]], canonical msgpack. */
export function encodeManifest(m: SnapshotManifest): Uint8Array {
  return encode([
    m.format,
    m.height,
    m.blockHash,
    m.stateRoot,
    m.keys,
    m.parts.map(refToValue),
    m.chunks.map((c) => [c.first, c.count]),
  ]);
}

function uint(v: Value, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`${what} is a non-negative integer`);
  return v;
}

function hash32(v: Value, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== 32) bad(`${what} is 32 bytes`);
  return v;
}

/** Decodes a manifest and checks its shape: 256 parts, chunks covering them in order, each part once. */
export function decodeManifest(bytes: Uint8Array): SnapshotManifest {
  let v: Value;
  try {
    v = decode(bytes);
  } catch (e) {
    return bad(`a manifest is canonical msgpack: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 7) bad("a manifest is an array of 7 fields");
  const f = v as Value[];
  const format = uint(f[0] as Value, "format");
  if (format !== SNAPSHOT_FORMAT) bad(`snapshot format ${format} is not ${SNAPSHOT_FORMAT}`);
  if (!Array.isArray(f[5]) || !Array.isArray(f[6])) bad("parts and chunks are arrays");
  const parts = (f[5] as Value[]).map(refFromValue);
  if (parts.length !== PARTS) bad(`a manifest has ${PARTS} parts, not ${parts.length}`);
  let next = 0;
  const chunks = (f[6] as Value[]).map((c): ChunkRange => {
    if (!Array.isArray(c) || c.length !== 2) bad("a chunk is [firstPart, partCount]");
    const first = uint(c[0] as Value, "a chunk's first part");
    const count = uint(c[1] as Value, "a chunk's part count");
    if (first !== next || count < 1) bad("chunks cover the parts in order, each at least one part");
    next = first + count;
    return { first, count };
  });
  if (next !== PARTS) bad("the chunks do not cover every part");
  return {
    format,
    height: uint(f[1] as Value, "height"),
    blockHash: hash32(f[2] as Value, "blockHash"),
    stateRoot: hash32(f[3] as Value, "stateRoot"),
    keys: uint(f[4] as Value, "keys"),
    parts,
    chunks,
  };
}

/** The snapshot's identity: SHA-256 of its encoded manifest. */
export function manifestHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** A chunk: [[stateKey, value], ...] sorted by key hash, canonical msgpack. */
export function encodeChunk(entries: readonly SnapshotEntry[]): Uint8Array {
  return encode(entries.map(([k, v]) => [k, v]));
}

/**
 * Checks a chunk against the manifest: every entry's key hash in the chunk's parts, in key-hash
 * order, no key twice, and each part's subtree exactly the manifest's. Returns the entries.
 * Throws BAD_SNAPSHOT_CHUNK: a peer that sends such a chunk is serving a corrupt snapshot.
 */
export function verifyChunk(manifest: SnapshotManifest, index: number, bytes: Uint8Array): SnapshotEntry[] {
  const range = manifest.chunks[index];
  if (range === undefined) bad(`the snapshot has no chunk ${index}`);
  const fail = (what: string): never => {
    throw new LedgerError("BAD_SNAPSHOT_CHUNK", `chunk ${index} of the snapshot at ${manifest.height}: ${what}`);
  };
  let v: Value;
  try {
    v = decode(bytes);
  } catch (e) {
    return fail(`not canonical msgpack (${(e as Error).message})`);
  }
  if (!Array.isArray(v)) fail("not an array of entries");
  const entries: SnapshotEntry[] = [];
  const end = range.first + range.count;
  let part = range.first;
  let khs: string[] = [];
  let vhs: string[] = [];
  let previous = "";
  const close = () => {
    if (!sameRef(partRef(khs, vhs), manifest.parts[part] as PartRef)) {
      fail(`part ${part} does not match the manifest (a changed, missing or extra key or value)`);
    }
    khs = [];
    vhs = [];
    part++;
  };
  for (const e of v as Value[]) {
    if (!Array.isArray(e) || e.length !== 2 || !(e[0] instanceof Uint8Array) || !(e[1] instanceof Uint8Array)) {
      fail("an entry is [stateKey, value]");
    }
    const [key, value] = e as [Uint8Array, Uint8Array];
    const kh = sha256String(key);
    if (kh <= previous) fail("entries are not in strictly increasing key-hash order");
    previous = kh;
    const p = partOf(kh);
    if (p < range.first || p >= end) fail(`an entry belongs to part ${p}, outside the chunk's parts`);
    while (part < p) close();
    khs.push(kh);
    vhs.push(sha256String(value));
    entries.push([key, value]);
  }
  while (part < end) close();
  return entries;
}

/** Checks a manifest against a certified header's height, hash and state root. */
export function checkManifest(
  manifest: SnapshotManifest,
  header: { height: number; stateRoot: Uint8Array },
  blockHash: Uint8Array,
): void {
  if (manifest.height !== header.height) bad(`the manifest is for height ${manifest.height}, not ${header.height}`);
  if (Buffer.compare(manifest.blockHash, blockHash) !== 0) bad("the manifest names another block");
  if (Buffer.compare(manifest.stateRoot, header.stateRoot) !== 0) bad("the manifest names another state root");
  if (Buffer.compare(rootOfParts(manifest.parts), header.stateRoot) !== 0) {
    bad("the manifest's parts do not make the header's state root");
  }
}

/**
 * Cuts state entries into a manifest's parts and chunks: entries grouped by part and sorted by key
 * hash, parts packed into chunks of about `chunkBytes` (a part is never split).
 */
export function buildSnapshot(
  entries: Iterable<SnapshotEntry>,
  at: { height: number; blockHash: Uint8Array; stateRoot: Uint8Array },
  chunkBytes: number,
): { manifest: SnapshotManifest; chunks: Uint8Array[] } {
  const byPart: { kh: string; vh: string; e: SnapshotEntry }[][] = Array.from({ length: PARTS }, () => []);
  let keys = 0;
  for (const e of entries) {
    const kh = sha256String(e[0]);
    byPart[partOf(kh)]?.push({ kh, vh: sha256String(e[1]), e });
    keys++;
  }
  const parts: PartRef[] = [];
  const ranges: ChunkRange[] = [];
  const chunks: Uint8Array[] = [];
  let pending: SnapshotEntry[] = [];
  let pendingBytes = 0;
  let first = 0;
  for (let p = 0; p < PARTS; p++) {
    const list = byPart[p] as { kh: string; vh: string; e: SnapshotEntry }[];
    list.sort((a, b) => (a.kh < b.kh ? -1 : a.kh > b.kh ? 1 : 0));
    parts.push(
      partRef(
        list.map((x) => x.kh),
        list.map((x) => x.vh),
      ),
    );
    for (const x of list) {
      pending.push(x.e);
      pendingBytes += x.e[0].length + x.e[1].length + 8;
    }
    if (pendingBytes >= chunkBytes || p === PARTS - 1) {
      ranges.push({ first, count: p + 1 - first });
      chunks.push(encodeChunk(pending));
      pending = [];
      pendingBytes = 0;
      first = p + 1;
    }
  }
  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FORMAT,
    height: at.height,
    blockHash: at.blockHash,
    stateRoot: at.stateRoot,
    keys,
    parts,
    chunks: ranges,
  };
  return { manifest, chunks };
}
